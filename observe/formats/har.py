"""HAR 1.2: read the exports of Chrome, Firefox, Insomnia and mitmproxy; write HAR others open.

Reading (format "har", detected by a JSON object whose `log` holds the entries):
- UTF-8 with or without a BOM, plain or gzip-compressed; `log.entries` must be a list.
- One pass, memory bounded by the largest entry (not the file): the file is read in chunks of
  `READ_CHUNK` bytes and each entry is decoded and turned into an Exchange on its own, whatever
  the order of the keys around `entries` (see `jsonstream.JsonStream`).
- Truncation policy (as for pcap and flow files): a file cut before its first whole entry is a
  TruncatedInputError; a cut after it yields every whole entry and counts "truncated HAR file".
- A body is `content.text` (or `postData.text`), base64 when `encoding == "base64"`. HAR bodies
  are normally decoded already, so `content_encoding` is '' unless the body still is in its
  declared Content-Encoding (a writer that could not decode it): see `detect_content_encoding`.
- `status == 0` (blocked, failed, cancelled) is a request without response: `response=None`,
  incomplete "no response (status 0)", the browser's `_error` kept in meta["error"].
- HTTP/2 pseudo-header fields (':authority', ...) are not header fields and are dropped.
- A bad entry is counted (record, reason) and skipped; a file that is not HAR is an InputError.

Writing (`write_har`): standard HAR 1.2 fields, plus underscore fields (the spec allows them)
for what HAR cannot say: wire bytes of an encoded body (`_wireBody`), `_contentEncoding`,
`_timing`, `_client`, `_server`, `_origin`, `_incomplete`, `_notes`, `_meta`, `_urlParts`,
`_httpVersion`, `_headers`, `_trailers`. Each is written only when the standard fields alone
would read back a different value.

Invariants:
1. `read_har(write_har(x)) == x` for every Exchange, origin included (the file keeps where
   each exchange first came from).
2. Output is deterministic: fixed key order, meta keys sorted, ASCII-only JSON.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from observe.errors import BodyError
from observe.exchange import Endpoint, Exchange, Message, Origin, Request, Response, Timing
from observe.formats.common import (
    READ_CHUNK,
    UTF8_BOM,
    JsonStream,
    RecordError,
    b64decode,
    b64encode,
    default_port,
    detect_content_encoding,
    encode_text,
    endpoint_from_json,
    endpoint_to_json,
    finite,
    headers_from_json,
    headers_to_json,
    iso_time,
    meta_from_json,
    normalize_http_version,
    notes_from_json,
    notes_to_json,
    open_binary,
    origin_from_json,
    origin_to_json,
    parse_iso_time,
    representable_text,
    sorted_json,
    split_url,
    timing_from_json,
    timing_to_json,
    wanted,
)
from observe.headers import Headers
from observe.sources import ReadOptions, register
from observe.tally import Tally

NO_RESPONSE = "no response (status 0)"
EPOCH = "1970-01-01T00:00:00+00:00"
_HAR_START = re.compile(rb'\s*\{\s*"log"\s*:\s*\{')
_HAR_LOG = re.compile(rb'"log"\s*:\s*\{\s*"(?:version|creator|browser|pages|entries|comment)"')
_JSONL_START = re.compile(rb'\s*\{\s*"v"\s*:')


def sniff(head: bytes, path: Path) -> bool:
    """A JSON object whose `log` object holds the HAR fields."""
    head = head.removeprefix(UTF8_BOM)
    if _HAR_START.match(head):
        return True
    return head.lstrip().startswith(b"{") and not _JSONL_START.match(head) and bool(
        _HAR_LOG.search(head)
    )


# --- reading ---------------------------------------------------------------------------------


@register("har", sniff, "HAR 1.2 (browser dev tools, Insomnia, mitmproxy exports)", shards=True)
def read_har(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every entry of the HAR file at `path` as an Exchange, in file order, as it is read."""
    with open_binary(path) as handle:
        disk = getattr(handle, "fileobj", None) or handle  # a gzip file's own file on disk
        try:
            stream = JsonStream(handle, str(path), "HAR", chunk_size=READ_CHUNK,
                                on_bytes=options.on_bytes, tell=disk.tell)
            entries = stream.array_at(("log", "entries"))
            yield from exchanges_from_entries(entries, str(path), options, tally)
            if stream.truncated and options.shard[0] == 0:  # once, not once per shard
                tally.skip("record", "truncated HAR file")
        finally:
            disk.close()


def har_entries(text: str, location: str) -> list[Any]:
    """The `log.entries` list of a HAR document (InputError when it is not one)."""
    data = io.BytesIO(text.encode("utf-8", errors="surrogatepass"))
    return list(JsonStream(data, location, "HAR").array_at(("log", "entries")))


