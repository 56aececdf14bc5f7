"""What `specs diff` and `specs check` report: a `Finding` with a stable rule id and a severity.

Invariants:
1. Severities are ordered info < warning < breaking; `--fail-on` compares with that order.
2. A finding is a frozen value; its JSON form (`to_dict`) is the documented stable schema
   (see specs/rules/README.md, "JSON output"): keys never disappear, new keys may be added.
3. `sort_key` gives one deterministic order: severity (worst first), location, rule.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any


@functools.total_ordering
class Severity(enum.Enum):
    """How much a change or a deviation hurts clients; ordered, so `>=` works for --fail-on.

    The value is the label ("breaking"), so consumers that only read `.value` (the live report)
    show the word; the order is by `rank`.
    """

    INFO = "info"
    WARNING = "warning"
    BREAKING = "breaking"

    @property
    def rank(self) -> int:
        return _RANKS[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {names})") from None

    @property
    def label(self) -> str:
        return self.value


_RANKS = {"info": 1, "warning": 2, "breaking": 3}


@dataclass(frozen=True)
class Finding:
    """One classified change (diff) or one kind of deviation of traffic from a spec (check).

    `location` is human-readable ("GET /photos/{id} response 200 application/json body.owner");
    `pointer` is a JSON pointer into the file named by `file` (the NEW spec for diff, the spec
    for check), and `line` its 1-based line there when known. `count` and `example` are used by
    `check` (how often it was seen, one redacted example exchange).
    """

    rule: str
    severity: Severity
    location: str
    message: str
    pointer: str = ""
    file: str = ""
    line: int | None = None
    count: int = 1
    example: str = ""

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-self.severity.rank, self.location, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "location": self.location,
            "message": self.message,
            "file": self.file,
            "pointer": self.pointer,
            "line": self.line,
            "count": self.count,
            "example": self.example,
        }


def escape_pointer_token(token: str) -> str:
    """RFC 6901: '~' -> '~0', '/' -> '~1'."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    for token in tokens:
        text = str(token)
        if "~" in text or "/" in text:
            text = escape_pointer_token(text)
        pointer = f"{pointer}/{text}"
    return pointer


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "#"):
        return []
    body = pointer[1:] if pointer.startswith("#") else pointer
    return [t.replace("~1", "/").replace("~0", "~") for t in body.split("/")[1:]]
