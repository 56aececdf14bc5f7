"""The quantile sketch: relative accuracy, bounded size, mergeable."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from observe.live.sketch import QuantileSketch


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def test_quantiles_within_one_percent_of_exact_on_a_skewed_latency_stream() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-4, 1.2) for _ in range(50_000)]
    sketch = QuantileSketch()
    for value in values:
        sketch.add(value)
    for q in (0.5, 0.95, 0.99):
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert abs(estimate - _exact(values, q)) <= 0.0101 * _exact(values, q)


def test_size_is_bounded_whatever_the_spread_of_values() -> None:
    sketch = QuantileSketch(max_buckets=100)
    for exponent in range(-6, 4):
        for step in range(1000):
            sketch.add(10.0**exponent * (1 + step / 1000))
    assert len(sketch) <= 100
    assert sketch.count == 10_000


def test_empty_sketch_has_no_quantile_and_tiny_values_are_zero() -> None:
    sketch = QuantileSketch()
    assert sketch.quantile(0.5) is None
    sketch.add(0.0)
    sketch.add(-1.0)
    assert sketch.quantile(0.99) == 0.0


@given(st.lists(st.floats(1e-5, 100.0), max_size=40),
       st.lists(st.floats(1e-5, 100.0), max_size=40))
def test_merge_equals_adding_everything_to_one_sketch(left: list[float],
                                                      right: list[float]) -> None:
    one, a, b = QuantileSketch(), QuantileSketch(), QuantileSketch()
    for value in left + right:
        one.add(value)
    for value in left:
        a.add(value)
    for value in right:
        b.add(value)
    merged = a.merge(b)
    assert merged.count == one.count
    for q in (0.0, 0.5, 0.9, 1.0):
        assert merged.quantile(q) == one.quantile(q)


def test_folding_keeps_the_high_quantiles_exact_in_either_direction() -> None:
    ascending = [10.0**(e / 10) for e in range(-60, 40)]
    for values in (ascending, ascending[::-1]):
        sketch = QuantileSketch(max_buckets=50)
        for value in values:
            sketch.add(value)
        assert len(sketch) <= 50 and sketch.count == 100
        top = sketch.quantile(1.0)
        assert top is not None and abs(top - 10.0**3.9) <= 0.0101 * 10.0**3.9