def exchanges_from_entries(
    entries: Iterable[Any], location: str, options: ReadOptions, tally: Tally
) -> Iterator[Exchange]:
    shard, shards = options.shard
    for index, entry in enumerate(entries):
        if shards > 1 and index % shards != shard:
            continue  # another worker's entry: decoded to find its end, nothing more
        try:
            exchange = exchange_from_entry(entry, Origin("har", location, index))
        except RecordError as exc:
            tally.skip("record", f"bad HAR entry: {exc.reason}")
            continue
        if not wanted(options, exchange.request, tally):
            continue
        if _body_left_out(entry):
            tally.count("HAR responses without their body")
        if _request_body_left_out(entry):
            tally.count("HAR request bodies given only as form params")
        yield exchange


def exchange_from_entry(entry: Any, origin: Origin) -> Exchange:
    """One HAR entry as an Exchange (RecordError when the entry is unusable)."""
    if not isinstance(entry, dict):
        raise RecordError("entry is not an object")
    raw_request = entry.get("request")
    if not isinstance(raw_request, dict):
        raise RecordError("no request")
    request = _request_from(raw_request)
    raw_response = entry.get("response")
    response = None
    if isinstance(raw_response, dict) and _status(raw_response) != 0:
        response = _response_from(raw_response)
    timing = (
        timing_from_json(entry["_timing"]) if "_timing" in entry
        else _har_timing(entry, response is not None)
    )
    incomplete = entry.get("_incomplete", NO_RESPONSE if response is None else None)
    if incomplete is not None and not isinstance(incomplete, str):
        raise RecordError("_incomplete is not a string")
    if "_meta" in entry:
        meta = meta_from_json(entry["_meta"])
    elif response is None and isinstance(raw_response, dict) and raw_response.get("_error"):
        meta = {"error": str(raw_response["_error"])}
    else:
        meta = {}
    return Exchange(
        request=request,
        response=response,
        timing=timing,
        client=endpoint_from_json(entry.get("_client")),
        server=endpoint_from_json(entry["_server"]) if "_server" in entry
        else _server_from(entry, request),
        origin=origin_from_json(entry["_origin"]) if "_origin" in entry else origin,
        incomplete=incomplete,
        notes=notes_from_json(entry.get("_notes")),
        meta=meta,
    )


def _status(raw_response: dict[str, Any]) -> int:
    try:
        return int(raw_response.get("status") or 0)
    except (TypeError, ValueError) as exc:
        raise RecordError("status is not a number") from exc


def _request_from(raw: dict[str, Any]) -> Request:
    method, url = raw.get("method"), raw.get("url")
    if not isinstance(method, str) or not method or not isinstance(url, str):
        raise RecordError("request without method or url")
    if "_urlParts" in raw:
        parts = raw["_urlParts"]
        if not isinstance(parts, dict):
            raise RecordError("_urlParts is not an object")
        scheme, authority, target = (str(parts.get(k, "")) for k in ("scheme", "authority",
                                                                      "target"))
    else:
        scheme, authority, target = split_url(url)
    headers = _headers_from(raw)
    body, coding = _body_from(raw.get("postData"), headers)
    return Request(
        method=method,
        scheme=scheme,
        authority=authority,
        target=target,
        headers=headers,
        body=body,
        content_encoding=coding,
        http_version=_version_from(raw),
        trailers=headers_from_json(raw.get("_trailers", [])),
    )


def _response_from(raw: dict[str, Any]) -> Response:
    headers = _headers_from(raw)
    body, coding = _body_from(raw.get("content"), headers)
    return Response(
        status=_status(raw),
        reason=str(raw.get("statusText") or ""),
        headers=headers,
        body=body,
        content_encoding=coding,
        http_version=_version_from(raw),
        trailers=headers_from_json(raw.get("_trailers", [])),
    )


def _version_from(raw: dict[str, Any]) -> str:
    if "_httpVersion" in raw:
        return str(raw["_httpVersion"])
    return normalize_http_version(raw.get("httpVersion"))


def _headers_from(raw: dict[str, Any]) -> Headers:
    if "_headers" in raw:
        return headers_from_json(raw["_headers"])
    value = raw.get("headers") or []
    if not isinstance(value, list):
        raise RecordError("headers are not a list")
    fields: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or "name" not in item:
            raise RecordError("a header is not {name, value}")
        name, text = item["name"], item.get("value", "")
        name = name if type(name) is str else str(name)
        if not name.startswith(":"):
            fields.append((name, text if type(text) is str else str(text)))
    return Headers.from_str_pairs(tuple(fields))


