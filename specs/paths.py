"""Path segments: which ones are ids on their own evidence, and the path key of a request.

`path_key(path)` turns a concrete path into the key summaries are stored under: segments that are
ids by their own look (numbers, UUIDs, hex hashes, Flickr NSIDs, dates, opaque tokens, emails)
become placeholders such as `{int}` (a file extension stays: `{token}.json`), other segments stay
as they are. Memory then grows with distinct static-looking paths, not with ids. Cross-path
evidence (many distinct words at one position) is applied later by `specs.templating`.

Invariants:
1. Placeholders are the only segments containing `{` (literal braces are percent-encoded).
2. Version segments (`v1`, `v2beta1`, `2.0`), a date in the first segment (Twilio's
   `2010-04-01`) and a one- or two-digit first segment (Twitter's `/2/`) are never ids.
"""

from __future__ import annotations

import re
from functools import lru_cache

_VERSION = re.compile(r"(?:v[0-9]+(?:\.[0-9]+)*(?:(?:alpha|beta|rc)[0-9]*)?|[0-9]+\.[0-9]+)\Z",
                      re.IGNORECASE)
_INT = re.compile(r"[0-9]+\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}\Z")
_HEX = re.compile(r"[0-9a-fA-F]{7,}\Z")
_NSID = re.compile(r"[0-9]+@N[0-9]{2}\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.+-Z]+)?\Z")
_EMAIL = re.compile(r"[^@/\s]+@[^@/\s]+\.[A-Za-z]{2,}\Z")
_TOKEN = re.compile(r"[A-Za-z0-9_~+=-]+\Z")
_PREFIXED_ID = re.compile(r"[a-z]{1,8}_(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{8,}\Z")
_CAMEL_WORDS = re.compile(r"(?:[A-Z][a-z]+)+\Z")
_EXTENSIONS = (".json", ".xml", ".csv", ".txt", ".html", ".yaml", ".pdf", ".png", ".jpg", ".mp3",
               ".wav", ".zip")


def is_version(segment: str) -> bool:
    return bool(_VERSION.match(segment))


def _token_like(segment: str) -> bool:
    """An opaque token: long, mixes letters and digits (Stripe `cus_4QE...`, Twilio `AC3f...`)."""
    if len(segment) < 10 or not _TOKEN.match(segment):
        return False
    if _PREFIXED_ID.match(segment):
        return True
    digits = sum(c.isdigit() for c in segment)
    letters = sum(c.isalpha() for c in segment)
    mixed_case = any(c.isupper() for c in segment) and any(c.islower() for c in segment)
    if (digits == 0 and len(segment) >= 16 and mixed_case and "_" not in segment
            and sum(c.isupper() for c in segment) >= 4 and not _CAMEL_WORDS.match(segment)):
        return True  # base62 ids (Spotify) that happen to hold no digit
    if digits == 0 or letters == 0:
        return False
    if len(segment) >= 16 or digits >= 3:
        return True
    return any(c.isupper() for c in segment) and any(c.islower() for c in segment)


@lru_cache(maxsize=1 << 14)
def segment_kind(segment: str, position: int = 1) -> str | None:
    """The id kind of a path segment by its own look (`int`, `uuid`, ...), or None (a word)."""
    if not segment:
        return None
    if _VERSION.match(segment):
        return None
    if _INT.match(segment):
        return None if position == 0 and len(segment) <= 2 else "int"  # `/2/tweets`
    if _DATE.match(segment):
        return None if position == 0 else "date"
    if _UUID.match(segment):
        return "uuid"
    if "@" in segment:
        if _NSID.match(segment):
            return "nsid"
        if _EMAIL.match(segment):
            return "email"
    if _HEX.match(segment) and any(c.isdigit() for c in segment) and any(
        c.isalpha() for c in segment
    ):
        return "hex"
    if _token_like(segment):
        return "token"
    return None


def split_extension(segment: str) -> tuple[str, str]:
    """('CA12', '.json') for 'CA12.json'; the extension only when it is a known one."""
    lower = segment.lower()
    for extension in _EXTENSIONS:
        if lower.endswith(extension) and len(segment) > len(extension):
            return segment[: -len(extension)], segment[-len(extension):]
    return segment, ""


def split_path(path: str) -> list[str]:
    """Segments of a path (no leading empty one; a trailing slash gives a trailing '')."""
    return path.split("/")[1:] if path.startswith("/") else path.split("/")


@lru_cache(maxsize=1 << 16)
def path_key(path: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The summary key of a concrete path and the (position, raw value) of each placeholder."""
    segments = split_path(path)
    out = []
    values = []
    for position, segment in enumerate(segments):
        segment = segment.replace("{", "%7B").replace("}", "%7D")
        stem, extension = split_extension(segment)
        kind = segment_kind(stem, position)
        if kind is None:
            out.append(segment)
        else:
            out.append("{" + kind + "}" + extension)
            values.append((position, stem))
    return "/" + "/".join(out), tuple(values)


def is_placeholder(segment: str) -> bool:
    return segment.startswith("{")
