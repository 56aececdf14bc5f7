"""Value-level helpers of redaction (plugins.redaction is the entry point).

- header values: Authorization / Cookie / Set-Cookie with their credentials replaced;
- the value pass: a secret found under a secret name, searched for everywhere else in the same
  exchange (target, headers, text bodies, notes, meta) and replaced;
- the fast JSON pass: the values of secret keys replaced in the JSON text itself.

Invariants: pure (only this exchange's values are searched for); forms searched are the raw
value, its percent-encodings and its JSON escapes; a changed compressed body is stored decoded;
the in-place JSON pass changes only the values it redacts, and declines (returns None) whenever
it cannot be sure to find every secret key, so the caller falls back to parsing.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from observe.encoding import is_textual_type
from observe.errors import BodyError
from observe.exchange import Exchange, Note, Request, Response
from observe.headers import Headers

REDACTED = "REDACTED"
_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
AUTH_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*')


# --- header values -----------------------------------------------------------------------------


def redact_authorization(value: str) -> str:
    scheme, sep, rest = value.strip().partition(" ")
    if not sep or not rest.strip():
        return REDACTED if value.strip() and value.strip() != REDACTED else value
    rest = rest.strip()
    # names are kept only in a list of quoted auth-params (OAuth, Digest); anything else,
    # token68 or not, is one credential
    if _TOKEN68.match(rest) or scheme.lower() in ("basic", "bearer"):
        return f"{scheme} {REDACTED}"
    pos, names = 0, []
    while pos < len(rest):
        match = AUTH_PARAM.match(rest, pos)
        if not match:
            return f"{scheme} {REDACTED}"
        if not match.group(2).startswith('"'):
            return f"{scheme} {REDACTED}"
        names.append(match.group(1))
        pos = match.end()
        if pos < len(rest):
            if rest[pos] != ",":
                return f"{scheme} {REDACTED}"
            pos += 1
    return scheme + " " + ", ".join(f'{n}="{REDACTED}"' for n in names)


def redact_cookie(value: str) -> str:
    pieces = []
    for piece in value.split(";"):
        name, sep, _ = piece.partition("=")
        pieces.append(f"{name}={REDACTED}" if sep else piece)
    return ";".join(pieces)


def redact_set_cookie(value: str) -> str:
    first, sep, attributes = value.partition(";")
    name, eq, _ = first.partition("=")
    head = f"{name}={REDACTED}" if eq else REDACTED
    return head + sep + attributes


def header_secrets(name: str, value: str, secret_name: bool) -> tuple[str, ...]:
    """The secret values a header field holds, given that redaction changes it (for the value
    pass); `secret_name`: whether `name` itself is a secret name."""
    lower = name.lower()
    found: list[str] = []
    if lower in ("authorization", "proxy-authorization"):
        credential = value.strip().partition(" ")[2].strip()
        if REDACTED not in credential:  # not an already redacted header
            found.append(credential)
        if "=" in value:  # an auth-param needs one (and the search backtracks a lot)
            found.extend(m.group(2).strip('"') for m in AUTH_PARAM.finditer(value))
    elif lower in ("cookie", "set-cookie"):
        for piece in value.split(";")[: None if lower == "cookie" else 1]:
            found.append(piece.partition("=")[2].strip())
    elif secret_name:
        found.append(value.strip())
    return tuple(found)


# --- the value pass ----------------------------------------------------------------------------

_MIN_SCRUB_LENGTH = 6


def worth_scrubbing(found: Iterable[str]) -> set[str]:
    """The values the value pass searches for: not short, not numbers, not placeholders."""
    return {s for s in found
            if len(s) >= _MIN_SCRUB_LENGTH and s not in REDACTED and not s.isdigit()}



def scrub_secret_values(
    exchange: Exchange, secrets: set[str], notes: list[Note], plugin: str
) -> Exchange:
    """Every other occurrence of `secrets` (raw, percent-encoded, JSON-escaped) replaced."""
    changes = scrub_changes(exchange.request, exchange.response, exchange.notes,
                            exchange.meta, secrets, notes, plugin)
    return exchange.evolve(**changes) if changes else exchange


def scrub_changes(request: Request, response: Response | None, old_notes: tuple[Note, ...],
                  meta: Mapping[str, Any], secrets: set[str], notes: list[Note],
                  plugin: str) -> dict[str, Any]:
    """What `scrub_secret_values` changes in an exchange made of these parts, as
    `Exchange.evolve` arguments (only the fields that change).

    Each field is first checked with plain substring tests (the body as bytes, without
    decoding it) and only rebuilt when one of the forms occurs in it."""
    variants, byte_variants = _search_forms(secrets)

    def scrub(text: str) -> str:
        return _replace_forms(text, variants)

    if len(variants) == 1:
        only = variants[0]

        def holds(text: str) -> bool:
            return only in text
    else:

        def holds(text: str) -> bool:
            return any(form in text for form in variants)

    changes: dict[str, Any] = {}
    new_request = _scrub_body(request, scrub, "request", notes, plugin, byte_variants)
    target = scrub(request.target) if holds(request.target) else request.target
    headers = _scrub_headers(request.headers, scrub, holds)
    if target != request.target or headers is not request.headers:
        new_request = new_request.evolve(target=target, headers=headers)
    if new_request is not request:
        changes["request"] = new_request
    if response is not None:
        new_response = _scrub_body(response, scrub, "response", notes, plugin, byte_variants)
        headers = _scrub_headers(response.headers, scrub, holds)
        if headers is not response.headers:
            new_response = new_response.evolve(headers=headers)
        if new_response is not response:
            changes["response"] = new_response
    if any(holds(n.old) or holds(n.new) for n in old_notes):
        new_notes = tuple(Note(n.plugin, n.field, scrub(n.old), scrub(n.new))
                          for n in old_notes)
        if new_notes != old_notes:
            changes["notes"] = new_notes
    if meta:
        new_meta = _scrub_json(dict(meta), scrub)
        if new_meta != dict(meta):
            changes["meta"] = new_meta
    return changes


def scrub_text(text: str, secrets: set[str]) -> str:
    """`text` with every form of `secrets` replaced, as the value pass replaces them."""
    return _replace_forms(text, _search_forms(secrets)[0])


def _replace_forms(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def _search_forms(secrets: set[str]) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """`_forms(secrets)`; a single secret with nothing to escape is its only form (no sort,
    no cache)."""
    single = next(iter(secrets)) if len(secrets) == 1 else None
    if single is not None and _UNRESERVED.fullmatch(single):
        return (single,), (single.encode("ascii"),)
    return _forms(frozenset(secrets))


@functools.lru_cache(maxsize=1024)
def _forms(secrets: frozenset[str]) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """The forms searched for, longest first, and the same as UTF-8 bytes."""
    variants = tuple(sorted(
        {form for s in secrets for form in _variants(s) if form}, key=len, reverse=True))
    return variants, tuple(v.encode("utf-8", "surrogatepass") for v in variants)


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
_VALUE = operator.itemgetter(1)


@functools.lru_cache(maxsize=4096)
def _variants(secret: str) -> frozenset[str]:
    if _UNRESERVED.fullmatch(secret):  # nothing to percent-encode or escape: one form
        return frozenset((secret,))
    return frozenset({
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret, safe="/"),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
    })


def _scrub_headers(headers: Headers, scrub: Any, holds: Any) -> Headers:
    # a form in one value is in all of them joined: one test for the usual "none"
    if not holds("\n".join(map(_VALUE, headers))):
        return headers
    values = [scrub(v) for _, v in headers]
    if all(new is old for new, (_, old) in zip(values, headers, strict=True)):
        return headers
    return Headers((n, v) for (n, _), v in zip(headers, values, strict=True))


def _scrub_json(value: Any, scrub: Any) -> Any:
    kind = type(value)  # exact types first: isinstance against an ABC is slow
    if kind is str:
        return scrub(value)
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, str):
        return scrub(value)
    if kind is dict or isinstance(value, Mapping):
        return {k: _scrub_json(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_json(v, scrub) for v in value]
    return value


def _scrub_body(message: Any, scrub: Any, side: str, notes: list[Note], plugin: str,
                byte_variants: tuple[bytes, ...]) -> Any:
    if not message.body:
        return message
    mime = message.mime_type
    if not (is_textual_type(mime) or mime == "" or mime == "multipart/form-data"):
        return message
    try:
        raw = message.decoded()
    except BodyError:
        return message
    # in UTF-8 a text holds a string exactly when its bytes hold the string's bytes; a body
    # that is not UTF-8 is left as it is below anyway
    if not any(form in raw for form in byte_variants):
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
    """`message` with `body` stored as it is: no Content-Encoding, the first Content-Length
    (if any) set to the new length and later ones dropped, every other field kept."""
    fields: list[tuple[str, str]] = []
    length_set = False
    for name, value in message.headers:
        lower = name.lower()
        if lower == "content-encoding":
            continue
        if lower == "content-length":
            if length_set:
                continue
            length_set = True
            value = str(len(body))
        fields.append((name, value))
    headers = Headers.from_str_pairs(tuple(fields))
    return message.evolve(body=body, content_encoding="", headers=headers)


# --- secret keys' values replaced in JSON text, in place ---------------------------------------

_KEY_WITH_ESCAPE = re.compile(r'\\.(?:[^"\\]|\\.)*"\s*:')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"-?(?:(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|Infinity)|NaN")
_LITERAL = re.compile(r"true|false|null")
_QUOTED_REDACTED = f'"{REDACTED}"'


@functools.lru_cache(maxsize=1024)
def _key_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str],
                                      re.Pattern[str]]:
    key = '"' + re.escape(name) + '"'
    return (re.compile(key + r"\s*:\s*"),                        # every use of the key
            re.compile(key + r':"[^"\\]+"'),                      # plain non-empty strings,
            re.compile(key + r': "[^"\\]+"'),                     # (literal replacements)
            # a value still to look at once those are replaced
            re.compile(key + rf'\s*:\s*+(?!"{REDACTED}"|""|(?:true|false|null)(?!\w))'))


def redact_json_keys(
    text: str, lowered: str, fragments: tuple[str, ...], is_secret: Callable[[str], bool]
) -> str | None:
    """`text` (JSON, or JSON wrapped in a JSONP call) with the value of every secret key replaced
    by "REDACTED" in place, every other character kept; None when that cannot be done in place.

    `lowered` is `text.lower()` (same length); every secret name contains one of `fragments`.
    Sound for valid JSON: outside strings there are no quotes, so once no key holds a backslash
    (else None), `"name"` followed by `:` is always a key and a key's text is its name. Strings
    are replaced unless empty or already REDACTED, numbers become "REDACTED", true/false/null
    stay; an object or array under a secret key gives None (the caller walks the parsed value).
    """
    if "\\" in text and _KEY_WITH_ESCAPE.search(text):
        return None
    checked: set[str] = set()
    names: list[str] = []
    for fragment in fragments:
        pos = lowered.find(fragment)
        while pos >= 0:  # the quoted piece around each occurrence: a superset of the keys
            end = text.find('"', pos)
            if end < 0:
                break
            name = text[text.rfind('"', 0, pos) + 1:end]
            if name not in checked:
                checked.add(name)
                if "\\" not in name and is_secret(name):
                    names.append(name)
            elif '"' not in name:
                # seen before: blank it out of `lowered` (same length) when every piece that
                # lower-cases like it is spelled exactly like it, so its copies cost no more
                quoted = f'"{name}"'
                blank = f'"{name.lower()}"'
                if len(blank) == len(quoted) and lowered.count(blank) == text.count(quoted):
                    lowered = lowered.replace(blank, '"' + "\0" * len(name) + '"')
            pos = lowered.find(fragment, end + 1)
    for name in sorted(names):
        edited = _redact_key(text, name)
        if edited is None:
            return None
        text = edited
    return text


def redact_json_names(text: str, names: list[str]) -> str | None:
    """What redact_json_keys gives for JSON `text` once its secret names are known, in order;
    None when a value under one of them is an object or an array (or cannot be read)."""
    for name in names:
        edited = _redact_key(text, name)
        if edited is None:
            return None
        text = edited
    return text


def _redact_key(text: str, name: str, count_check: bool = True) -> str | None:
    """`text` with the values of key `name` redacted (see redact_json_keys); `count_check`
    False always takes the search the count stands in for (tests compare the two)."""
    every, compact, spaced, leftover = _key_patterns(name)
    edited = text
    replaced = 0
    if '":"' in text:
        edited, count = compact.subn(f'"{name}":"{REDACTED}"', edited)
        replaced += count
    if '": "' in text:
        edited, count = spaced.subn(f'"{name}": "{REDACTED}"', edited)
        replaced += count
    # `leftover` can only match where `"name"` occurs; when the replacements account for every
    # (greedy, hence maximal) count of non-overlapping occurrences, each other occurrence
    # overlaps a replaced key at its quote, which a name not starting with a space or ":"
    # leaves no room for a match in; one count is cheaper than the search
    if count_check and replaced and not (name[:1].isspace() or name[:1] == ":") \
            and edited.count(f'"{name}"') == replaced:
        return edited
    if not leftover.search(edited):
        return edited
    pieces: list[str] = []
    last = 0
    for match in every.finditer(text):  # numbers, escaped strings, objects: one at a time
        start = match.end()
        string = _STRING.match(text, start)
        if string:
            raw = string.group()
            try:
                value = json.loads(raw) if "\\" in raw else raw[1:-1]
            except json.JSONDecodeError:
                return None
            if value in ("", REDACTED):
                continue
            end = string.end()
        elif number := _NUMBER.match(text, start):
            end = number.end()
        elif _LITERAL.match(text, start):
            continue
        else:
            return None
        pieces += (text[last:start], _QUOTED_REDACTED)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def safe_to_scrub_in_place(has_backslash: bool, secrets: set[str]) -> bool:
    """Whether searching `secrets` in a JSON text as written finds what searching them in the
    compact re-encoding of the same value would: true unless a secret looks like a number or
    (when the text has escapes: `has_backslash`) holds characters JSON may write in more than
    one way."""
    for secret in secrets:
        if _NUMBER.fullmatch(secret) or secret.strip("0123456789.eE+-") == "":
            return False
        if has_backslash and not _PLAIN_SECRET.fullmatch(secret):
            return False
    return True


_PLAIN_SECRET = re.compile(r"[A-Za-z0-9._~=+\-]+")
