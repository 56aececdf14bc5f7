"""Shape summaries of JSON values: what was seen at one location, mergeable and bounded.

A `Shape` counts, for every value observed at one place (a body, a property, array items, a
parameter): its JSON types, string kinds and formats, nulls, a bounded set of distinct scalar
values (for enums), one example, and, per variant, the smallest location it was seen at.
Objects hold a `Shape` per property (id-like keys go to one `map_values` shape instead, so an
object keyed by ids stays bounded); arrays hold one `items` shape merged over all elements.

Invariants (the merge laws, property-tested):
1. `Shape()` is the empty summary and `merge` is associative and commutative with it as identity;
   `merge` never mutates its arguments. `add` mutates (it is the streaming hot path) and
   `summarize(a + b) == summarize(a).merge(summarize(b))`.
2. Bounded: the distinct-value set keeps the `VALUE_CAP` smallest keys by a canonical order plus
   an `overflow` flag, which is associative (a key kept after merging has its full count).
   Examples and locations are minima, never "first seen".
3. `to_dict` is canonical (sorted keys); `from_dict(to_dict(s)) == s`.
4. Batched: `add` queues the value (at most `BATCH` per shape, so memory stays bounded by the
   number of shapes) and `specs.shape_columns` folds the queue column by column; every public
   field is a property that folds the queue first, so readers never see a stale shape. The
   result equals the value-at-a-time fold (`_add_value`), property-tested. Queued values must
   not be mutated by the caller (JSON bodies parsed from exchanges never are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from specs.formats import (
    FORMAT_ORDER,
    UNIX_SECONDS,
    detect_integer_formats,
    detect_string_formats,
)

BATCH = 256  # values `Shape.add` queues before folding them in column by column
VALUE_CAP = 24  # distinct scalar values kept per shape
VALUE_MAX_LENGTH = 64  # longer strings are never enum candidates (they set `overflow`)
EXAMPLE_MAX_LENGTH = 80
NO_WHERE = "\uffff"

_ID_KEY = re.compile(
    r"(?:[0-9]+|[0-9]+@N[0-9]{2}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-f]{16,})\Z"
)


@lru_cache(maxsize=1 << 14)
def is_id_key(key: str) -> bool:
    """Whether an object key is an id (numeric, NSID, UUID, long hex): such keys form a map."""
    return bool(_ID_KEY.match(key))


_STRING_VARIANTS = {name: "string:" + name for name in (*FORMAT_ORDER, "text", "empty")}


def bump(counts: dict[str, int], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def sum_counts(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Counts added key by key (the merge of two counters)."""
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return out


def _min_where(a: dict[str, str], b: dict[str, str]) -> dict[str, str]:
    out = dict(a)
    for key, loc in b.items():
        if loc < out.get(key, NO_WHERE):
            out[key] = loc
    return out


