"""The tape file format: one HTTP interaction as a human-readable, versioned YAML document.

Layout (version 1):

    restscope_tape: 1
    request:  {method, url, http_version, headers: [[name, value], ...], body}
    response: {status, reason, http_version, headers, content_encoding, body}
    timing:   {duration: seconds}            # optional
    meta:     {operation_id: ...}            # optional, JSON-able

A body is one of `{text: str}`, `{json: str, style: S}` (pretty-printed; `style` says how to
re-serialise it to the exact bytes sent), `{binary: !!binary ...}` (base64, explicit tag), or
absent when empty.

Invariants:
1. Tapes are data: loading uses the safe YAML loader and never executes anything.
2. A response whose body was compressed is stored decoded with `content_encoding` naming the
   original Content-Encoding; `load_tape` re-encodes it so the Exchange holds wire bytes again.
   A body that cannot be decoded is stored raw (binary) with no `content_encoding` field.
3. Content-Length and Transfer-Encoding are not stored (bodies may be edited by hand); the
   replayer computes framing.
4. `dump_tape` output is deterministic for the same exchange.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from observe.encoding import (
    charset_of,
    decode_content,
    encode_content,
    is_json_type,
    is_textual_type,
    mime_type_of,
)
from observe.errors import BodyError, InputError
from observe.exchange import Exchange, Message, Origin, Request, Response, Timing
from observe.headers import Headers

TAPE_VERSION = 1
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
_REENCODABLE = frozenset({"gzip", "x-gzip", "deflate", "br"})

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class TapeFormatError(InputError):
    """A tape file that is not a valid restscope tape."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: not a valid tape ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class Body:
    """A decoded body and how it is stored."""

    data: bytes
    raw_note: str = ""


# JSON serialisation styles that can reproduce the original bytes exactly
_JSON_STYLES: dict[str, Callable[[Any], str]] = {
    "compact": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    "compact-ascii": lambda v: json.dumps(v, separators=(",", ":")),
    "spaced": lambda v: json.dumps(v, ensure_ascii=False),
    "spaced-ascii": lambda v: json.dumps(v),
    "compact-escaped-slashes": lambda v: json.dumps(v, separators=(",", ":")).replace(
        "/", "\\/"
    ),
    "pretty": lambda v: json.dumps(v, indent=2, ensure_ascii=False),
}


def _json_style(text: str) -> tuple[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict | list):
        return None
    for style, render in _JSON_STYLES.items():
        if render(value) == text:
            return style, value
    return None