def _body_from(container: Any, headers: Headers) -> tuple[bytes, str]:
    """Body bytes and content-encoding of a `postData` or `content` object."""
    if not isinstance(container, dict):
        return b"", ""
    if "_wireBody" in container:
        body = b64decode(container["_wireBody"])
    else:
        text = container.get("text")
        if text is None:
            body = _form_from_params(container)
        elif container.get("encoding") == "base64":
            body = b64decode(text)
        else:
            body = encode_text(str(text), headers.get("content-type"))
    if "_contentEncoding" in container:
        return body, str(container["_contentEncoding"])
    return body, detect_content_encoding(body, headers.get("content-encoding"))


def _form_from_params(post_data: dict[str, Any]) -> bytes:
    """A urlencoded form given only as `params` (HAR allows text or params), re-encoded."""
    params = post_data.get("params")
    mime = str(post_data.get("mimeType") or "").split(";")[0].strip().lower()
    if not isinstance(params, list) or mime != "application/x-www-form-urlencoded":
        return b""
    pairs = [(str(p.get("name", "")), str(p.get("value", ""))) for p in params
             if isinstance(p, dict)]
    return urlencode(pairs).encode("ascii")


def _request_body_left_out(entry: dict[str, Any]) -> bool:
    """A postData with neither text nor a urlencoded form (a multipart form as params only)."""
    post_data = entry["request"].get("postData")
    if not isinstance(post_data, dict) or "text" in post_data or "_wireBody" in post_data:
        return False
    return bool(post_data.get("params")) and not _form_from_params(post_data)


def _body_left_out(entry: dict[str, Any]) -> bool:
    """Firefox (and others) may omit response bodies: count it, the body reads as empty."""
    response = entry.get("response")
    if not isinstance(response, dict) or _status(response) == 0:
        return False
    content = response.get("content")
    if not isinstance(content, dict) or "text" in content or "_wireBody" in content:
        return False
    return content.get("size", -1) != 0


def _server_from(entry: dict[str, Any], request: Request) -> Endpoint | None:
    address = entry.get("serverIPAddress")
    if not isinstance(address, str) or not address.strip("[] "):
        return None
    return Endpoint(address.strip("[] "), request.port or default_port(request.scheme))


_INFINITY = float("inf")


def _milliseconds(timings: dict[str, Any], key: str) -> float | None:
    value = timings.get(key)
    kind = type(value)
    if kind is float or kind is int:  # the common case; bool is not int here
        number = float(value)
        return number if 0 <= number < _INFINITY else None
    value = finite(value)
    return value if value is not None and value >= 0 else None


def _har_timing(entry: dict[str, Any], has_response: bool) -> Timing:
    """Timing from startedDateTime and the HAR `timings` phases (milliseconds)."""
    start = parse_iso_time(entry.get("startedDateTime"))
    if start is None:
        return Timing()
    timings = entry.get("timings")
    timings = timings if isinstance(timings, dict) else {}
    send, wait, receive = (_milliseconds(timings, k) for k in ("send", "wait", "receive"))
    if send is None or wait is None or receive is None:
        total = finite(entry.get("time"))
        end = start + total / 1000 if has_response and total is not None and total > 0 else None
        return Timing(request_start=start, response_end=end)
    before = sum(v for k in ("blocked", "dns", "connect") if (v := _milliseconds(timings, k)))
    request_end = start + (before + send) / 1000
    if not has_response:
        return Timing(request_start=start, request_end=request_end)
    response_start = request_end + wait / 1000
    return Timing(start, request_end, response_start, response_start + receive / 1000)


# --- writing ---------------------------------------------------------------------------------


def _creator_version() -> str:
    try:
        return version("restscope")
    except PackageNotFoundError:
        return "0"


def write_har(exchanges: Iterable[Exchange], stream: TextIO) -> int:
    """Write `exchanges` as one HAR 1.2 document, entry by entry; returns how many."""
    return write_har_entries(map(entry_text, exchanges), stream)


def entry_text(exchange: Exchange) -> str:
    """One exchange's HAR entry as `write_har` writes it (indented for its place in the log)."""
    text = json.dumps(entry_from_exchange(exchange), indent=2, ensure_ascii=True)
    return textwrap.indent(text, "      ")


def write_har_entries(entries: Iterable[str], stream: TextIO) -> int:
    """`write_har` for entries already made by `entry_text`; returns how many."""
    creator = json.dumps({"name": "restscope", "version": _creator_version()})
    stream.write(
        '{\n  "log": {\n    "version": "1.2",\n    "creator": ' + creator + ',\n'
        '    "pages": [],\n    "entries": ['
    )
    count = 0
    for text in entries:
        stream.write(("\n" if count == 0 else ",\n") + text)
        count += 1
    stream.write(("\n    " if count else "") + "]\n  }\n}\n")
    return count


_ORIGIN_KEY = '\n        "_origin": {'  # an entry's own key: no string holds a raw newline


