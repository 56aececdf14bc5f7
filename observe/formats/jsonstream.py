"""Streaming a large JSON document (a HAR file) value by value, in chunks.

Invariants:
1. `JsonStream` reads a JSON document in chunks and decodes one value at a time: its buffer holds
   about a chunk plus the value being decoded (a value cut by a chunk boundary is re-read with a
   read size that doubles, so a value of n bytes costs O(n)); it accepts exactly what `json.loads`
   accepts, with the same one-line errors (`TruncatedInputError` when the text ends early).
   Array items are decoded by orjson when the buffer shows where an item ends (the next item
   starts with the same text) and orjson gives exactly json's value; otherwise by json.
"""

from __future__ import annotations

import codecs
import json
import re
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

from observe.errors import InputError, TruncatedInputError
from observe.fastjson import NOT_EXACT, exact_orjson

UTF8_BOM = b"\xef\xbb\xbf"
READ_CHUNK = 1 << 16
_PREFIX = 20  # the text an array item starts with, looked for to find where it ends
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
                if value is not NOT_EXACT:
                    yield value
                    continue
            yield self.value()

    def _object_by_orjson(self) -> Any:
        """The object that starts here, decoded by orjson, when the buffer already holds the
        start of the next item and it begins with the same text (HAR entries do): the text
        between is then tried as one JSON value. A valid JSON text is exactly one value, so
        when orjson accepts it, it is this object, whole; anything else (a cut, a value orjson
        would read differently from json: long integers, NaN, lone surrogates) gives NOT_EXACT and
        `value()` decodes it as before."""
        buf, start = self.buf, self.pos
        prefix = buf[start:start + _PREFIX]
        if len(prefix) < _PREFIX:
            return NOT_EXACT
        following = buf.find(prefix, start + 1)
        if following < 0:
            return NOT_EXACT
        piece = buf[start:following].rstrip()
        if not piece.endswith(","):
            return NOT_EXACT
        value = exact_orjson(piece[:-1].encode("utf-8", "surrogatepass"))
        if value is not NOT_EXACT:
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
