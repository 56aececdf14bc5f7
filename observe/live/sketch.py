"""A bounded streaming quantile sketch for latencies (log-bucketed, DDSketch-style).

Values land in buckets whose bounds grow geometrically by `gamma = (1 + a) / (1 - a)`, so any
quantile is answered with a relative error of at most `a` (1% by default) whatever the stream.

Invariants:
1. Memory is bounded: at most `max_buckets` buckets; past it the lowest buckets are merged
   (only the lowest quantiles lose accuracy, never p50/p95/p99 of a realistic stream).
2. Values at or below `MIN_VALUE` (1 µs) are counted in a zero bucket; negatives are clamped.
3. `merge` is associative and commutative (bucket counts add), so sketches combine in any order.
"""

from __future__ import annotations

import math

MIN_VALUE = 1e-6


class QuantileSketch:
    """Counts of values per logarithmic bucket; quantiles within `accuracy` relative error."""

    __slots__ = ("_buckets", "_log_gamma", "count", "gamma", "max_buckets", "zero_count")

    def __init__(self, accuracy: float = 0.01, max_buckets: int = 2048) -> None:
        if not 0 < accuracy < 1:
            raise ValueError("accuracy must be between 0 and 1")
        self.gamma = (1 + accuracy) / (1 - accuracy)
        self._log_gamma = math.log(self.gamma)
        self.max_buckets = max_buckets
        self._buckets: dict[int, int] = {}
        self.zero_count = 0
        self.count = 0

    def add(self, value: float) -> None:
        self.count += 1
        if value <= MIN_VALUE:
            self.zero_count += 1
            return
        index = math.ceil(math.log(value) / self._log_gamma)
        buckets = self._buckets
        buckets[index] = buckets.get(index, 0) + 1
        if len(buckets) > self.max_buckets:
            self._collapse()

    def _collapse(self) -> None:
        lowest, second = sorted(self._buckets)[:2]
        self._buckets[second] += self._buckets.pop(lowest)

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        if other.gamma != self.gamma:
            raise ValueError("cannot merge sketches of different accuracy")
        for index, n in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + n
        self.zero_count += other.zero_count
        self.count += other.count
        while len(self._buckets) > self.max_buckets:
            self._collapse()
        return self

    def quantile(self, q: float) -> float | None:
        """The value at quantile `q` (0..1), or None for an empty sketch."""
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = self.zero_count
        if rank < seen:
            return 0.0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if rank < seen:
                # the bucket's midpoint (in relative terms) keeps the error within `accuracy`
                return 2 * self.gamma**index / (self.gamma + 1)
        return 2 * self.gamma ** max(self._buckets) / (self.gamma + 1)

    def __len__(self) -> int:
        return len(self._buckets)
