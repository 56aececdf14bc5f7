"""The one model: an HTTP request/response pair with timing and provenance.

Every source produces `Exchange` values and every consumer reads them.

Invariants:
1. Values are immutable; changes go through `evolve` (a copy), never mutation.
2. Headers keep their order and original casing (see `observe.headers`).
3. A body is stored once, as the bytes on the wire plus its `content_encoding`; decoded bytes,
   text and JSON are derived on demand and cached on the value.
4. A missing response is `response=None`; an exchange that could not be read whole carries an
   `incomplete` reason. Neither is ever hidden.
5. A plugin that changes an exchange appends a `Note` to `notes` (plugin, field, old value with
   secrets redacted), so the original call can always be shown next to the rewritten one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from observe.encoding import (
    DEFAULT_DECODED_LIMIT,
    charset_of,
    decode_content,
    is_json_type,
    mime_type_of,
)
from observe.errors import BodyDecodeError
from observe.fastjson import loads_json
from observe.headers import EMPTY_HEADERS, Headers

_EMPTY_META: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Endpoint:
    """One end of a TCP connection."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Note:
    """A change a plugin made: which plugin, which field, and the old value (redacted)."""

    plugin: str
    field: str
    old: str
    new: str = ""


@dataclass(frozen=True)
class Origin:
    """Where an exchange came from: the source kind, the file or address, the position in it."""

    kind: str
    location: str = ""
    index: int = 0


@dataclass(frozen=True)
class Timing:
    """Wall-clock times in seconds since the epoch; None where the source does not know."""

    request_start: float | None = None
    request_end: float | None = None
    response_start: float | None = None
    response_end: float | None = None

    @property
    def duration(self) -> float | None:
        """Request start to response end, when both are known."""
        if self.request_start is None or self.response_end is None:
            return None
        return max(0.0, self.response_end - self.request_start)