def body_to_yaml(data: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The stored form of a decoded body: text, pretty JSON, or tagged binary."""
    if not data:
        return None
    mime = mime_type_of(content_type)
    charset = charset_of(content_type) or "utf-8"
    text: str | None = None
    if not mime or is_textual_type(mime):
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            text = None
        if text is not None and text.encode(charset) != data:
            text = None
    if text is None:
        return {"binary": data}
    if is_json_type(mime) or (not mime and text[:1] in "{["):
        found = _json_style(text)
        if found is not None:
            style, value = found
            return {"json": json.dumps(value, indent=2, ensure_ascii=False) + "\n",
                    "style": style}
    return {"text": text}


def body_from_yaml(stored: Any, content_type: str | None, where: str) -> bytes:
    """Bytes of a stored body (the inverse of `body_to_yaml`)."""
    if stored is None or stored == "":
        return b""
    if isinstance(stored, str):  # a hand-written tape may put text directly
        stored = {"text": stored}
    if not isinstance(stored, dict):
        raise TapeFormatError(where, "body must be a mapping with text, json or binary")
    charset = charset_of(content_type) or "utf-8"
    try:
        if "binary" in stored:
            value = stored["binary"]
            if isinstance(value, str):
                import base64

                value = base64.b64decode(value)
            if not isinstance(value, bytes):
                raise TapeFormatError(where, "binary body is not base64")
            return value
        if "json" in stored:
            raw = stored["json"]
            value = json.loads(raw) if isinstance(raw, str) else raw
            render = _JSON_STYLES.get(str(stored.get("style", "compact")), _JSON_STYLES["compact"])
            return render(value).encode(charset)
        if "text" in stored:
            return str(stored["text"]).encode(charset)
    except (ValueError, LookupError) as exc:
        raise TapeFormatError(where, f"bad body: {exc}") from exc
    raise TapeFormatError(where, "body must have one of text, json, binary")


def _headers_out(headers: Headers) -> list[list[str]]:
    return [[n, v] for n, v in headers if n.lower() not in FRAMING_HEADERS]


def _headers_in(value: Any, where: str) -> Headers:
    if value is None:
        return Headers()
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for name, item in value.items():
            for one in item if isinstance(item, list) else [item]:
                pairs.append((str(name), str(one)))
        return Headers(pairs)
    if not isinstance(value, list):
        raise TapeFormatError(where, "headers must be a list of [name, value]")
    out = []
    for item in value:
        if isinstance(item, list | tuple) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
        elif isinstance(item, str) and ":" in item:
            name, _, val = item.partition(":")
            out.append((name.strip(), val.strip()))
        else:
            raise TapeFormatError(where, f"bad header entry {item!r}")
    return Headers(out)


def _decoded_body(message: Message) -> tuple[bytes, str, str]:
    """(body to store, content_encoding to record, note) for a message."""
    if not message.content_encoding:
        # a reader that found a Content-Encoding header over an already decoded body (old
        # httpx cassettes) says so with content_encoding '': store it decoded, re-encode on replay
        declared = (message.headers.get("content-encoding") or "").strip().lower()
        codings = [c.strip() for c in declared.split(",") if c.strip()]
        if codings and all(c in _REENCODABLE for c in codings):
            return message.body, declared, ""
        return message.body, "", ""
    try:
        return decode_content(message.body, message.content_encoding), message.content_encoding, ""
    except BodyError as exc:
        return message.body, "", f"body kept as sent: {exc}"


def _message_fields(message: Message, into: dict[str, Any]) -> dict[str, Any]:
    """Add what requests and responses share (version, headers, body) to a tape section."""
    if message.http_version != "HTTP/1.1":
        into["http_version"] = message.http_version
    into["headers"] = _headers_out(message.headers)
    body, encoding, note = _decoded_body(message)
    if encoding:
        into["content_encoding"] = encoding
    stored = body_to_yaml(body, message.content_type)
    if stored is not None:
        into["body"] = stored
    if note:
        into["note"] = note
    return into


def exchange_to_dict(exchange: Exchange) -> dict[str, Any]:
    """The tape document for an exchange (a plain dict, ready for YAML)."""
    req = exchange.request
    doc: dict[str, Any] = {"restscope_tape": TAPE_VERSION}
    doc["request"] = _message_fields(req, {"method": req.method, "url": req.url})
    resp = exchange.response
    if resp is not None:
        head: dict[str, Any] = {"status": resp.status}
        if resp.reason:
            head["reason"] = resp.reason
        doc["response"] = _message_fields(resp, head)
    if exchange.timing.duration is not None:
        doc["timing"] = {"duration": round(exchange.timing.duration, 6)}
    if exchange.incomplete:
        doc["incomplete"] = exchange.incomplete
    if exchange.meta:
        doc["meta"] = json.loads(json.dumps(dict(exchange.meta), sort_keys=True, default=str))
    return doc


class _TapeDumper(_Dumper):  # type: ignore[misc, valid-type]
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_TapeDumper.add_representer(str, _str_presenter)


def dump_tape(exchange: Exchange) -> str:
    """The YAML text of a tape (deterministic)."""
    text: str = yaml.dump(
        exchange_to_dict(exchange), Dumper=_TapeDumper, sort_keys=False,
        allow_unicode=True, width=100, default_flow_style=None,
    )
    return text


@dataclass(frozen=True)
class Tape:
    """A loaded tape: the exchange (wire bytes) plus the decoded response body for replay."""

    exchange: Exchange
    response_body: bytes  # decoded (before re-encoding with response_encoding)
    response_encoding: str
    duration: float | None


def _message_parts(doc: dict[str, Any], where: str) -> tuple[Headers, bytes, str]:
    headers = _headers_in(doc.get("headers"), where)
    body = body_from_yaml(doc.get("body"), headers.get("content-type"), where)
    encoding = str(doc.get("content_encoding") or "")
    return headers, body, encoding


def tape_from_dict(doc: Any, where: str) -> Tape:
    if not isinstance(doc, dict) or "request" not in doc:
        raise TapeFormatError(where, "no request section")
    version = doc.get("restscope_tape")
    if version != TAPE_VERSION:
        raise TapeFormatError(where, f"unsupported tape version {version!r}")
    req_doc = doc["request"]
    if not isinstance(req_doc, dict) or "url" not in req_doc:
        raise TapeFormatError(where, "request needs method and url")
    headers, body, encoding = _message_parts(req_doc, where)
    try:
        wire = encode_content(body, encoding) if encoding else body
    except BodyError as exc:
        raise TapeFormatError(where, str(exc)) from exc
    request = Request.from_url(
        str(req_doc.get("method", "GET")), str(req_doc["url"]), headers=headers, body=wire,
        content_encoding=encoding, http_version=str(req_doc.get("http_version", "HTTP/1.1")),
    )
    response = None
    resp_body, resp_encoding = b"", ""
    resp_doc = doc.get("response")
    if resp_doc is not None:
        if not isinstance(resp_doc, dict):
            raise TapeFormatError(where, "response must be a mapping")
        headers, resp_body, resp_encoding = _message_parts(resp_doc, where)
        try:
            status = int(resp_doc.get("status", 200))
            wire = encode_content(resp_body, resp_encoding) if resp_encoding else resp_body
        except (ValueError, BodyError) as exc:
            raise TapeFormatError(where, str(exc)) from exc
        response = Response(
            status=status, reason=str(resp_doc.get("reason", "")), headers=headers, body=wire,
            content_encoding=resp_encoding,
            http_version=str(resp_doc.get("http_version", "HTTP/1.1")),
        )
    timing_doc = doc.get("timing") or {}
    duration = timing_doc.get("duration") if isinstance(timing_doc, dict) else None
    duration = float(duration) if isinstance(duration, int | float) else None
    timing = Timing(0.0, None, None, duration) if duration is not None else Timing()
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    exchange = Exchange(
        request=request, response=response, timing=timing, origin=Origin("tapes", where),
        incomplete=doc.get("incomplete"), meta=meta or {},
    )
    return Tape(exchange, resp_body, resp_encoding, duration)


def parse_tape(text: str | bytes, where: str = "<tape>") -> Tape:
    try:
        doc = yaml.load(text, Loader=_Loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise TapeFormatError(where, f"YAML error: {str(exc).splitlines()[0]}") from exc
    return tape_from_dict(doc, where)


def load_tape(path: str | Path) -> Tape:
    """Read one tape file (raises TapeFormatError or OSError)."""
    with open(path, "rb") as handle:
        return parse_tape(handle.read(), str(path))
