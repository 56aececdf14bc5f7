"""Per-operation live statistics with bounded memory.

An operation is what an exchange is after the plugins: `meta["operation_id"]` when a plugin set
one (Flickr methods), else the method and the path with id-like segments (numbers, UUIDs, long
hex or mixed letter-digit tokens) replaced by `{id}`. This is a light local normalisation, not
the spec templating of `specs` (which `observe` must not import); a path a plugin made
(`meta["path_fixed"]`) is kept as it is.

Invariants:
1. Memory does not grow with the number of exchanges: per operation a fixed set of counters, a
   bounded quantile sketch and a fixed ring of per-second buckets; at most `max_operations`
   operations (plus one `OTHER` row), past which exchanges are counted under `OTHER`.
2. An exchange is an error when its status is >= 400 or it has no response.
3. Rates and bursts use the traffic's own timestamps, so replaying a log gives the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from observe.exchange import Exchange
from observe.live.sketch import QuantileSketch

OTHER = "(other operations)"
RATE_WINDOW = 60  # seconds of per-second buckets kept for the rate
BURST_WINDOW = 10  # seconds looked at for an error burst
BURST_MIN_ERRORS = 5
BURST_MIN_RATIO = 0.5

_ID_SEGMENT = re.compile(
    r"""^(?:
        \d+                                   # 12345
      | [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}  # uuid
      | [0-9a-fA-F]{12,}                      # long hex (hashes, object ids)
      | (?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}  # long mixed tokens
    )$""",
    re.VERBOSE,
)


def normalise_path(path: str) -> str:
    """`/users/42/photos/9f86d081884c` -> `/users/{id}/photos/{id}`."""
    segments = path.split("/")
    return "/".join("{id}" if _ID_SEGMENT.match(s) else s for s in segments)


def operation_name(exchange: Exchange) -> str:
    """The operation an exchange belongs to (see the module docstring)."""
    operation_id = exchange.meta.get("operation_id")
    if operation_id:
        return str(operation_id)
    path = exchange.request.path
    if not exchange.meta.get("path_fixed"):
        path = normalise_path(path)
    return f"{exchange.request.method} {path}"


def exchange_time(exchange: Exchange) -> float | None:
    timing = exchange.timing
    for value in (timing.request_start, timing.response_end, timing.request_end):
        if value is not None:
            return value
    return None


def is_error(exchange: Exchange) -> bool:
    return exchange.response is None or exchange.response.status >= 400


class _SecondRing:
    """Counts (total, errors) per whole second for the last `size` seconds."""

    __slots__ = ("errors", "seconds", "size", "totals")

    def __init__(self, size: int) -> None:
        self.size = size
        self.seconds = [-1] * size
        self.totals = [0] * size
        self.errors = [0] * size

    def add(self, second: int, error: bool) -> None:
        slot = second % self.size
        if self.seconds[slot] != second:
            self.seconds[slot] = second
            self.totals[slot] = 0
            self.errors[slot] = 0
        self.totals[slot] += 1
        if error:
            self.errors[slot] += 1

    def window(self, now: int, span: int) -> tuple[int, int]:
        """(total, errors) over the `span` seconds ending at `now` (inclusive)."""
        total = errors = 0
        for slot in range(self.size):
            if now - span < self.seconds[slot] <= now:
                total += self.totals[slot]
                errors += self.errors[slot]
        return total, errors


@dataclass
class OperationStats:
    """Everything kept about one operation."""

    name: str
    count: int = 0
    errors: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    latency: QuantileSketch = field(default_factory=QuantileSketch)
    ring: _SecondRing = field(default_factory=lambda: _SecondRing(RATE_WINDOW))
    in_burst: bool = False

    def add(self, exchange: Exchange, when: float | None) -> None:
        self.count += 1
        error = is_error(exchange)
        if error:
            self.errors += 1
        status = exchange.response.status if exchange.response is not None else 0
        if status in self.statuses or len(self.statuses) < 32:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        duration = exchange.timing.duration
        if duration is not None:
            self.latency.add(duration)
        if when is not None:
            if self.first_seen is None or when < self.first_seen:
                self.first_seen = when
            if self.last_seen is None or when > self.last_seen:
                self.last_seen = when
            self.ring.add(int(when), error)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def rate(self, now: float | None) -> float:
        """Requests per second over the last minute of traffic time before `now`."""
        if now is None:
            return 0.0
        total, _ = self.ring.window(int(now), RATE_WINDOW)
        span = RATE_WINDOW
        if self.first_seen is not None:
            span = max(1, min(RATE_WINDOW, int(now) - int(self.first_seen) + 1))
        return total / span

    def burst(self, now: float) -> tuple[int, int] | None:
        """(total, errors) of the last seconds when they form an error burst, else None."""
        total, errors = self.ring.window(int(now), BURST_WINDOW)
        if errors >= BURST_MIN_ERRORS and errors >= BURST_MIN_RATIO * total:
            return total, errors
        return None


class OperationTable:
    """The bounded set of operations seen so far."""

    def __init__(self, max_operations: int = 10_000) -> None:
        self.max_operations = max_operations
        self._stats: dict[str, OperationStats] = {}
        self.latest: float | None = None
        self.total = 0

    def get(self, name: str) -> tuple[OperationStats, bool]:
        """The stats for `name` (or for OTHER when full) and whether they were just created."""
        stats = self._stats.get(name)
        if stats is not None:
            return stats, False
        if len(self._stats) >= self.max_operations:
            name = OTHER
            stats = self._stats.get(name)
            if stats is not None:
                return stats, False
        stats = self._stats[name] = OperationStats(name)
        return stats, True

    def add(self, exchange: Exchange) -> tuple[OperationStats, bool]:
        when = exchange_time(exchange)
        if when is not None and (self.latest is None or when > self.latest):
            self.latest = when
        stats, created = self.get(operation_name(exchange))
        stats.add(exchange, when)
        self.total += 1
        return stats, created

    def __iter__(self) -> Iterator[OperationStats]:
        return iter(self._stats.values())

    def __len__(self) -> int:
        return len(self._stats)

    def __contains__(self, name: object) -> bool:
        return name in self._stats
