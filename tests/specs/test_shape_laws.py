"""Merge laws of shape and API summaries, property-tested with hypothesis.

A summary must be a value with an identity (`Shape()`), and an associative, commutative merge,
and summarising a concatenation must equal merging the summaries: that is what lets inference
split work across files, processes and machines.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from specs.shape import VALUE_CAP, Shape, summarize
from specs.summary import ApiSummary
from tests.specs.helpers import json_exchange

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["2014-05-06 12:34:56", "2024-01-02T03:04:05Z", "1399380000", "0", "1",
                     "USD", "en", "a@b.example", "https://x.example/p", "free text", "12@N01"]),
    st.text(max_size=12),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "id", "123", "456", "when"]), inner,
                        max_size=4),
    ),
    max_leaves=12,
)
batches = st.lists(values, max_size=8)
locations = st.sampled_from(["f#000000001", "f#000000002", "g#000000000"])


def _shape(batch: list[Any], loc: str) -> Shape:
    return summarize(batch, loc)


@settings(max_examples=60, deadline=None)
@given(batches, batches, batches, locations, locations, locations)
def test_merge_is_associative(a: list[Any], b: list[Any], c: list[Any], la: str, lb: str,
                              lc: str) -> None:
    x, y, z = _shape(a, la), _shape(b, lb), _shape(c, lc)
    assert x.merge(y).merge(z) == x.merge(y.merge(z))


@settings(max_examples=60, deadline=None)
@given(batches, batches, locations, locations)
def test_merge_is_commutative(a: list[Any], b: list[Any], la: str, lb: str) -> None:
    x, y = _shape(a, la), _shape(b, lb)
    assert x.merge(y) == y.merge(x)


@settings(max_examples=50, deadline=None)
@given(batches, locations)
def test_empty_is_identity(a: list[Any], loc: str) -> None:
    x = _shape(a, loc)
    assert x.merge(Shape()) == x
    assert Shape().merge(x) == x


@settings(max_examples=60, deadline=None)
@given(batches, batches)
def test_summarize_of_concatenation_is_merge(a: list[Any], b: list[Any]) -> None:
    assert summarize(a + b, "f") == summarize(a, "f").merge(summarize(b, "f"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 200), min_size=VALUE_CAP + 1, max_size=80))
def test_capped_values_stay_associative_and_keep_full_counts(numbers: list[int]) -> None:
    third = len(numbers) // 3
    parts = [numbers[:third], numbers[third:2 * third], numbers[2 * third:]]
    streamed = summarize(numbers)
    merged = summarize(parts[2]).merge(summarize(parts[0])).merge(summarize(parts[1]))
    assert streamed == merged
    if len(set(numbers)) > VALUE_CAP:
        assert streamed.overflow
    for key, count in streamed.values.items():
        assert count == numbers.count(int(key[2:]))


def test_round_trip_through_dict() -> None:
    shape = summarize([{"a": [1, "x", None]}, {"123": {"b": True}}, "2014-05-06"], "f#1")
    assert Shape.from_dict(shape.to_dict()) == shape
    assert shape.map_values is not None  # id-like keys make a map, not properties
    assert "123" not in shape.properties


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["/a/1", "/a/2", "/b", "/b/x"]), values,
                          st.sampled_from([200, 404])), max_size=6),
       st.integers(0, 6))
def test_api_summary_split_anywhere_merges_back(calls: list[tuple[str, Any, int]],
                                                cut: int) -> None:
    exchanges = [json_exchange("GET", f"http://h.example{path}", status, body, index=i)
                 for i, (path, body, status) in enumerate(calls)]
    whole, left, right = ApiSummary(), ApiSummary(), ApiSummary()
    for i, exchange in enumerate(exchanges):
        whole.add(exchange, f"m#{i:09d}")
        (left if i < cut else right).add(exchange, f"m#{i:09d}")
    assert right.merge(left) == whole
    assert ApiSummary.from_dict(whole.to_dict()) == whole


def test_summary_size_does_not_grow_with_the_number_of_exchanges() -> None:
    from specs.summary_file import dump_summary

    def summary_of(n: int) -> str:
        summary = ApiSummary()
        for i in range(n):
            body = {"id": 10_000 + i, "title": f"photo number {i}", "tags": [f"t{i}", "x"],
                    "by_user": {str(500 + i): {"seen": i}}}
            summary.add(json_exchange("GET", f"http://h.example/photos/{i}", 200, body, i),
                        f"f#{i:09d}")
        return dump_summary(summary)

    small, large = summary_of(100), summary_of(1000)
    assert len(json.loads(large)["operations"]) == 1  # ids in the path became one operation
    assert len(large) < len(small) * 1.2  # capped value sets: no growth with exchanges
