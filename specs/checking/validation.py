"""Validating a JSON value against a spec schema, reporting *where* and *how* it deviates.

`BodyValidator.validate(schema_node, value, direction)` walks the value and the schema together
and returns `Deviation`s: `invalid` (type, null, enum, bounds, pattern), `property-unknown`
(a property the schema does not declare), `property-missing` (a required one absent),
`format-mismatch` (a string or integer without its declared `format`). Schemas are read through
`specs.diffing.schemaview.SchemaView`, so `$ref`, `allOf`, and both nullable spellings behave as
in `diff`; of a `oneOf`/`anyOf` the member with the fewest deviations is taken.

Invariants:
1. Bounded: the walk follows the value (finite), never the schema alone, and stops at depth 64.
2. Every deviation has the concrete JSON pointer and a generic one (array indices as `-`),
   so deviations of many array items or many exchanges group under one location.
3. Formats are checked with `specs.formats` (restscope's own names, e.g. `flickr-nsid`) and
   jsonschema's FormatChecker (standard names); an unknown format is never a mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from specs.diffing.findings import escape_pointer_token
from specs.diffing.schemadiff import REQUEST
from specs.diffing.schemaview import Node, SchemaView, canonical

MAX_DEPTH = 64
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True)
class Deviation:
    kind: str  # invalid | property-unknown | property-missing | format-mismatch
    pointer: str
    generic: str
    value: Any
    message: str

    @property
    def hard(self) -> bool:
        return self.kind in ("invalid", "property-missing")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _type_ok(value: Any, types: frozenset[str]) -> bool:
    kind = json_type(value)
    if kind in types:
        return True
    if kind == "integer" and "number" in types:
        return True
    return kind == "number" and "integer" in types and float(value).is_integer()


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


@lru_cache(maxsize=1)
def _format_checker() -> Any:
    from jsonschema import FormatChecker

    return FormatChecker()


def format_matches(fmt: str, value: Any) -> bool | None:
    """Whether `value` has format `fmt`; None when the format is not one we can check."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and fmt in _INT_RANGES:
        low, high = _INT_RANGES[fmt]
        return low <= value <= high
    try:
        from specs.formats import FORMAT_ORDER, detect_integer_formats, detect_string_formats
    except ImportError:  # the inference helper's module is absent: standard formats only
        FORMAT_ORDER = ()
    if fmt in FORMAT_ORDER:
        if isinstance(value, str):
            return fmt in detect_string_formats(value)
        if isinstance(value, int):
            return fmt in detect_integer_formats(value)
        return None
    checker = _format_checker()
    if isinstance(value, str) and fmt in checker.checkers:
        return bool(checker.conforms(value, fmt))
    return None


def _child(pointer: str, generic: str, key: str | int) -> tuple[str, str]:
    if isinstance(key, int):
        return f"{pointer}/{key}", f"{generic}/-"
    token = escape_pointer_token(key)
    return f"{pointer}/{token}", f"{generic}/{token}"


