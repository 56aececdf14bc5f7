"""Direction-aware comparison of two JSON Schemas (request bodies, parameters, responses).

A change is judged by who is hurt: in a request the client writes the value, so anything the
server now refuses breaks it; in a response the client reads the value, so anything it may now
receive that it did not expect breaks it. Each change has a *kind* (`property-removed`,
`type-widened`, ...); the rule catalog maps (kind, direction) to a rule id and severity.

Invariants:
1. Terminates on any input: each (base pointer, new pointer, direction) pair is compared once
   and memoized; a pair met again while still being compared (a `$ref` cycle) counts as equal.
2. Results are relative (`Change.path` from the compared node), so one memoized comparison of
   a shared component is reported under every operation that uses it; within one node each
   (kind, pointer, message) is kept once, at its first path, which bounds the output.
3. Only differences are reported; 3.0 and 3.1 spellings of the same schema compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specs.diffing.findings import join_pointer
from specs.diffing.schemaview import Node, SchemaView, canonical, resolve_ref

REQUEST = "request"
RESPONSE = "response"


@dataclass(frozen=True)
class Change:
    """A schema difference of one kind, `path` steps below the compared node."""

    kind: str
    path: tuple[str, ...]
    pointer: str  # in the new document (for something gone: where it was, in its parent)
    message: str


def _is_wider(old: frozenset[str], new: frozenset[str]) -> bool:
    """Every value valid under `old` types is valid under `new` ones (integer within number)."""
    expanded = set(new) | ({"integer"} if "number" in new else set())
    return set(old) <= expanded


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class SchemaComparer:
    """Compares schema pairs of two documents; one instance per diff (it holds the memo)."""

    def __init__(self, base_doc: dict[str, Any], new_doc: dict[str, Any]) -> None:
        self.base_doc = base_doc
        self.new_doc = new_doc
        self._memo: dict[tuple[str, str, str], list[Change]] = {}
        self._active: set[tuple[str, str, str]] = set()
        self._views: dict[tuple[bool, str, str], SchemaView] = {}
        self._changed_refs: set[str] | None = None

    def view(self, is_new: bool, node: Node) -> SchemaView:
        """The (cached) view of a schema node; a pointer names one node of its document."""
        at_key = (is_new, node[1], "@")
        found = self._views.get(at_key)
        if found is not None:
            return found
        doc = self.new_doc if is_new else self.base_doc
        target, pointer, ref = resolve_ref(doc, node[0], node[1])
        key = (is_new, pointer, ref)
        found = self._views.get(key)
        if found is None:
            found = SchemaView.of(doc, target, pointer)
            found.ref = ref
            self._views[key] = found
        self._views[at_key] = found
        return found

    def _unchanged(self, old_raw: Any, new_raw: Any) -> bool:
        """Equal text and nothing it refers to changed: no need to look inside (fast path)."""
        if old_raw != new_raw:
            return False
        if self._changed_refs is None:
            self._changed_refs = changed_components(self.base_doc, self.new_doc)
        return not (refs_in(new_raw) & self._changed_refs)

    def compare(self, base: Node, new: Node, direction: str) -> list[Change]:
        if self._unchanged(base[0], new[0]):
            return []
        old_view = self.view(False, base)
        new_view = self.view(True, new)
        key = (old_view.pointer, new_view.pointer, direction)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return []
        self._active.add(key)
        try:
            changes = self._compare_views(old_view, new_view, direction)
        finally:
            self._active.discard(key)
        self._memo[key] = changes
        return changes

    def _compare_views(self, old: SchemaView, new: SchemaView, direction: str) -> list[Change]:
        out: list[Change] = []
        at = new.pointer

        def add(kind: str, message: str) -> None:
            out.append(Change(kind, (), at, message))

        external = old.ref and not old.ref.startswith("#")
        if external and old.ref != new.ref:
            add("type-changed", f"external schema changed from {old.ref} to {new.ref or 'inline'}")
        mixed = bool(old.variants) != bool(new.variants)  # compared as variants below
        if not mixed:
            self._compare_types(old, new, add)
            self._compare_enums(old, new, add)
            self._compare_constraints(old, new, add)
        if old.nullable != new.nullable:
            add("nullable-added" if new.nullable else "nullable-removed",
                "null is now allowed" if new.nullable else "null is no longer allowed")
        if old.drift != new.drift and (old.drift is not None or new.drift is not None):
            add("drift-changed", f"x-restscope-drift changed from {canonical(old.drift)} "
                                 f"to {canonical(new.drift)}")
        if old.discriminator != new.discriminator:
            add("discriminator-changed",
                f"discriminator changed from {old.discriminator!r} to {new.discriminator!r}")
        if not mixed:
            out.extend(self._compare_properties(old, new, direction))
            self._compare_additional(old, new, direction, add, out)
            if old.items is not None and new.items is not None:
                for change in self.compare(old.items, new.items, direction):
                    out.append(_prefixed(change, "[]"))
        out.extend(self._compare_variants(old, new, direction))
        return _first_of_each(out)

    def _compare_types(self, old: SchemaView, new: SchemaView, add: Any) -> None:
        if old.types == new.types:
            return
        before = "any" if old.types is None else "|".join(sorted(old.types)) or "null"
        after = "any" if new.types is None else "|".join(sorted(new.types)) or "null"
        message = f"type changed from {before} to {after}"
        if new.types is None or (old.types is not None and _is_wider(old.types, new.types)):
            add("type-widened", message)
        elif old.types is None or _is_wider(new.types, old.types):
            add("type-narrowed", message)
        else:
            add("type-changed", message)

    def _compare_enums(self, old: SchemaView, new: SchemaView, add: Any) -> None:
        if old.enum == new.enum:
            return
        if old.enum is None:
            add("enum-added", f"values are now limited to {canonical(new.enum)}")
            return
        if new.enum is None:
            add("enum-removed", "values are no longer limited to an enum")
            return
        old_values = {canonical(v): v for v in old.enum}
        new_values = {canonical(v): v for v in new.enum}
        for key in sorted(set(old_values) - set(new_values)):
            add("enum-value-removed", f"enum value {key} removed")
        for key in sorted(set(new_values) - set(old_values)):
            add("enum-value-added", f"enum value {key} added")

    def _compare_constraints(self, old: SchemaView, new: SchemaView, add: Any) -> None:
        oc, nc = old.constraints, new.constraints
        if oc == nc:
            return
        upper = (("maxLength", "max-length"), ("maximum", "maximum"), ("maxItems", "max-items"))
        lower = (("minLength", "min-length"), ("minimum", "minimum"), ("minItems", "min-items"))
        for key, name in upper:
            before, after = _bound(oc, key, upper=True), _bound(nc, key, upper=True)
            if before != after:
                tighter = after is not None and (before is None or after < before)
                add(f"{name}-decreased" if tighter else f"{name}-increased",
                    f"{key} changed from {_show(before)} to {_show(after)}")
        for key, name in lower:
            before, after = _bound(oc, key, upper=False), _bound(nc, key, upper=False)
            if before != after:
                tighter = after is not None and (before is None or after > before)
                add(f"{name}-increased" if tighter else f"{name}-decreased",
                    f"{key} changed from {_show(before)} to {_show(after)}")
        if oc.get("pattern") != nc.get("pattern"):
            if nc.get("pattern") is None:
                add("pattern-removed", f"pattern {oc.get('pattern')!r} removed")
            elif oc.get("pattern") is None:
                add("pattern-changed", f"pattern {nc.get('pattern')!r} added")
            else:
                add("pattern-changed",
                    f"pattern changed from {oc.get('pattern')!r} to {nc.get('pattern')!r}")
        if oc.get("multipleOf") != nc.get("multipleOf"):
            add("multiple-of-changed", f"multipleOf changed from "
                f"{oc.get('multipleOf', 'none')} to {nc.get('multipleOf', 'none')}")
        if not oc.get("uniqueItems") and nc.get("uniqueItems") is True:
            add("unique-items-added", "array items must now be unique")
        old_format, new_format = oc.get("format"), nc.get("format")
        if old_format != new_format:
            if old_format is None:
                add("format-added", f"format {new_format!r} added")
            elif new_format is None:
                add("format-removed", f"format {old_format!r} removed")
            else:
                add("format-changed", f"format changed from {old_format!r} to {new_format!r}")
        if "default" in oc and "default" in nc and canonical(oc["default"]) != canonical(
                nc["default"]):
            add("default-changed", f"default changed from {canonical(oc['default'])} "
                                   f"to {canonical(nc['default'])}")

    def _compare_properties(self, old: SchemaView, new: SchemaView,
                            direction: str) -> list[Change]:
        out: list[Change] = []
        old_names = {n for n in old.properties if self._shown(False, old, n, direction)}
        new_names = {n for n in new.properties if self._shown(True, new, n, direction)}
        for name in sorted(old_names - new_names):
            if name in new.properties:
                continue  # now readOnly/writeOnly: the other direction's business
            was = " (it was required)" if name in old.required else ""
            out.append(Change("property-removed", (name,), new.pointer,
                              f"property {name!r} removed{was}"))
        for name in sorted(new_names - old_names):
            if name in old.properties:
                continue
            required = name in new.required
            kind = "property-added-required" if required else "property-added-optional"
            out.append(Change(kind, (name,), new.properties[name][1],
                              f"{'required' if required else 'optional'} property "
                              f"{name!r} added"))
        for name in sorted(old_names & new_names):
            pointer = new.properties[name][1]
            was, now = name in old.required, name in new.required
            if was and not now:
                out.append(Change("property-became-optional", (name,), pointer,
                                  f"property {name!r} is no longer required"))
            elif now and not was:
                out.append(Change("property-became-required", (name,), pointer,
                                  f"property {name!r} is now required"))
            for change in self.compare(old.properties[name], new.properties[name], direction):
                out.append(_prefixed(change, name))
        return out

    def _shown(self, is_new: bool, view: SchemaView, name: str, direction: str) -> bool:
        prop = self.view(is_new, view.properties[name])
        return not (prop.read_only if direction == REQUEST else prop.write_only)

    def _compare_additional(self, old: SchemaView, new: SchemaView, direction: str, add: Any,
                            out: list[Change]) -> None:
        was_closed, now_closed = old.additional is False, new.additional is False
        if now_closed and not was_closed:
            add("additional-properties-disallowed", "additional properties are no longer allowed")
        elif was_closed and not now_closed:
            add("additional-properties-allowed", "additional properties are now allowed")
        if isinstance(old.additional, tuple) and isinstance(new.additional, tuple):
            for change in self.compare(old.additional, new.additional, direction):
                out.append(_prefixed(change, "{}"))

    def _labels(self, is_new: bool, view: SchemaView, other: SchemaView) -> dict[str, Node]:
        """Variants by label. A schema without variants facing one with them counts as one
        variant, labelled like the other side's member of the same type (string -> anyOf
        [string, integer] is one variant added, not a rewrite)."""
        doc = self.new_doc if is_new else self.base_doc
        if not view.variants:
            node = (view.source, view.pointer)
            other_doc = self.base_doc if is_new else self.new_doc
            for index, member in enumerate(other.variants):
                if self.view(not is_new, member).types == view.types:
                    return {other.variant_label(other_doc, member, index): node}
            return {"|".join(sorted(view.types or ())) or "any": node}
        labels: dict[str, Node] = {}
        for index, node in enumerate(view.variants):
            label = view.variant_label(doc, node, index)
            if label in labels:
                label = f"{label}#{index}"
            labels[label] = node
        return labels

    def _compare_variants(self, old: SchemaView, new: SchemaView,
                          direction: str) -> list[Change]:
        if not old.variants and not new.variants:
            return []
        out: list[Change] = []
        old_labels = self._labels(False, old, new)
        new_labels = self._labels(True, new, old)
        kind = new.variant_kind or old.variant_kind
        for label in sorted(set(old_labels) - set(new_labels)):
            out.append(Change("variant-removed", (), new.pointer,
                              f"{kind} variant {label!r} removed"))
        for label in sorted(set(new_labels) - set(old_labels)):
            out.append(Change("variant-added", (), new_labels[label][1],
                              f"{kind} variant {label!r} added"))
        for label in sorted(set(old_labels) & set(new_labels)):
            for change in self.compare(old_labels[label], new_labels[label], direction):
                out.append(_prefixed(change, f"{kind}[{label}]"))
        return out


def refs_in(value: Any) -> set[str]:
    """Every `$ref` string anywhere inside a JSON value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return found


