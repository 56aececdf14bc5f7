"""Content-Encoding decoders with a decompressed-size cap, and strict charset handling.

Invariants:
1. Decoding is bounded: no decoder produces more than `limit` bytes; passing it raises
   BodyTooLargeError instead of allocating (zip-bomb guard).
2. Corrupt data raises BodyDecodeError; nothing is decoded with errors="ignore".
3. `deflate` accepts both zlib-wrapped and raw streams, as browsers do.
"""

from __future__ import annotations

import zlib

import brotli

from observe.errors import BodyDecodeError, BodyTooLargeError

DEFAULT_DECODED_LIMIT = 10 * 1024 * 1024
_CHUNK = 64 * 1024


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    while pending:
        out += decompressor.decompress(pending, _CHUNK)
        if len(out) > limit:
            raise BodyTooLargeError(f"decoded body passes the {limit}-byte cap")
        pending = decompressor.unconsumed_tail
        if decompressor.eof:
            break
    if not decompressor.eof:
        # flush what remains; a stream that never reached its end marker is truncated
        out += decompressor.flush()
        if len(out) > limit:
            raise BodyTooLargeError(f"decoded body passes the {limit}-byte cap")
        raise BodyDecodeError("compressed body ends before its end marker (truncated)")
    return bytes(out)


def _gunzip(data: bytes, limit: int) -> bytes:
    out = bytearray()
    rest = data
    # gzip allows several members back to back
    while rest:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        while pending:
            out += decompressor.decompress(pending, _CHUNK)
            if len(out) > limit:
                raise BodyTooLargeError(f"decoded body passes the {limit}-byte cap")
            pending = decompressor.unconsumed_tail
            if decompressor.eof:
                break
        if not decompressor.eof:
            raise BodyDecodeError("gzip body ends before its end marker (truncated)")
        rest = decompressor.unused_data.lstrip(b"\x00")
    return bytes(out)


def _unbrotli(data: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(data)
    except brotli.error as exc:
        raise BodyDecodeError(f"corrupt br body: {exc}") from exc
    if len(out) > limit:
        raise BodyTooLargeError(f"decoded body passes the {limit}-byte cap")
    if not decompressor.is_finished():
        raise BodyDecodeError("br body ends before its end marker (truncated)")
    return out


def decode_content(data: bytes, encoding: str, limit: int = DEFAULT_DECODED_LIMIT) -> bytes:
    """Undo a Content-Encoding value (possibly a list, applied in order) on `data`."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", "none"):
            continue
        try:
            if coding in ("gzip", "x-gzip"):
                data = _gunzip(data, limit)
            elif coding == "deflate":
                try:
                    data = _inflate(data, zlib.MAX_WBITS, limit)
                except zlib.error:
                    data = _inflate(data, -zlib.MAX_WBITS, limit)
            elif coding == "br":
                data = _unbrotli(data, limit)
            else:
                raise BodyDecodeError(f"unsupported Content-Encoding {coding!r}")
        except zlib.error as exc:
            raise BodyDecodeError(f"corrupt {coding} body: {exc}") from exc
    return data


def encode_content(data: bytes, encoding: str) -> bytes:
    """Apply a Content-Encoding value to `data` (used when replaying decoded tapes)."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in codings:
        if coding in ("identity", "none"):
            continue
        if coding in ("gzip", "x-gzip"):
            compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            data = compressor.compress(data) + compressor.flush()
        elif coding == "deflate":
            data = zlib.compress(data)
        elif coding == "br":
            data = brotli.compress(data)
        else:
            raise BodyDecodeError(f"unsupported Content-Encoding {coding!r}")
    return data


def charset_of(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type value, lower-cased, if any."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def mime_type_of(content_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower-cased ('' when absent)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(mime: str) -> bool:
    return mime == "application/json" or mime.endswith("+json") or mime == "text/json"


def is_textual_type(mime: str) -> bool:
    if mime.startswith("text/") or is_json_type(mime):
        return True
    return mime in (
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/x-www-form-urlencoded",
        "application/ecmascript",
        "application/graphql",
        "application/yaml",
        "application/x-yaml",
    ) or mime.endswith("+xml")
