"""Redaction: credentials replaced by a fixed placeholder before anything is written or printed.

`Redactor(extra_names).redact(exchange)` is what every writer calls (tapes, specs, live
reports); `RedactPlugin` puts it in the plugin chain, where it runs last by default.

What is redacted (names compared case-insensitively, see `is_secret_name`):
- headers: Authorization / Proxy-Authorization keep their scheme word (and auth-param names),
  Cookie keeps cookie names, Set-Cookie keeps the cookie name and attributes; any other header
  with a secret name (X-Api-Key, X-Auth-Token, ...) is replaced whole; URLs in headers
  (Referer, Location) lose their secret query values;
- the request target's query, form bodies, multipart fields, JSON bodies at any depth (a secret
  key redacts everything under it, e.g. Flickr's echoed `"api_key": {"_content": "..."}`),
  JSONP-wrapped JSON and XML elements/attributes with secret names;
- then every other occurrence, in the same exchange, of a secret value found above (raw,
  percent-encoded or JSON-escaped) in the target, headers, text bodies, notes and meta
  (plugins.secret_values).

Two paths give the same result: `redact_reference` parses, walks and re-encodes every body;
`redact` (the one used) first checks, with a few C-level scans, whether the target, headers and
bodies can name anything secret at all (every secret name contains one of `_FRAGMENTS`) and
returns the exchange itself when not; JSON bodies get their secret values replaced in the text
(plugins.redaction_fast), and whatever that cannot do safely (secret keys holding objects,
escaped key names, other charsets, XML) goes to the reference code. The only differences: a
redacted JSON body keeps its formatting, and JSON that does not parse (cut short, JSONP served
as application/json) is redacted too where the reference leaves it. Remembered (pure, bounded):
body outcomes per identical body, header fields per (name, value), names per name.

Invariants:
1. Pure: the result depends only on the exchange and the configured names; idempotent.
2. A compressed body that must change is stored decoded (content_encoding "", no
   Content-Encoding header, Content-Length fixed), and a Note says so. A compressed textual body
   that cannot be decoded cannot be checked, so it is removed (with a Note).
3. Notes name what was redacted, never the values.
"""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from observe.encoding import is_json_type, is_textual_type
from observe.errors import BodyError
from observe.exchange import Exchange, Message, Note, Request
from observe.headers import Headers
from observe.pipeline import LISTING_PARTS
from plugins.base import Plugin, check_keys, string_list
from plugins.params import FORM, MULTIPART, body_kind, edit_pairs, edit_params, edit_query
from plugins.redaction_fast import JSONP, KEEP, NOT_SCRUBBED, PARSE, BodyScanner, plain_query
from plugins.secret_values import (
    REDACTED,
    header_secrets,
    redact_authorization,
    redact_cookie,
    redact_set_cookie,
    safe_to_scrub_in_place,
    scrub_changes,
    scrub_secret_values,
    scrub_text,
    with_plain_body,
    worth_scrubbing,
)

PLUGIN = "redact"
__all__ = ["REDACTED", "RedactPlugin", "Redactor", "is_secret_name"]

# a name is secret when one of its words is one of these ...
_SECRET_WORDS = frozenset({
    "auth", "authorization", "cookie", "cookies", "credential", "credentials", "csrf", "xsrf",
    "key", "apikey", "passwd", "password", "passphrase", "pwd", "secret", "session",
    "sessionid", "sid", "sig", "signature", "token", "tokens", "jwt", "otp", "pin",
})
# ... or when it contains one of these anywhere (originalsecret, accesstoken, x-apikey)
_SECRET_PARTS = ("token", "secret", "passw", "signature", "apikey", "api_key", "credential",
                 "session", "cookie")
_SECRET_PREFIXES = ("oauth_", "oauth-")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_NOT_PARSED = object()
# every secret name, lower-cased, contains one of these (checked below): a text without any of
# them names nothing secret
_FRAGMENTS = ("auth", "cookie", "credential", "srf", "key", "pass", "pwd", "secret", "session",
              "sid", "sig", "token", "jwt", "otp", "pin")
