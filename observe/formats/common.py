"""Helpers the file-format modules share: opening files, bodies, versions, model <-> JSON parts.

Invariants:
1. Nothing here guesses silently: `detect_content_encoding` keeps a declared Content-Encoding
   only when the body really is encoded (it decodes, or it carries the gzip magic and is corrupt),
   so `Message.decoded()` reports corrupt data instead of hiding it.
2. `encode_text` / `representable_text` are exact inverses: a body written as text is read back
   as the very same bytes, otherwise it must be written as base64.
3. The `*_to_json` / `*_from_json` pairs round-trip exactly for JSON-able values.
4. `JsonStream` reads a JSON document in chunks and decodes one value at a time: its buffer holds
   about a chunk plus the value being decoded (a value cut by a chunk boundary is re-read with a
   read size that doubles, so a value of n bytes costs O(n)); it accepts exactly what `json.loads`
   accepts, with the same one-line errors (`TruncatedInputError` when the text ends early).
   Array items are decoded by orjson when the buffer shows where an item ends (the next item
   starts with the same text) and orjson gives exactly json's value; otherwise by json.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import gzip
import json
import math
import re
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import orjson

from observe.encoding import DEFAULT_DECODED_LIMIT, charset_of, decode_content
from observe.errors import BodyDecodeError, BodyTooLargeError, InputError, TruncatedInputError
from observe.exchange import Endpoint, Note, Origin, Request, Timing
from observe.headers import EMPTY_HEADERS, Headers
from observe.sources import ReadOptions

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


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


READ_CHUNK = 1 << 16
_MISS = object()
_PREFIX = 20  # the text an array item starts with, looked for to find where it ends
_DIGITS_TO_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
_LONG_RUN = b"0" * 19  # orjson reads integers of 19+ digits as floats, json as ints
_skip_space = re.compile(r"[ \t\n\r]*").match  # always matches
_NEAR_END = 16  # a decode error this close to the buffer's end may be a value cut by a chunk end


class JsonStream:
    """A UTF-8 JSON document (optional BOM) read from `handle` in chunks, walked value by value.

    `on_bytes(n)` is told the progress of `tell()` (the position in the file on disk, compressed
    bytes for a gzip file) after every read. `truncated` is set when `array_at` stopped at a cut.
    """

    def __init__(self, handle: IO[bytes], location: str, label: str, *,
                 chunk_size: int = READ_CHUNK, on_bytes: Callable[[int], None] | None = None,
                 tell: Callable[[], int] | None = None) -> None:
        self.handle, self.location, self.label = handle, location, label
        self.chunk_size = max(1, chunk_size)
        self.on_bytes, self.tell, self.reported = on_bytes, tell, 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.json = json.JSONDecoder()
        self.fed = 0  # bytes given to the UTF-8 decoder (the BOM excluded)
        self.started = self.eof = self.truncated = False
        self.buf, self.pos = "", 0
        self.line_base = self.column_base = 0  # newlines and current-line chars dropped

    def _fill(self, wanted: int = 0) -> bool:
        """Read at least a chunk (or `wanted` bytes) more; False at the end of the input."""
        if self.eof:
            return False
        size = max(self.chunk_size, wanted)
        try:
            data = raw = self.handle.read(size)
            if not self.started:
                while len(raw) < len(UTF8_BOM) and (more := self.handle.read(size)):
                    raw += more
                data, self.started = raw.removeprefix(UTF8_BOM), True
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{self.location}: corrupt or truncated gzip data ({exc})") from exc
        if self.on_bytes is not None and self.tell is not None:
            position, before = self.tell(), self.reported
            if position > before:
                self.reported = position
                self.on_bytes(position - before)
        pending = len(self.decoder.getstate()[0])
        try:
            text = self.decoder.decode(data, final=not raw)
        except UnicodeDecodeError as exc:
            byte = self.fed - pending + exc.start
            raise InputError(f"{self.location}: not UTF-8 text (byte {byte} is invalid)") from exc
        self.fed, self.eof = self.fed + len(data), not raw
        if self.eof:
            return False
        newlines = self.buf.count("\n", 0, self.pos)
        self.line_base += newlines
        self.column_base = (self.pos - self.buf.rfind("\n", 0, self.pos) - 1 if newlines
                            else self.column_base + self.pos)
        self.buf, self.pos = self.buf[self.pos:] + text, 0
        return True

    def _error(self, message: str, pos: int) -> InputError:
        if self.eof and (pos >= len(self.buf.rstrip()) or message.startswith("Unterminated")):
            return TruncatedInputError(
                f"{self.location}: the {self.label} file ends early (truncated JSON)")
        newlines = self.buf.count("\n", 0, pos)
        column = pos - self.buf.rfind("\n", 0, pos) if newlines else self.column_base + pos + 1
        return InputError(f"{self.location}: not a {self.label} file (invalid JSON at line "
                          f"{self.line_base + newlines + 1}, column {column}: {message})")

    def peek(self) -> str:
        """The next non-whitespace character, not consumed ('' at the end of the input)."""
        while True:
            self.pos = _skip_space(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self._error(f"Expecting {char!r} delimiter", self.pos)
        self.pos += 1

    def value(self) -> Any:
        """The next value, decoded whole."""
        self.peek()
        while True:
            try:
                value, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - _NEAR_END or exc.msg.startswith("Unterminated")
                if cut and self._fill(len(self.buf) - self.pos):
                    continue
                raise self._error(exc.msg, exc.pos) from exc
            # a number or literal that ends the buffer may go on in the next chunk
            scalar = not isinstance(value, dict | list | str)
            if scalar and end > len(self.buf) - _NEAR_END and self._fill(_NEAR_END):
                continue
            self.pos = end
            return value

    def _elements(self, opening: str, closing: str) -> Iterator[None]:
        """Stops at each element of the object or array that starts here."""
        self.expect(opening)
        if self.peek() == closing:
            self.pos += 1
            return
        while True:
            yield
            if self.peek() == closing:
                self.pos += 1
                return
            self.expect(",")

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads or skips each value."""
        for _ in self._elements("{", "}"):
            if self.peek() != '"':
                raise self._error("Expecting property name enclosed in double quotes", self.pos)
            key = self.value()
            self.expect(":")
            yield key

    def items(self) -> Iterator[Any]:
        """The items of the array that starts here, each decoded whole."""
        for _ in self._elements("[", "]"):
            if self.peek() == "{":
                value = self._object_by_orjson()
                if value is not _MISS:
                    yield value
                    continue
            yield self.value()

    def _object_by_orjson(self) -> Any:
        """The object that starts here, decoded by orjson, when the buffer already holds the
        start of the next item and it begins with the same text (HAR entries do): the text
        between is then tried as one JSON value. A valid JSON text is exactly one value, so
        when orjson accepts it, it is this object, whole; anything else (a cut, a value orjson
        would read differently from json: long integers, NaN, lone surrogates) gives _MISS and
        `value()` decodes it as before."""
        buf, start = self.buf, self.pos
        prefix = buf[start:start + _PREFIX]
        if len(prefix) < _PREFIX:
            return _MISS
        following = buf.find(prefix, start + 1)
        if following < 0:
            return _MISS
        piece = buf[start:following].rstrip()
        if not piece.endswith(","):
            return _MISS
        raw = piece[:-1].encode("utf-8", "surrogatepass")
        if _LONG_RUN in raw.translate(_DIGITS_TO_ZERO):
            return _MISS
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _MISS
        self.pos = start + len(piece) - 1
        return value

    def skip(self) -> None:
        """Pass over the next value; a container item by item (memory: its largest item)."""
        char = self.peek()
        if char == "[":
            for _ in self.items():
                pass
        elif char == "{":
            for _ in self.members():
                self.value()
        else:
            self.value()

    def array_at(self, path: tuple[str, ...]) -> Iterator[Any]:
        """The items of the array at `path` (object keys from the top; the first one found),
        then the rest of the document is checked. Not found: InputError. Cut after at least one
        item: stops and sets `truncated`, so the caller can count it."""
        found, started = False, [False]
        try:
            found = yield from self._walk(path, started)
            if self.peek():
                raise self._error("Extra data", self.pos)
        except TruncatedInputError:
            if not started[0]:
                raise
            self.truncated = True
            return
        if not found:
            raise InputError(f"{self.location}: not a {self.label} file "
                             f"(no {'.'.join(path)} list)")

    def _walk(self, path: tuple[str, ...], started: list[bool]) -> Generator[Any, None, bool]:
        if not path and self.peek() == "[":
            for item in self.items():
                started[0] = True
                yield item
            return True
        if not path or self.peek() != "{":
            self.skip()
            return False
        found = False
        for key in self.members():
            if key == path[0] and not found:
                found = yield from self._walk(path[1:], started)
            else:
                self.skip()
        return found


def default_port(scheme: str) -> int:
    return 443 if scheme.lower() in ("https", "wss") else 80


def wanted(options: ReadOptions, request: Request) -> bool:
    """Whether `--filter` keeps an exchange with this request (port defaults from the scheme)."""
    return options.wants(request.host, request.port or default_port(request.scheme))


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

