"""Exchange values built from parsed HTTP messages, cheaply enough for the capture hot path.

A capture turns tens of thousands of messages a second into `Exchange` values. Frozen dataclass
constructors set each field through `object.__setattr__`, which dominated the profile, so the
values here are made by `fast_factory`: the instance dictionary is filled in one step from the
dataclass's own field list (defaults and default factories included, `__post_init__` still
run).

Invariants:
1. A value made here is equal, field for field, to the one the class constructor makes from the
   same arguments (tests/observe/capture/test_http1.py checks it for every class used).
2. Only the dataclass API is relied on; a class without an instance dictionary (slots) falls
   back to its constructor. `Headers` values are made from their pairs directly when its
   layout is the known one (checked at import), else through the constructor.
3. Header bytes become text as UTF-8, or Latin-1 when they are not UTF-8 (never with errors
   ignored); names are Latin-1 (they are ASCII tokens).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

from observe.capture.messages import Message
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import EMPTY_HEADERS, Headers

T = TypeVar("T")
_NO_META: MappingProxyType[str, Any] = MappingProxyType({})


def fast_factory(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor for dataclass `cls` that fills `__dict__` in one step."""
    if "__slots__" in cls.__dict__ or not dataclasses.is_dataclass(cls):
        return cls
    defaults: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            factories.append((field.name, field.default_factory))
    post_init = getattr(cls, "__post_init__", None)
    new = object.__new__

    def make(**values: Any) -> T:
        instance = new(cls)
        state = instance.__dict__
        state.update(defaults)
        for name, factory in factories:
            state[name] = factory()
        state.update(values)
        if post_init is not None:
            post_init(instance)
        return instance

    return make


make_request = fast_factory(Request)
make_response = fast_factory(Response)
make_exchange = fast_factory(Exchange)
make_timing = fast_factory(Timing)
make_origin = fast_factory(Origin)


def text(raw: bytes) -> str:
    """Bytes from the wire as text: UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# `Headers.__init__` copies every pair through `str()`, a third of the cost of an exchange here;
# the pairs built below are already `str`.
_trusted_headers = Headers.from_str_pairs


def headers_of(fields: list[tuple[bytes, bytes]] | tuple[()]) -> Headers:
    if not fields:
        return EMPTY_HEADERS
    try:
        return _trusted_headers(
            tuple([(name.decode("latin-1"), value.decode("utf-8")) for name, value in fields])
        )
    except UnicodeDecodeError:
        return _trusted_headers(
            tuple([(name.decode("latin-1"), text(value)) for name, value in fields])
        )


def content_coding(message: Message) -> str:
    """The Content-Encoding of a message, lower-case; '' for none or identity."""
    value = message.header(b"content-encoding")
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
    built_request = make_request(
        headers=headers_of(request.headers),
        body=b"".join(request.body),
        content_encoding=content_coding(request),
        http_version=request.version,
        trailers=headers_of(request.trailers),
        method=request.method,
        scheme="http",
        authority=authority,
        target=text(request.target),
    )
    incomplete: str | None
    if response is None:
        built_response = None
        incomplete = request.incomplete or request.no_response or "no response"
        timing = make_timing(request_start=request.start_ts, request_end=request.end_ts)
    else:
        built_response = make_response(
            headers=headers_of(response.headers),
            body=b"".join(response.body),
            content_encoding=content_coding(response),
            http_version=response.version,
            trailers=headers_of(response.trailers),
            status=response.status,
            reason=text(response.reason),
        )
        incomplete = request.incomplete or response.incomplete
        timing = make_timing(
            request_start=request.start_ts,
            request_end=request.end_ts,
            response_start=response.start_ts,
            response_end=response.end_ts,
        )
    return make_exchange(
        request=built_request,
        response=built_response,
        timing=timing,
        client=client,
        server=server,
        origin=origin,
        incomplete=incomplete,
        meta=_NO_META,
    )