assert all(any(f in w for f in _FRAGMENTS) for w in (*_SECRET_WORDS, *_SECRET_PARTS))
# what JSON may hold between tokens: an extra name made only of these could be found there
_BETWEEN_TOKENS = frozenset(" \t\r\n,:[]{}0123456789.eE+-truefalsn")
_SPECIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
_MEMO_FIELDS = 4096  # header fields remembered (`Redactor._field`)


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a header, parameter or JSON key called `name` holds a credential."""
    if extra and name.strip().lower() in {e.lower() for e in extra}:
        return True
    return _builtin_secret_name(name)


@functools.lru_cache(maxsize=16384)
def _builtin_secret_name(name: str) -> bool:
    # cached: JSON bodies repeat the same few hundred keys millions of times
    lower = name.strip().lower()
    if not lower:
        return False
    if lower.startswith(_SECRET_PREFIXES) or any(p in lower for p in _SECRET_PARTS):
        return True
    words = {w.lower() for w in _WORD.findall(name)}
    return bool(words & _SECRET_WORDS)


class Redactor:
    """Replaces credentials in exchanges, headers, targets and bodies by `REDACTED`."""

    def __init__(self, extra_names: Iterable[str] = ()) -> None:
        self.extra_names = tuple(n.lower() for n in extra_names)
        self._extra = frozenset(n.strip() for n in self.extra_names)
        self._fragments = (*_FRAGMENTS, *sorted(self._extra))
        # the fast path finds secret names by fragment; an extra name that JSON punctuation
        # could spell (or an empty one) leaves every exchange to the reference path
        self.fast = all(e and not set(e) <= _BETWEEN_TOKENS for e in self._extra)
        self._special: dict[str, bool] = {}
        self._names: dict[str, bool] = {}  # is_secret, remembered
        self._plus_ok = not any(" " in e for e in self._extra)  # see plain_query
        self._bodies = BodyScanner(self._fragments, self.is_secret)
        self._fields: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}

    def is_secret(self, name: str) -> bool:
        known = self._names.get(name)
        if known is None:
            known = (bool(self._extra) and name.strip().lower() in self._extra) or \
                _builtin_secret_name(name)
            if len(self._names) >= _MEMO_FIELDS:
                self._names.clear()
            self._names[name] = known
        return known

    # --- single values -------------------------------------------------------------------

    def redact_value(self, name: str, value: str) -> str:
        """`value` as it may be shown when it belongs to a header/parameter called `name`."""
        lower = name.lower()
        if lower in ("authorization", "proxy-authorization"):
            return redact_authorization(value)
        if lower == "cookie":
            return redact_cookie(value)
        if lower == "set-cookie":
            return redact_set_cookie(value)
        if self.is_secret(name):
            return REDACTED if value else value
        if ("?" in value or "#" in value) and "=" in value:
            return self.redact_target(value)
        return value

    def redact_target(self, target: str) -> str:
        """A path?query (or absolute URL) with secret query (and fragment) values replaced."""
        base, hash_mark, fragment = target.partition("#")
        base = edit_query(base, self._edit_param)
        if hash_mark and "=" in fragment:  # e.g. a Location: ...#access_token=... redirect
            fragment = edit_pairs(fragment, self._edit_param)
        return base + hash_mark + fragment

    def redact_headers(self, headers: Headers) -> Headers:
        fields = tuple((field[0], self._field(field)[0]) for field in headers)
        return headers if fields == headers.fields else Headers.from_str_pairs(fields)

    def redact_json(self, value: Any) -> Any:
        """A JSON value with everything under a secret key replaced (keys are kept).

        Returns `value` itself (the same object) when nothing in it is secret.
        """
        if isinstance(value, dict):
            out: dict[Any, Any] | None = None
            for key, inner in value.items():
                new = _redact_all(inner) if self.is_secret(str(key)) else self.redact_json(inner)
                if new is not inner and new != inner:
                    out = dict(value) if out is None else out
                    out[key] = new
            return value if out is None else out
        if isinstance(value, list):
            items: list[Any] | None = None
            for index, inner in enumerate(value):
                new = self.redact_json(inner)
                if new is not inner:
                    items = list(value) if items is None else items
                    items[index] = new
            return value if items is None else items
        return value

    def _edit_param(self, name: str, value: str) -> str:
        return REDACTED if value and self.is_secret(name) else value

    # --- whole exchanges -----------------------------------------------------------------

    def redact(self, exchange: Exchange) -> Exchange:
        """The exchange with every credential replaced; notes say what was redacted.

        The exchange itself is returned when nothing in it is secret. Same result as
        `redact_reference`, except that a changed JSON body keeps its formatting (only the
        secret values change) and that JSON which does not parse is redacted too.
        """
        if not self.fast:
            return self.redact_reference(exchange)
        notes: list[Note] = []
        target, authority, secrets, in_headers, in_response_headers = self._url_pass(exchange)
        request, response = exchange.request, exchange.response
        if target != request.target or authority != request.authority:
            notes.append(_URL_NOTE)
            request = request.evolve(target=target, authority=authority)
        if in_headers or request.body:  # else _redact_message keeps it
            request = self._redact_message(request, "request", notes, in_headers, secrets)
        if response is not None and (in_response_headers or response.body):
            response = self._redact_message(response, "response", notes, in_response_headers,
                                            secrets)
        changes: dict[str, Any] = {}
        if request is not exchange.request:
            changes["request"] = request
        if response is not exchange.response:
            changes["response"] = response
        if secrets:
            changes.update(scrub_changes(request, response, exchange.notes, exchange.meta,
                                         secrets, notes, PLUGIN))
        if notes:
            changes["notes"] = (*changes.get("notes", exchange.notes), *notes)
        return exchange.evolve(**changes) if changes else exchange

    def _url_pass(self, exchange: Exchange) -> tuple[str, str, set[str], bool, bool]:
        """`redact`'s first step: the request's target and authority redacted (before the
        value pass), the secret values for the value pass, and whether the request's and the
        response's headers may hold secrets."""
        request, response = exchange.request, exchange.response
        in_headers = self._headers_may_hold(request.headers)
        in_response_headers = response is not None and self._headers_may_hold(response.headers)
        secrets: set[str] = set()
        authority = request.authority
        # a plain query without a body: redacted and its secrets collected in one pass (what
        # the checks below give when no name in it is secret: nothing)
        plain = None if request.body else plain_query(request.target, self.is_secret,
                                                      self._plus_ok)
        if plain is not None:
            target, found = plain
            if in_headers or in_response_headers:
                found += self._header_secrets(exchange, in_headers, in_response_headers)
            if found:
                secrets = worth_scrubbing(found)
        else:
            target = request.target
            in_target = self._may_hold_secret(target)
            if in_target or in_headers or in_response_headers or request.body:
                secrets = self._collect_secrets(exchange, in_headers, in_response_headers,
                                                in_target or bool(request.body))
            if in_target or "@" in authority:
                target = self.redact_target(target)
        if "@" in authority:
            authority = f"{REDACTED}@{authority.rsplit('@', 1)[1]}"
        return target, authority, secrets, in_headers, in_response_headers

    def scrub_text(self, text: str, exchange: Exchange) -> str:
        """`text` with every form of the secret values `exchange` carries under secret names
        (query, headers, form bodies) replaced, as the value pass replaces them."""
        secrets = self._url_pass(exchange)[2] if self.fast else self._collect_secrets(exchange)
        return scrub_text(text, secrets) if secrets else text

    def redact_request_line(self, exchange: Exchange) -> Exchange:
        """The exchange with its request's target and authority as `redact` leaves them, and
        nothing else redacted: for output that shows no more of an exchange than its method,
        URL and status (the capture listing), where redacting headers and bodies is wasted."""
        if not self.fast:
            return self.redact(exchange)
        target, authority, secrets, _, _ = self._url_pass(exchange)
        if secrets:
            target = scrub_text(target, secrets)
        request = exchange.request
        if target == request.target and authority == request.authority:
            return exchange
        return exchange.evolve(request=request.evolve(target=target, authority=authority))

    def _may_hold_secret(self, target: str) -> bool:
        """False when no query or fragment parameter of `target` can have a secret name."""
        if "?" not in target and "#" not in target:
            return False
        lowered = target.lower()
        return "%" in target or any(f in lowered for f in self._fragments)

    def _headers_may_hold(self, headers: Headers) -> bool:
        """False when `redact_headers` would certainly leave `headers` as they are."""
        for name, value in headers:
            special = self._special.get(name)
            if special is None:
                special = name.lower() in _SPECIAL_HEADERS or self.is_secret(name)
                if len(self._special) < 4096:
                    self._special[name] = special
            if special or (("?" in value or "#" in value) and "=" in value):
                return True
        return False

    def _redact_url(self, request: Request, notes: list[Note],
                    target: str | None = None) -> Request:
        """`target`: `redact_target(request.target)` when the caller has it already."""
        if target is None:
            target = self.redact_target(request.target)
        authority = request.authority
        if "@" in authority:
            authority = f"{REDACTED}@{authority.rsplit('@', 1)[1]}"
        if target != request.target or authority != request.authority:
            notes.append(_URL_NOTE)
            request = request.evolve(target=target, authority=authority)
        return request

    def redact_reference(self, exchange: Exchange) -> Exchange:
        """`redact` by parsing and walking every body (what the fast path falls back to)."""
        secrets = self._collect_secrets(exchange)
        notes: list[Note] = []
        request = self._redact_url(exchange.request, notes)
        request = self._redact_message(request, "request", notes)
        response = exchange.response
        if response is not None:
            response = self._redact_message(response, "response", notes)
        result = exchange.evolve(request=request, response=response)
        if secrets:
            result = scrub_secret_values(result, secrets, notes, PLUGIN)
        if notes:
            result = result.evolve(notes=(*result.notes, *notes))
        return result

    def _collect_secrets(self, exchange: Exchange, request_headers: bool = True,
                         response_headers: bool = True, params: bool = True) -> set[str]:
        """Secret values the exchange carries under secret names (for the value pass); the
        flags skip parts the caller knows to hold none."""
        found = set(self._header_secrets(exchange, request_headers, response_headers))
        request = exchange.request

        def keep(name: str, value: str) -> str:
            if self.is_secret(name) and name.lower() not in NOT_SCRUBBED:
                found.add(value)
            return value

        if params:
            edit_params(request, keep)
            for piece in request.query_string.split("&"):  # raw forms ("+" is not a space)
                name, _, raw_value = piece.partition("=")
                if self.is_secret(unquote_plus(name)) and name.lower() not in NOT_SCRUBBED:
                    found.add(raw_value)
        return worth_scrubbing(found)

    def _header_secrets(self, exchange: Exchange, request_headers: bool,
                        response_headers: bool) -> list[str]:
        """Secret values in the headers of the messages flagged."""
        messages: list[Message] = [exchange.request] if request_headers else []
        if response_headers and exchange.response is not None:
            messages.append(exchange.response)
        return [s for message in messages for field in message.headers
                for s in self._field(field)[1]]

    def _field(self, field: tuple[str, str]) -> tuple[str, tuple[str, ...]]:
        """A header field's redacted value and the secret values it holds (remembered: the
        same credentials come back on every request of a session)."""
        known = self._fields.get(field)
        if known is not None:
            return known
        name, value = field
        new = self.redact_value(name, value)
        found = () if new == value else header_secrets(name, value, self.is_secret(name))
        if len(self._fields) >= _MEMO_FIELDS:
            self._fields.clear()
        known = self._fields[field] = (new, found)
        return known

    def _redact_message(self, message: Any, side: str, notes: list[Note],
                        in_headers: bool = True, secrets: set[str] | None = None) -> Any:
        """`secrets` None: the reference path; a set: the fast path, with these secrets."""
        headers = self.redact_headers(message.headers) if in_headers else message.headers
        if headers is not message.headers:
            names = sorted({n for (n, v), (_, old) in zip(headers, message.headers, strict=True)
                            if v != old})
            notes.append(Note(PLUGIN, f"{side}.headers", f"{len(names)} header(s)",
                              f"{REDACTED}: {', '.join(names)}"))
            message = message.evolve(headers=headers)
        if not message.body:
            return message
        if isinstance(message, Request) and body_kind(message) in (FORM, MULTIPART):
            try:
                message.decoded()
            except BodyError:
                return _remove_body(message, side, notes)
            edited = edit_params(message, self._edit_param)
            if edited is not message:
                notes.append(_body_note(side, message.content_encoding))
            return edited
        if secrets is not None:
            return self._fast_text_body(message, side, notes, secrets)
        return self._redact_text_body(message, side, notes)

    def _fast_text_body(self, message: Any, side: str, notes: list[Note],
                        secrets: set[str]) -> Any:
        """`_redact_text_body` without parsing: a body that names nothing secret is kept after
        one scan; JSON gets its secret values replaced in place (`BodyScanner`)."""
        mime = message.mime_type
        if not (is_textual_type(mime) or mime == ""):
            return message
        outcome = self._bodies.outcome(message, mime)
        if outcome is KEEP:
            return message
        if outcome is PARSE or (secrets and not safe_to_scrub_in_place(outcome[1], secrets)):
            return self._redact_text_body(message, side, notes)
        notes.append(_body_note(side, message.content_encoding))
        return with_plain_body(message, outcome[0])

    def _redact_text_body(self, message: Any, side: str, notes: list[Note]) -> Any:
        mime = message.mime_type
        if not (is_textual_type(mime) or mime == ""):
            return message
        try:
            raw = message.decoded()
        except BodyError:
            if message.content_encoding:
                return _remove_body(message, side, notes)
            return message
        if is_json_type(mime):
            try:  # Message.json() caches: an unchanged message hands its parse downstream
                value = message.json()
            except BodyError:
                value = _NOT_PARSED
            if value is not _NOT_PARSED:
                redacted = self.redact_json(value)
                if redacted is value:
                    return message
                notes.append(_body_note(side, message.content_encoding))
                body = json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
                return with_plain_body(message, body.encode("utf-8"))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return message
        new = self._redact_text(text, mime)
        if new == text:
            return message
        notes.append(_body_note(side, message.content_encoding))
        return with_plain_body(message, new.encode("utf-8"))

    def _redact_text(self, text: str, mime: str) -> str:
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")) or is_json_type(mime):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return text
            redacted = self.redact_json(value)
            if redacted is value:
                return text
            return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        if stripped.startswith("<") and ("xml" in mime or stripped.startswith(("<?xml", "<rsp"))):
            return self._redact_xml(text)
        match = JSONP.match(text)
        if match:
            inner = self._redact_text(match.group(2), "application/json")
            if inner != match.group(2):
                return f"{match.group(1)}({inner})"
        return text

    def _redact_xml(self, text: str) -> str:
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return text
        changed = False
        for element in root.iter():
            if self.is_secret(str(element.tag)):
                for inner in element.iter():
                    if inner.text and inner.text.strip():
                        inner.text = REDACTED
                        changed = True
                    for key in inner.attrib:
                        inner.attrib[key] = REDACTED
                        changed = True
            for key, value in element.attrib.items():
                if value and value != REDACTED and self.is_secret(key):
                    element.attrib[key] = REDACTED
                    changed = True
        if not changed:
            return text
        return '<?xml version="1.0" encoding="utf-8" ?>\n' + ET.tostring(root, encoding="unicode")


