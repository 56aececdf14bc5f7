"""Request parameters wherever a client puts them: query string, form body, multipart, JSON.

RPC-style APIs name the call and pass credentials as parameters. These helpers read them and
remove or replace them while keeping every other byte of the request as it was.

Invariants:
1. Parameters are read in wire order; repeated names are kept.
2. Rewriting keeps untouched pieces byte-exact (original percent-encoding, part headers, binary
   file parts); only the pieces removed or replaced change, and Content-Length follows the body.
3. A body that cannot be parsed (bad multipart, non-UTF-8 form, broken JSON) yields no
   parameters and is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_plus

from observe.exchange import Request

QUERY, FORM, MULTIPART, JSON_BODY = "query", "form", "multipart", "json"


class Param(NamedTuple):
    """One parameter: where it was, its name and its text value (file parts have is_file).
    A named tuple: requests carry several, and tuples are built at C speed."""

    location: str
    name: str
    value: str
    is_file: bool = False


# --- urlencoded ------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    """`unquote_plus`, skipped when there is nothing to unquote (the common case)."""
    if "%" in text or "+" in text:
        return unquote_plus(text)
    return text


@lru_cache(maxsize=4096)
def _pairs_cached(encoded: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for piece in encoded.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        out.append((piece, _unquote(name), _unquote(value)))
    return tuple(out)


def _pairs(encoded: str) -> tuple[tuple[str, str, str], ...]:
    """(raw piece, name, value) for each `&`-separated piece of an urlencoded string."""
    if not encoded:
        return ()
    if len(encoded) > 2048:  # long bodies are rarely repeated: not worth a cache slot
        return _pairs_cached.__wrapped__(encoded)
    return _pairs_cached(encoded)


def query_pieces(encoded: str) -> tuple[tuple[str, str, str], ...]:
    """(raw piece, name, value) for each non-empty `&`-separated piece, names and values
    unquoted; joining the raw pieces you keep is what `edit_pairs` returns after removals."""
    return _pairs(encoded)


def edit_pairs(encoded: str, edit: Callable[[str, str], str | None]) -> str:
    """Apply `edit(name, value)` -> None (remove), a new value, or the value (keep)."""
    pieces = []
    changed = False
    for raw, name, value in _pairs(encoded):
        new = edit(name, value)
        if new is None:
            changed = True
        elif new == value:
            pieces.append(raw)
        else:
            changed = True
            raw_name = raw.partition("=")[0]
            pieces.append(f"{raw_name}={quote(new, safe='')}")
    return "&".join(pieces) if changed else encoded


def edit_query(target: str, edit: Callable[[str, str], str | None]) -> str:
    """`target` (path?query) with its query parameters edited; the path is untouched."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    rebuilt = edit_pairs(query, edit)
    if rebuilt == query:
        return target
    return f"{path}?{rebuilt}" if rebuilt else path


# --- bodies ----------------------------------------------------------------------------------


def body_kind(request: Request) -> str:
    """'form', 'multipart', 'json' or '' for the request body's media type."""
    mime = request.mime_type
    if mime == "application/x-www-form-urlencoded":
        return FORM
    if mime == "multipart/form-data":
        return MULTIPART
    if mime == "application/json" or mime.endswith("+json"):
        return JSON_BODY
    return ""


def _plain_body(request: Request) -> bytes | None:
    try:
        return request.decoded()
    except Exception:
        return None


@dataclass(frozen=True)
class Part:
    """One multipart/form-data part: its raw bytes, field name, filename and content."""

    raw: bytes
    name: str
    filename: str | None
    content: bytes


def _boundary(content_type: str | None) -> bytes | None:
    for item in (content_type or "").split(";")[1:]:
        key, _, value = item.partition("=")
        if key.strip().lower() == "boundary":
            return value.strip().strip('"').encode("latin-1", "replace")
    return None


def _disposition_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in value.split(";")[1:]:
        key, _, val = item.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return params


def split_multipart(body: bytes, content_type: str | None) -> list[Part] | None:
    """The parts of a multipart body, or None when it is not well-formed multipart."""
    boundary = _boundary(content_type)
    if not boundary:
        return None
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        return None
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            return None
        inner = chunk[2:-2]
        head, sep, content = inner.partition(b"\r\n\r\n")
        if not sep:
            return None
        name, filename = "", None
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                params = _disposition_params(value)
                name = params.get("name", "")
                filename = params.get("filename")
        parts.append(Part(chunk, name, filename, content))
    return parts


