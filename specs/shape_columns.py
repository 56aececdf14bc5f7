"""Column-at-a-time folding of queued values into a `Shape`: the fast path behind `Shape.add`.

`fold_column(shape, values, locs)` counts every value of `values` (seen at the parallel
`locs`) into `shape`, with exactly the effect of `shape._add_value(value, loc)` for each pair,
in any order (the summary is order-independent: counts add, examples and locations are minima,
and the kept distinct values are the `VALUE_CAP` smallest with full counts). Instead of a Python
call per value it works per column: one type split (`set(map(type, ...))`), then per type a few
C-level passes (`Counter`, `min`, `zip(*dicts)` to turn objects with the same keys into one
column per key, `chain` to flatten arrays), string formats for a whole column at once
(`specs.formats.detect_column_formats`), and Python work per *distinct* value only where
formats differ inside one column.

Invariants: never mutates `values` or `locs` (they may be shared between columns); columns
shorter than `SMALL` go value by value, so tiny inputs cost what they did before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from heapq import nsmallest
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from specs.formats import UNIX_SECONDS, detect_column_formats, detect_integer_formats
from specs.shape import (
    EXAMPLE_MAX_LENGTH,
    NO_WHERE,
    VALUE_CAP,
    VALUE_MAX_LENGTH,
    is_id_key,
)

if TYPE_CHECKING:
    from specs.shape import Shape

SMALL = 4  # shorter columns are folded value by value


def fold_column(shape: Shape, values: Sequence[Any], locs: Sequence[str],
                least: str | None = None) -> None:
    """Count `values[i]`, seen at `locs[i]`, into `shape` (see module docstring); `least` is
    `min(locs)` when the caller knows it."""
    if len(values) < SMALL:
        add = shape._add_value
        for value, loc in zip(values, locs, strict=True):
            add(value, loc)
        return
    kinds = set(map(type, values))
    if len(kinds) == 1:
        _fold_typed(shape, kinds.pop(), values, locs, least)
        return
    for kind in kinds:
        mask = [type(value) is kind for value in values]
        _fold_typed(shape, kind, list(compress(values, mask)), list(compress(locs, mask)), None)


def _fold_typed(shape: Shape, kind: type, values: Sequence[Any], locs: Sequence[str],
                least: str | None) -> None:
    folder = _FOLDERS.get(kind)
    if folder is None or len(values) < SMALL:
        add = shape._add_value
        for value, loc in zip(values, locs, strict=True):
            add(value, loc)
        return
    shape._count += len(values)
    folder(shape, values, locs, least if least is not None else min(locs))


def _where(shape: Shape, variant: str, least: str) -> None:
    where = shape._where
    if least < where.get(variant, NO_WHERE):
        where[variant] = least


def _bump(counts: dict[str, int], key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _example(shape: Shape, key: str) -> None:
    example = shape._example
    if example is None or key < example:
        shape._example = key


def _merge_values(shape: Shape, raws: Sequence[str], count_of: Callable[[str], int],
                  prefix: str, smallest: str) -> None:
    """Merge distinct scalar keys `prefix + raw` (with their counts) into the capped set;
    `smallest` is at most `min(raws)`."""
    values = shape._values
    if len(values) >= VALUE_CAP:  # full: only keys up to the largest kept one can stay
        largest = shape._largest
        if largest is None:
            largest = shape._largest = max(values)
        if prefix + smallest > largest:  # every key is new and too large to be kept
            if raws:
                shape._overflow = True
            return
        if not shape._overflow and any(prefix + raw not in values for raw in raws):
            shape._overflow = True
        if largest.startswith(prefix):
            raws = list(filter(largest[len(prefix):].__ge__, raws))
        elif largest < prefix:
            return
    if len(raws) > VALUE_CAP:
        shape._overflow = True
        raws = nsmallest(VALUE_CAP, raws)
    if not raws:
        return
    for raw in raws:
        key = prefix + raw
        values[key] = values.get(key, 0) + count_of(raw)
    if len(values) > VALUE_CAP:
        shape._overflow = True
        for key in sorted(values)[VALUE_CAP:]:
            del values[key]
    shape._largest = None


def _fold_strings(shape: Shape, values: Sequence[str], locs: Sequence[str],
               least: str) -> None:
    n = len(values)
    _bump(shape._types, "string", n)
    counts = Counter(values)
    distinct = list(counts)
    lengths = set(map(len, distinct))
    same, each = detect_column_formats(distinct, lengths)
    kinds = shape._kinds
    formats = shape._formats
    if same:
        _bump(kinds, same[0], n)
        for name in same:
            _bump(formats, name, n)
        _where(shape, "string:" + same[0], least)
    elif same is not None:  # free text, maybe with empty strings
        empty = counts.get("", 0)
        if empty < n:
            _bump(kinds, "text", n - empty)
        if empty:
            _bump(kinds, "empty", empty)
        if not empty:
            _where(shape, "string:text", least)
        elif empty == n:
            _where(shape, "string:empty", least)
        else:
            _where_by_kind(shape, values, locs, {"": "empty"}, "text")
    else:  # mixed: most values share the first one's formats, the odd ones go one by one
        first = each[0]
        major = first[0] if first else ("text" if distinct[0] else "empty")
        kind_of: dict[str, str] = {}
        odd = 0
        for text, found in zip(distinct, each, strict=True):
            if (found is first or found == first) and (first or (major == "text") == bool(text)):
                continue
            count = counts[text]
            odd += count
            if found:
                kind = found[0]
                for name in found:
                    formats[name] = formats.get(name, 0) + count
            else:
                kind = "text" if text else "empty"
            kinds[kind] = kinds.get(kind, 0) + count
            kind_of[text] = kind
        if odd < n:
            kinds[major] = kinds.get(major, 0) + n - odd
            for name in first:
                formats[name] = formats.get(name, 0) + n - odd
        if len(set(kind_of.values()) | {major}) == 1:
            _where(shape, "string:" + major, least)
        else:
            _where_by_kind(shape, values, locs, kind_of, major)
    if max(lengths) > VALUE_MAX_LENGTH:
        shape._overflow = True
        distinct = [text for text in distinct if len(text) <= VALUE_MAX_LENGTH]
    smallest = min(counts)
    _merge_values(shape, distinct, counts.__getitem__, "s:", smallest)
    _example(shape, "s:" + smallest[:EXAMPLE_MAX_LENGTH])


def _where_by_kind(shape: Shape, values: Sequence[str], locs: Sequence[str],
                   kind_of: dict[str, str], default: str) -> None:
    least: dict[str, str] = {}
    for text, loc in zip(values, locs, strict=True):
        kind = kind_of.get(text, default)
        if loc < least.get(kind, NO_WHERE):
            least[kind] = loc
    where = shape._where
    for kind, loc in least.items():
        variant = "string:" + kind
        if loc < where.get(variant, NO_WHERE):
            where[variant] = loc


def _fold_integers(shape: Shape, values: Sequence[int], locs: Sequence[str],
               least: str) -> None:
    _bump(shape._types, "integer", len(values))
    counts = Counter(values)
    if max(counts) >= UNIX_SECONDS[0]:  # smaller integers have no format
        formats = shape._formats
        for number, count in counts.items():
            if number >= UNIX_SECONDS[0]:
                for name in detect_integer_formats(number):
                    _bump(formats, "int:" + name, count)
    texts = list(map(str, counts))
    smallest = min(texts)
    _merge_values(shape, texts, lambda text: counts[int(text)], "i:", smallest)
    _example(shape, "i:" + smallest)
    _where(shape, "integer", least)


def _fold_booleans(shape: Shape, values: Sequence[bool], locs: Sequence[str],
               least: str) -> None:
    n = len(values)
    _bump(shape._types, "boolean", n)
    trues = values.count(True)
    counts = {"true": trues, "false": n - trues}
    _merge_values(shape, [raw for raw, count in counts.items() if count], counts.__getitem__,
                  "b:", "false" if trues < n else "true")
    _example(shape, "b:false" if trues < n else "b:true")
    _where(shape, "boolean", least)


def _fold_floats(shape: Shape, values: Sequence[float], locs: Sequence[str],
               least: str) -> None:
    _bump(shape._types, "number", len(values))
    _example(shape, "n:" + min(map(repr, values)))
    _where(shape, "number", least)


def _fold_nulls(shape: Shape, values: Sequence[None], locs: Sequence[str],
               least: str) -> None:
    shape._nulls += len(values)
    _where(shape, "null", least)


def _fold_arrays(shape: Shape, values: Sequence[list[Any]], locs: Sequence[str],
               least: str) -> None:
    _bump(shape._types, "array", len(values))
    _where(shape, "array", least)
    items = shape._items
    if items is None:
        items = shape._items = type(shape)()
    flat = list(chain.from_iterable(values))
    if flat:
        lengths = list(map(len, values))
        flat_locs = list(chain.from_iterable(map(repeat, locs, lengths)))
        fold_column(items, flat, flat_locs, least if all(lengths) else None)


def _fold_objects(shape: Shape, values: Sequence[dict[str, Any]], locs: Sequence[str],
               least: str) -> None:
    _bump(shape._types, "object", len(values))
    _where(shape, "object", least)
    columns = _same_keys(values, locs, least)
    if columns is None:
        groups: dict[tuple[str, ...], tuple[list[dict[str, Any]], list[str]]] = {}
        for value, loc in zip(values, locs, strict=True):
            layout = tuple(value)
            group = groups.get(layout)
            if group is None:
                groups[layout] = ([value], [loc])
            else:
                group[0].append(value)
                group[1].append(loc)
        per_key: dict[str, tuple[list[Any], list[str]]] = {}
        for layout, (members, member_locs) in groups.items():
            for key, column in _by_key(layout, members):
                found = per_key.get(key)
                if found is None:
                    per_key[key] = (list(column), list(member_locs))
                else:
                    found[0].extend(column)
                    found[1].extend(member_locs)
        columns = [(key, found[0], found[1], None) for key, found in per_key.items()]
    properties = shape._properties
    map_values: list[Any] = []
    map_locs: list[str] = []
    for key, column, column_locs, column_least in columns:
        child = properties.get(key)
        if child is None:
            if is_id_key(key):
                map_values.extend(column)
                map_locs.extend(column_locs)
                continue
            child = properties[key] = type(shape)()
        fold_column(child, column, column_locs, column_least)
    if map_values:
        holder = shape._map_values
        if holder is None:
            holder = shape._map_values = type(shape)()
        fold_column(holder, map_values, map_locs)


Columns = list[tuple[str, Sequence[Any], Sequence[str], "str | None"]]


def _same_keys(objects: Sequence[dict[str, Any]], locs: Sequence[str],
               least: str) -> Columns | None:
    """(key, values, locs, least) per key when every object has the keys of the first one
    (in any order), else None."""
    keys = tuple(objects[0])
    if set(map(len, objects)) != {len(keys)}:
        return None
    if not keys:
        return []
    try:
        rows = list(map(itemgetter(*keys), objects))
    except KeyError:
        return None
    if len(keys) == 1:  # itemgetter of one key gives the value itself
        return [(keys[0], rows, locs, least)]
    return [(key, column, locs, least)
            for key, column in zip(keys, zip(*rows, strict=True), strict=True)]


def _by_key(keys: tuple[str, ...], objects: Sequence[dict[str, Any]]) -> Iterator[
        tuple[str, tuple[Any, ...]]]:
    """(key, column of its values) for objects that all have `keys`, in that order."""
    return zip(keys, zip(*map(dict.values, objects), strict=True), strict=True)


_FOLDERS: dict[type, Callable[[Any, Any, Sequence[str]], None]] = {
    str: _fold_strings,
    int: _fold_integers,
    dict: _fold_objects,
    list: _fold_arrays,
    bool: _fold_booleans,
    float: _fold_floats,
    type(None): _fold_nulls,
}
