"""Property tests: whatever the secret value, it does not survive redaction anywhere in the
exchange (query, form, multipart, JSON bodies, headers, echoes in the answer), and redaction
is idempotent."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Request
from observe.headers import Headers
from plugins.redaction import Redactor
from tests.plugins import craft

# a distinctive head (so a match means a leak, not a coincidence) and any printable tail,
# including URL and JSON special characters and non-ASCII
secret_values = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="\"\\"),
    min_size=5, max_size=40,
).map(lambda tail: "Zq9" + tail)
names = st.sampled_from(["api_key", "oauth_token", "access_token", "client_secret",
                         "password", "api_sig", "X-Api-Key"])


def _dump(exchange: Exchange) -> str:
    parts = [exchange.request.target, repr(exchange.request.headers), repr(exchange.notes),
             repr(dict(exchange.meta)), exchange.request.body.decode("utf-8", "replace")]
    if exchange.response is not None:
        parts += [repr(exchange.response.headers),
                  exchange.response.decoded().decode("utf-8", "replace")]
    return "\n".join(parts)


@settings(max_examples=60, deadline=None)
@given(secret=secret_values, name=names, where=st.sampled_from(["query", "form", "multipart"]))
def test_no_secret_survives(secret: str, name: str, where: str) -> None:
    echo = craft.json_response({"echo": {name: {"_content": secret}},
                                "said": f"you sent {secret}", "stat": "ok"})
    if where == "query":
        exchange = craft.get({"q": "x", name: secret}, echo)
    elif where == "form":
        exchange = craft.post_form({}, {"q": "x", name: secret}, echo)
    else:
        exchange = craft.post_multipart({"q": "x", name: secret}, {}, echo)
    out = Redactor().redact(exchange)
    text = _dump(out)
    for form in {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}:
        assert form not in text
    assert Redactor().redact(out) == out


@settings(max_examples=40, deadline=None)
@given(secret=secret_values)
def test_headers_and_json_bodies(secret: str) -> None:
    body = json.dumps({"user": "u", "credentials": {"password": secret}}).encode()
    request = Request.from_url(
        "POST", f"https://h.example/login?{urlencode({'next': '/home'})}", body=body,
        headers=Headers([("Content-Type", "application/json"),
                               ("Authorization", f"Bearer {secret}"),
                               ("Cookie", f"sid={secret}; theme=dark")]))
    out = Redactor().redact(Exchange(request))
    assert secret not in _dump(out)
    assert out.request.headers.get("authorization") == "Bearer REDACTED"
