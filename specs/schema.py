"""JSON Schema (OpenAPI 3.1 dialect) from a `Shape`, with drift flags.

The contract: every value that went into a shape validates against the schema rendered from it
(checked with jsonschema in the tests). So types list every type seen, `required` only names
properties present in every object, enums are only emitted when every value is listed and each
was seen often enough, and formats (which jsonschema does not assert) are only named when every
string had them.

Drift (`drift_of`): a location seen with more than one type (integer and number count as one),
or strings whose most common kind is a format while some are free text or another format.
The schema then lists the alternatives in `anyOf` and carries `x-restscope-drift` with the
counts of each variant and the smallest location each was seen at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugins.redaction import REDACTED, is_secret_name
from specs.formats import best_covering_format
from specs.shape import Shape, example_value

ENUM_MAX_VALUES = 8
ENUM_MIN_EACH = 3
ENUM_MIN_SINGLE = 10
DRIFT_KEY = "x-restscope-drift"


@dataclass(frozen=True)
class Drift:
    """The variants seen at one location, with counts and the smallest location of each."""

    variants: dict[str, int]
    where: dict[str, str]

    @property
    def total(self) -> int:
        return sum(self.variants.values())

    @property
    def minority_share(self) -> float:
        return min(self.variants.values()) / max(1, self.total)


def _non_empty_strings(shape: Shape) -> int:
    return shape.types.get("string", 0) - shape.kinds.get("empty", 0)


def _string_drift(shape: Shape) -> bool:
    """Strings mostly of one format, some free text or another format (empty ones aside)."""
    kinds = {k: n for k, n in shape.kinds.items() if k != "empty"}
    if len(kinds) < 2 or best_covering_format(shape.formats, _non_empty_strings(shape)):
        return False
    majority = max(kinds.items(), key=lambda item: (item[1], item[0] != "text"))[0]
    return majority != "text"


def drift_of(shape: Shape) -> Drift | None:
    """The drift at this location, or None when every value had one type and kind."""
    variants: dict[str, int] = {}
    for name, count in shape.types.items():
        if name == "string" and _string_drift(shape):
            for kind, n in shape.kinds.items():
                if kind != "empty":
                    variants[f"string:{kind}"] = n
        elif name in ("integer", "number"):
            variants["number"] = variants.get("number", 0) + count
        else:
            variants[name] = count
    if len(variants) < 2:
        return None
    if "number" in variants and "number" not in shape.types:
        variants["integer"] = variants.pop("number")
    where: dict[str, str] = {}
    for variant in variants:
        keys = [variant] if variant != "number" else ["integer", "number"]
        if variant.startswith("string:"):
            keys = [variant]
        elif variant == "string":
            keys = [k for k in shape.where if k.startswith("string:")]
        found = [shape.where[k] for k in keys if k in shape.where]
        if found:
            where[variant] = min(found)
    return Drift(dict(sorted(variants.items())), dict(sorted(where.items())))


def _enum(shape: Shape) -> list[Any] | None:
    strings = shape.types.get("string", 0)
    if shape.overflow or not strings or strings != sum(shape.types.values()):
        return None
    values = {k: n for k, n in shape.values.items() if k.startswith("s:")}
    if sum(values.values()) != strings or len(values) > ENUM_MAX_VALUES:
        return None
    if any(kind not in ("text", "empty") for kind in shape.kinds):
        return None
    least = min(values.values())
    if (len(values) == 1 and least < ENUM_MIN_SINGLE) or least < ENUM_MIN_EACH:
        return None
    return [example_value(k) for k in sorted(values)]


def _string_schema(shape: Shape, secret: bool, kind: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    fmt = kind if kind is not None else best_covering_format(
        shape.formats, _non_empty_strings(shape))
    if fmt and fmt != "text":
        schema["format"] = fmt
    if kind is None and not secret:
        enum = _enum(shape)
        if enum is not None:
            schema["enum"] = enum
    return schema


def _number_schema(shape: Shape, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": name}
    if name == "integer":
        formats = {k[4:]: n for k, n in shape.formats.items() if k.startswith("int:")}
        fmt = best_covering_format(formats, shape.types.get("integer", 0))
        if fmt:
            schema["format"] = fmt
    return schema


def _object_schema(shape: Shape, options: SchemaOptions) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    objects = shape.types.get("object", 0)
    if shape.properties:
        schema["properties"] = {
            key: shape_schema(child, options, secret=is_secret_name(key))
            for key, child in sorted(shape.properties.items())
        }
        required = sorted(k for k, child in shape.properties.items() if child.count >= objects)
        if required:
            schema["required"] = required
    if shape.map_values is not None:
        schema["additionalProperties"] = shape_schema(shape.map_values, options)
    return schema


@dataclass(frozen=True)
class SchemaOptions:
    examples: bool = True


def _with_example(schema: dict[str, Any], shape: Shape, secret: bool,
                  options: SchemaOptions) -> dict[str, Any]:
    tags = {"string": "s", "integer": "i", "number": "n", "boolean": "b"}
    tag = tags.get(schema.get("type"))  # type: ignore[arg-type]
    if (options.examples and shape.example is not None and tag is not None
            and "enum" not in schema and shape.example.startswith(tag + ":")):
        schema["examples"] = [REDACTED if secret else example_value(shape.example)]
    return schema


def shape_schema(shape: Shape, options: SchemaOptions | None = None,
                 secret: bool = False) -> dict[str, Any]:
    """The schema every value summarised in `shape` validates against."""
    options = options or SchemaOptions()
    alternatives: list[dict[str, Any]] = []
    drift = drift_of(shape)
    types = shape.types
    if "object" in types:
        alternatives.append(_object_schema(shape, options))
    if "array" in types:
        array: dict[str, Any] = {"type": "array"}
        if shape.items is not None and shape.items.count:
            array["items"] = shape_schema(shape.items, options)
        alternatives.append(array)
    if "boolean" in types:
        alternatives.append({"type": "boolean"})
    if "number" in types:
        alternatives.append(_number_schema(shape, "number"))
    elif "integer" in types:
        alternatives.append(_number_schema(shape, "integer"))
    if "string" in types:
        if _string_drift(shape):
            for kind in sorted(shape.kinds):
                if kind != "empty" or len(shape.kinds) == 1:
                    alternatives.append(_string_schema(shape, secret, kind))
        else:
            alternatives.append(
                _with_example(_string_schema(shape, secret), shape, secret, options))
    if len(alternatives) == 1 and "examples" not in alternatives[0]:
        _with_example(alternatives[0], shape, secret, options)
    if shape.nulls:
        if len(alternatives) == 1 and list(alternatives[0]) == ["type"]:
            alternatives[0]["type"] = [alternatives[0]["type"], "null"]
        else:
            alternatives.append({"type": "null"})
    if not alternatives:
        schema: dict[str, Any] = {}
    elif len(alternatives) == 1:
        schema = alternatives[0]
    else:
        simple = all(set(a) == {"type"} and isinstance(a["type"], str) for a in alternatives)
        schema = {"type": [a["type"] for a in alternatives]} if simple else {"anyOf": alternatives}
    if drift is not None:
        schema[DRIFT_KEY] = {"variants": drift.variants, "examples": drift.where}
    return schema