class Shape:
    """The summary of every value seen at one location (see module docstring).

    `add` only queues the value (up to `BATCH` of them); the queue is folded in column by column
    (`specs.shape_columns`) when it is full, or before anything reads the shape: every public
    field is a property that folds pending values first. Short columns go through `_add_value`,
    the value-at-a-time fold; both give the same summary (property-tested).
    """

    __slots__ = (
        "_count",
        "_example",
        "_formats",
        "_items",
        "_kinds",
        "_largest",
        "_map_values",
        "_nulls",
        "_overflow",
        "_pending",
        "_pending_locs",
        "_properties",
        "_types",
        "_values",
        "_where",
    )

    # the public fields (properties, installed below the class, that fold pending values first)
    count: int
    nulls: int
    types: dict[str, int]
    kinds: dict[str, int]
    formats: dict[str, int]
    values: dict[str, int]
    overflow: bool
    example: str | None
    where: dict[str, str]
    properties: dict[str, Shape]
    map_values: Shape | None
    items: Shape | None

    def __init__(self) -> None:
        self._count = 0
        self._nulls = 0
        self._types: dict[str, int] = {}
        # per string: its most specific format, "text", or "empty" (the empty string)
        self._kinds: dict[str, int] = {}
        self._formats: dict[str, int] = {}  # per format: strings that have it ("int:" integers)
        self._values: dict[str, int] = {}  # canonical scalar key -> count (VALUE_CAP smallest)
        self._overflow = False
        self._example: str | None = None  # smallest canonical scalar key seen
        self._where: dict[str, str] = {}  # variant -> smallest location
        self._properties: dict[str, Shape] = {}
        self._map_values: Shape | None = None
        self._items: Shape | None = None
        self._largest: str | None = None  # cache of max(values) once the cap is reached
        self._pending: list[Any] | None = None  # values queued by `add`, not yet folded in
        self._pending_locs: list[str] = []

    # --- streaming -------------------------------------------------------------------------

    def add(self, value: Any, loc: str = "") -> None:
        """Count one observed value (queued: the value must not be mutated afterwards)."""
        pending = self._pending
        if pending is None:
            self._pending = [value]
            self._pending_locs = [loc]
            return
        pending.append(value)
        self._pending_locs.append(loc)
        if len(pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Fold the queued values in (a no-op when nothing is queued)."""
        pending = self._pending
        if pending is not None:
            locs = self._pending_locs
            self._pending = None
            self._pending_locs = []
            from specs.shape_columns import fold_column  # imports this module

            fold_column(self, pending, locs)

    def _add_value(self, value: Any, loc: str) -> None:
        """Count one value now (the value-at-a-time fold, used for short columns)."""
        self._count += 1
        kind = type(value)
        types = self._types
        if kind is str:  # _add_string and _scalar inlined: most values are strings
            types["string"] = types.get("string", 0) + 1
            found = detect_string_formats(value)
            if found:
                string_kind = found[0]
                formats = self._formats
                for name in found:
                    formats[name] = formats.get(name, 0) + 1
            else:
                string_kind = "text" if value else "empty"
            kinds = self._kinds
            kinds[string_kind] = kinds.get(string_kind, 0) + 1
            variant = _STRING_VARIANTS.get(string_kind) or "string:" + string_kind
            if len(value) <= VALUE_MAX_LENGTH:
                key = "s:" + value
                values = self._values
                if key in values:
                    values[key] += 1
                elif len(values) < VALUE_CAP:
                    values[key] = 1
                else:
                    self._scalar(key)
                    key = None  # _scalar has taken care of the example
                if key is not None:
                    example = self._example
                    if example is None or key < example:
                        self._example = key
            else:
                self._overflow = True
                self._min_example("s:" + value[:EXAMPLE_MAX_LENGTH])
        elif kind is dict:
            types["object"] = types.get("object", 0) + 1
            variant = "object"
            self._add_object(value, loc)
        elif kind is int:
            types["integer"] = types.get("integer", 0) + 1
            variant = "integer"
            if value >= UNIX_SECONDS[0]:  # smaller integers have no format
                for name in detect_integer_formats(value):
                    bump(self._formats, "int:" + name)
            self._scalar(f"i:{value}")
        elif kind is list:
            types["array"] = types.get("array", 0) + 1
            variant = "array"
            items = self._items
            if items is None:
                items = self._items = Shape()
            for element in value:
                items._add_value(element, loc)
        elif kind is bool:
            types["boolean"] = types.get("boolean", 0) + 1
            variant = "boolean"
            self._scalar("b:true" if value else "b:false")
        elif kind is float:
            types["number"] = types.get("number", 0) + 1
            variant = "number"
            self._min_example(f"n:{value!r}")
        elif value is None:
            self._nulls += 1
            variant = "null"
        else:  # not a JSON value: count it as its text
            types["string"] = types.get("string", 0) + 1
            variant = "string:" + self._add_string(str(value))
        where = self._where
        if loc < where.get(variant, NO_WHERE):
            where[variant] = loc

    def _add_string(self, value: str) -> str:
        """Count a string; returns its kind (most specific format, or "text")."""
        found = detect_string_formats(value)
        kind = found[0] if found else ("text" if value else "empty")
        kinds = self._kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if found:
            formats = self._formats
            for name in found:
                formats[name] = formats.get(name, 0) + 1
        if len(value) <= VALUE_MAX_LENGTH:
            self._scalar("s:" + value)
        else:
            self._overflow = True
            self._min_example("s:" + value[:EXAMPLE_MAX_LENGTH])
        return kind

    def _add_object(self, value: dict[str, Any], loc: str) -> None:
        properties = self._properties
        for key, item in value.items():
            shape = properties.get(key)
            if shape is None:
                if is_id_key(key):
                    holder = self._map_values
                    if holder is None:
                        holder = self._map_values = Shape()
                    holder._add_value(item, loc)
                    continue
                shape = properties[key] = Shape()
            shape._add_value(item, loc)

    def _scalar(self, key: str) -> None:
        values = self._values
        if key in values:
            values[key] += 1
        elif len(values) < VALUE_CAP:
            values[key] = 1
        else:
            self._overflow = True
            largest = self._largest
            if largest is None:
                largest = self._largest = max(values)
            if key < largest:
                del values[largest]
                values[key] = 1
                self._largest = max(values)
        example = self._example
        if example is None or key < example:
            self._example = key

    def _min_example(self, key: str) -> None:
        example = self._example
        if example is None or key < example:
            self._example = key

    # --- algebra -----------------------------------------------------------------------------

    def merge(self, other: Shape) -> Shape:
        """A new shape summarising both (associative, commutative, `Shape()` is identity)."""
        out = Shape()
        out.count = self.count + other.count
        out.nulls = self.nulls + other.nulls
        out.types = sum_counts(self.types, other.types)
        out.kinds = sum_counts(self.kinds, other.kinds)
        out.formats = sum_counts(self.formats, other.formats)
        values = sum_counts(self.values, other.values)
        overflow = self.overflow or other.overflow
        if len(values) > VALUE_CAP:
            overflow = True
            values = {key: values[key] for key in sorted(values)[:VALUE_CAP]}
        out.values = values
        out.overflow = overflow
        examples = [e for e in (self.example, other.example) if e is not None]
        out.example = min(examples) if examples else None
        out.where = _min_where(self.where, other.where)
        properties = dict(self.properties)
        for key, shape in other.properties.items():
            mine = properties.get(key)
            properties[key] = shape if mine is None else mine.merge(shape)
        out.properties = properties
        out.map_values = _merge_optional(self.map_values, other.map_values)
        out.items = _merge_optional(self.items, other.items)
        return out

    # --- canonical form ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"count": self.count}
        if self.nulls:
            out["nulls"] = self.nulls
        for name in ("types", "kinds", "formats", "values", "where"):
            counts = getattr(self, name)
            if counts:
                out[name] = dict(sorted(counts.items()))
        if self.overflow:
            out["overflow"] = True
        if self.example is not None:
            out["example"] = self.example
        if self.properties:
            out["properties"] = {k: s.to_dict() for k, s in sorted(self.properties.items())}
        if self.map_values is not None:
            out["map_values"] = self.map_values.to_dict()
        if self.items is not None:
            out["items"] = self.items.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shape:
        shape = cls()
        shape.count = int(data["count"])
        shape.nulls = int(data.get("nulls", 0))
        for name in ("types", "kinds", "formats", "values"):
            setattr(shape, name, {str(k): int(v) for k, v in data.get(name, {}).items()})
        shape.where = {str(k): str(v) for k, v in data.get("where", {}).items()}
        shape.overflow = bool(data.get("overflow", False))
        shape.example = data.get("example")
        shape.properties = {k: cls.from_dict(v) for k, v in data.get("properties", {}).items()}
        if "map_values" in data:
            shape.map_values = cls.from_dict(data["map_values"])
        if "items" in data:
            shape.items = cls.from_dict(data["items"])
        return shape

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Shape({self.to_dict()!r})"

    __hash__ = None  # type: ignore[assignment]


PUBLIC_FIELDS = ("count", "nulls", "types", "kinds", "formats", "values", "overflow", "example",
                 "where", "properties", "map_values", "items")


def _public_field(name: str) -> property:
    slot = Shape.__dict__["_" + name]

    def get(self: Shape) -> Any:
        if self._pending is not None:
            self.flush()
        return slot.__get__(self, Shape)

    def set_(self: Shape, value: Any) -> None:
        if self._pending is not None:
            self.flush()
        slot.__set__(self, value)
        if name == "values":
            self._largest = None

    return property(get, set_, doc=f"The shape's {name} (pending values folded in first).")


for _name in PUBLIC_FIELDS:
    setattr(Shape, _name, _public_field(_name))


def _merge_optional(a: Shape | None, b: Shape | None) -> Shape | None:
    if a is None:
        return b
    if b is None:
        return a
    return a.merge(b)


def summarize(values: list[Any], loc: str = "") -> Shape:
    """The shape of a list of values observed at one location."""
    shape = Shape()
    for value in values:
        shape.add(value, loc)
    return shape


def example_value(key: str | None) -> Any:
    """The JSON value a canonical example key stands for (`s:abc` -> "abc", `i:3` -> 3)."""
    if key is None:
        return None
    tag, _, text = key.partition(":")
    if tag == "s":
        return text
    if tag == "i":
        return int(text)
    if tag == "n":
        return float(text)
    if tag == "b":
        return text == "true"
    return text