def changed_components(base_doc: dict[str, Any], new_doc: dict[str, Any]) -> set[str]:
    """Refs (`#/components/...`) whose target differs, directly or through refs it makes."""
    def components(doc: dict[str, Any]) -> dict[str, Any]:
        found = {}
        sections = doc.get("components")
        for section, entries in (sections if isinstance(sections, dict) else {}).items():
            for name, value in (entries if isinstance(entries, dict) else {}).items():
                found[join_pointer("#/components", section, name)] = value
        return found

    old, new = components(base_doc), components(new_doc)
    changed = {ref for ref in set(old) | set(new) if old.get(ref) != new.get(ref)}
    uses = {ref: refs_in(value) for ref, value in new.items()}
    grew = True
    while grew:
        grew = False
        for ref, targets in uses.items():
            if ref not in changed and targets & changed:
                changed.add(ref)
                grew = True
    # refs that are not components (deep pointers) are never trusted as unchanged
    for ref in refs_in(new_doc):
        if ref not in new:
            changed.add(ref)
    return changed


def _first_of_each(changes: list[Change]) -> list[Change]:
    """One change per (kind, pointer, message): a component reached along many paths is
    reported once, at its first path, so dense $ref graphs cannot multiply findings."""
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for change in changes:
        key = (change.kind, change.pointer, change.message)
        if key not in seen:
            seen.add(key)
            unique.append(change)
    return unique




def _bound(constraints: dict[str, Any], key: str, upper: bool) -> float | None:
    """The effective bound, folding 3.0 boolean and 3.1 numeric exclusive bounds in."""
    value = _num(constraints.get(key))
    exclusive_key = "exclusiveMaximum" if upper else "exclusiveMinimum"
    exclusive = constraints.get(exclusive_key) if key in ("maximum", "minimum") else None
    if exclusive is True and value is not None:
        return value - 1e-9 if upper else value + 1e-9
    number = _num(exclusive)
    if number is not None:
        edge = number - 1e-9 if upper else number + 1e-9
        if value is None:
            return edge
        return min(value, edge) if upper else max(value, edge)
    return value


def _show(value: float | None) -> str:
    if value is None:
        return "none"
    rounded = round(value, 6)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _prefixed(change: Change, step: str) -> Change:
    return Change(change.kind, (step, *change.path), change.pointer, change.message)
