"""The fast redaction path (`Redactor.redact`) against the reference path (`redact_reference`):
same redacted exchange on generated traffic (query, headers, form, JSON at any depth with
escapes, unicode, numbers and objects under secret names, JSONP), JSON bodies compared as parsed
values (the fast path keeps the body's formatting, the reference re-encodes it compactly)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Message, Request, Response
from observe.headers import Headers
from plugins.redaction import REDACTED, Redactor

SECRET_KEYS = ["secret", "api_key", "token", "password", "originalsecret", "mySid", "Api-Key",
               "oauth_token", "X-Auth-Token", "pin"]
PLAIN_KEYS = ["id", "title", "keywords", "spinner", "owner", "farm", "Stat", "mysid", "pages",
              "description", "_content", "true", "0", "", " ", "a:b", "key words", "\u00e9t\u00e9"]
JSONP = re.compile(r"^\s*([A-Za-z_$][\w$.]*)\s*\((.*)\)\s*;?\s*$", re.S)

secret_values = st.text(alphabet="abcdefABCDEF0123456789", min_size=4, max_size=20).map(
    lambda tail: "Zq9" + tail)
odd_secrets = st.sampled_from(["Zq9/+=abc", "Zq9 \u00e9t\u00e9!", 'Zq9"quo\\te', "1234567.5"])
texts = st.text(max_size=12) | st.sampled_from(["", REDACTED, "a/b", 'say "hi"', "line\nnext"])
scalars = (texts | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
           | st.booleans() | st.none())
keys = st.sampled_from(SECRET_KEYS + PLAIN_KEYS)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)


def _dumps(value: Any, style: int) -> str:
    if style == 0:
        return json.dumps(value)
    if style == 1:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if style == 2:
        return json.dumps(value, indent=2)
    return json.dumps(value, ensure_ascii=True).replace("/", "\\/")


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    secret = draw(secret_values | odd_secrets)
    params = {"method": "flickr.photos.search", "format": "json"}
    where = draw(st.sampled_from(["query", "header", "form", "none"]))
    if where == "query":
        params[draw(st.sampled_from(["api_key", "auth_token", "api_sig"]))] = secret
    headers = [("Host", "api.flickr.com")]
    if where == "header":
        headers.append(draw(st.sampled_from([
            ("Authorization", f"Bearer {secret}"), ("X-Api-Key", secret),
            ("Cookie", f"sid={secret}; lang=en")])))
    if draw(st.booleans()):
        headers.append(("Referer", f"https://www.flickr.com/x?api_key={secret}&b=1"))
    target = "/services/rest/?" + urlencode(params)
    body = b""
    if where == "form":
        body = urlencode({"api_key": secret, "q": "x"}).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    request = Request(headers=Headers(headers), method="POST" if body else "GET",
                      authority="api.flickr.com", target=target, body=body)
    value: dict[str, Any] = draw(st.dictionaries(keys, json_values, min_size=1, max_size=6))
    if draw(st.booleans()):  # the secret echoed in the answer, under a plain or a secret name
        echo: Any = draw(st.sampled_from([secret, f"you sent {secret}", [secret]]))
        value[draw(keys)] = echo
    text = _dumps(value, draw(st.integers(0, 3)))
    mime = draw(st.sampled_from(["application/json; charset=utf-8", "application/json",
                                 "text/plain", "", "text/javascript"]))
    if mime == "text/javascript":
        text = f"jsonFlickrApi({text});"
    response_headers = [("Content-Length", str(len(text.encode())))]
    if mime:
        response_headers.insert(0, ("Content-Type", mime))
    response = Response(headers=Headers(response_headers), body=text.encode(), status=200)
    return Exchange(request=request, response=response)


def _body_value(message: Message) -> Any:
    text = message.decoded().decode("utf-8")
    match = JSONP.match(text)
    if match and not text.lstrip().startswith(("{", "[")):
        return ("jsonp", match.group(1), json.loads(match.group(2)))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _view(exchange: Exchange) -> tuple[Any, ...]:
    """Everything in the exchange, bodies as values, Content-Length left out (it follows the
    body's formatting)."""
    out: list[Any] = [exchange.request.target, exchange.request.authority, exchange.notes,
                      dict(exchange.meta)]
    messages: list[Message] = [exchange.request]
    if exchange.response is not None:
        messages.append(exchange.response)
    for message in messages:
        out += [message.headers.without("content-length"), message.content_encoding,
                _body_value(message) if message.body else b""]
    return tuple(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exchange=exchanges())
def test_fast_path_matches_reference(exchange: Exchange) -> None:
    redactor = Redactor()
    fast = redactor.redact(exchange)
    reference = redactor.redact_reference(exchange)
    assert _view(fast) == _view(reference)
    # nothing to redact: the very same exchange comes back
    assert (fast is exchange) == (reference == exchange)
    assert redactor.redact(fast) == fast


@settings(max_examples=100, deadline=None)
@given(value=json_values, style=st.integers(0, 3))
def test_json_bodies_at_any_depth(value: Any, style: int) -> None:
    text = _dumps({"photos": {"photo": [value, {"secret": "abc", "id": "1"}]}}, style)
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]), body=text.encode()))
    redactor = Redactor()
    fast = redactor.redact(exchange)
    assert _view(fast) == _view(redactor.redact_reference(exchange))
    assert fast.response is not None
    assert '"abc"' not in fast.response.body.decode()


