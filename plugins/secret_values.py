"""The value pass of redaction: a secret found under a secret name, searched for everywhere
else in the same exchange (target, headers, text bodies, notes, meta) and replaced.

Invariants: pure (only this exchange's values are searched for); forms searched are the raw
value, its percent-encodings and its JSON escapes; a changed compressed body is stored decoded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from observe.encoding import is_textual_type
from observe.errors import BodyError
from observe.exchange import Exchange, Note
from observe.headers import Headers

REDACTED = "REDACTED"


def scrub_secret_values(
    exchange: Exchange, secrets: set[str], notes: list[Note], plugin: str
) -> Exchange:
    """Every other occurrence of `secrets` (raw, percent-encoded, JSON-escaped) replaced."""
    variants = sorted(
        {form for s in secrets for form in _variants(s) if form}, key=len, reverse=True
    )

    def scrub(text: str) -> str:
        for form in variants:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    request = exchange.request
    changes: dict[str, Any] = {}
    new_request = request.evolve(
        target=scrub(request.target),
        headers=_scrub_headers(request.headers, scrub),
    )
    new_request = _scrub_body(new_request, scrub, "request", notes, plugin)
    if new_request != request:
        changes["request"] = new_request
    if exchange.response is not None:
        response = exchange.response.evolve(
            headers=_scrub_headers(exchange.response.headers, scrub)
        )
        response = _scrub_body(response, scrub, "response", notes, plugin)
        if response != exchange.response:
            changes["response"] = response
    new_notes = tuple(Note(n.plugin, n.field, scrub(n.old), scrub(n.new))
                      for n in exchange.notes)
    if new_notes != exchange.notes:
        changes["notes"] = new_notes
    meta = _scrub_json(dict(exchange.meta), scrub)
    if meta != dict(exchange.meta):
        changes["meta"] = meta
    return exchange.evolve(**changes) if changes else exchange


def _variants(secret: str) -> set[str]:
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret, safe="/"),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
    }


def _scrub_headers(headers: Headers, scrub: Any) -> Headers:
    out = Headers((n, scrub(v)) for n, v in headers)
    return headers if out == headers else out


def _scrub_json(value: Any, scrub: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrub_json(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_json(v, scrub) for v in value]
    return value


def _scrub_body(message: Any, scrub: Any, side: str, notes: list[Note], plugin: str) -> Any:
    if not message.body or not (is_textual_type(message.mime_type) or message.mime_type == ""
                                or message.mime_type == "multipart/form-data"):
        return message
    try:
        raw = message.decoded()
    except BodyError:
        return message
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return message
    new = scrub(text)
    if new == text:
        return message
    notes.append(Note(plugin, f"{side}.body", "secret values elsewhere in the body", REDACTED))
    return with_plain_body(message, new.encode("utf-8"))


def with_plain_body(message: Any, body: bytes) -> Any:
    headers = message.headers.without("content-encoding")
    if "content-length" in headers:
        headers = headers.with_set("Content-Length", str(len(body)))
    return message.evolve(body=body, content_encoding="", headers=headers)
