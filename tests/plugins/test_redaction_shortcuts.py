"""The shortcuts of the fast redaction path against the slower code they stand in for:

- secret names of valid JSON read from its parse vs found by fragment in the text;
- the count that replaces the leftover search in `_redact_key`, on arbitrary (also invalid)
  JSON-like text;
- one pass over a plain query vs `redact_target` + `_collect_secrets`;
- the body memo (same body again, same body with other secrets or another content type);
- the value pass's substring pre-checks (secret values repeated in headers, notes, meta);
and the whole fast path against the reference on bodies with many secret keys, escapes,
objects under secret keys and non-JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Note, Request, Response
from observe.headers import Headers
from plugins.redaction import REDACTED, Redactor
from plugins.redaction_fast import plain_query
from plugins.secret_values import _redact_key
from tests.plugins.test_redaction_fast_path import SECRET_KEYS, _dumps, _view, json_values

NAMES = ["secret", "api_key", "token", " token", ":token", "mySid", "Secret", "x"]
PIECES = ['"secret"', '"api_key"', '"token"', '" token"', '":token"', "secret", "token", ":",
          ": ", " ", '"', '""', f'"{REDACTED}"', '"v4lue"', "12", "-1.5e3", "true", "null",
          "{", "}", "[", "]", ",", '"a\\"b"', "\\", "\n"]
fragments_text = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
photo_keys = st.sampled_from(["id", "owner", "title", "farm", "secret", "originalsecret",
                              "api_key", "Secret", "server"])
photos = st.lists(st.dictionaries(photo_keys, st.text(max_size=8) | st.integers()
                                  | st.sampled_from(["", REDACTED, None, True]),
                                  min_size=1, max_size=8), max_size=12)


def _json_exchange(text: str, mime: str = "application/json", target: str = "/x",
                   headers: list[tuple[str, str]] | None = None) -> Exchange:
    request = Request(target=target, headers=Headers(headers or [("Host", "h")]))
    return Exchange(request=request, response=Response(
        headers=Headers([("Content-Type", mime), ("Content-Length", str(len(text)))]),
        body=text.encode("utf-8")))


def _fragment_only() -> Redactor:
    redactor = Redactor()
    redactor._bodies.parse_json = False
    redactor._bodies.native = False  # the C scan has its own tests (test_jsonscan.py)
    return redactor


@settings(max_examples=400, deadline=None)
@given(text=fragments_text, name=st.sampled_from(NAMES))
def test_count_check_matches_the_leftover_search(text: str, name: str) -> None:
    assert _redact_key(text, name) == _redact_key(text, name, count_check=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=photos, style=st.integers(0, 3), extra=json_values)
def test_many_secret_keys_parse_and_fragments_agree(value: list[Any], style: int,
                                                    extra: Any) -> None:
    text = _dumps({"photos": {"photo": value, "extra": extra}, "stat": "ok"}, style)
    exchange = _json_exchange(text)
    by_parse, by_fragment = Redactor().redact(exchange), _fragment_only().redact(exchange)
    assert by_parse == by_fragment
    assert _view(by_parse) == _view(Redactor().redact_reference(exchange))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, style=st.integers(0, 3), wrap=st.sampled_from(["", "jsonp", "text"]))
def test_any_json_parse_and_fragments_agree(value: Any, style: int, wrap: str) -> None:
    text = _dumps(value, style)
    mime = "application/json"
    if wrap == "jsonp":
        text, mime = f"jsonFlickrApi({text});", "text/javascript"
    elif wrap == "text":
        mime = "text/plain"
    exchange = _json_exchange(text, mime)
    assert Redactor().redact(exchange) == _fragment_only().redact(exchange)


query_names = st.sampled_from(["api_key", "method", "auth_token", "oauth_version", "Token",
                               "page", "", "sig", "api_sig", "api%5Fkey", "api+key", "+token",
                               "oauth%5Fversion", "OAuth_Version", "%", "a+b"])
query_values = st.sampled_from(["", "abcdef123", REDACTED, "a=b", "x", "1234567", "Zq9zzzz",
                                "Zq9+with+plus", "Zq9%20sp%zz", "%", "RED%41CTED", "1+2"])


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(query_names, st.sampled_from(["=", ""]), query_values),
                      max_size=6),
       empties=st.lists(st.integers(0, 6), max_size=2))
def test_plain_query_pass_matches_the_general_one(pairs: list[tuple[str, str, str]],
                                                  empties: list[int]) -> None:
    pieces = [f"{n}{eq}{v if eq else ''}" for n, eq, v in pairs]
    for index in empties:  # empty pieces ("a=1&&b=2") are dropped only when a value changes
        pieces.insert(min(index, len(pieces)), "")
    target = "/services/rest/?" + "&".join(pieces)
    redactor = Redactor()
    exchange = Exchange(request=Request(target=target))
    plain = plain_query(target, redactor.is_secret)
    assert plain is not None
    target_out, found = plain
    assert target_out == redactor.redact_target(target)
    assert {s for s in found if len(s) >= 6 and s not in REDACTED and not s.isdigit()} == \
        redactor._collect_secrets(exchange)
    assert _view(redactor.redact(exchange)) == _view(redactor.redact_reference(exchange))
    # an extra name with a space: "+" in the query is left to the general code
    assert plain_query(target, Redactor(["my key"]).is_secret, plus_ok=False) is None or \
        "+" not in target


def test_memo_gives_the_same_result_and_follows_secrets_and_content_type() -> None:
    text = '{"photo": [{"id": "1", "secret": "9f8e7d6c"}, {"id": "2", "secret": 12}]}'
    redactor = Redactor()
    first = redactor.redact(_json_exchange(text, target="/?api_key=abcdef0123"))
    again = redactor.redact(_json_exchange(text, target="/?api_key=abcdef0123"))
    assert first == again
    assert first.response is not None
    assert b"9f8e7d6c" not in first.response.body and b"12" not in first.response.body
    # a secret that looks like a number: the in-place body cannot be scrubbed, reference path
    numeric = redactor.redact(_json_exchange(text, target="/?api_key=1234567.5"))
    fresh = Redactor().redact_reference(_json_exchange(text, target="/?api_key=1234567.5"))
    assert _view(numeric) == _view(fresh)
    # the same bytes under other content types: as a redactor that never saw them has it
    for mime in ("image/png", "text/xml", "application/json; charset=utf-16"):
        assert redactor.redact(_json_exchange(text, mime)) == \
            Redactor().redact(_json_exchange(text, mime))
    image = redactor.redact(_json_exchange(text, "image/png"))
    assert image.response is not None and image.response.body == text.encode()


def test_memo_turns_sparse_while_bodies_do_not_repeat_and_back_when_they_do() -> None:
    redactor = Redactor()
    scanner = redactor._bodies
    unique = [_json_exchange(f'{{"n": {i}, "secret": "s{i:06d}"}}') for i in range(300)]
    for exchange in unique:
        redacted = redactor.redact(exchange)
        assert redacted.response is not None and b'"secret": "REDACTED"' in redacted.response.body
    assert scanner._sparse  # no body came twice: now most are scanned without a lookup
    before = set(scanner._memo)
    for i in range(160):
        redactor.redact(_json_exchange(f'{{"m": {i}, "secret": "t{i:06d}"}}'))
    assert len(set(scanner._memo) - before) <= 160 // 16 + 1
    again = _json_exchange('{"again": 1, "secret": "x"}')
    results = [redactor.redact(again) for _ in range(40)]
    assert all(r == results[0] for r in results)  # the same answer with and without the memo
    assert not scanner._sparse  # the repeated body was found: every body is looked up again


def test_secret_values_repeated_elsewhere_are_scrubbed() -> None:
    key = "Zq9secretvalue"
    text = json.dumps({"said": f"you sent {key}", "echo": [key, {"k": key}], "secret": key})
    exchange = _json_exchange(text, target=f"/?api_key={key}&q=1",
                              headers=[("Host", "h"), ("Referer", f"https://x/?k={key}")])
    exchange = exchange.evolve(notes=(Note("p", "request.target", f"was {key}"),),
                               meta={"url": f"https://h/?api_key={key}", "n": [1, (2, 3)]})
    redactor = Redactor()
    out = redactor.redact(exchange)
    assert _view(out) == _view(redactor.redact_reference(exchange))
    dumped = repr((out.request, out.response, out.notes, dict(out.meta)))
    assert key not in dumped and key not in out.response.body.decode()  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(SECRET_KEYS), escaped=st.booleans(), inner=json_values,
       repeat=st.integers(1, 5), xml=st.booleans())
def test_escaped_keys_objects_and_non_json_against_reference(
        key: str, escaped: bool, inner: Any, repeat: int, xml: bool) -> None:
    if xml:
        text = "<rsp>" + f"<{key.replace(' ', '')}>v4lue</{key.replace(' ', '')}>" * repeat + \
               "</rsp>"
        exchange = _json_exchange(text, "text/xml")
    else:
        body = json.dumps({"photos": [{key: inner, "id": str(i)} for i in range(repeat)],
                           "key words": "token secret"})
        if escaped:
            quoted = json.dumps(key)
            body = body.replace(quoted, quoted.replace(key[0], f"\\u{ord(key[0]):04x}", 1))
        exchange = _json_exchange(body)
    redactor = Redactor()
    fast = redactor.redact(exchange)
    assert _view(fast) == _view(redactor.redact_reference(exchange))
    assert redactor.redact(fast) == fast
