"""Every diff rule, tested from the before/after example that documents it.

The examples live in specs/diffing/rules.yaml; specs/rules/README.md is generated from the same
table, so a rule cannot be documented one way and behave another.
"""

from __future__ import annotations

import copy

import pytest

from specs.diffing.catalog import load_catalog
from specs.diffing.docs import PAGE, render_rules_page
from specs.diffing.engine import diff_specs
from specs.diffing.findings import Severity
from specs.diffing.loading import SpecDocument

CATALOG = load_catalog()


def _diff(before: dict, after: dict) -> list:
    return diff_specs(SpecDocument(copy.deepcopy(before), "before.yaml"),
                      SpecDocument(copy.deepcopy(after), "after.yaml"))


@pytest.mark.parametrize(
    "example", CATALOG.examples,
    ids=[f"{e.rule}-{i}" for i, e in enumerate(CATALOG.examples)])
def test_each_documented_example_gives_exactly_its_rule(example) -> None:
    findings = _diff(example.before, example.after)
    assert [f.rule for f in findings] == [example.rule]
    assert findings[0].severity == CATALOG.severity(example.rule)
    assert findings[0].message


@pytest.mark.parametrize(
    "example", CATALOG.examples,
    ids=[f"{e.rule}-{i}" for i, e in enumerate(CATALOG.examples)])
def test_each_example_side_diffed_with_itself_is_silent(example) -> None:
    assert _diff(example.before, example.before) == []
    assert _diff(example.after, example.after) == []


def test_at_least_sixty_rules_each_with_an_example() -> None:
    assert len(CATALOG.rules) >= 60
    assert {e.rule for e in CATALOG.examples} == set(CATALOG.rules)
    assert {r.severity for r in CATALOG.rules.values()} == set(Severity)


def test_schema_rules_are_direction_aware() -> None:
    # the same change is judged differently for the client that sends and the one that reads
    assert CATALOG.severity(CATALOG.schema_rule("property-removed", "request")) == \
        Severity.WARNING
    assert CATALOG.severity(CATALOG.schema_rule("property-removed", "response")) == \
        Severity.BREAKING
    assert CATALOG.severity(CATALOG.schema_rule("type-widened", "request")) == Severity.INFO
    assert CATALOG.severity(CATALOG.schema_rule("type-widened", "response")) == Severity.BREAKING
    assert CATALOG.severity(CATALOG.schema_rule("enum-value-added", "response")) == \
        Severity.BREAKING


def test_rules_page_is_generated_from_the_table() -> None:
    page = render_rules_page()
    assert PAGE.read_text("utf-8") == page, "run: python -m specs.diffing.docs"
    for rule_id in CATALOG.rules:
        assert f"`{rule_id}`" in page
