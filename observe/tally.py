"""Counters for a run: what was read, what was incomplete, and what was skipped, by reason.

Invariant: nothing is dropped silently. Every reader that skips a packet, stream, record or
exchange calls `skip(kind, reason)`; the CLI prints the tally at the end of every run.
Tallies merge (addition), so work split across processes adds up to the same totals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# what readers count when a file ends in the middle of a record (everything before is read)
CUT_SHORT = frozenset({"truncated record", "truncated gzip stream", "truncated HAR file",
                       "truncated flow", "truncated line"})


@dataclass
class Tally:
    """Mutable run counters; `merge` adds another tally into this one."""

    exchanges: int = 0
    incomplete: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def exchange(self, incomplete_reason: str | None = None) -> None:
        self.exchanges += 1
        if incomplete_reason:
            self.incomplete[incomplete_reason] += 1

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        """Count `n` skipped items of `kind` (packet, stream, record, exchange) for `reason`."""
        self.skipped[(kind, reason)] += n

    def count(self, name: str, n: int = 1) -> None:
        """Count something that is neither skipped nor an exchange (packets read, caps hit)."""
        self.counts[name] += n

    def merge(self, other: Tally) -> Tally:
        self.exchanges += other.exchanges
        self.incomplete.update(other.incomplete)
        self.skipped.update(other.skipped)
        self.counts.update(other.counts)
        return self

    @property
    def incomplete_total(self) -> int:
        return sum(self.incomplete.values())

    def cut_short(self) -> dict[str, int]:
        """The records skipped because an input ends inside one, by reason."""
        return {reason: n for reason, n in self.skipped_of("record").items()
                if reason in CUT_SHORT}

    def skipped_of(self, kind: str) -> dict[str, int]:
        return {reason: n for (k, reason), n in sorted(self.skipped.items()) if k == kind}

    def to_dict(self) -> dict[str, Any]:
        kinds = sorted({k for k, _ in self.skipped})
        return {
            "exchanges": self.exchanges,
            "incomplete": dict(sorted(self.incomplete.items())),
            "skipped": {kind: self.skipped_of(kind) for kind in kinds},
            "counts": dict(sorted(self.counts.items())),
        }
