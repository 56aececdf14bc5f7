"""JSONL: one Exchange per line, versioned, the format of the live capture log.

Each line is a JSON object whose first key is the format version `"v"` (currently 1):

    {"v":1,"request":{...},"response":{...}|null,"timing":{...},"client":..,"server":..,
     "origin":{...},"incomplete":..,"notes":[...],"meta":{...}}

A body is `{"text": str}` when it is valid UTF-8, else `{"base64": str}` (an explicit tag).

Invariants:
1. `loads_exchange(dumps_exchange(x)) == x` for every Exchange (exact round trip).
2. The writer writes whole lines and flushes after each one, so a reader tailing the file only
   ever sees a partial *last* line; the reader counts it as skipped "truncated line".
3. A first line that is not a record is an InputError (not a JSONL file); a bad line later is
   counted and skipped; a newer version is an InputError that says to upgrade.
4. Output is deterministic: fixed key order, meta keys sorted, ASCII-only JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from observe.errors import InputError
from observe.exchange import Exchange, Message, Request, Response
from observe.formats.common import (
    UTF8_BOM,
    RecordError,
    b64decode,
    b64encode,
    endpoint_from_json,
    endpoint_to_json,
    headers_from_json,
    headers_to_json,
    meta_from_json,
    notes_from_json,
    notes_to_json,
    open_binary,
    origin_from_json,
    origin_to_json,
    sorted_json,
    timing_from_json,
    timing_to_json,
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


def _message_to(message: Message) -> dict[str, Any]:
    return {
        "http_version": message.http_version,
        "headers": headers_to_json(message.headers),
        "body": _body_to(message.body),
        "content_encoding": message.content_encoding,
        "trailers": headers_to_json(message.trailers),
    }


def _message_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "http_version": str(raw.get("http_version", "HTTP/1.1")),
        "headers": headers_from_json(raw.get("headers", [])),
        "body": _body_from(raw.get("body", {"text": ""})),
        "content_encoding": str(raw.get("content_encoding", "")),
        "trailers": headers_from_json(raw.get("trailers", [])),
    }


def exchange_to_record(exchange: Exchange) -> dict[str, Any]:
    """The JSON object of one line (key order fixed, "v" first)."""
    request, response = exchange.request, exchange.response
    return {
        "v": VERSION,
        "request": {
            "method": request.method,
            "scheme": request.scheme,
            "authority": request.authority,
            "target": request.target,
            **_message_to(request),
        },
        "response": None if response is None else {
            "status": response.status,
            "reason": response.reason,
            **_message_to(response),
        },
        "timing": timing_to_json(exchange.timing),
        "client": endpoint_to_json(exchange.client),
        "server": endpoint_to_json(exchange.server),
        "origin": origin_to_json(exchange.origin),
        "incomplete": exchange.incomplete,
        "notes": notes_to_json(exchange.notes),
        "meta": sorted_json(dict(exchange.meta)),
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
    return json.dumps(exchange_to_record(exchange), separators=(",", ":"), ensure_ascii=True)


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


def write_jsonl(exchanges: Iterable[Exchange], stream: TextIO) -> int:
    """Write one line per exchange, flushing after each; returns how many were written."""
    count = 0
    for exchange in exchanges:
        stream.write(dumps_exchange(exchange) + "\n")
        stream.flush()
        count += 1
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
            if not wanted(options, exchange.request):
                tally.skip("exchange", "filtered out")
                continue
            yield exchange
