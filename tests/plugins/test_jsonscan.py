"""The C scan (`plugins._jsonscan.KeyScanner`) against the pure-Python path it answers in
front of (`plugins.secret_values.redact_json_keys`, and the whole `Redactor.redact`):

- hand-written cases, with the expected bytes written out;
- where the C scan gives an answer, it is the pure path's answer: on any JSON value (hypothesis,
  four formats, JSONP), on JSON-like text that is mostly not JSON, and on every exchange of the
  corpus;
- it answers (does not hand back to Python) for the plain JSON it is there for.

The scan is built by `make install` (setup.py); under `CI=true` a missing build is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Request, Response
from observe.headers import Headers
from observe.sources import read_source
from observe.tally import Tally
from plugins import redaction_fast
from plugins.redaction import REDACTED, Redactor
from plugins.secret_values import redact_json_keys
from tests.conftest import corpus_path
from tests.plugins.corpus import yakbak_exchanges
from tests.plugins.test_redaction_fast_path import _dumps, json_values
from tests.plugins.test_redaction_shortcuts import fragments_text, photos


def _native() -> Any:
    """The KeyScanner class (skips, or fails under CI, when it is not built)."""
    scan = redaction_fast.KeyScanner
    if scan is None:
        message = "plugins._jsonscan is not built (make install compiles it with gcc)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return scan


def _pure_redactor() -> Redactor:
    redactor = Redactor()
    redactor._bodies.native = False
    return redactor


def _both(text: bytes) -> tuple[bytes | None, bytes]:
    """(the C scan's answer, the pure path's answer as bytes) for JSON `text`, with the
    default names; the pure answer is the text itself when nothing changes."""
    redactor = Redactor()
    fragments = redactor._bodies._byte_fragments
    native = _native()(fragments, redactor.is_secret).redact_values(text)
    decoded = text.decode("utf-8")
    pure = redact_json_keys(decoded, decoded.lower(), redactor._fragments, redactor.is_secret)
    return native, (text if pure is None else pure.encode("utf-8"))


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a":1,"secret":"abc"}', '{"a":1,"secret":"REDACTED"}'),
    ('{"api_key": -12.5e+3, "n": 5}', '{"api_key": "REDACTED", "n": 5}'),
    ('{"API_KEY" : "abc" , "Token":0}', '{"API_KEY" : "REDACTED" , "Token":"REDACTED"}'),
    ('[{"photo":[{"id":"1","secret":"9f8e"},{"id":"2","secret":"0a1b"}]}]',
     '[{"photo":[{"id":"1","secret":"REDACTED"},{"id":"2","secret":"REDACTED"}]}]'),
    ('/**/ jsonFlickrApi( {"secret": "x"} ) ;', '/**/ jsonFlickrApi( {"secret": "REDACTED"} ) ;'),
    ('{"photo_originalsecret_value":"abc"}', '{"photo_originalsecret_value":"REDACTED"}'),
    ('{"s\u00e9cret_token":"x","\u00e9t\u00e9":"y"}',
     '{"s\u00e9cret_token":"REDACTED","\u00e9t\u00e9":"y"}'),
    ('{"title":"my secret token","secret":"a\u00e9"}',
     '{"title":"my secret token","secret":"REDACTED"}'),
])
def test_secret_values_are_replaced_in_place(text: str, expected: str) -> None:
    native, pure = _both(text.encode("utf-8"))
    assert native == expected.encode("utf-8")
    assert pure == native


@pytest.mark.parametrize("text", [
    '{"token": null, "secret": true, "pin": "", "sid": false}',
    f'{{"secret": "{REDACTED}"}}',
    '{"keywords": "abc", "spinner": 3, "mysid": "x"}',  # fragments, but not secret names
    '"secret"', "12", "[]", "{}", ' [ "token" , "secret" ] ',
])
def test_nothing_to_replace_gives_the_text_itself(text: str) -> None:
    raw = text.encode("utf-8")
    native, pure = _both(raw)
    assert native is raw
    assert pure == raw


@pytest.mark.parametrize("text", [
    '{"se\\u0063ret":"x"}',           # an escape in a key: the pure path gives up too
    '{"a\\"b":1,"secret":"x"}',
    '{"secret":{"a":1}}',              # a secret key over an object or array: walked in Python
    '{"secret":["a"]}',
    '{"secret":"a\\"b"}',              # an escaped secret value
    '{"secret":"x"', '{"secret":"x"}}', "{'a':1}", "NaN", '{"a":NaN}', '{"a":1} x', "",
    "   ", '{"a":"tab\there"}', "[1,]", "[01]", '["\\x"]', "[1.]", "[-]", "[1e]", "tru",
    '{"a" 1}', '{"a":1,}', "x(1", "x(1))", "/**/(1)", "[" * 600 + "]" * 600,
    # an escaped backslash before an escaped quote: the pure path's escaped-key check can read
    # the quote as a key's end (found by fuzzing under ASan); both decline
    '"\\u0000\\"\\\\\\":"', '{"note":"a\\\\\\": b","secret":"v"}',
])
def test_it_hands_back_what_it_does_not_answer(text: str) -> None:
    assert _both(text.encode("utf-8"))[0] is None


def test_a_python_error_in_the_judge_propagates() -> None:
    def judge(name: str) -> bool:
        raise RuntimeError(name)

    with pytest.raises(RuntimeError, match="secret"):
        _native()((b"secret",), judge).redact_values(b'{"secret":"x"}')
    with pytest.raises(TypeError):
        _native()((b"secret",), bool).redact_values("text")
    with pytest.raises(ValueError, match="lower-case"):
        _native()((b"Secret",), bool)
    with pytest.raises(RuntimeError, match="not initialised"):
        _native().__new__(_native()).redact_values(b'{"\xc3\xa9":1}')
    # a failed second __init__ changes nothing (found by fuzzing under ASan)
    scanner = _native()((b"secret", b"key"), Redactor().is_secret)
    with pytest.raises(ValueError):
        scanner.__init__((bytes(bytearray(b"apple")), b"BAD"), bool)
    assert scanner.redact_values(b'{"api_key":"x","secret":"y"}') == \
        b'{"api_key":"REDACTED","secret":"REDACTED"}'


def test_many_extra_names_leave_json_to_the_pure_path() -> None:
    _native()
    names = [f"x-name-{i}" for i in range(redaction_fast.MAX_FRAGMENTS)]
    redactor = Redactor(names)  # more fragments than the C scan takes
    assert not redactor._bodies.native
    out = redactor.redact(_json_exchange(b'{"X-Name-7":"abc","secret":"s3cr3t","a":1}'))
    assert out.response is not None
    assert json.loads(out.response.body) == {"X-Name-7": REDACTED, "secret": REDACTED, "a": 1}


def test_answers_are_remembered_per_key() -> None:
    asked: list[str] = []

    def judge(name: str) -> bool:
        asked.append(name)
        return name.endswith("secret")

    scanner = _native()((b"secret",), judge)
    long_key = "x" * 20 + "secret"
    text = json.dumps([{"secret": 1, "mysecret": "a", long_key: "b", "SECRET": 2}] * 3)
    out = scanner.redact_values(text.encode())
    assert json.loads(out) == [{"secret": REDACTED, "mysecret": REDACTED,
                                long_key: REDACTED, "SECRET": 2}] * 3
    # keys of up to 16 bytes are judged once (in this body and the next); longer ones each time
    assert sorted(asked) == sorted(["secret", "mysecret", "SECRET", *[long_key] * 3])
    scanner.redact_values(text.encode())
    assert asked.count("secret") == 1 and asked.count(long_key) == 6


def test_extra_names_are_judged_by_the_redactor() -> None:
    redactor = Redactor(["x-tenant"])
    scanner = _native()(redactor._bodies._byte_fragments, redactor.is_secret)
    assert scanner.redact_values(b'{"X-Tenant":"acme","tenant":"b"}') == \
        b'{"X-Tenant":"REDACTED","tenant":"b"}'


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, style=st.integers(0, 3), jsonp=st.booleans())
def test_any_json_value_gives_the_pure_answer(value: Any, style: int, jsonp: bool) -> None:
    text = _dumps({"photos": {"photo": [value, {"secret": "abc"}]}, "x": value}, style)
    if jsonp:
        text = f"jsonFlickrApi({text});"
    native, pure = _both(text.encode("utf-8"))
    if native is not None:
        assert native == pure


@settings(max_examples=400, deadline=None)
@given(values=st.lists(st.text(alphabet='\\":\u00a0 as', max_size=8), min_size=1, max_size=4),
       secret=st.text(alphabet='\\"ab', min_size=1, max_size=4))
def test_backslashes_and_quotes_in_strings_give_the_pure_answer(values: list[str],
                                                                secret: str) -> None:
    text = json.dumps({"notes": values, "secret": secret, "x": values[0]}, ensure_ascii=False)
    native, pure = _both(text.encode("utf-8"))
    assert native is None or native == pure


@settings(max_examples=400, deadline=None)
@given(text=fragments_text)
def test_json_like_text_gives_the_pure_answer_or_none(text: str) -> None:
    native, pure = _both(text.encode("utf-8"))
    assert native is None or native == pure
    if native is not None:  # it answered: the text is JSON
        json.loads(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=photos, style=st.integers(0, 3))
def test_plain_photo_lists_are_answered_in_c(value: list[Any], style: int) -> None:
    text = _dumps({"photos": {"photo": value}, "stat": "ok"}, style)
    native, pure = _both(text.encode("utf-8"))
    if "\\" not in text:  # no escapes, no objects under secret keys: always answered
        assert native is not None
    assert native is None or native == pure
    exchange = _json_exchange(text.encode("utf-8"))
    assert Redactor().redact(exchange) == _pure_redactor().redact(exchange)


def _json_exchange(body: bytes, mime: str = "application/json") -> Exchange:
    return Exchange(request=Request(target="/services/rest/?api_key=abcdef0123"),
                    response=Response(headers=Headers([("Content-Type", mime),
                                                       ("Content-Length", str(len(body)))]),
                                      body=body))


def _corpus_exchanges() -> list[Exchange]:
    out = list(yakbak_exchanges())
    for folder in ("har", "mitmproxy_flows", "pcap", "vcr_cassettes"):
        for path in sorted(Path(corpus_path(folder)).iterdir()):
            out.extend(read_source(str(path), None, Tally()))
    return out


@pytest.mark.corpus
def test_every_corpus_exchange_is_redacted_as_by_the_pure_path() -> None:
    _native()
    exchanges = _corpus_exchanges()
    fast, pure = Redactor(), _pure_redactor()
    answered = 0
    real = fast._bodies._key_scanner
    assert real is not None

    class Counting:
        def redact_values(self, text: bytes) -> bytes | None:
            nonlocal answered
            result = real.redact_values(text)
            answered += result is not None
            return result

    fast._bodies._key_scanner = Counting()
    for exchange in exchanges:
        assert fast.redact(exchange) == pure.redact(exchange)
    assert len(exchanges) > 50
    assert answered >= 20  # the C scan answered for most JSON bodies (24 when written)
