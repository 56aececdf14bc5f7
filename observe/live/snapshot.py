"""A point-in-time view of the live statistics: rows per operation, sorted and filtered.

Shared by `tail --once` (printed once, as a table or JSON) and the dashboard (re-rendered).
Latencies are in milliseconds; rates are per second of traffic time over the last minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from observe.errors import InputError
from observe.live.events import format_time
from observe.live.monitor import LiveMonitor
from observe.live.operations import OperationStats

# column name -> (header, descending by default)
COLUMNS: dict[str, tuple[str, bool]] = {
    "operation": ("operation", False),
    "count": ("count", True),
    "rate": ("rate/s", True),
    "errors": ("err%", True),
    "p50": ("p50ms", True),
    "p95": ("p95ms", True),
    "p99": ("p99ms", True),
    "first": ("first", False),
    "last": ("last", True),
}
SORT_KEYS = list(COLUMNS)


@dataclass(frozen=True)
class Row:
    operation: str
    count: int
    rate: float
    errors: int
    error_ratio: float
    p50: float | None
    p95: float | None
    p99: float | None
    first: float | None
    last: float | None

    def sort_value(self, column: str) -> Any:
        value = {
            "operation": self.operation, "count": self.count, "rate": self.rate,
            "errors": self.error_ratio, "p50": self.p50, "p95": self.p95, "p99": self.p99,
            "first": self.first, "last": self.last,
        }[column]
        return (value is not None, value if value is not None else 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "count": self.count,
            "rate_per_s": round(self.rate, 3),
            "errors": self.errors,
            "error_ratio": round(self.error_ratio, 4),
            "p50_ms": _ms(self.p50),
            "p95_ms": _ms(self.p95),
            "p99_ms": _ms(self.p99),
            "first_seen": format_time(self.first),
            "last_seen": format_time(self.last),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def row_of(stats: OperationStats, now: float | None) -> Row:
    sketch = stats.latency
    return Row(
        operation=stats.name, count=stats.count, rate=stats.rate(now), errors=stats.errors,
        error_ratio=stats.error_ratio, p50=sketch.quantile(0.5), p95=sketch.quantile(0.95),
        p99=sketch.quantile(0.99), first=stats.first_seen, last=stats.last_seen,
    )


def compile_filter(pattern: str | None) -> re.Pattern[str] | None:
    """A case-insensitive regular expression (a plain word works as a substring)."""
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"--filter {pattern!r} is not a valid pattern ({exc})") from exc


def rows(monitor: LiveMonitor, sort: str = "count", descending: bool | None = None,
         pattern: re.Pattern[str] | None = None) -> list[Row]:
    if sort not in COLUMNS:
        raise InputError(f"--sort {sort!r}: choose one of {', '.join(SORT_KEYS)}")
    now = monitor.table.latest
    selected = [
        row_of(stats, now) for stats in monitor.table
        if pattern is None or pattern.search(stats.name)
    ]
    if descending is None:
        descending = COLUMNS[sort][1]
    selected.sort(key=lambda r: r.operation)
    selected.sort(key=lambda r: r.sort_value(sort), reverse=descending)
    return selected


def snapshot_dict(monitor: LiveMonitor, table_rows: list[Row]) -> dict[str, Any]:
    return {
        "exchanges": monitor.table.total,
        "operations": [row.to_dict() for row in table_rows],
        "drift": [
            {
                "operation": record.operation, "rule": record.drift.rule,
                "severity": record.drift.severity, "location": record.drift.location,
                "message": record.drift.message, "count": record.count,
                "last_seen": format_time(record.time),
            }
            for record in monitor.recent_drifts
        ],
        "drift_findings": monitor.drift_total,
    }