def join_multipart(parts: list[Part], content_type: str | None) -> bytes:
    boundary = _boundary(content_type) or b""
    delimiter = b"--" + boundary
    return b"".join(delimiter + part.raw for part in parts) + delimiter + b"--\r\n"


def replace_part_content(part: Part, content: bytes) -> Part:
    head = part.raw[: len(part.raw) - 2 - len(part.content)]
    return Part(head + content + b"\r\n", part.name, part.filename, content)


def _json_object(request: Request) -> dict[str, object] | None:
    raw = _plain_body(request)
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _scalar_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def request_params(request: Request, kind: str | None = None) -> list[Param]:
    """Every parameter of the request: query first, then the body's, in wire order.
    `kind`, when given, is `body_kind(request)` already worked out by the caller."""
    params = [Param(QUERY, n, v) for _, n, v in _pairs(request.query_string)]
    if kind is None:
        kind = body_kind(request)
    if kind == FORM:
        raw = _plain_body(request)
        if raw is not None:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            params += [Param(FORM, n, v) for _, n, v in _pairs(text)]
    elif kind == MULTIPART:
        raw = _plain_body(request)
        parts = split_multipart(raw, request.content_type) if raw is not None else None
        for part in parts or []:
            if part.filename is not None:
                params.append(Param(MULTIPART, part.name, "", is_file=True))
                continue
            try:
                params.append(Param(MULTIPART, part.name, part.content.decode("utf-8")))
            except UnicodeDecodeError:
                params.append(Param(MULTIPART, part.name, "", is_file=True))
    elif kind == JSON_BODY:
        obj = _json_object(request)
        if obj is not None:
            params += [Param(JSON_BODY, k, _scalar_text(v)) for k, v in obj.items()]
    return params


def _with_body(request: Request, body: bytes) -> Request:
    headers = request.headers.without("content-encoding")
    if "content-length" in headers:
        headers = headers.with_set("Content-Length", str(len(body)))
    return request.evolve(body=body, content_encoding="", headers=headers)


def remove_params(request: Request, drop: Callable[[str], bool]) -> Request:
    """The request without every parameter whose name `drop` accepts (query and body)."""
    return edit_params(request, lambda name, value: None if drop(name) else value)


def edit_params(request: Request, edit: Callable[[str, str], str | None]) -> Request:
    """Apply `edit(name, value)` -> None (remove) / new value / same value to every parameter.

    Multipart file parts are offered with value "" and are only ever removed, never replaced.
    Top-level JSON body keys are edited; nested values are left alone.
    """
    target = edit_query(request.target, edit)
    if target != request.target:
        request = request.evolve(target=target)
    kind = body_kind(request)
    raw = _plain_body(request) if kind else None
    if raw is None:
        return request
    if kind == FORM:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return request
        rebuilt = edit_pairs(text, edit)
        if rebuilt != text:
            return _with_body(request, rebuilt.encode("utf-8"))
        return request
    if kind == MULTIPART:
        parts = split_multipart(raw, request.content_type)
        if parts is None:
            return request
        kept: list[Part] = []
        changed = False
        for part in parts:
            is_file = part.filename is not None
            try:
                text = "" if is_file else part.content.decode("utf-8")
            except UnicodeDecodeError:
                text, is_file = "", True
            new = edit(part.name, text)
            if new is None:
                changed = True
            elif is_file or new == text:
                kept.append(part)
            else:
                changed = True
                kept.append(replace_part_content(part, new.encode("utf-8")))
        if changed:
            return _with_body(request, join_multipart(kept, request.content_type))
        return request
    if kind == JSON_BODY:
        obj = _json_object(request)
        if obj is None:
            return request
        out: dict[str, object] = {}
        changed = False
        for key, value in obj.items():
            text = _scalar_text(value)
            new = edit(key, text)
            if new is None:
                changed = True
            elif new != text:
                changed = True
                out[key] = new
            else:
                out[key] = value
        if changed:
            body = json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            return _with_body(request, body)
    return request
