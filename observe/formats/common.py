"""Helpers the file-format modules share: opening files, bodies, versions, model <-> JSON parts.

Invariants:
1. Nothing here guesses silently: `detect_content_encoding` keeps a declared Content-Encoding
   only when the body really is encoded (it decodes, or it carries the gzip magic and is corrupt),
   so `Message.decoded()` reports corrupt data instead of hiding it.
2. `encode_text` / `representable_text` are exact inverses: a body written as text is read back
   as the very same bytes, otherwise it must be written as base64.
3. The `*_to_json` / `*_from_json` pairs round-trip exactly for JSON-able values.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from observe.encoding import DEFAULT_DECODED_LIMIT, charset_of, decode_content
from observe.errors import BodyDecodeError, BodyTooLargeError, InputError
from observe.exchange import Endpoint, Note, Origin, Request, Timing
from observe.formats.jsonstream import (  # noqa: F401 - READ_CHUNK, JsonStream re-exported
    READ_CHUNK,
    UTF8_BOM,
    JsonStream,
)
from observe.headers import EMPTY_HEADERS, Headers
from observe.sources import ReadOptions
from observe.tally import Tally

GZIP_MAGIC = b"\x1f\x8b"


class RecordError(ValueError):
    """One record of a file is unusable; readers count it (by `reason`) and go on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_binary(path: Path) -> IO[bytes]:
    """Open `path` for reading bytes, transparently gunzipping a gzip-compressed file."""
    try:
        handle: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if handle.read(2) == GZIP_MAGIC:
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def read_bytes(path: Path) -> bytes:
    """The whole content of `path` (gunzipped when needed); a broken gzip is an InputError."""
    with open_binary(path) as handle:
        try:
            return handle.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def read_text_document(path: Path) -> str:
    """A whole text file as str: UTF-8, an optional BOM removed; anything else is an InputError."""
    data = read_bytes(path).removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start} is invalid)") from exc


def default_port(scheme: str) -> int:
    return 443 if scheme.lower() in ("https", "wss") else 80


def wanted(options: ReadOptions, request: Request, tally: Tally) -> bool:
    """Whether `--filter` keeps an exchange with this request (port defaults from the scheme);
    one it drops is counted in `tally` ("filtered out")."""
    if options.wants(request.host, request.port or default_port(request.scheme)):
        return True
    tally.skip("exchange", "filtered out")
    return False


_URL_ODDITIES = re.compile(r"[#\t\r\n\[\]]")


def split_url(url: str) -> tuple[str, str, str]:
    """An absolute URL as (scheme, authority, target); RecordError when it cannot be parsed.
    Plain ASCII http(s) URLs without fragment, brackets or tabs/newlines are split by hand,
    exactly as urlsplit would split them; everything else goes to urlsplit."""
    if url.startswith(("https://", "http://")) and url.isascii() and \
            _URL_ODDITIES.search(url) is None:
        scheme, _, rest = url.partition("://")
        cut = len(rest)
        for mark in "/?":
            found = rest.find(mark)
            if 0 <= found < cut:
                cut = found
        path, _, query = rest[cut:].partition("?")
        target = path or "/"
        if query:
            target += "?" + query
        return scheme, rest[:cut], target
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RecordError("bad url") from exc
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.scheme or "http", parts.netloc, target


