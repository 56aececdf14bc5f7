"""A normalized view of one JSON Schema node, so 3.0 and 3.1 spellings compare as equal.

`SchemaView.of(doc, schema, pointer)` follows `$ref`s (local ones, bounded), merges `allOf`,
and reads nullability from every spelling: 3.0 `nullable: true`, 3.1 `type: [X, "null"]`,
`type: "null"`, a `{type: "null"}` member of `oneOf`/`anyOf`, and `null` in an `enum`.

Invariants:
1. Building a view never recurses into children: properties, items and variants are kept as
   (schema, pointer) pairs and viewed on demand, so cyclic `$ref`s cannot loop here.
2. `pointer` is where the node lives in its document (after following `$ref`s), so findings
   point at the definition a reader has to change.
3. `integer` is a subtype of `number`: {integer} -> {number} is a widening, not a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from specs.diffing.findings import join_pointer, split_pointer

MAX_REF_HOPS = 32
CONSTRAINTS = (
    "maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
    "pattern", "maxItems", "minItems", "multipleOf", "uniqueItems", "format", "default",
)

Node = tuple[Any, str]  # (raw schema, JSON pointer)


def resolve_ref(doc: dict[str, Any], schema: Any, pointer: str) -> tuple[Any, str, str]:
    """Follow local `$ref`s: (target, its pointer, the last ref name or '')."""
    name = ""
    for _ in range(MAX_REF_HOPS):
        if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
            return schema, pointer, name
        ref = schema["$ref"]
        if not ref.startswith("#"):
            return schema, pointer, ref  # external: compared by its text only
        target: Any = doc
        for token in split_pointer(ref):
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                return {}, pointer, ref  # dangling ref: treated as an empty schema
        schema, pointer, name = target, ref[1:] if ref.startswith("#") else ref, ref
    return {}, pointer, name


def canonical(value: Any) -> str:
    """A stable text for comparing JSON values regardless of key order."""
    return json.dumps(value, sort_keys=True, default=str)


def text_of(value: Any) -> str:
    """A string as itself, anything else as its canonical JSON (stable under key order)."""
    return value if isinstance(value, str) else canonical(value)


def _type_set(raw: Any) -> tuple[frozenset[str] | None, bool]:
    if raw is None:
        return None, False
    if isinstance(raw, str):
        names = [raw]
    else:
        names = [text_of(t) for t in raw] if isinstance(raw, list) else []
    nullable = "null" in names
    rest = frozenset(n for n in names if n != "null")
    return (rest if rest or not nullable else frozenset()), nullable


def _is_null_schema(doc: dict[str, Any], raw: Any, pointer: str) -> bool:
    target, _, _ = resolve_ref(doc, raw, pointer)
    return isinstance(target, dict) and target.get("type") == "null" and len(target) <= 2


@dataclass
class SchemaView:
    """The parts of a schema the rules compare, with every spelling normalized."""

    pointer: str
    source: Any = None  # the raw schema (after following $refs)
    ref: str = ""
    types: frozenset[str] | None = None
    nullable: bool = False
    properties: dict[str, Node] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    additional: Any = None  # None (unspecified), False, True or a Node
    items: Node | None = None
    enum: list[Any] | None = None
    constraints: dict[str, Any] = field(default_factory=dict)
    variants: list[Node] = field(default_factory=list)
    variant_kind: str = ""
    discriminator: str | None = None
    read_only: bool = False
    write_only: bool = False
    drift: Any = None

    @classmethod
    def of(cls, doc: dict[str, Any], schema: Any, pointer: str) -> SchemaView:
        schema, pointer, ref = resolve_ref(doc, schema, pointer)
        view = cls(pointer=pointer, source=schema, ref=ref)
        if not isinstance(schema, dict):
            return view
        view._absorb(doc, schema, pointer, depth=0)
        if view.types is None:
            if view.properties or view.additional not in (None, True):
                view.types = frozenset({"object"})
            elif view.items is not None:
                view.types = frozenset({"array"})
        return view

    def _absorb(self, doc: dict[str, Any], schema: dict[str, Any], pointer: str,
                depth: int) -> None:
        types, nullable = _type_set(schema.get("type"))
        if types is not None:
            self.types = types if self.types is None else (self.types & types or types)
        if nullable or schema.get("nullable") is True:
            self.nullable = True
        properties = schema.get("properties")
        for name, sub in (properties.items() if isinstance(properties, dict) else ()):
            self.properties.setdefault(text_of(name), (sub, join_pointer(
                pointer, "properties", text_of(name))))
        required = schema.get("required")
        if isinstance(required, list):
            self.required.update(str(r) for r in required if isinstance(r, str | int))
        if "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            self.additional = extra if isinstance(extra, bool) else (
                extra, join_pointer(pointer, "additionalProperties"))
        if "items" in schema and isinstance(schema["items"], dict | bool):
            self.items = (schema["items"], join_pointer(pointer, "items"))
        if isinstance(schema.get("enum"), list):
            values = list(schema["enum"])
            if None in values:
                self.nullable = True
                values = [v for v in values if v is not None]
            self.enum = values
        if "const" in schema:
            self.enum = [schema["const"]]
        for key in CONSTRAINTS:
            if key in schema and key not in self.constraints:
                self.constraints[key] = schema[key]
        for kind in ("oneOf", "anyOf"):
            members = schema.get(kind)
            if isinstance(members, list) and not self.variants:
                self.variant_kind = kind
                for index, member in enumerate(members):
                    member_pointer = join_pointer(pointer, kind, index)
                    if _is_null_schema(doc, member, member_pointer):
                        self.nullable = True
                    else:
                        self.variants.append((member, member_pointer))
                if len(self.variants) == 1 and self.nullable:
                    only, only_pointer = self.variants.pop()
                    self._absorb_ref(doc, only, only_pointer, depth)
        disc = schema.get("discriminator")
        if isinstance(disc, dict) and self.discriminator is None:
            self.discriminator = text_of(disc.get("propertyName", ""))
        self.read_only = self.read_only or schema.get("readOnly") is True
        self.write_only = self.write_only or schema.get("writeOnly") is True
        if "x-restscope-drift" in schema and self.drift is None:
            self.drift = schema["x-restscope-drift"]
        members = schema.get("allOf")
        for index, member in enumerate(members if isinstance(members, list) else []):
            self._absorb_ref(doc, member, join_pointer(pointer, "allOf", index), depth)

    def _absorb_ref(self, doc: dict[str, Any], member: Any, pointer: str, depth: int) -> None:
        if depth >= MAX_REF_HOPS:
            return
        target, target_pointer, _ = resolve_ref(doc, member, pointer)
        if isinstance(target, dict):
            self._absorb(doc, target, target_pointer, depth + 1)

    def variant_label(self, doc: dict[str, Any], node: Node, index: int) -> str:
        """How a oneOf/anyOf member is matched across versions: its ref name, title or type."""
        raw, pointer = node
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            return raw["$ref"].rsplit("/", 1)[-1]
        target, _, _ = resolve_ref(doc, raw, pointer)
        if isinstance(target, dict):
            if isinstance(target.get("title"), str):
                return target["title"]
            types, _ = _type_set(target.get("type"))
            if types:
                return "|".join(sorted(types))
        return f"#{index}"
