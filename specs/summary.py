"""What was seen per operation: parameters, bodies, responses; and the whole API's summary.

`ApiSummary.add(exchange, loc)` folds one exchange in; `merge` combines two summaries. An
operation is keyed by method and path key (`specs.paths.path_key`); templating across paths
happens at render time, so the result never depends on the order exchanges arrived in.

Invariants:
1. Every summary here is a value with an empty form and an associative, commutative `merge`
   (built from `Shape.merge` and counter addition); `merge` never mutates its arguments.
2. Counters are plain `{str: int}` maps; `to_dict` output is canonical (sorted keys).
3. Nothing is dropped silently: an undecodable body is counted per media type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from observe.encoding import is_json_type, mime_type_of
from observe.errors import BodyError
from observe.exchange import Exchange, Message
from plugins.redaction import is_secret_name as _is_secret_name
from specs.paths import path_key
from specs.shape import Shape, bump, sum_counts

# request headers every client sends: not API parameters
STANDARD_HEADERS = frozenset({
    "accept", "accept-charset", "accept-encoding", "accept-language", "authorization",
    "cache-control", "connection", "content-length", "content-type", "cookie", "dnt", "expect",
    "host", "if-modified-since", "if-none-match", "keep-alive", "origin", "pragma",
    "proxy-authorization", "proxy-connection", "referer", "te", "trailer", "transfer-encoding",
    "upgrade", "upgrade-insecure-requests", "user-agent", "via", "x-forwarded-for",
    "x-forwarded-host", "x-forwarded-proto", "x-requested-with", "content-encoding",
})

@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """`plugins.redaction.is_secret_name`, memoised (names repeat on every exchange)."""
    return _is_secret_name(name)


BROWSER_HEADER_PREFIXES = ("sec-", "priority", "purpose", "x-chrome-", "x-client-data")
# response headers that are part of an API's contract (besides x-*)
API_RESPONSE_HEADERS = frozenset({"etag", "location", "retry-after", "link", "ratelimit-limit",
                                  "ratelimit-remaining", "ratelimit-reset"})


def _merge_shapes(a: Mapping[str, Shape], b: Mapping[str, Shape]) -> dict[str, Shape]:
    out = dict(a)
    for key, shape in b.items():
        mine = out.get(key)
        out[key] = shape if mine is None else mine.merge(shape)
    return out


def _shapes_dict(shapes: Mapping[str, Shape]) -> dict[str, Any]:
    return {key: shape.to_dict() for key, shape in sorted(shapes.items())}


def _shapes_from(data: Mapping[str, Any]) -> dict[str, Shape]:
    return {key: Shape.from_dict(value) for key, value in data.items()}


@lru_cache(maxsize=1024)
def _media(content_type: str | None) -> tuple[str, bool]:
    """(media type or application/octet-stream, is JSON) of a Content-Type value."""
    mime = mime_type_of(content_type)
    return mime or "application/octet-stream", is_json_type(mime)


def body_value(message: Message) -> tuple[str, Any, bool]:
    """(media type, value to summarise or None, decodable) for a message body."""
    if not message.body:
        return "", None, True
    mime, is_json = _media(message.headers.get("content-type"))
    try:
        if is_json:
            return mime, message.json(), True
        if mime == "application/x-www-form-urlencoded":
            return mime, dict(parse_qsl(message.text(), keep_blank_values=True)), True
    except (BodyError, ValueError, UnicodeDecodeError):
        return mime, None, False
    return mime, None, True


class ResponseSummary:
    """Responses with one status code: reasons, and bodies per media type."""

    __slots__ = ("bodies", "count", "headers", "reasons", "undecodable")

    def __init__(self) -> None:
        self.count = 0
        self.reasons: dict[str, int] = {}
        self.bodies: dict[str, Shape] = {}
        self.undecodable: dict[str, int] = {}
        self.headers: dict[str, Shape] = {}

    def merge(self, other: ResponseSummary) -> ResponseSummary:
        out = ResponseSummary()
        out.count = self.count + other.count
        out.reasons = sum_counts(self.reasons, other.reasons)
        out.bodies = _merge_shapes(self.bodies, other.bodies)
        out.undecodable = sum_counts(self.undecodable, other.undecodable)
        out.headers = _merge_shapes(self.headers, other.headers)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "reasons": dict(sorted(self.reasons.items())),
                "bodies": _shapes_dict(self.bodies),
                "undecodable": dict(sorted(self.undecodable.items())),
                "headers": _shapes_dict(self.headers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResponseSummary:
        out = cls()
        out.count = int(data["count"])
        out.reasons = dict(data.get("reasons", {}))
        out.bodies = _shapes_from(data.get("bodies", {}))
        out.undecodable = dict(data.get("undecodable", {}))
        out.headers = _shapes_from(data.get("headers", {}))
        return out


_COUNTERS = ("servers", "operation_ids", "tags", "security", "hints", "undecodable", "no_response",
             "present")
_SHAPE_MAPS = ("path_values", "query", "headers", "cookies", "bodies")


class OperationSummary:
    """Everything seen for one method and path key."""

    __slots__ = ("count", "fixed", "responses", "security_schemes", *_COUNTERS, *_SHAPE_MAPS)

    def __init__(self) -> None:
        self.count = 0
        self.fixed = 0  # exchanges whose path a plugin made (never templated)
        self.servers: dict[str, int] = {}
        self.operation_ids: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.security: dict[str, int] = {}
        self.hints: dict[str, int] = {}  # "pointer\tformat" -> count
        self.undecodable: dict[str, int] = {}  # request media type -> count
        self.no_response: dict[str, int] = {}  # incomplete reason -> count
        self.present: dict[str, int] = {}  # query parameter -> exchanges that sent it
        self.path_values: dict[str, Shape] = {}  # str(position) -> shape of raw values
        self.query: dict[str, Shape] = {}
        self.headers: dict[str, Shape] = {}
        self.cookies: dict[str, Shape] = {}
        self.bodies: dict[str, Shape] = {}  # request body per media type
        self.responses: dict[str, ResponseSummary] = {}
        self.security_schemes: dict[str, str] = {}  # name -> canonical JSON of the scheme

    def merge(self, other: OperationSummary) -> OperationSummary:
        out = OperationSummary()
        out.count = self.count + other.count
        out.fixed = self.fixed + other.fixed
        for name in _COUNTERS:
            setattr(out, name, sum_counts(getattr(self, name), getattr(other, name)))
        for name in _SHAPE_MAPS:
            setattr(out, name, _merge_shapes(getattr(self, name), getattr(other, name)))
        responses = dict(self.responses)
        for status, summary in other.responses.items():
            mine = responses.get(status)
            responses[status] = summary if mine is None else mine.merge(summary)
        out.responses = responses
        schemes = dict(self.security_schemes)
        for name, text in other.security_schemes.items():
            schemes[name] = min(text, schemes.get(name, text))
        out.security_schemes = schemes
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"count": self.count, "fixed": self.fixed}
        for name in _COUNTERS:
            out[name] = dict(sorted(getattr(self, name).items()))
        for name in _SHAPE_MAPS:
            out[name] = _shapes_dict(getattr(self, name))
        out["responses"] = {k: r.to_dict() for k, r in sorted(self.responses.items())}
        out["security_schemes"] = dict(sorted(self.security_schemes.items()))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationSummary:
        out = cls()
        out.count = int(data["count"])
        out.fixed = int(data.get("fixed", 0))
        for name in _COUNTERS:
            setattr(out, name, {str(k): int(v) for k, v in data.get(name, {}).items()})
        for name in _SHAPE_MAPS:
            setattr(out, name, _shapes_from(data.get(name, {})))
        out.responses = {k: ResponseSummary.from_dict(v)
                         for k, v in data.get("responses", {}).items()}
        out.security_schemes = dict(data.get("security_schemes", {}))
        return out

    # --- folding one exchange in -------------------------------------------------------------

    def add(self, exchange: Exchange, loc: str, placeholders: tuple[tuple[int, str], ...]) -> int:
        """Fold one exchange in (the per-exchange hot path: name classes and media types are
        memoised, values are queued on their shapes by `Shape.add`); returns the estimated
        size of the body values it queued (see `ApiSummary.add`)."""
        request = exchange.request
        meta = exchange.meta
        self.count += 1
        if meta.get("path_fixed"):
            self.fixed += 1
        server = meta.get("server") or f"{request.scheme}://{request.authority or request.host}"
        counts = self.servers
        server = str(server)
        counts[server] = counts.get(server, 0) + 1
        operation_id = meta.get("operation_id")
        if operation_id:
            counts = self.operation_ids
            operation_id = str(operation_id)
            counts[operation_id] = counts.get(operation_id, 0) + 1
        tag = meta.get("tag")
        if tag:
            counts = self.tags
            tag = str(tag)
            counts[tag] = counts.get(tag, 0) + 1
        for position, raw in placeholders:
            _shape(self.path_values, str(position)).add(raw, loc)
        self._add_query(query_pairs(request.target), loc, meta)
        authorization = self._add_headers(exchange, loc)
        self._add_security(exchange, authorization)
        queued = _add_body(request, self.bodies, self.undecodable, loc) if request.body else 0
        response = exchange.response
        if response is None:
            bump(self.no_response, exchange.incomplete or "no response")
            return queued
        status = str(response.status)
        summary = self.responses.get(status)
        if summary is None:
            summary = self.responses[status] = ResponseSummary()
        summary.count += 1
        if response.reason:
            bump(summary.reasons, response.reason)
        for name, value in response.headers:
            lower = _response_header_param(name)
            if lower is not None:
                _shape(summary.headers, lower).add(value, loc)
        if response.body:
            queued += _add_body(response, summary.bodies, summary.undecodable, loc)
        hints = meta.get("format_hints")
        if hints:
            counts = self.hints
            for pointer, name in hints.items():
                key = f"{status}\t{pointer}\t{name}"
                counts[key] = counts.get(key, 0) + 1
        return queued

    def flush(self) -> None:
        """Fold every value its shapes have queued."""
        for shapes in (self.path_values, self.query, self.headers, self.cookies, self.bodies):
            for shape in shapes.values():
                shape.flush()
        for response in self.responses.values():
            for shapes in (response.bodies, response.headers):
                for shape in shapes.values():
                    shape.flush()

    def _add_query(self, query: list[tuple[str, str]], loc: str, meta: Mapping[str, Any]) -> None:
        seen = set()
        shapes = self.query
        for name, value in query:
            if is_secret_name(name):
                bump(self.security, f"apiKey:query:{name}")
                continue
            shape = shapes.get(name)
            if shape is None:
                shape = shapes[name] = Shape()
            shape.add(value, loc)
            if name not in seen:
                seen.add(name)
                bump(self.present, name)
        param_hints = meta.get("param_format_hints")
        if param_hints:
            for name, fmt in param_hints.items():
                bump(self.hints, f"query\t{name}\t{fmt}")

    def _add_headers(self, exchange: Exchange, loc: str) -> str | None:
        """Header parameters, cookies and header API keys; returns the Authorization value."""
        authorization = None
        for name, value in exchange.request.headers:
            role, lower = _request_header_role(name)
            if role == _SKIP:
                continue
            if role == _PARAMETER:
                _shape(self.headers, lower).add(value, loc)
            elif role == _AUTHORIZATION:
                if authorization is None:
                    authorization = value
            elif role == _COOKIE:
                for piece in value.split(";"):
                    cookie = piece.strip().partition("=")[0]
                    if cookie:
                        _shape(self.cookies, cookie).add("REDACTED", loc)
            else:
                bump(self.security, f"apiKey:header:{lower}")
        return authorization

    def _add_security(self, exchange: Exchange, authorization: str | None) -> None:
        if authorization:
            bump(self.security, _http_scheme(authorization))
        meta = exchange.meta
        names = meta.get("security")
        if isinstance(names, str):
            names = [names]
        if names:
            counts = self.security
            for name in names:
                key = f"plugin:{name}"
                counts[key] = counts.get(key, 0) + 1
        schemes = meta.get("security_schemes")
        if isinstance(schemes, Mapping):
            known = self.security_schemes
            for name, scheme in schemes.items():
                text = _scheme_text(scheme)
                name = str(name)
                current = known.get(name)
                if current is None or text < current:
                    known[name] = text


_SKIP, _PARAMETER, _AUTHORIZATION, _COOKIE, _SECRET = range(5)


@lru_cache(maxsize=1024)
def _http_scheme(authorization: str) -> str:
    """The security key of an Authorization value (values repeat: they are redacted)."""
    scheme = authorization.strip().partition(" ")[0].lower()
    return "http:" + (scheme or "unknown")


@lru_cache(maxsize=4096)
def _request_header_role(name: str) -> tuple[int, str]:
    """What a request header is to the summary, and its lower-cased name (memoised)."""
    lower = name.lower()
    if lower == "cookie":
        return _COOKIE, lower
    if lower == "authorization":
        return _AUTHORIZATION, lower
    if lower in STANDARD_HEADERS or lower.startswith(BROWSER_HEADER_PREFIXES):
        return _SKIP, lower
    if is_secret_name(lower):
        return _SECRET, lower
    return _PARAMETER, lower


@lru_cache(maxsize=4096)
def _response_header_param(name: str) -> str | None:
    """The lower-cased name of a response header that is part of the contract, else None."""
    lower = name.lower()
    if lower in API_RESPONSE_HEADERS or (lower.startswith("x-") and not is_secret_name(lower)):
        return lower
    return None


def _add_body(message: Message, bodies: dict[str, Shape], undecodable: dict[str, int],
              loc: str) -> int:
    """Fold a non-empty body into `bodies` by media type (or count it as undecodable); the
    bytes it queued in the shape (see QUEUED_BYTES)."""
    mime, value, decodable = body_value(message)
    if not decodable:
        bump(undecodable, mime)
    elif value is not None:
        _shape(bodies, mime).add(value, loc)
        return _queued_size(message)
    else:
        _shape(bodies, mime).count += 1
    return 0


def _queued_size(message: Message) -> int:
    """Rough size of a queued body value: its bytes, 8x when they are compressed."""
    return len(message.body) << 3 if message.content_encoding else len(message.body)


def query_pairs(target: str) -> list[tuple[str, str]]:
    """`Request.query` of a request target: the pairs `parse_qsl(..., keep_blank_values=True)`
    gives, with `unquote` called only on fields that have a '%'."""
    query = target.partition("?")[2]
    if not query:
        return []
    out = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            if "+" in piece:
                name = name.replace("+", " ")
                value = value.replace("+", " ")
            if "%" in name:
                name = unquote(name)
            if "%" in value:
                value = unquote(value)
            out.append((name, value))
    return out


_SCHEME_TEXTS: list[tuple[Any, str]] = []  # a few recent (scheme, canonical JSON) pairs


def _scheme_text(scheme: Any) -> str:
    """Canonical JSON of a security scheme; plugins send the same few schemes every time."""
    for known, text in _SCHEME_TEXTS:
        if known == scheme:
            return text
    text = json.dumps(scheme, sort_keys=True)
    _SCHEME_TEXTS.insert(0, (json.loads(text), text))  # a copy: callers may mutate theirs
    del _SCHEME_TEXTS[8:]
    return text


def _shape(shapes: dict[str, Shape], key: str) -> Shape:
    shape = shapes.get(key)
    if shape is None:
        shape = shapes[key] = Shape()
    return shape


QUEUED_BYTES = 4 << 20  # body bytes queued (`Shape.add`) before every shape is folded


class ApiSummary:
    """Operation summaries keyed by `"METHOD path-key"`; the unit that is merged and saved.

    Memory stays bounded: each shape queues at most `specs.shape.BATCH` values, and when the
    bodies queued across all shapes reach `QUEUED_BYTES`, every shape is folded (`flush`)."""

    __slots__ = ("_queued", "operations")

    def __init__(self) -> None:
        self.operations: dict[str, OperationSummary] = {}
        self._queued = 0

    def add(self, exchange: Exchange, loc: str = "") -> None:
        request = exchange.request
        if exchange.meta.get("path_fixed"):
            key, placeholders = request.path, ()
        else:
            key, placeholders = path_key(request.path)
        op_key = f"{request.method} {key}"
        operation = self.operations.get(op_key)
        if operation is None:
            operation = self.operations[op_key] = OperationSummary()
        queued = operation.add(exchange, loc, placeholders)
        if queued:
            queued += self._queued
            if queued >= QUEUED_BYTES:
                self.flush()
                queued = 0
            self._queued = queued

    def flush(self) -> None:
        """Fold every queued value (reading any summary field does that too)."""
        for operation in self.operations.values():
            operation.flush()
        self._queued = 0

    def merge(self, other: ApiSummary) -> ApiSummary:
        out = ApiSummary()
        operations = dict(self.operations)
        for key, summary in other.operations.items():
            mine = operations.get(key)
            operations[key] = summary if mine is None else mine.merge(summary)
        out.operations = operations
        return out

    def to_dict(self) -> dict[str, Any]:
        return {key: op.to_dict() for key, op in sorted(self.operations.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApiSummary:
        out = cls()
        out.operations = {key: OperationSummary.from_dict(v) for key, v in data.items()}
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiSummary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