def test_formatting_kept_and_only_secret_values_change() -> None:
    text = '{"photos": {"photo": [{"id": "5", "secret": "9f8e7d", "title": "secret"},\n' \
           ' {"id": "6", "secret" : "" , "farm": 2, "originalsecret": 77}]}, "stat": "ok"}'
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]), body=text.encode()))
    out = Redactor().redact(exchange)
    assert out.response is not None
    assert out.response.body.decode() == text.replace('"9f8e7d"', '"REDACTED"').replace(
        "77", '"REDACTED"')


def test_objects_under_secret_names_fall_back_to_the_walk() -> None:
    text = '{"api_key": {"_content": "k3y"}, "stat": "ok"}'
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]), body=text.encode()))
    out = Redactor().redact(exchange)
    assert out.response is not None
    assert json.loads(out.response.body) == {"api_key": {"_content": REDACTED}, "stat": "ok"}


def test_escaped_secret_key_is_found() -> None:
    text = '{"api\\u005fkey": "k3y-value", "t\\u006fken": "x-value"}'
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]), body=text.encode()))
    out = Redactor().redact(exchange)
    assert out.response is not None
    assert json.loads(out.response.body) == {"api_key": REDACTED, "token": REDACTED}


def test_nothing_secret_returns_the_same_exchange() -> None:
    exchange = Exchange(
        request=Request(headers=Headers([("Host", "h"), ("Accept", "*/*")]),
                        target="/services/rest/?method=flickr.photos.search&page=2"),
        response=Response(headers=Headers([("Content-Type", "application/json")]),
                          body=b'{"photos": {"photo": [{"id": "1", "title": "keys"}]}}'))
    assert Redactor().redact(exchange) is exchange


def test_extra_names_that_json_punctuation_could_spell_use_the_reference_path() -> None:
    assert Redactor(["x-tenant-id"]).fast
    assert not Redactor(["true"]).fast
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]),
        body=b'{"true": "v1", "x-tenant-id": "v2"}'))
    out = Redactor(["true"]).redact(exchange)
    assert out.response is not None
    assert json.loads(out.response.body) == {"true": REDACTED, "x-tenant-id": "v2"}


def test_leading_spaces_and_escaped_keys_in_plain_text() -> None:
    text = " " * 100 + '{"t\\u006fken": "v4lue-1", "id": 1}'
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "text/plain")]), body=text.encode()))
    redactor = Redactor()
    fast = redactor.redact(exchange)
    assert _view(fast) == _view(redactor.redact_reference(exchange))
    assert fast.response is not None
    assert b"v4lue-1" not in fast.response.body


def test_jsonp_served_as_json_is_redacted() -> None:
    # the reference path leaves it (it does not parse as JSON); the fast path does not
    text = 'jsonFlickrApi({"photo": {"id": "1", "secret": "9f8e7d"}, "stat": "ok"});'
    exchange = Exchange(request=Request(target="/"), response=Response(
        headers=Headers([("Content-Type", "application/json")]), body=text.encode()))
    out = Redactor().redact(exchange)
    assert out.response is not None
    assert out.response.body.decode() == text.replace("9f8e7d", REDACTED)
