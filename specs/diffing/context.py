"""What every part of one diff shares: both documents, the rule catalog, the schema comparer,
and the findings gathered so far (`DiffContext`).

Invariant: findings are only added through `add`, which takes the severity from the catalog
(an unknown rule id is a bug and raises KeyError) and names the NEW file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specs.diffing.catalog import Catalog, load_catalog
from specs.diffing.findings import Finding
from specs.diffing.loading import SpecDocument
from specs.diffing.schemadiff import Change, SchemaComparer


@dataclass
class DiffContext:
    """Both documents, the catalog, and the findings gathered so far."""

    base: SpecDocument
    new: SpecDocument
    catalog: Catalog = field(default_factory=load_catalog)
    findings: list[Finding] = field(default_factory=list)
    comparer: SchemaComparer = field(init=False)

    def __post_init__(self) -> None:
        self.comparer = SchemaComparer(self.base.data, self.new.data)

    def add(self, rule: str, location: object, message: str, pointer: str) -> None:
        self.findings.append(Finding(rule, self.catalog.severity(rule), str(location), message,
                                     pointer=pointer, file=self.new.name))

    def add_changes(self, changes: list[Change], direction: str, location: str,
                    skip_kinds: frozenset[str] = frozenset()) -> None:
        for change in changes:
            if change.kind in skip_kinds and not change.path:
                continue
            rule = self.catalog.schema_rule(change.kind, direction)
            where = f"{location} {render_path(change.path)}".rstrip()
            self.add(rule, where, change.message, change.pointer)


def render_path(path: tuple[str, ...]) -> str:
    """('photos', '[]', 'id') -> 'photos[].id'; the root is ''."""
    text = ""
    for step in path:
        text += step if step == "[]" or not text else "." + step
    return text


def mapping_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
