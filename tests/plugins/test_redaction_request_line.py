"""Redaction for the capture listing: `Redactor.redact_request_line` gives every request the
URL that full redaction (`redact`) gives it, and `restscope capture` without `-o` (which only
redacts URLs) prints the same lines as full redaction would, with control characters escaped."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlencode

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from observe.cli import cli
from observe.exchange import Exchange, Request, Response
from observe.headers import Headers
from observe.pipeline import LISTING_PARTS, PluginChain
from observe.report import exchange_line
from observe.sources import ReadOptions, read_source
from observe.tally import Tally
from plugins.redaction import REDACTED, Redactor, RedactPlugin
from tests.observe.capture.crafting import (
    frames,
    http_request,
    http_response,
    tcp_conversation,
    write_pcap,
)

secrets = st.text(alphabet="abcdefABCDEF0123456789", min_size=4, max_size=16).map(
    lambda tail: "Zq9" + tail) | st.sampled_from(["Zq9/+=abc", "Zq9 \u00e9t\u00e9!", "Zq9&x=1"])


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    """Requests with a secret under a secret name somewhere (query, header, form body, the
    authority's user info), and the same secret maybe echoed in the path or a plain parameter
    (which only the value pass finds)."""
    secret = draw(secrets)
    where = draw(st.sampled_from(["query", "header", "cookie", "form", "none"]))
    params = {"method": "flickr.photos.getInfo", "photo_id": "42"}
    if where == "query":
        params[draw(st.sampled_from(["api_key", "auth_token", "api_sig", "password"]))] = secret
    if draw(st.booleans()):
        params["echo"] = secret
    path = f"/users/{quote(secret, safe='')}/photos" if draw(st.booleans()) else "/services/rest/"
    headers = [("Host", "api.example.com")]
    if where == "header":
        headers.append(("Authorization", f"Bearer {secret}"))
    if where == "cookie":
        headers.append(("Cookie", f"session_token={secret}; lang=en"))
    body = b""
    if where == "form":
        body = urlencode({"api_key": secret, "q": "x"}).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    authority = draw(st.sampled_from(["api.example.com",
                                      f"bob:{quote(secret, safe='')}@api.example.com"]))
    request = Request(method="POST" if body else "GET", authority=authority,
                      target=f"{path}?{urlencode(params)}", headers=Headers(headers), body=body)
    text = json.dumps({"stat": "ok", "token": secret, "owner": secret}).encode()
    response = Response(status=draw(st.sampled_from([200, 404])), body=text, headers=Headers(
        [("Content-Type", "application/json"), ("Content-Length", str(len(text)))]))
    return Exchange(request, response if draw(st.booleans()) else None)


@given(exchange=exchanges(), extra=st.sampled_from([(), ("x-tenant-id",), ("a,b",)]))
def test_the_request_line_is_what_full_redaction_gives(exchange: Exchange,
                                                       extra: tuple[str, ...]) -> None:
    redactor = Redactor(extra)
    full = redactor.redact(exchange)
    line_only = redactor.redact_request_line(exchange)
    assert line_only.request.target == full.request.target
    assert line_only.request.authority == full.request.authority
    assert exchange_line(line_only) == exchange_line(full)
    # nothing else is touched: the headers and bodies are the exchange's own
    assert line_only.request.headers is exchange.request.headers
    assert line_only.request.body is exchange.request.body
    assert line_only.response is exchange.response


def test_a_secret_echoed_in_the_path_is_found_by_the_value_pass() -> None:
    token = "Zq9secretvalue77"
    request = Request(method="GET", authority="api.example.com",
                      target=f"/tokens/{token}/info?api_key={token}",
                      headers=Headers([("Host", "api.example.com")]))
    redacted = Redactor().redact_request_line(Exchange(request, None))
    assert redacted.request.target == f"/tokens/{REDACTED}/info?api_key={REDACTED}"


def test_the_plugin_redacts_only_urls_for_the_listing_and_everything_otherwise() -> None:
    token = "Zq9secretvalue77"
    request = Request(method="GET", authority="api.example.com", target=f"/a?api_key={token}",
                      headers=Headers([("Host", "api.example.com"),
                                       ("Authorization", f"Bearer {token}")]))
    exchange = Exchange(request, None)
    chain = PluginChain([RedactPlugin()], Tally())
    listing = PluginChain([RedactPlugin()], Tally())
    listing.output_shows(LISTING_PARTS)
    full = chain.apply(exchange)
    only_url = listing.apply(exchange)
    assert full is not None and only_url is not None
    assert only_url.request.target == full.request.target == f"/a?api_key={REDACTED}"
    assert full.request.headers.get("Authorization") == f"Bearer {REDACTED}"
    assert only_url.request.headers.get("Authorization") == f"Bearer {token}"
    # output that shows more than the listing gets everything redacted again
    listing.output_shows(LISTING_PARTS | {"headers"})
    again = listing.apply(exchange)
    assert again is not None and again.request.headers.get("Authorization") == f"Bearer {REDACTED}"


def _secret_capture(folder: Path) -> Path:
    token = "Zq9secretvalue77"
    dialogue = [
        ("c", http_request("GET", f"/users/{token}/photos?api_key={token}",
                           [("Authorization", f"Bearer {token}")])),
        ("s", http_response(200, json.dumps({"token": token}).encode(),
                            [("Content-Type", "application/json")])),
        ("c", http_request("GET", "/search?q=a%1b[31mred%0aline&session=abc",
                           [("Cookie", f"session_token={token}")])),
        ("s", http_response(404, b"{}", [("Content-Type", "application/json")])),
    ]
    return write_pcap(folder / "secret.pcap", frames(tcp_conversation(dialogue), 1), 1)


def test_capture_listing_equals_the_lines_of_full_redaction(tmp_path: Path) -> None:
    capture = _secret_capture(tmp_path)
    runner = CliRunner()
    listing = runner.invoke(cli, ["capture", str(capture)], catch_exceptions=False)
    assert listing.exit_code == 0, listing.stderr
    out = tmp_path / "full.jsonl"
    written = runner.invoke(cli, ["capture", str(capture), "-o", str(out)],
                            catch_exceptions=False)
    assert written.exit_code == 0, written.stderr
    expected = [exchange_line(e) for e in read_source(out, ReadOptions(), Tally())]
    assert listing.stdout.splitlines() == expected
    assert "Zq9secretvalue77" not in listing.stdout
    assert listing.stdout.splitlines()[0].endswith(
        f"/users/{REDACTED}/photos?api_key={REDACTED}")


def test_control_characters_in_a_url_are_escaped_in_the_listing() -> None:
    request = Request(method="GET", authority="api.example.com",
                      target="/search?q=a\x1b[31mred\nline\t\x9bx",
                      headers=Headers([("Host", "api.example.com")]))
    line = exchange_line(Exchange(request, Response(status=200)))
    assert line == ("GET     200  http://api.example.com/search?q=a\\x1b[31mred\\x0aline"
                    "\\x09\\x9bx")