def header_text(raw: bytes) -> str:
    """Header bytes as text: UTF-8 when valid, else Latin-1 (lossless)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def normalize_coding(value: str | None) -> str:
    """A Content-Encoding header value as the model stores it ('' for none or identity)."""
    coding = (value or "").strip().lower()
    return "" if coding in ("", "identity") else coding


def detect_content_encoding(
    body: bytes, declared: str | None, limit: int = DEFAULT_DECODED_LIMIT
) -> str:
    """The content-encoding `body` is really in, given the declared Content-Encoding header.

    Tools that export HAR or cassettes usually store bodies already decoded but keep the header;
    some keep the wire bytes. A body that decodes with the declared coding is still encoded; a
    body with the gzip magic that fails to decode is corrupt but encoded; anything else was
    already decoded (returns '').
    """
    coding = normalize_coding(declared)
    if not coding or not body:
        return ""
    try:
        decode_content(body, coding, limit)
    except BodyTooLargeError:
        return coding
    except BodyDecodeError:
        outermost = coding.split(",")[-1].strip()
        if outermost in ("gzip", "x-gzip") and body.startswith(GZIP_MAGIC):
            return coding
        return ""
    return coding


def text_charset(content_type: str | None) -> str:
    """The charset a text body is stored in: the declared one if Python knows it, else UTF-8."""
    charset = charset_of(content_type) or "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


def encode_text(text: str, content_type: str | None) -> bytes:
    """Bytes of a body stored as text: in its declared charset when it fits, else UTF-8."""
    try:
        return text.encode(text_charset(content_type))
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogatepass")


def representable_text(data: bytes, content_type: str | None) -> str | None:
    """`data` as text when `encode_text` gives back exactly `data`, else None (use base64)."""
    for charset in dict.fromkeys((text_charset(content_type), "utf-8")):
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            continue
        if encode_text(text, content_type) == data:
            return text
    return None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict base64 (whitespace allowed); a bad value is a RecordError."""
    try:
        return base64.b64decode("".join(str(text).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordError("bad base64 body") from exc


_VERSION_ALIASES = {
    "h2": "HTTP/2.0", "http/2": "HTTP/2.0", "http/2.0": "HTTP/2.0",
    "h3": "HTTP/3", "http/3": "HTTP/3", "http/3.0": "HTTP/3",
    "http/1.1": "HTTP/1.1", "http/1.0": "HTTP/1.0", "http/0.9": "HTTP/0.9",
}


def normalize_http_version(value: object) -> str:
    """'http/2.0', 'h3', 'HTTP/1.1' -> 'HTTP/2.0', 'HTTP/3', 'HTTP/1.1'; '' -> the default."""
    text = str(value or "").strip()
    if not text:
        return "HTTP/1.1"
    return _VERSION_ALIASES.get(text.lower(), text)


def finite(value: object) -> float | None:
    """A finite number as float, else None (JSON has no NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def iso_time(seconds: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string (None when out of range or unknown)."""
    if seconds is None or not math.isfinite(seconds) or not 0 <= seconds < 253402300799:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def parse_iso_time(text: object) -> float | None:
    """An ISO 8601 date-time (any offset, 'Z', naive = UTC) as epoch seconds, None if invalid."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --- model parts <-> JSON -------------------------------------------------------------------


def headers_to_json(headers: Headers) -> list[list[str]]:
    return [[name, value] for name, value in headers]


def headers_from_json(value: object) -> Headers:
    if not isinstance(value, list):
        raise RecordError("headers are not a list")
    if not value:
        return EMPTY_HEADERS
    fields: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise RecordError("a header is not a [name, value] pair")
        fields.append((str(item[0]), str(item[1])))
    return Headers.from_str_pairs(tuple(fields))


def timing_to_json(timing: Timing) -> dict[str, float | None]:
    return {
        "request_start": timing.request_start,
        "request_end": timing.request_end,
        "response_start": timing.response_start,
        "response_end": timing.response_end,
    }


def timing_from_json(value: object) -> Timing:
    if value is None:
        return Timing()
    if not isinstance(value, dict):
        raise RecordError("timing is not an object")
    return Timing(
        request_start=finite(value.get("request_start")),
        request_end=finite(value.get("request_end")),
        response_start=finite(value.get("response_start")),
        response_end=finite(value.get("response_end")),
    )


def endpoint_to_json(endpoint: Endpoint | None) -> dict[str, Any] | None:
    return None if endpoint is None else {"host": endpoint.host, "port": endpoint.port}


def endpoint_from_json(value: object) -> Endpoint | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("port"), int):
        raise RecordError("an endpoint is not {host, port}")
    return Endpoint(str(value.get("host", "")), value["port"])


def origin_to_json(origin: Origin) -> dict[str, Any]:
    return {"kind": origin.kind, "location": origin.location, "index": origin.index}


def origin_from_json(value: object) -> Origin:
    if not isinstance(value, dict) or not isinstance(value.get("index", 0), int):
        raise RecordError("origin is not {kind, location, index}")
    return Origin(str(value.get("kind", "")), str(value.get("location", "")),
                  value.get("index", 0))


def notes_to_json(notes: Iterable[Note]) -> list[dict[str, str]]:
    return [{"plugin": n.plugin, "field": n.field, "old": n.old, "new": n.new} for n in notes]


def notes_from_json(value: object) -> tuple[Note, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, dict) for n in value):
        raise RecordError("notes are not a list of objects")
    return tuple(
        Note(str(n.get("plugin", "")), str(n.get("field", "")), str(n.get("old", "")),
             str(n.get("new", "")))
        for n in value
    )


def sorted_json(value: Any) -> Any:
    """A JSON-able value with every mapping's keys sorted (deterministic output)."""
    if isinstance(value, Mapping):
        return {str(k): sorted_json(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [sorted_json(v) for v in value]
    return value


def meta_from_json(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError("meta is not an object")
    return value