class BodyValidator:
    """Validates values against the schemas of one spec document (views are cached)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._views: dict[str, SchemaView] = {}

    def view(self, node: Node) -> SchemaView:
        found = self._views.get(node[1])
        if found is None:
            found = SchemaView.of(self.doc, node[0], node[1])
            self._views[node[1]] = found
        return found

    def validate(self, node: Node, value: Any, direction: str) -> list[Deviation]:
        out: list[Deviation] = []
        self._walk(self.view(node), value, "", "", direction, 0, out)
        return out

    def _walk(self, view: SchemaView, value: Any, pointer: str, generic: str, direction: str,
              depth: int, out: list[Deviation]) -> None:
        if depth > MAX_DEPTH:
            return

        def bad(kind: str, message: str) -> None:
            out.append(Deviation(kind, pointer, generic, value, message))

        if value is None:
            if not view.nullable and view.types is not None and "null" not in view.types:
                bad("invalid", "null is not allowed")
            return
        if view.variants:
            self._walk_variants(view, value, pointer, generic, direction, depth, out)
        if view.types is not None and view.types and not _type_ok(value, view.types):
            bad("invalid", f"expected {'|'.join(sorted(view.types))}, got {json_type(value)}")
            return
        if view.enum is not None and canonical(value) not in {canonical(v) for v in view.enum}:
            bad("invalid", "value is not one of the enum values")
            return
        self._constraints(view, value, bad)
        if isinstance(value, dict):
            self._walk_object(view, value, pointer, generic, direction, depth, out)
        elif isinstance(value, list) and view.items is not None:
            items = self.view(view.items)
            for index, item in enumerate(value):
                child, child_generic = _child(pointer, generic, index)
                self._walk(items, item, child, child_generic, direction, depth + 1, out)

    def _walk_variants(self, view: SchemaView, value: Any, pointer: str, generic: str,
                       direction: str, depth: int, out: list[Deviation]) -> None:
        best: list[Deviation] | None = None
        for node in view.variants:
            found: list[Deviation] = []
            self._walk(self.view(node), value, pointer, generic, direction, depth + 1, found)
            score = (sum(d.hard for d in found), len(found))
            if best is None or score < (sum(d.hard for d in best), len(best)):
                best = found
            if not found:
                break
        out.extend(best or [])

    def _constraints(self, view: SchemaView, value: Any, bad: Any) -> None:
        c = view.constraints
        if not c:
            return
        if isinstance(value, str):
            if isinstance(c.get("maxLength"), int) and len(value) > c["maxLength"]:
                bad("invalid", f"longer than maxLength {c['maxLength']}")
            if isinstance(c.get("minLength"), int) and len(value) < c["minLength"]:
                bad("invalid", f"shorter than minLength {c['minLength']}")
            pattern = _pattern(c["pattern"]) if isinstance(c.get("pattern"), str) else None
            if pattern is not None and not pattern.search(value):
                bad("invalid", f"does not match pattern {c['pattern']!r}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self._bounds(c, value, bad)
        elif isinstance(value, list):
            if isinstance(c.get("maxItems"), int) and len(value) > c["maxItems"]:
                bad("invalid", f"more than maxItems {c['maxItems']}")
            if isinstance(c.get("minItems"), int) and len(value) < c["minItems"]:
                bad("invalid", f"fewer than minItems {c['minItems']}")
        fmt = c.get("format")
        if isinstance(fmt, str) and format_matches(fmt, value) is False:
            bad("format-mismatch", f"not a valid {fmt}")

    @staticmethod
    def _bounds(c: dict[str, Any], value: float, bad: Any) -> None:
        maximum, minimum = c.get("maximum"), c.get("minimum")
        ex_max, ex_min = c.get("exclusiveMaximum"), c.get("exclusiveMinimum")
        if isinstance(maximum, int | float) and (
                value > maximum or (ex_max is True and value == maximum)):
            bad("invalid", f"above the maximum {maximum}")
        if isinstance(minimum, int | float) and (
                value < minimum or (ex_min is True and value == minimum)):
            bad("invalid", f"below the minimum {minimum}")
        if isinstance(ex_max, int | float) and not isinstance(ex_max, bool) and value >= ex_max:
            bad("invalid", f"not below exclusiveMaximum {ex_max}")
        if isinstance(ex_min, int | float) and not isinstance(ex_min, bool) and value <= ex_min:
            bad("invalid", f"not above exclusiveMinimum {ex_min}")

    def _walk_object(self, view: SchemaView, value: dict[str, Any], pointer: str, generic: str,
                     direction: str, depth: int, out: list[Deviation]) -> None:
        closed = view.additional is False
        free = view.additional is True or isinstance(view.additional, tuple) or (
            not view.properties and not view.variants)
        for key, item in value.items():
            child, child_generic = _child(pointer, generic, str(key))
            if key in view.properties:
                self._walk(self.view(view.properties[key]), item, child, child_generic,
                           direction, depth + 1, out)
            elif isinstance(view.additional, tuple):
                self._walk(self.view(view.additional), item, child, child_generic, direction,
                           depth + 1, out)
            elif not free and not view.variants:
                why = "not allowed (additionalProperties: false)" if closed else "not in the spec"
                out.append(Deviation("property-unknown", child, child_generic, item,
                                     f"property {key!r} {why}"))
        for name in sorted(view.required):
            if name in value:
                continue
            if name in view.properties:
                prop = self.view(view.properties[name])
                if prop.read_only if direction == REQUEST else prop.write_only:
                    continue
            child, child_generic = _child(pointer, generic, name)
            out.append(Deviation("property-missing", child, child_generic, None,
                                 f"required property {name!r} is missing"))
