"""The consumer side of the live pipeline: exchanges in, statistics and events out.

`LiveMonitor.observe(exchange)` updates the per-operation table, runs the optional spec check
and returns the events the exchange caused (new operation, drift, error burst);
`summary_due(now)` adds a periodic summary event. Everything kept is bounded: the operation
table (see `operations`), the recent drift list and the set of drift keys already reported.

Invariants:
1. A drift (operation, rule, location) is reported as an event once; repeats are counted.
2. An error burst is reported when it starts and re-armed when the operation recovers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from observe.exchange import Exchange
from observe.live.checking import Drift
from observe.live.events import DRIFT, ERROR_BURST, NEW_OPERATION, SUMMARY, Event
from observe.live.operations import (
    BURST_WINDOW,
    OperationStats,
    OperationTable,
    exchange_time,
    operation_name,
)

MAX_DRIFT_KEYS = 10_000
RECENT_DRIFTS = 50


@dataclass
class DriftRecord:
    operation: str
    drift: Drift
    time: float | None
    count: int = 1


class LiveMonitor:
    """Per-operation stats plus the events worth telling a human about."""

    def __init__(
        self,
        check: Callable[[Exchange], list[Drift]] | None = None,
        summary_every: float = 60.0,
        max_operations: int = 10_000,
    ) -> None:
        self.check = check
        self.table = OperationTable(max_operations)
        self.summary_every = summary_every
        self.recent_drifts: deque[DriftRecord] = deque(maxlen=RECENT_DRIFTS)
        self._drift_keys: dict[tuple[str, str, str], DriftRecord] = {}
        self.drift_total = 0
        self.check_failures = 0
        self._last_summary: float | None = None

    def observe(self, exchange: Exchange) -> list[Event]:
        stats, created = self.table.add(exchange)
        when = exchange_time(exchange)
        events: list[Event] = []
        if created:
            events.append(self._new_operation(stats, exchange, when))
        if self.check is not None:
            events.extend(self._drifts(exchange, when))
        if when is not None:
            burst = self._burst(stats, when)
            if burst is not None:
                events.append(burst)
        return events

    def _new_operation(self, stats: OperationStats, exchange: Exchange,
                       when: float | None) -> Event:
        status = exchange.response.status if exchange.response is not None else None
        return Event(NEW_OPERATION, when, stats.name, f"first seen (status {status})",
                     {"status": status, "host": exchange.request.host})

    def _drifts(self, exchange: Exchange, when: float | None) -> list[Event]:
        assert self.check is not None
        try:
            drifts = self.check(exchange)
        except Exception:
            self.check_failures += 1
            return []
        events = []
        operation = operation_name(exchange)
        for drift in drifts:
            self.drift_total += 1
            key = (operation, drift.rule, drift.location)
            record = self._drift_keys.get(key)
            if record is not None:
                record.count += 1
                record.time = when
                continue
            record = DriftRecord(operation, drift, when)
            if len(self._drift_keys) < MAX_DRIFT_KEYS:
                self._drift_keys[key] = record
            self.recent_drifts.append(record)
            events.append(Event(
                DRIFT, when, operation, f"{drift.rule}: {drift.message}",
                {"rule": drift.rule, "severity": drift.severity, "location": drift.location},
            ))
        return events

    def _burst(self, stats: OperationStats, when: float) -> Event | None:
        burst = stats.burst(when)
        if burst is None:
            stats.in_burst = False
            return None
        if stats.in_burst:
            return None
        stats.in_burst = True
        total, errors = burst
        return Event(
            ERROR_BURST, when, stats.name,
            f"{errors} errors in {total} requests over {BURST_WINDOW}s",
            {"errors": errors, "requests": total, "window_seconds": BURST_WINDOW},
        )

    def summary_due(self, now: float) -> Event | None:
        """A summary event when `summary_every` seconds passed since the last one."""
        if self._last_summary is None:
            self._last_summary = now
            return None
        if now - self._last_summary < self.summary_every:
            return None
        self._last_summary = now
        return self.summary(now)

    def summary(self, now: float | None) -> Event:
        table = self.table
        errors = sum(s.errors for s in table)
        busiest = sorted(table, key=lambda s: (-s.count, s.name))[:5]
        return Event(
            SUMMARY, now, "",
            f"{table.total} exchanges, {len(table)} operations, {errors} errors, "
            f"{self.drift_total} drift findings",
            {
                "exchanges": table.total,
                "operations": len(table),
                "errors": errors,
                "drift_findings": self.drift_total,
                "top": [{"operation": s.name, "count": s.count} for s in busiest],
            },
        )