def origin_index_span(text: str, meta: bool = True) -> tuple[int, int]:
    """Where the digits of the origin's index stand in an entry made by `entry_text`
    (`meta=False`: the exchange has no meta, so no object follows the origin's)."""
    key = text.index(_ORIGIN_KEY) if meta else text.rindex(_ORIGIN_KEY)
    start = text.index('"index": ', key) + 9
    return start, text.index("\n", start)


def entry_from_exchange(exchange: Exchange) -> dict[str, Any]:
    """One HAR entry (standard fields, then the underscore fields needed for an exact read)."""
    request, response, timing = exchange.request, exchange.response, exchange.timing
    send = _span(timing.request_start, timing.request_end)
    wait = _span(timing.request_end, timing.response_start)
    receive = _span(timing.response_start, timing.response_end)
    duration = finite(timing.duration)
    entry: dict[str, Any] = {
        "startedDateTime": iso_time(timing.request_start) or EPOCH,
        "time": duration * 1000 if duration is not None else send + wait + receive,
        "request": _request_to(request),
        "response": _response_to(response) if response is not None else _NO_RESPONSE_JSON,
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": send,
                    "wait": wait, "receive": receive},
    }
    if exchange.server is not None:
        entry["serverIPAddress"] = exchange.server.host
    if _har_timing(entry, response is not None) != timing:
        entry["_timing"] = timing_to_json(timing)
    if exchange.client is not None:
        entry["_client"] = endpoint_to_json(exchange.client)
    if _server_from(entry, request) != exchange.server:
        entry["_server"] = endpoint_to_json(exchange.server)
    entry["_origin"] = origin_to_json(exchange.origin)
    if exchange.incomplete != (NO_RESPONSE if response is None else None):
        entry["_incomplete"] = exchange.incomplete
    if exchange.notes:
        entry["_notes"] = notes_to_json(exchange.notes)
    if exchange.meta:
        entry["_meta"] = sorted_json(dict(exchange.meta))
    return entry


_NO_RESPONSE_JSON: dict[str, Any] = {
    "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
    "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1,
    "bodySize": -1,
}


def _span(start: float | None, end: float | None) -> float:
    if start is None or end is None:
        return 0.0
    value = finite((end - start) * 1000)
    return max(0.0, value) if value is not None else 0.0


def _request_to(request: Request) -> dict[str, Any]:
    url = request.url
    out: dict[str, Any] = {
        "method": request.method,
        "url": url,
        "httpVersion": request.http_version,
        "cookies": [],
        "headers": _headers_to(request.headers),
        "queryString": [{"name": k, "value": v} for k, v in _query_pairs(request)],
    }
    body, _ = _body_to(request)
    if request.body or request.content_encoding:
        out["postData"] = {"mimeType": request.content_type or "", **body}
    out["headersSize"] = -1
    out["bodySize"] = len(request.body)
    try:
        parts = split_url(url)
    except RecordError:
        parts = ("", "", "")
    if parts != (request.scheme, request.authority, request.target):
        out["_urlParts"] = {"scheme": request.scheme, "authority": request.authority,
                            "target": request.target}
    _add_message_extras(out, request)
    return out


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    try:
        return request.query
    except ValueError:
        return []


def _response_to(response: Response) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": response.status,
        "statusText": response.reason,
        "httpVersion": response.http_version,
        "cookies": [],
        "headers": _headers_to(response.headers),
    }
    body, size = _body_to(response)
    out["content"] = {"size": size, "mimeType": response.content_type or "", **body}
    out["redirectURL"] = response.headers.get("location") or ""
    out["headersSize"] = -1
    out["bodySize"] = len(response.body)
    _add_message_extras(out, response)
    return out


def _headers_to(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _add_message_extras(out: dict[str, Any], message: Message) -> None:
    if normalize_http_version(message.http_version) != message.http_version:
        out["_httpVersion"] = message.http_version
    if any(name.startswith(":") for name, _ in message.headers):
        out["_headers"] = headers_to_json(message.headers)
    if message.trailers:
        out["_trailers"] = headers_to_json(message.trailers)


def _body_to(message: Message) -> tuple[dict[str, Any], int]:
    """`text` (decoded, as text or base64) plus `_wireBody` / `_contentEncoding` when needed,
    and the size of the decoded body."""
    payload = message.body
    if message.content_encoding:
        try:
            payload = message.decoded()
        except BodyError:
            payload = message.body
    out: dict[str, Any] = {}
    text = representable_text(payload, message.content_type)
    if text is not None:
        out["text"] = text
    else:
        out["text"] = b64encode(payload)
        out["encoding"] = "base64"
    if payload != message.body:
        out["_wireBody"] = b64encode(message.body)
    detected = detect_content_encoding(message.body, message.headers.get("content-encoding"))
    if detected != message.content_encoding:
        out["_contentEncoding"] = message.content_encoding
    return out, len(payload)