class _Cache:
    """A per-value memo for derived data; excluded from equality, hashing and copies."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[object, object] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Cache)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "_Cache()"


_MISSING = object()
_FIELD_NAMES: dict[type, frozenset[str]] = {}
# what a message's derived values (decoded, text, json) depend on, besides the content type
_BODY_FIELDS = frozenset({"body", "content_encoding"})


def _init_fields(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = frozenset(f.name for f in dataclasses.fields(cls) if f.init)
        _FIELD_NAMES[cls] = names
    return names


def _copy_with(value: Any, changes: dict[str, Any]) -> Any:
    """`dataclasses.replace` for our frozen dataclasses without the `__init__` round trip: a
    shallow copy of the instance dict with `changes` applied (names checked the same way)."""
    names = _init_fields(type(value))
    for name in changes:
        if name not in names:
            raise TypeError(f"{type(value).__name__} has no field {name!r} to change")
    new = object.__new__(type(value))
    state = new.__dict__
    state.update(value.__dict__)
    state.update(changes)
    return new


@dataclass(frozen=True)
class Message:
    """What requests and responses share: version, headers, body, trailers."""

    headers: Headers = EMPTY_HEADERS
    body: bytes = b""
    content_encoding: str = ""
    http_version: str = "HTTP/1.1"
    trailers: Headers = EMPTY_HEADERS
    _cache: _Cache = field(default_factory=_Cache, init=False, repr=False, compare=False)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def mime_type(self) -> str:
        return mime_type_of(self.content_type)

    def decoded(self, limit: int = DEFAULT_DECODED_LIMIT) -> bytes:
        """The body with its content-encoding undone (raises BodyError when it cannot be)."""
        if not self.content_encoding:
            return self.body
        key = ("decoded", limit)
        cached = self._cache.values.get(key, _MISSING)
        if cached is _MISSING:
            try:
                cached = decode_content(self.body, self.content_encoding, limit)
            except Exception as exc:
                cached = exc
            self._cache.values[key] = cached
        if isinstance(cached, Exception):
            raise cached
        assert isinstance(cached, bytes)
        return cached

    def text(self, limit: int = DEFAULT_DECODED_LIMIT) -> str:
        """The decoded body as text, in its declared charset (UTF-8 when none is declared)."""
        key = ("text", limit)
        cached = self._cache.values.get(key, _MISSING)
        if cached is _MISSING:
            raw = self.decoded(limit)
            charset = charset_of(self.content_type) or "utf-8"
            try:
                cached = raw.decode(charset)
            except LookupError as exc:
                raise BodyDecodeError(f"unknown charset {charset!r}") from exc
            except UnicodeDecodeError as exc:
                raise BodyDecodeError(f"body is not valid {charset}: {exc.reason}") from exc
            if cached.startswith("\ufeff"):
                cached = cached[1:]
            self._cache.values[key] = cached
        assert isinstance(cached, str)
        return cached

    def json(self, limit: int = DEFAULT_DECODED_LIMIT) -> Any:
        """The body parsed as JSON (raises BodyDecodeError when it is not JSON)."""
        key = ("json", limit)
        cached = self._cache.values.get(key, _MISSING)
        if cached is _MISSING:
            text = self.text(limit)  # checks the charset and strips a BOM
            try:
                cached = loads_json(text)
            except json.JSONDecodeError as exc:
                raise BodyDecodeError(f"body is not JSON: {exc}") from exc
            self._cache.values[key] = cached
        return cached

    @property
    def is_json(self) -> bool:
        return is_json_type(self.mime_type)

    def evolve(self, **changes: Any) -> Self:
        """A copy with `changes`; derived values stay cached when the body, its encoding and
        its content type are unchanged (they depend on nothing else)."""
        new = _copy_with(self, changes)
        keep = _BODY_FIELDS.isdisjoint(changes) and (
            "headers" not in changes or new.headers.get("content-type") == self.content_type)
        cache = _Cache()
        if keep:
            cache.values.update(self._cache.values)
        new.__dict__["_cache"] = cache
        return new


@dataclass(frozen=True)
class Request(Message):
    """An HTTP request. `target` is the origin-form path and query exactly as sent."""

    method: str = "GET"
    scheme: str = "http"
    authority: str = ""
    target: str = "/"

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def query_string(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def query(self) -> list[tuple[str, str]]:
        """Query parameters in order, repeated keys kept, blank values kept."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    @property
    def host(self) -> str:
        """The host name without port, lower-cased (from the authority or the Host header)."""
        authority = self.authority or self.headers.get("host") or ""
        return _split_authority(authority)[0]

    @property
    def port(self) -> int | None:
        authority = self.authority or self.headers.get("host") or ""
        return _split_authority(authority)[1]

    @property
    def url(self) -> str:
        authority = self.authority or self.headers.get("host") or ""
        return f"{self.scheme}://{authority}{self.target}"

    @classmethod
    def from_url(cls, method: str, url: str, **fields: Any) -> Request:
        """Build a request from an absolute URL (used by HAR, cassettes and tests)."""
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return cls(
            method=method.upper(),
            scheme=parts.scheme or "http",
            authority=parts.netloc,
            target=target,
            **fields,
        )


@dataclass(frozen=True)
class Response(Message):
    """An HTTP response."""

    status: int = 200
    reason: str = ""


def _split_authority(authority: str) -> tuple[str, int | None]:
    authority = authority.rsplit("@", 1)[-1]
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = authority.partition(":")
    return host.lower(), int(port) if port.isdigit() else None


@dataclass(frozen=True)
class Exchange:
    """An HTTP request, its response (or None), timing, endpoints and provenance."""

    request: Request
    response: Response | None = None
    timing: Timing = Timing()
    client: Endpoint | None = None
    server: Endpoint | None = None
    origin: Origin = Origin("memory")
    incomplete: str | None = None
    notes: tuple[Note, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY_META)

    def __post_init__(self) -> None:
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def __hash__(self) -> int:
        return hash((self.request, self.response, self.timing, self.origin, self.notes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exchange):
            return NotImplemented
        return (
            self.request == other.request
            and self.response == other.response
            and self.timing == other.timing
            and self.client == other.client
            and self.server == other.server
            and self.origin == other.origin
            and self.incomplete == other.incomplete
            and self.notes == other.notes
            and dict(self.meta) == dict(other.meta)
        )

    def evolve(self, **changes: Any) -> Exchange:
        """A copy with `changes` applied (the only way to change an exchange)."""
        new = _copy_with(self, changes)
        if "meta" in changes:
            new.__post_init__()
        return new

    def with_note(self, note: Note) -> Exchange:
        return self.evolve(notes=(*self.notes, note))

    def with_meta(self, **values: Any) -> Exchange:
        merged = dict(self.meta)
        merged.update(values)
        return self.evolve(meta=merged)

    @property
    def is_complete(self) -> bool:
        return self.incomplete is None and self.response is not None
