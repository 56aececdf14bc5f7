"""Secrets out of tapes: the plugins' Redactor when installed, else a built-in filter.

Without the plugins package, a built-in filter replaces every value whose name looks secret
(api keys, tokens, signatures, OAuth fields, passwords, cookies, Authorization) in the request
URL, form/JSON bodies, response JSON bodies and headers.

Invariant: redaction only ever replaces values with `REDACTED`; it never removes a field, so a
redacted tape keeps the request's shape.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from observe.encoding import encode_content, is_json_type
from observe.errors import BodyError
from observe.exchange import Exchange, Request, Response
from observe.headers import Headers

REDACTED = "REDACTED"
SECRET_NAME = re.compile(
    r"(^|_|-)(api_?key|api_?sig|apikey|secret|token|password|passwd|signature|sig|"
    r"auth|authorization|cookie|session|consumer_key|oauth[a-z_]*|private_key)($|_|-)"
    r"|^oauth_|^x-api-key$|^set-cookie$|^cookie$|^authorization$|^proxy-authorization$",
    re.IGNORECASE,
)
_warned = False


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def _redact_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, REDACTED if is_secret_name(k) and v else v) for k, v in pairs]


def _redact_target(target: str) -> str:
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(k) for k, _ in pairs):
        return target
    return path + "?" + urlencode(_redact_pairs(pairs), quote_via=quote, safe="/,:")


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (_blank(v) if is_secret_name(str(k)) else _redact_json(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return REDACTED if value not in (None, "") else value


def _redact_body(message: Request | Response) -> Request | Response:
    try:
        data = message.decoded()
    except BodyError:
        return message
    if not data:
        return message
    mime = message.mime_type
    new: bytes | None = None
    if is_json_type(mime) or data[:1] in (b"{", b"["):
        try:
            value = json.loads(data)
        except ValueError:
            value = None
        if isinstance(value, dict | list):
            redacted = _redact_json(value)
            if redacted != value:
                new = json.dumps(redacted, separators=(",", ":"), ensure_ascii=False).encode()
    elif mime == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(data.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            pairs = []
        if any(is_secret_name(k) for k, _ in pairs):
            new = urlencode(_redact_pairs(pairs)).encode()
    if new is None:
        return message
    if message.content_encoding:
        try:
            new = encode_content(new, message.content_encoding)
        except BodyError:
            return message.evolve(body=new, content_encoding="",
                                  headers=message.headers.without("content-encoding"))
    return message.evolve(body=new)


def _redact_headers(message: Request | Response) -> Request | Response:
    headers = message.headers
    for name, value in message.headers:
        if value and is_secret_name(name):
            headers = headers.replace_values(name, REDACTED)
    return message if headers == message.headers else message.evolve(headers=headers)


def safety_net(exchange: Exchange) -> Exchange:
    """Redact every secret-looking value the built-in rules know."""
    request = _redact_headers(exchange.request)
    assert isinstance(request, Request)
    request = _redact_body(request)
    assert isinstance(request, Request)
    target = _redact_target(request.target)
    if target != request.target:
        request = request.evolve(target=target)
    response = exchange.response
    if response is not None:
        response = _redact_body(_redact_headers(response))
        assert isinstance(response, Response)
    return exchange.evolve(request=request, response=response)


def _restore_encoding(original: Any, redacted: Any) -> Any:
    """Compress a body the Redactor had to store decoded again, with its original coding.

    Tapes store bodies decoded anyway and record the coding to re-encode on replay, so the
    client sees the Content-Encoding the upstream sent.
    """
    if original is None or redacted is None or not original.content_encoding:
        return redacted
    if redacted.content_encoding or "content-encoding" in redacted.headers:
        return redacted
    try:
        body = encode_content(redacted.body, original.content_encoding)
    except BodyError:
        return redacted
    fields = list(redacted.headers)
    names = [n.lower() for n, _ in original.headers]
    position = min(names.index("content-encoding"), len(fields))
    header = original.headers.get("content-encoding") or original.content_encoding
    fields.insert(position, ("Content-Encoding", header))
    return redacted.evolve(body=body, content_encoding=original.content_encoding,
                           headers=Headers(fields).without("content-length"))


def _undecodable(message: Any) -> bool:
    if message is None or not message.content_encoding:
        return False
    try:
        message.decoded()
    except BodyError:
        return True
    return False


def redact(exchange: Exchange, extra_names: tuple[str, ...] = ()) -> Exchange:
    """Redact with the plugins' Redactor (the built-in filter when it is not installed).

    A response body that cannot be decoded (corrupt gzip) cannot be searched for secrets; it is
    kept as sent (compressed bytes, stored base64) so an imported tape stays faithful.
    """
    global _warned
    try:
        from plugins.redaction import Redactor
    except ImportError:
        if not _warned:
            print("restscope tapes: plugins.redaction not installed; "
                  "using the built-in secret filter", file=sys.stderr)
            _warned = True
        return safety_net(exchange)
    raw_body = exchange.response.body if _undecodable(exchange.response) else None
    probe = exchange
    if raw_body is not None and exchange.response is not None:
        probe = exchange.evolve(response=exchange.response.evolve(body=b""))
    redacted = Redactor(extra_names=extra_names).redact(probe)
    request = _restore_encoding(exchange.request, redacted.request)
    response = _restore_encoding(probe.response, redacted.response)
    if raw_body is not None and response is not None:
        response = response.evolve(body=raw_body)
    return redacted.evolve(request=request, response=response)
