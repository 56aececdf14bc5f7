"""The column fold (`Shape.add`'s batched fast path) against the value-at-a-time fold.

`specs.shape_columns.fold_column` must leave a shape exactly as `Shape._add_value` called on each
value would (the pre-batching behaviour): same counts, kinds, formats, capped values, overflow,
examples and locations, on random JSON documents with repeated and varying object layouts,
mixed types, long strings, many distinct values, and shapes that already hold values.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.shape import BATCH, VALUE_CAP, Shape, summarize
from specs.shape_columns import fold_column
from tests.specs.test_formats_columns import GENERATORS

patterned = st.one_of(list(GENERATORS.values()))
strings = st.one_of(
    st.sampled_from(["", "0", "1", "true", "false", "USD", "en", "en-US", "a@b.example",
                     "2014-05-06 12:34:56", "circa 1970", "1399380000", "1399380000123",
                     "12345678@N01", "https://x.example/p", "deadbeef12", "sunset beach",
                     "007", "-0", "-12", "x" * 70, "y" * 90, "::1", "1.2.3.4"]),
    st.text(max_size=10),
    st.text(min_size=60, max_size=90),
    st.integers(-10**14, 10**14).map(str),
    patterned,
)
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-10**14, 10**14), st.sampled_from([0, 1, 1_399_380_000, 1_399_380_000_123]),
    st.floats(allow_nan=False), strings,
)
keys = st.sampled_from(["a", "b", "id", "123", "456", "abcdef0123456789", "when", "_content"])
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=20,
)
locations = st.lists(st.sampled_from(["f#000000001", "f#000000002", "g#000000000", "", "\uffff"]),
                     min_size=1)


@st.composite
def documents(draw: st.DrawFn) -> list[Any]:
    """Documents that mostly share one layout (as API responses do), with some odd ones."""
    template = draw(values)
    out = []
    for _ in range(draw(st.integers(0, 40))):
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(values))
        else:
            out.append(_refill(template, draw))
    return out


def _refill(template: Any, draw: st.DrawFn) -> Any:
    """Same keys in the same order as `template`, fresh scalars of the same type."""
    if isinstance(template, dict):
        return {key: _refill(item, draw) for key, item in template.items()}
    if isinstance(template, list):
        return [_refill(template[0], draw) for _ in range(draw(st.integers(0, 6)))] \
            if template else []
    if isinstance(template, str):
        return draw(strings)
    if isinstance(template, bool):
        return draw(st.booleans())
    if isinstance(template, int):
        return draw(st.integers(-10**14, 10**14))
    return draw(scalars)


def _one_by_one(shape: Shape, docs: list[Any], locs: list[str]) -> Shape:
    for doc, loc in zip(docs, locs, strict=True):
        shape._add_value(doc, loc)
    return shape


def _locs(docs: list[Any], pool: list[str]) -> list[str]:
    return [pool[i % len(pool)] for i in range(len(docs))]


@settings(max_examples=120, deadline=None)
@given(documents(), locations)
def test_column_fold_equals_value_at_a_time(docs: list[Any], pool: list[str]) -> None:
    locs = _locs(docs, pool)
    fast = Shape()
    fold_column(fast, docs, locs)
    assert fast.to_dict() == _one_by_one(Shape(), docs, locs).to_dict()


@settings(max_examples=60, deadline=None)
@given(documents(), documents(), locations)
def test_column_fold_into_a_shape_that_holds_values(before: list[Any], docs: list[Any],
                                                    pool: list[str]) -> None:
    first, locs = _locs(before, pool), _locs(docs, pool[::-1])
    fast = _one_by_one(Shape(), before, first)
    fold_column(fast, docs, locs)
    slow = _one_by_one(_one_by_one(Shape(), before, first), docs, locs)
    assert fast.to_dict() == slow.to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 300), st.integers(0, 300).map(str),
                          st.booleans(), st.none()), min_size=VALUE_CAP, max_size=200),
       st.integers(0, 60))
def test_capped_values_across_many_distinct(column: list[Any], cut: int) -> None:
    locs = [f"f#{i:09d}" for i in range(len(column))]
    fast = _one_by_one(Shape(), column[:cut], locs[:cut])
    fold_column(fast, column[cut:], locs[cut:])
    assert fast.to_dict() == _one_by_one(Shape(), column, locs).to_dict()


def test_batched_add_equals_value_at_a_time_beyond_one_batch() -> None:
    docs = [{"id": str(10**10 + i * 7919), "n": i % 50, "ok": i % 3 == 0,
             "when": "2014-05-06 12:34:56" if i % 97 else "circa 1970",
             "tags": [f"t{i % 30}", None], "by": {str(500 + i): {"x": 1.5}}}
            for i in range(BATCH * 2 + 17)]
    locs = [f"f#{(i * 7) % 600:09d}" for i in range(len(docs))]
    shape = Shape()
    for doc, loc in zip(docs, locs, strict=True):
        shape.add(doc, loc)
    assert shape.to_dict() == _one_by_one(Shape(), docs, locs).to_dict()
    assert summarize(docs[:5]).to_dict() == _one_by_one(Shape(), docs[:5], [""] * 5).to_dict()


def test_reading_any_field_folds_pending_values_first() -> None:
    shape = Shape()
    for i in range(10):
        shape.add({"a": i}, "f#1")
    assert shape.count == 10
    assert shape.properties["a"].types == {"integer": 10}
    shape.add("x", "f#0")
    assert shape.where["string:text"] == "f#0"
    assert shape.types == {"object": 10, "string": 1}


@pytest.mark.parametrize("column", [
    ["", "abc", "", "free text here", "kitten", "12@N01", ""],
    ["abc", "", "", "x", "1399380000", "", "y"],
    ["1399380000", "1399380001", "139938000", "", "abc", "1399380002", "0x"],
    ["deadbeef01", "0123456789", "cafe0123ab", "9876543210", "abcdefab12"],
    ["2014-05-06 12:34:56", "circa 1970", "2014-05-06 12:34:57", "", "2014-05-06 12:34:58"],
])
def test_mixed_string_columns(column: list[str]) -> None:
    for rotation in range(len(column)):
        rotated = column[rotation:] + column[:rotation]
        locs = [f"f#{(i * 5) % 7:09d}" for i in range(len(rotated))]
        fast = Shape()
        fold_column(fast, rotated, locs)
        assert fast.to_dict() == _one_by_one(Shape(), rotated, locs).to_dict()
