"""The body half of the fast redaction path: what a text body comes to, without parsing it
where that can be avoided (`plugins.redaction.Redactor.redact` is the entry point).

`BodyScanner.outcome(message, mime)` is KEEP (nothing secret in it), PARSE (leave it to the
reference code, which parses and walks it) or (new body bytes, whether the old text holds a
backslash): the body with the values of its secret JSON keys replaced in place.

How secret names are found: in small valid ASCII JSON without escapes, from the keys of its
parse (`Message.json`, which stays cached on the message for whoever reads it next); otherwise
by the fragments every secret name contains (plugins.secret_values.redact_json_keys). Other string
values are never keys there, so both ways replace the same values (tests compare them).

Invariants: an outcome depends only on the body bytes, content encoding, content type and the
configured names, so it is remembered for the next identical body (a bounded memo, oldest
entries forgotten first); nothing here depends on the secrets of one exchange. Hashing a body
for the memo costs about a fifth of scanning it, so while bodies do not repeat (fewer than one
lookup in 32 finds one) only every 16th body is looked up, until one is found again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from observe.encoding import charset_of, is_json_type
from observe.errors import BodyError
from observe.exchange import Message
from plugins.secret_values import REDACTED, redact_json_keys, redact_json_names

try:  # the C half, built at install time where there is a compiler (see setup.py)
    from plugins._jsonscan import MAX_FRAGMENTS, KeyScanner
except ImportError:  # pragma: no cover - the pure-Python path below answers alone
    KeyScanner, MAX_FRAGMENTS = None, 0

KEEP, PARSE = object(), object()
JSONP = re.compile(r"^\s*(?:/\*\*/\s*)?([A-Za-z_$][\w$.]*)\s*\((.*)\)\s*;?\s*$", re.S)
_SPACES = re.compile(r"\s*")
_PLAIN_CHARSETS = (None, "utf-8", "utf8")
_ASCII_CHARSETS = ("us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252")
_LOWER = bytes(range(256)).lower()
_MEMO_ENTRIES = 256
_MEMO_WINDOW = 256  # lookups between two checks of the memo's hit rate
_MEMO_SPARSE = 15  # bodies scanned without a lookup after each lookup, while the memo is cold
_MEMO_BODY_LIMIT = 64 * 1024
_PLAIN_KEYS_LIMIT = 16384
# up to this size reading the keys off a parse (often cached already) beats the fragment search;
# above it, parsing and walking cost more than searching the text
_PARSE_LIMIT = 2048
# OAuth parameters that are not secret; their values are not searched for elsewhere
NOT_SCRUBBED = frozenset({"oauth_signature_method", "oauth_version", "oauth_timestamp"})


class BodyScanner:
    """Finds and replaces the values of secret JSON keys in text bodies (see the module)."""

    def __init__(self, fragments: tuple[str, ...], is_secret: Callable[[str], bool]) -> None:
        self._fragments = fragments
        self._byte_fragments = tuple(f.encode("utf-8") for f in fragments)
        used = set(b"".join(self._byte_fragments))
        self._not_in_fragments = bytes(c for c in range(256) if c not in used)
        # raw bytes whose lower-case form no fragment uses (deleted before searching)
        self._delete_raw = bytes(c for c in range(256) if _LOWER[c] not in used)
        self._is_secret = is_secret
        self._memo: dict[tuple[bytes, str, str | None], Any] = {}
        self._lookups = self._hits = 0  # in the current window
        self._unlooked = 0  # bodies still to scan without a lookup (while the memo is cold)
        self._sparse = False
        self._plain_keys: set[str] = set()  # JSON keys seen that are not secret
        # valid JSON's keys are read from its parse; False: always by fragment (tests)
        self.parse_json = True
        # the C scan (plugins._jsonscan) answers first where it is built (and takes these
        # fragments: ASCII, at most MAX_FRAGMENTS); False: the pure-Python path alone (tests
        # compare the two)
        self.native = KeyScanner is not None and len(fragments) <= MAX_FRAGMENTS and all(
            f and f.isascii() for f in fragments)
        self._key_scanner = KeyScanner(self._byte_fragments, is_secret) if self.native \
            else None

    def outcome(self, message: Any, mime: str) -> Any:
        """KEEP, PARSE or (new body, old text holds a backslash) for a textual `message`."""
        body = message.body
        if len(body) > _MEMO_BODY_LIMIT:
            return self._scan(message, mime)
        if self._unlooked:
            self._unlooked -= 1
            return self._scan(message, mime)
        key = (body, message.content_encoding, message.content_type)
        outcome = self._memo.get(key)
        self._lookups += 1
        if outcome is None:
            outcome = self._scan(message, mime)
            if len(self._memo) >= _MEMO_ENTRIES:
                del self._memo[next(iter(self._memo))]
            self._memo[key] = outcome
        else:
            self._hits += 1
            if self._sparse:  # bodies repeat again
                self._sparse = False
                self._lookups = self._hits = 0
        if self._sparse:
            self._unlooked = _MEMO_SPARSE
        elif self._lookups >= _MEMO_WINDOW:
            self._sparse = self._hits * 32 < self._lookups
            self._lookups = self._hits = 0
        return outcome

    def _scan(self, message: Any, mime: str) -> Any:
        """KEEP (nothing secret), PARSE (leave it to the reference code) or (the body with
        its secret JSON values replaced, whether the original holds a backslash)."""
        decoded = _decoded_text(message)
        if decoded is None:
            return PARSE
        raw, text, lowered = decoded
        is_json = _is_json(text, mime)
        if is_json and self.native:  # the C scan first; the code below where it declines
            assert self._key_scanner is not None
            new_raw = self._key_scanner.redact_values(raw)
            if new_raw is not None:
                return KEEP if new_raw is raw else (new_raw, "\\" in text)
        if lowered is None and is_json and "\\" not in text and self.parse_json \
                and len(raw) <= _PARSE_LIMIT:
            keys = json_keys(message)
            if keys is not None:  # valid JSON, ASCII, no escapes: its keys are as written
                return self._redact_names(text, keys)
        if lowered is not None:
            present = self._present_fragments(lowered.encode("utf-8"))
        else:  # lower-cased and reduced to fragment bytes in one pass
            present = self._present(raw.translate(_LOWER, self._delete_raw))
        if not is_json:  # XML or other text: parsed only when it names something secret
            return PARSE if present else KEEP
        if not present and "\\" not in text:
            return KEEP  # what redact_json_keys gives back: the text itself
        if lowered is None:
            lowered = raw.lower().decode("ascii")
        new = redact_json_keys(text, lowered, present, self._is_secret)
        if new is None:
            return PARSE
        if new == text:
            return KEEP
        return new.encode("utf-8"), "\\" in text

    def _redact_names(self, text: str, keys: set[str]) -> Any:
        """`_scan_body`'s outcome for JSON `text` (no backslash) whose keys are `keys`: what
        redact_json_keys gives, whose other candidate names (string values) cannot be keys."""
        unknown = keys - self._plain_keys
        names = [k for k in unknown if self._is_secret(k)]
        if len(self._plain_keys) < _PLAIN_KEYS_LIMIT:
            self._plain_keys.update(k for k in unknown if k not in names)
        if not names:
            return KEEP
        new = redact_json_names(text, sorted(names))
        if new is None:
            return PARSE
        return KEEP if new == text else (new.encode("utf-8"), False)

    def _present_fragments(self, lowered: bytes) -> tuple[str, ...]:
        """The fragments `lowered` may hold (a superset): searched in a copy reduced to the
        bytes fragments are made of, a third of a typical JSON body."""
        return self._present(lowered.translate(None, self._not_in_fragments))

    def _present(self, reduced: bytes) -> tuple[str, ...]:
        return tuple(f for f, b in zip(self._fragments, self._byte_fragments, strict=True)
                     if b in reduced)


def _decoded_text(message: Any) -> tuple[bytes, str, str | None] | None:
    """(decoded body, its text, the text lower-cased or None when it is ASCII) for a body
    the scan reads; None (left to the reference code) for undecodable bodies, other
    charsets, a UTF-8 BOM, and text whose lower case has another length."""
    try:
        raw = message.decoded()
    except BodyError:
        return None
    charset = charset_of(message.content_type)
    if raw.isascii() and (charset in _PLAIN_CHARSETS or charset in _ASCII_CHARSETS):
        return raw, raw.decode("ascii"), None
    if charset in _PLAIN_CHARSETS and not raw.startswith(b"\xef\xbb\xbf"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        lowered = text.lower()
        if len(lowered) == len(text):
            return raw, text, lowered
    return None


def _is_json(text: str, mime: str) -> bool:
    """Whether the scan treats `text` as JSON (or JSONP): not markup, and a JSON type or
    what JSON (or a JSONP call) starts with."""
    spaces = _SPACES.match(text)
    first = text[spaces.end():spaces.end() + 1] if spaces else ""
    return not (first == "<" or not (is_json_type(mime) or first in ("{", "[")
                                     or JSONP.match(text)))


def json_keys(message: Message) -> set[str] | None:
    """Every key of the message's JSON body at any depth; None when it is not JSON. The parse
    stays cached on the message (`Message.json`) for whoever reads it next."""
    try:
        value = message.json()
    except (ValueError, RecursionError, BodyError):
        return None
    keys: set[str] = set()
    stack: list[Any] = [value] if type(value) is dict or type(value) is list else []
    while stack:
        item = stack.pop()
        children: Any = item
        if type(item) is dict:
            keys.update(item)
            children = item.values()
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append(child)
    return keys


def plain_query(target: str, is_secret: Callable[[str], bool],
                plus_ok: bool = True) -> tuple[str, list[str]] | None:
    """`Redactor.redact_target(target)` and the values `Redactor._collect_secrets` takes from
    its query (decoded, and as written), in one pass, for a request without a body; None for a
    target with a "#" (or a "+" unless `plus_ok`: an extra secret name with a space in it)."""
    if "#" in target or ("+" in target and not plus_ok):
        return None
    path, _, query = target.partition("?")
    pieces = query.split("&")
    found: list[str] = []
    changed = False
    for index, piece in enumerate(pieces):
        raw_name, _, raw_value = piece.partition("=")
        name = unquote_plus(raw_name) if "%" in raw_name or "+" in raw_name else raw_name
        if not (name and is_secret(name)):
            continue
        value = unquote_plus(raw_value) if "%" in raw_value or "+" in raw_value else raw_value
        if name.lower() not in NOT_SCRUBBED:
            found.append(value)
        if raw_name.lower() not in NOT_SCRUBBED:
            found.append(raw_value)
        if value and value != REDACTED:
            pieces[index] = f"{raw_name}={REDACTED}"
            changed = True
    if not changed:
        return target, found  # the same object: the caller tells "unchanged" by identity
    return f"{path}?{'&'.join(p for p in pieces if p)}", found
