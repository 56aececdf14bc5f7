"""Exchange values built from parsed HTTP messages, cheaply enough for the capture hot path.

A capture turns tens of thousands of messages a second into `Exchange` values. Frozen dataclass
constructors set each field through `object.__setattr__` (and keyword arguments cost their own
dict), which dominated the profile, so the values here are made by a `_Builder`: the caller
writes the instance dictionary as one dict literal, the builder adds the fields left to their
defaults and hands the dict to the new instance in one step (`__post_init__` still run).

Invariants:
1. A value made here is equal, field for field, to the one the class constructor makes from the
   same arguments (tests/observe/capture/test_building.py checks it for every class used).
2. Only the dataclass API is relied on; a class without an instance dictionary (slots), or
   whose required fields the caller does not give, is made by its constructor. `Headers` values
   are made from their `str` pairs with `Headers.from_str_pairs`.
3. Bytes become text as UTF-8, or Latin-1 when they are not UTF-8 (never with errors
   ignored): the target and reason here, header fields as they arrive (`http1`, names
   Latin-1: they are ASCII tokens).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from observe.capture.messages import Message
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import EMPTY_HEADERS, Headers

_NO_META: MappingProxyType[str, Any] = MappingProxyType({})


class _Builder:
    """Makes a `cls` from a dict of the fields named `given`, in one step: the other fields get
    their defaults (factories called) and `__post_init__` runs, as with the constructor. A class
    this cannot make directly (slots, a field without default left out) uses its constructor."""

    __slots__ = ("cls", "defaults", "direct", "factories", "post_init")

    def __init__(self, cls: type, given: tuple[str, ...]) -> None:
        self.cls = cls
        self.defaults: dict[str, Any] = {}
        self.factories: list[tuple[str, Callable[[], Any]]] = []
        self.direct = "__slots__" not in cls.__dict__ and dataclasses.is_dataclass(cls)
        if self.direct:
            for field in dataclasses.fields(cls):
                if field.name in given:
                    continue
                if field.default is not dataclasses.MISSING:
                    self.defaults[field.name] = field.default
                elif field.default_factory is not dataclasses.MISSING:
                    self.factories.append((field.name, field.default_factory))
                else:
                    self.direct = False
        self.post_init = getattr(cls, "__post_init__", None)

    def make(self, state: dict[str, Any]) -> Any:
        if not self.direct:
            return self.cls(**state)
        for name, factory in self.factories:
            state[name] = factory()
        if self.defaults:
            state.update(self.defaults)
        instance = _new(self.cls)
        _set_state(instance, "__dict__", state)
        if self.post_init is not None:
            self.post_init(instance)
        return instance


_new = object.__new__
_set_state = object.__setattr__  # frozen classes refuse their own __setattr__
_MESSAGE_FIELDS = ("headers", "body", "content_encoding", "http_version", "trailers")
_request = _Builder(Request, (*_MESSAGE_FIELDS, "method", "scheme", "authority", "target")).make
_response = _Builder(Response, (*_MESSAGE_FIELDS, "status", "reason")).make
_timing = _Builder(
    Timing, ("request_start", "request_end", "response_start", "response_end")
).make
_exchange = _Builder(
    Exchange,
    ("request", "response", "timing", "client", "server", "origin", "incomplete", "meta"),
).make
_origin = _Builder(Origin, ("kind", "location", "index")).make


def make_origin(kind: str, location: str, index: int) -> Origin:
    """`Origin(kind, location, index)`, made directly."""
    return _origin({"kind": kind, "location": location, "index": index})  # type: ignore[no-any-return]


def text(raw: bytes) -> str:
    """Bytes from the wire as text: UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# `Headers.__init__` copies every pair through `str()`, a third of the cost of an exchange here;
# the pairs `http1` collects are already `str`.
_trusted_headers = Headers.from_str_pairs


def headers_of(fields: list[tuple[str, str]] | tuple[()]) -> Headers:
    return _trusted_headers(tuple(fields)) if fields else EMPTY_HEADERS


def content_coding(message: Message) -> str:
    """The Content-Encoding of a message, lower-case; '' for none or identity."""
    value = message.coding
    if value is None:
        return ""
    coding = value.decode("latin-1").strip().lower()
    return "" if coding == "identity" else coding


def build_exchange(
    request: Message,
    response: Message | None,
    authority: str,
    client: Endpoint,
    server: Endpoint,
    origin: Origin,
) -> Exchange:
    """The Exchange for a parsed request and its response (or None)."""
    built_request = _request({
        "headers": headers_of(request.headers),
        "body": b"".join(request.body),
        "content_encoding": content_coding(request),
        "http_version": request.version,
        "trailers": headers_of(request.trailers) if request.trailers else EMPTY_HEADERS,
        "method": request.method,
        "scheme": "http",
        "authority": authority,
        "target": text(request.target),
    })
    incomplete: str | None
    if response is None:
        built_response = None
        incomplete = request.incomplete or request.no_response or "no response"
        response_start = response_end = None
    else:
        built_response = _response({
            "headers": headers_of(response.headers),
            "body": b"".join(response.body),
            "content_encoding": content_coding(response),
            "http_version": response.version,
            "trailers": headers_of(response.trailers) if response.trailers else EMPTY_HEADERS,
            "status": response.status,
            "reason": text(response.reason),
        })
        incomplete = request.incomplete or response.incomplete
        response_start, response_end = response.start_ts, response.end_ts
    timing = _timing({
        "request_start": request.start_ts,
        "request_end": request.end_ts,
        "response_start": response_start,
        "response_end": response_end,
    })
    return _exchange({  # type: ignore[no-any-return]
        "request": built_request,
        "response": built_response,
        "timing": timing,
        "client": client,
        "server": server,
        "origin": origin,
        "incomplete": incomplete,
        "meta": _NO_META,
    })
