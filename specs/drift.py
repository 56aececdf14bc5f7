"""The drift report: every location seen with more than one type or format, most suspicious first.

Suspicion: a rare minority variant (3 free-text values among 997 datetimes) is more suspicious
than a 50/50 split, so entries sort by the minority share ascending, then by the total count
descending, then by operation and location (deterministic). Output as text, markdown or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from specs.openapi import Grouped
from specs.schema import Drift, drift_of
from specs.shape import Shape


@dataclass(frozen=True)
class DriftEntry:
    operation: str  # "GET /users/{userId}"
    location: str  # "response 200 application/json /photo/dates/taken"
    drift: Drift


def _walk(shape: Shape, pointer: str) -> Iterator[tuple[str, Shape]]:
    yield pointer or "/", shape
    for key, child in sorted(shape.properties.items()):
        yield from _walk(child, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    if shape.map_values is not None:
        yield from _walk(shape.map_values, f"{pointer}/{{key}}")
    if shape.items is not None:
        yield from _walk(shape.items, f"{pointer}/[]")


def collect_drift(grouped: Grouped) -> list[DriftEntry]:
    entries = []
    for (template, method), op in sorted(grouped.operations.items()):
        name = f"{method} {template}"
        places: list[tuple[str, Shape]] = []
        for mime, shape in sorted(op.bodies.items()):
            places.append((f"request {mime}", shape))
        for where, shapes in (("query", op.query), ("header", op.headers)):
            for param, shape in sorted(shapes.items()):
                places.append((f"{where} {param}", shape))
        for status, response in sorted(op.responses.items()):
            for mime, shape in sorted(response.bodies.items()):
                places.append((f"response {status} {mime}", shape))
        for prefix, root in places:
            for pointer, shape in _walk(root, ""):
                drift = drift_of(shape)
                if drift is not None:
                    entries.append(DriftEntry(name, f"{prefix} {pointer}", drift))
    entries.sort(key=lambda e: (e.drift.minority_share, -e.drift.total, e.operation, e.location))
    return entries


def _variants_text(drift: Drift) -> str:
    ordered = sorted(drift.variants.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} x{count}" for name, count in ordered)


def render_drift(entries: list[DriftEntry], style: str) -> str:
    if style == "json":
        return json.dumps([
            {"operation": e.operation, "location": e.location, "variants": e.drift.variants,
             "examples": e.drift.where, "minority_share": round(e.drift.minority_share, 6)}
            for e in entries
        ], indent=2, sort_keys=True) + "\n"
    if not entries:
        return "No drift: every field was seen with one type and format.\n"
    if style == "markdown":
        lines = ["| # | operation | location | variants | minority | first seen |",
                 "|---|---|---|---|---|---|"]
        for i, e in enumerate(entries, 1):
            seen = "; ".join(f"{k}: {v}" for k, v in e.drift.where.items())
            lines.append(f"| {i} | `{e.operation}` | `{e.location}` | {_variants_text(e.drift)} "
                         f"| {e.drift.minority_share:.1%} | {seen} |")
        return "\n".join(lines) + "\n"
    lines = [f"{len(entries)} drift(s), most suspicious first:"]
    for i, e in enumerate(entries, 1):
        lines.append(f"{i:3}. {e.operation}  {e.location}")
        lines.append(f"     {_variants_text(e.drift)}  (minority {e.drift.minority_share:.1%})")
        for variant, where in e.drift.where.items():
            lines.append(f"     {variant} first seen at {where}")
    return "\n".join(lines) + "\n"
