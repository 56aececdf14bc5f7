"""Test-only readers that turn the Flickr corpus files into Exchanges, as data.

- yakbak `.js` tapes go through the project's reader, tapes.yakbak (parsed, never executed);
- vcrpy cassettes (both the classic `body.string`/`status` and the httpx `content`/
  `status_code` forms) are read here with yaml.safe_load (observe.formats.cassette had not
  landed when these tests were written);
- the flickrapi fixtures module is read with ast.literal_eval of its string assignments, never
  imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from observe.exchange import Exchange, Origin, Request, Response
from observe.headers import Headers
from tapes.yakbak import parse_yakbak
from tests.conftest import corpus_path


def yakbak_dir() -> Path:
    return corpus_path("flickr_responses", "json_yakbak_tapes")


def cassette_dir() -> Path:
    return corpus_path("flickr_responses", "xml_vcr_cassettes")


def read_yakbak(path: Path) -> Exchange:
    """A flickr-sdk tape through the project's own yakbak reader (parsed as data)."""
    return parse_yakbak(path.read_text(encoding="utf-8"), str(path))


def yakbak_exchanges() -> list[Exchange]:
    return [read_yakbak(p) for p in sorted(yakbak_dir().glob("*.js"))]


def _cassette_headers(raw: dict[str, object] | None) -> Headers:
    fields = []
    for name, values in (raw or {}).items():
        for value in values if isinstance(values, list) else [values]:
            fields.append((str(name), str(value)))
    return Headers(fields)


def _text(body: object) -> bytes:
    if isinstance(body, dict):
        body = body.get("string", "")
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def read_cassette(path: Path) -> list[Exchange]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for index, interaction in enumerate(data["interactions"]):
        req = interaction["request"]
        res = interaction["response"]
        request = Request.from_url(req["method"], req["uri"],
                                   headers=_cassette_headers(req.get("headers")),
                                   body=_text(req.get("body")))
        status = res["status"]["code"] if "status" in res else res["status_code"]
        body = _text(res["body"]) if "body" in res else _text(res.get("content"))
        headers = _cassette_headers(res.get("headers"))
        encoding = headers.get("content-encoding") or ""
        if encoding and body[:2] != b"\x1f\x8b":
            headers, encoding = headers.without("content-encoding"), ""
        response = Response(status=int(status), headers=headers, body=body,
                            content_encoding=encoding)
        out.append(Exchange(request, response, origin=Origin("cassette", str(path), index)))
    return out


def cassette_exchanges() -> list[Exchange]:
    out: list[Exchange] = []
    for path in sorted(cassette_dir().glob("*.yml")):
        out += read_cassette(path)
    return out


def flickrapi_fixtures() -> dict[str, str]:
    """The string constants of flickrapi's tests/common_responses.py, read as data."""
    path = corpus_path(
        "flickr_responses", "python_fixtures", "flickrapi__tests_common_responses.py"
    )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(value, str):
                    out[target.id] = value
    return out


def xml_exchange(method: str, xml: str, params: str = "") -> Exchange:
    """A GET of `method` answered with `xml` (for fixtures that hold only the response)."""
    request = Request.from_url(
        "GET", f"https://api.flickr.com/services/rest/?method={method}{params}"
    )
    response = Response(status=200, headers=Headers([("Content-Type", "text/xml; charset=utf-8")]),
                        body=xml.encode("utf-8"))
    return Exchange(request, response, origin=Origin("fixture", method))
