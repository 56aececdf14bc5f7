"""JSONL: one Exchange per line, versioned, the format of the live capture log.

Each line is a JSON object whose first key is the format version `"v"` (currently 1):

    {"v":1,"request":{...},"response":{...}|null,"timing":{...},"client":..,"server":..,
     "origin":{...},"incomplete":..,"notes":[...],"meta":{...}}

A body is `{"text": str}` when it is valid UTF-8, else `{"base64": str}` (an explicit tag).

Invariants:
1. `loads_exchange(dumps_exchange(x)) == x` for every Exchange (exact round trip).
2. The writer writes whole lines only, in chunks of about `WRITE_CHUNK` bytes, each flushed
   at once (the last one at the end), so a reader tailing the file only ever sees a partial
   *last* line; the reader counts it as skipped "truncated line". (The live capture log of
   `sniff`/`proxy` has its own writer, which flushes every line.)
3. A first line that is not a record is an InputError (not a JSONL file); a bad line later is
   counted and skipped; a newer version is an InputError that says to upgrade.
4. Output is deterministic: fixed key order, meta keys sorted, ASCII-only JSON.
5. The bytes written are exactly those of `json.dumps(record, separators=(",", ":"),
   ensure_ascii=True)`. They are made with orjson for speed and made identical: characters
   orjson writes raw (DEL and non-ASCII) are escaped as `json` escapes them afterwards; a
   record orjson would write differently (a float outside 1e-4..1e16 or not finite, a lone
   surrogate, an integer past 64 bits) is written by `json` itself; `meta`, free-form, always is.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import orjson

from observe.errors import InputError
from observe.exchange import Exchange, Request, Response
from observe.formats.common import (
    UTF8_BOM,
    RecordError,
    b64decode,
    b64encode,
    endpoint_from_json,
    headers_from_json,
    meta_from_json,
    notes_from_json,
    notes_to_json,
    open_binary,
    origin_from_json,
    sorted_json,
    timing_from_json,
    wanted,
)
from observe.sources import ReadOptions, register
from observe.tally import Tally

VERSION = 1
_START = re.compile(rb'\s*\{\s*"v"\s*:\s*\d')


def sniff(head: bytes, path: Path) -> bool:
    """The first line is a JSON object that starts with the version key."""
    return bool(_START.match(head.removeprefix(UTF8_BOM)))


# --- one exchange <-> one line ---------------------------------------------------------------


def _body_to(body: bytes) -> dict[str, str]:
    if not body:
        return {"text": ""}
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": b64encode(body)}


def _body_from(value: Any) -> bytes:
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"].encode("utf-8", errors="surrogatepass")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        return b64decode(value["base64"])
    raise RecordError("a body is neither {text} nor {base64}")


def _message_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "http_version": str(raw.get("http_version", "HTTP/1.1")),
        "headers": headers_from_json(raw.get("headers", [])),
        "body": _body_from(raw.get("body", {"text": ""})),
        "content_encoding": str(raw.get("content_encoding", "")),
        "trailers": headers_from_json(raw.get("trailers", [])),
    }


def exchange_to_record(exchange: Exchange) -> dict[str, Any]:
    """The JSON object of one line (key order fixed, "v" first).

    Header fields stay tuples of pairs: both JSON writers make them arrays of arrays.
    """
    request, response, timing = exchange.request, exchange.response, exchange.timing
    client, server, origin = exchange.client, exchange.server, exchange.origin
    return {
        "v": VERSION,
        "request": {
            "method": request.method,
            "scheme": request.scheme,
            "authority": request.authority,
            "target": request.target,
            "http_version": request.http_version,
            "headers": request.headers.fields,
            "body": _body_to(request.body),
            "content_encoding": request.content_encoding,
            "trailers": request.trailers.fields,
        },
        "response": None if response is None else {
            "status": response.status,
            "reason": response.reason,
            "http_version": response.http_version,
            "headers": response.headers.fields,
            "body": _body_to(response.body),
            "content_encoding": response.content_encoding,
            "trailers": response.trailers.fields,
        },
        "timing": {
            "request_start": timing.request_start,
            "request_end": timing.request_end,
            "response_start": timing.response_start,
            "response_end": timing.response_end,
        },
        "client": None if client is None else {"host": client.host, "port": client.port},
        "server": None if server is None else {"host": server.host, "port": server.port},
        "origin": {"kind": origin.kind, "location": origin.location, "index": origin.index},
        "incomplete": exchange.incomplete,
        "notes": notes_to_json(exchange.notes) if exchange.notes else [],
        "meta": sorted_json(dict(exchange.meta)) if exchange.meta else {},
    }


def exchange_from_record(record: Any) -> Exchange:
    """The Exchange of one line's object (RecordError when it is not a valid record)."""
    if not isinstance(record, dict) or "v" not in record:
        raise RecordError("not a record (no version key)")
    raw_request, raw_response = record.get("request"), record.get("response")
    if not isinstance(raw_request, dict):
        raise RecordError("no request")
    if raw_response is not None and not isinstance(raw_response, dict):
        raise RecordError("response is not an object")
    incomplete = record.get("incomplete")
    if incomplete is not None and not isinstance(incomplete, str):
        raise RecordError("incomplete is not a string")
    try:
        request = Request(
            method=str(raw_request["method"]),
            scheme=str(raw_request.get("scheme", "http")),
            authority=str(raw_request.get("authority", "")),
            target=str(raw_request.get("target", "/")),
            **_message_fields(raw_request),
        )
        response = None if raw_response is None else Response(
            status=int(raw_response["status"]),
            reason=str(raw_response.get("reason", "")),
            **_message_fields(raw_response),
        )
    except RecordError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"missing or bad field {exc}") from exc
    return Exchange(
        request=request,
        response=response,
        timing=timing_from_json(record.get("timing")),
        client=endpoint_from_json(record.get("client")),
        server=endpoint_from_json(record.get("server")),
        origin=origin_from_json(record.get("origin", {"kind": "jsonl"})),
        incomplete=incomplete,
        notes=notes_from_json(record.get("notes")),
        meta=meta_from_json(record.get("meta")),
    )


