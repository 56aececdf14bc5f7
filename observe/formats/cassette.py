"""vcrpy cassettes (YAML or JSON serializer) as exchanges, and vcrpy-loadable cassettes out.

Layouts read (format "cassette", detected by a top-level `interactions` key):
- classic: request {method, uri, body, headers: name -> [values]}, response {status: {code,
  message}, headers, body: {string}}; a body is text (UTF-8) or bytes (YAML `!!binary`);
- the old httpx layout: response {status_code, http_version, content, headers};
- old flow-style YAML (`body: {string: ''}`, `Accept: ['*/*']`) is plain YAML and reads the same.

Invariants:
1. Cassettes are data: YAML is read with the safe loader (it knows `!!binary`, which is part of
   YAML's standard types) and nothing is ever executed.
2. A body keeps the declared Content-Encoding only when it really is encoded: vcrpy keeps the
   wire bytes (gzip as `!!binary`), but the old httpx layout kept the header over an already
   decoded body, which then reads with content_encoding '' (see `detect_content_encoding`).
3. Cassettes carry no timing or endpoints; those fields stay empty.
4. `write_cassette` writes the classic layout vcrpy loads: wire bytes with their headers (text
   as a string, anything else as `!!binary`); header fields are grouped by name, as vcrpy
   stores them; exchanges without a response are not written (vcrpy cannot replay them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from observe.errors import InputError
from observe.exchange import Exchange, Origin, Request, Response
from observe.formats.common import (
    UTF8_BOM,
    RecordError,
    b64decode,
    detect_content_encoding,
    normalize_http_version,
    read_text_document,
    split_url,
    wanted,
)
from observe.headers import Headers
from observe.sources import ReadOptions, register
from observe.tally import Tally


def _yaml() -> Any:
    """PyYAML, imported when a cassette is read or written (not by every command that only
    registers the reader)."""
    import yaml

    return yaml
_YAML_KEY = re.compile(rb"(?m)^interactions:")
_JSON_KEY = re.compile(rb'\s*\{\s*(?:"version"\s*:\s*\d+\s*,\s*)?"interactions"\s*:')


def sniff(head: bytes, path: Path) -> bool:
    """YAML with a top-level `interactions:` key, or JSON starting with "interactions"."""
    head = head.removeprefix(UTF8_BOM)
    if head.lstrip().startswith(b"{"):
        return bool(_JSON_KEY.match(head))
    return bool(_YAML_KEY.search(head))


# --- reading ---------------------------------------------------------------------------------


def load_cassette_document(text: str, location: str) -> list[Any]:
    """The `interactions` list of a cassette's text (InputError when it is not a cassette)."""
    yaml = _yaml()
    try:
        if text.lstrip().startswith("{"):
            document = json.loads(text)
        else:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{location}: not a valid cassette (JSON error at line {exc.lineno}: {exc.msg})"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        message = f"{location}: not a valid cassette (YAML error{where}: {problem})"
        raise InputError(message) from exc
    interactions = document.get("interactions") if isinstance(document, dict) else None
    if not isinstance(interactions, list):
        raise InputError(f"{location}: not a vcrpy cassette (no interactions list)")
    return interactions


@register("cassette", sniff, "vcrpy cassette (YAML or JSON serializer)")
def read_cassette(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every interaction of the cassette at `path` as an Exchange, in order."""
    interactions = load_cassette_document(read_text_document(path), str(path))
    if options.on_bytes:
        options.on_bytes(path.stat().st_size)
    for index, interaction in enumerate(interactions):
        try:
            exchange = exchange_from_interaction(interaction, Origin("cassette", str(path), index))
        except RecordError as exc:
            tally.skip("record", f"bad cassette interaction: {exc.reason}")
            continue
        if not wanted(options, exchange.request, tally):
            continue
        yield exchange


def _headers(value: Any) -> Headers:
    if value is None:
        return Headers()
    if not isinstance(value, dict):
        raise RecordError("headers are not a mapping")
    fields: list[tuple[str, str]] = []
    for name, values in value.items():
        for item in values if isinstance(values, list) else [values]:
            fields.append((str(name), str(item)))
    return Headers(fields)


def _body(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogatepass")
    if isinstance(value, dict):
        if "base64_string" in value:
            return b64decode(value["base64_string"])
        return _body(value.get("string"))
    raise RecordError("a body is neither text nor bytes")


def exchange_from_interaction(interaction: Any, origin: Origin) -> Exchange:
    """One cassette interaction as an Exchange (RecordError when it is unusable)."""
    if not isinstance(interaction, dict):
        raise RecordError("not a mapping")
    raw_request, raw_response = interaction.get("request"), interaction.get("response")
    if not isinstance(raw_request, dict) or not isinstance(raw_response, dict):
        raise RecordError("no request or no response")
    method, uri = raw_request.get("method"), raw_request.get("uri")
    if not isinstance(method, str) or not isinstance(uri, str):
        raise RecordError("request without method or uri")
    scheme, authority, target = split_url(uri)
    request_headers = _headers(raw_request.get("headers"))
    request_body = _body(raw_request.get("body"))
    request = Request(
        method=method,
        scheme=scheme,
        authority=authority,
        target=target,
        headers=request_headers,
        body=request_body,
        content_encoding=detect_content_encoding(
            request_body, request_headers.get("content-encoding")
        ),
    )
    status = raw_response.get("status")
    try:
        if isinstance(status, dict):
            code, reason = int(status["code"]), str(status.get("message") or "")
        else:
            code, reason = int(raw_response["status_code"]), ""
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError("response without a status code") from exc
    headers = _headers(raw_response.get("headers"))
    body = _body(raw_response["body"] if "body" in raw_response else raw_response.get("content"))
    response = Response(
        status=code,
        reason=reason,
        headers=headers,
        body=body,
        content_encoding=detect_content_encoding(body, headers.get("content-encoding")),
        http_version=normalize_http_version(raw_response.get("http_version")),
    )
    return Exchange(request=request, response=response, origin=origin)


# --- writing ---------------------------------------------------------------------------------


def _headers_out(headers: Headers) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return grouped


def _body_out(body: bytes) -> str | bytes:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def interaction_from_exchange(exchange: Exchange) -> dict[str, Any]:
    """The classic vcrpy interaction of an exchange that has a response."""
    request, response = exchange.request, exchange.response
    assert response is not None
    return {
        "request": {
            "body": _body_out(request.body) if request.body else None,
            "headers": _headers_out(request.headers),
            "method": request.method,
            "uri": request.url,
        },
        "response": {
            "body": {"string": _body_out(response.body)},
            "headers": _headers_out(response.headers),
            "status": {"code": response.status, "message": response.reason},
        },
    }


def write_cassette(exchanges: Iterable[Exchange], stream: TextIO) -> int:
    """Write a vcrpy cassette (YAML, classic layout); returns the interactions written."""
    interactions = [interaction_from_exchange(e) for e in exchanges if e.response is not None]
    yaml = _yaml()
    yaml.dump(
        {"interactions": interactions, "version": 1},
        stream,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
    )
    return len(interactions)