def _redact_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_all(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if value == "":
        return value
    return REDACTED


_URL_NOTE = Note(PLUGIN, "request.target", "credentials in URL", REDACTED)


@functools.lru_cache(maxsize=64)
def _body_note(side: str, content_encoding: str) -> Note:
    """The note on a redacted body (notes are values: one shared instance is as good)."""
    word = f"credentials in {content_encoding} body (stored decoded)" if content_encoding \
        else "credentials in body"
    return Note(PLUGIN, f"{side}.body", word, REDACTED)


def _remove_body(message: Any, side: str, notes: list[Note]) -> Any:
    notes.append(Note(PLUGIN, f"{side}.body",
                      f"undecodable {message.content_encoding or 'form'} body, "
                      f"{len(message.body)} bytes, cannot be checked for credentials", "removed"))
    return with_plain_body(message, b"")


class RedactPlugin(Plugin):
    """The `redact` plugin: applies `Redactor` to every exchange; never drops one.

    Config: `names` (extra secret names, e.g. ["x-tenant-id"]).
    """

    name = PLUGIN
    drop_reason = "never drops"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        check_keys(self.config, ["names"], "redact plugin config")
        self.redactor = Redactor(string_list(self.config, "names", "redact plugin config"))
        self._redact = self.redactor.redact

    def output_shows(self, parts: frozenset[str]) -> None:
        """Output that shows no more than the listing does gets only its URLs redacted."""
        if parts <= LISTING_PARTS:
            self._redact = self.redactor.redact_request_line
        else:
            self._redact = self.redactor.redact

    def scrub_text(self, text: str, exchange: Exchange) -> str:
        """`text` with the secret values `exchange` carries replaced (for messages about it
        that are printed before the chain has redacted it: a plugin's exception text)."""
        return self.redactor.scrub_text(text, exchange)

    def applies_to(self, exchange: Exchange) -> bool:
        return True

    def rewrite(self, exchange: Exchange) -> Exchange:
        return self._redact(exchange)