def dumps_exchange(exchange: Exchange) -> str:
    """One exchange as one line of JSON (without the newline)."""
    return jsonl_line(exchange)[:-1].decode("ascii")


def dumps_exchange_bytes(exchange: Exchange) -> bytes:
    """One exchange as one line of JSON, ASCII bytes (without the newline); see invariant 5."""
    return jsonl_line(exchange)[:-1]


# orjson writes DEL and non-ASCII characters raw, where `json` (ensure_ascii) escapes them
_RAW = re.compile(rb"[\x7f-\xff]+")
# floats in this range (and 0) are written alike by repr() and orjson (shortest round trip)
_FLOAT_LOW, _FLOAT_HIGH = 1e-4, 1e16


def _escape_run(found: re.Match[bytes]) -> bytes:
    """A run of raw characters as `json` escapes them: \\uXXXX, surrogate pairs past BMP."""
    out = []
    for char in found.group().decode("utf-8"):
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out).encode("ascii")


def _json_bytes(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def jsonl_line(exchange: Exchange) -> bytes:
    """One exchange as one line of JSON with its newline, ASCII bytes (see invariant 5)."""
    record = exchange_to_record(exchange)
    for value in record["timing"].values():
        if value is not None and value != 0 and not _FLOAT_LOW <= abs(value) < _FLOAT_HIGH:
            return _json_bytes(record) + b"\n"  # orjson would not write it as repr() does
    meta = record["meta"]
    if meta:
        record["meta"] = orjson.Fragment(_json_bytes(meta))
    try:
        line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits
        record["meta"] = meta
        return _json_bytes(record) + b"\n"
    if not line.isascii() or b"\x7f" in line:
        line = _RAW.sub(_escape_run, line)
    return line


def loads_exchange(line: str | bytes) -> Exchange:
    """The exchange of one line (RecordError when the line is not a valid record)."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError("not JSON") from exc
    _check_version(record)
    return exchange_from_record(record)


def _check_version(record: Any) -> None:
    if isinstance(record, dict) and isinstance(record.get("v"), int) and record["v"] > VERSION:
        raise InputError(
            f"JSONL record version {record['v']} was written by a newer restscope "
            f"(this one reads version {VERSION}); upgrade restscope"
        )


# --- files -----------------------------------------------------------------------------------


WRITE_CHUNK = 1 << 20


def write_jsonl(exchanges: Iterable[Exchange], stream: TextIO) -> int:
    """Write one line per exchange, in flushed chunks of whole lines (invariant 2); returns how
    many were written."""
    return write_jsonl_lines(map(jsonl_line, exchanges), stream)


def write_jsonl_lines(lines: Iterable[bytes], stream: TextIO) -> int:
    """`write_jsonl` for lines already made by `jsonl_line`; returns how many were written.

    The lines are ASCII: to a text file they go as bytes straight to its binary buffer, saving
    the text layer's encoding pass (the file must be opened without newline translation, as
    `capture` opens it; a text encoding ASCII is not a subset of goes through the text layer).
    """
    binary = getattr(stream, "buffer", None)
    if binary is not None and _ascii_compatible(getattr(stream, "encoding", None)):
        stream.flush()  # whatever was written as text goes first
        return _write_chunks(lines, binary.write, binary.flush)
    return _write_chunks(lines, lambda chunk: stream.write(chunk.decode("ascii")), stream.flush)


def origin_index_span(line: bytes, meta: bool = True) -> tuple[int, int]:
    """Where the digits of the origin's index stand in a line made by `jsonl_line`.

    The first `"origin":{"kind":` is the record's own: inside JSON strings every quote is
    escaped, and the only objects after it (notes, meta) come later in the line. With
    `meta=False` (the exchange has none) it is also the last, found from the end."""
    key = line.index(b'"origin":{"kind":') if meta else line.rindex(b'"origin":{"kind":')
    start = line.index(b',"index":', key) + 9
    return start, line.index(b"}", start)


def _ascii_compatible(encoding: str | None) -> bool:
    try:
        return encoding is not None and codecs.lookup(encoding).name in ("utf-8", "ascii")
    except LookupError:
        return False


def _write_chunks(
    lines: Iterable[bytes],
    write: Callable[[bytes], object],
    flush: Callable[[], None],
) -> int:
    count = size = 0
    pending: list[bytes] = []
    for line in lines:
        pending.append(line)
        size += len(line)
        count += 1
        if size >= WRITE_CHUNK:
            write(b"".join(pending))
            flush()
            pending.clear()
            size = 0
    if pending:
        write(b"".join(pending))
        flush()
    return count


@register("jsonl", sniff, "restscope JSONL (one exchange per line; the live capture log)")
def read_jsonl(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every record of the JSONL file at `path`, in order (see the module invariants)."""
    with open_binary(path) as handle:
        records = 0
        for number, line in enumerate(handle, start=1):
            if options.on_bytes:
                options.on_bytes(len(line))
            if number == 1:
                line = line.removeprefix(UTF8_BOM)
            if not line.strip():
                continue
            try:
                exchange = loads_exchange(line)
            except RecordError as exc:
                if not line.endswith(b"\n"):
                    tally.skip("record", "truncated line")
                    continue
                if records == 0:
                    raise InputError(
                        f"{path}: not a restscope JSONL file (line {number}: {exc.reason})"
                    ) from exc
                tally.skip("record", f"bad JSONL line: {exc.reason}")
                continue
            records += 1
            if not wanted(options, exchange.request, tally):
                continue
            yield exchange
