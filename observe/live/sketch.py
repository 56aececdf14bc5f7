"""A bounded streaming quantile sketch for latencies (log-bucketed, DDSketch-style).

Values land in buckets whose bounds grow geometrically by `gamma = (1 + a) / (1 - a)`, so any
quantile is answered with a relative error of at most `a` (1% by default) whatever the stream.
The buckets are one dense array of counts for a contiguous index range (a few bytes each).

Invariants:
1. Memory is bounded: at most `max_buckets` buckets (1024 by default: latencies from 1 µs to
   hours at 1%); past it the lowest buckets are folded into one, so only the lowest quantiles
   lose accuracy, never p50/p95/p99 of a realistic stream.
2. Values at or below `MIN_VALUE` (1 µs) are counted in a zero bucket; negatives are clamped.
3. `merge` is associative and commutative (bucket counts add), so sketches combine in any order.
"""

from __future__ import annotations

import math
from array import array

MIN_VALUE = 1e-6


class QuantileSketch:
    """Counts of values per logarithmic bucket; quantiles within `accuracy` relative error."""

    __slots__ = ("_counts", "_log_gamma", "_low", "count", "gamma", "max_buckets", "zero_count")

    def __init__(self, accuracy: float = 0.01, max_buckets: int = 1024) -> None:
        if not 0 < accuracy < 1:
            raise ValueError("accuracy must be between 0 and 1")
        if max_buckets < 2:
            raise ValueError("max_buckets must be at least 2")
        self.gamma = (1 + accuracy) / (1 - accuracy)
        self._log_gamma = math.log(self.gamma)
        self.max_buckets = max_buckets
        self._counts = array("Q")
        self._low = 0  # the bucket index of _counts[0]
        self.zero_count = 0
        self.count = 0

    def add(self, value: float) -> None:
        if value <= MIN_VALUE:
            self.count += 1
            self.zero_count += 1
            return
        self._add_index(math.ceil(math.log(value) / self._log_gamma), 1)

    def _add_index(self, index: int, n: int) -> None:
        self.count += n
        counts = self._counts
        if not counts:
            self._low = index
            counts.append(n)
            return
        low, high = self._low, self._low + len(counts) - 1
        if index < low:
            # grow downwards, but never past max_buckets: fold into the lowest kept bucket
            index = max(index, high - self.max_buckets + 1)
            if index < low:
                counts[0:0] = array("Q", bytes(8 * (low - index)))
                self._low = index
        elif index > high:
            span = index - low + 1
            if span > self.max_buckets:  # shift the window up, folding the lowest buckets
                shift = span - self.max_buckets
                folded = sum(counts[: shift + 1]) if shift < len(counts) else sum(counts)
                del counts[: min(shift, len(counts))]
                if counts:
                    counts[0] = folded
                else:
                    counts.append(folded)
                self._low += shift
            counts.extend(array("Q", bytes(8 * (index - (self._low + len(counts)) + 1))))
        counts[index - self._low] += n

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        if other.gamma != self.gamma:
            raise ValueError("cannot merge sketches of different accuracy")
        for offset, n in enumerate(other._counts):
            if n:
                self._add_index(other._low + offset, n)
        self.zero_count += other.zero_count
        self.count += other.zero_count
        return self

    def quantile(self, q: float) -> float | None:
        """The value at quantile `q` (0..1), or None for an empty sketch."""
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = self.zero_count
        if rank < seen:
            return 0.0
        index = self._low
        for index, n in enumerate(self._counts, self._low):  # noqa: B007 - used after the loop
            seen += n
            if rank < seen:
                break
        # the bucket's midpoint (in relative terms) keeps the error within `accuracy`
        return 2 * self.gamma**index / (self.gamma + 1)

    def __len__(self) -> int:
        return len(self._counts)
