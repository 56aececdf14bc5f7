"""The rule table: every rule id `specs diff` can emit, its severity and its before/after example.

The table is data (`rules.yaml` beside this module). The documentation in specs/rules/README.md
is generated from it (`python -m specs.diffing.docs`), and the tests build one spec pair from
each example, so the docs, the tests and the code cannot disagree.

Two sections:
- `rules`: structural rules (paths, operations, parameters, bodies, responses, security), each
  with `before`/`after` fragments of a spec (`openapi` and `info` are filled in).
- `schema_rules`: schema changes judged by direction. Each entry has a `kind`, the rule id and
  severity for a request (`request`) and for a response (`response`), and `before`/`after`
  schemas; the example is embedded as the JSON request body of `POST /items` and as the JSON
  200 response of `GET /items`.

Invariant: rule ids are unique and stable; severities are breaking, warning or info.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from specs.diffing.findings import Severity


@dataclass(frozen=True)
class Rule:
    """One rule: its id, severity, one-line summary, and where its example comes from."""

    id: str
    severity: Severity
    summary: str
    kind: str = ""  # schema kind, for schema rules
    direction: str = ""  # request/response for schema rules, "" for structural ones


@dataclass(frozen=True)
class Example:
    """A before/after pair that must produce exactly `rule` (documented and tested)."""

    rule: str
    before: dict[str, Any]
    after: dict[str, Any]
    before_text: str
    after_text: str


@dataclass(frozen=True)
class Catalog:
    rules: dict[str, Rule]
    schema_ids: dict[tuple[str, str], str]
    examples: tuple[Example, ...]
    raw: dict[str, Any]

    def severity(self, rule_id: str) -> Severity:
        return self.rules[rule_id].severity

    def schema_rule(self, kind: str, direction: str) -> str:
        return self.schema_ids[(kind, direction)]


def _spec(fragment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "example", "version": "1"}}
    spec.update(fragment)
    spec.setdefault("paths", {})
    return spec


def _json_body(schema: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def embed_schema(schema: Any, direction: str) -> dict[str, Any]:
    """A whole spec whose request body (or 200 response) is `schema`."""
    if direction == "request":
        operation = {"requestBody": {"required": True, **_json_body(schema)},
                     "responses": {"204": {"description": "done"}}}
        return _spec({"paths": {"/items": {"post": operation}}})
    operation = {"responses": {"200": {"description": "ok", **_json_body(schema)}}}
    return _spec({"paths": {"/items": {"get": operation}}})


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_text(text: str) -> Any:
    return yaml.load(text, Loader=_Loader) if text.strip() else {}


@functools.cache
def load_catalog() -> Catalog:
    text = resources.files("specs.diffing").joinpath("rules.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=_Loader)
    rules: dict[str, Rule] = {}
    schema_ids: dict[tuple[str, str], str] = {}
    examples: list[Example] = []

    def add(rule: Rule) -> None:
        known = rules.get(rule.id)
        if known is not None and known.severity != rule.severity:
            raise ValueError(f"rule {rule.id} has two severities")
        rules.setdefault(rule.id, rule)

    for entry in raw["rules"]:
        rule = Rule(entry["id"], Severity.parse(entry["severity"]), entry["summary"])
        add(rule)
        examples.append(Example(rule.id, _spec(_load_text(entry["before"]) or {}),
                                _spec(_load_text(entry["after"]) or {}),
                                entry["before"], entry["after"]))
    for entry in raw["schema_rules"]:
        kind = entry["kind"]
        for direction in ("request", "response"):
            side = entry[direction]
            rule = Rule(side["id"], Severity.parse(side["severity"]),
                        side.get("summary", entry["summary"]), kind, direction)
            add(rule)
            schema_ids[(kind, direction)] = rule.id
            before, after = _load_text(entry["before"]), _load_text(entry["after"])
            examples.append(Example(rule.id, embed_schema(before, direction),
                                    embed_schema(after, direction),
                                    entry["before"], entry["after"]))
    return Catalog(rules, schema_ids, tuple(examples), raw)
