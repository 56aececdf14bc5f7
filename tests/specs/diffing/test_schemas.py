"""Schema comparison cases beyond the one-rule examples: equivalent spellings compare equal,
and mixed shapes (a plain schema becoming a oneOf/anyOf, as drift does) are reported once."""

from __future__ import annotations

import pytest

from specs.diffing.catalog import embed_schema
from specs.diffing.engine import diff_specs
from specs.diffing.loading import SpecDocument


def _rules(before: dict, after: dict, direction: str) -> list[str]:
    return sorted(f.rule for f in diff_specs(SpecDocument(embed_schema(before, direction), "b"),
                                             SpecDocument(embed_schema(after, direction), "a")))


OBJECT = {"type": "object", "required": ["id"],
          "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}


@pytest.mark.parametrize("direction", ["request", "response"])
@pytest.mark.parametrize("after", [
    # allOf split of the same object
    {"allOf": [{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
               {"properties": {"n": {"type": "integer"}}}]},
    # type omitted where properties say object
    {"required": ["id"], "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}},
    # the same under a different key order
    {"properties": {"n": {"type": "integer"}, "id": {"type": "string"}}, "required": ["id"],
     "type": "object"},
])
def test_equivalent_spellings_report_nothing(after: dict, direction: str) -> None:
    assert _rules(OBJECT, after, direction) == []


@pytest.mark.parametrize("direction", ["request", "response"])
def test_exclusive_bounds_in_30_and_31_spelling_are_the_same(direction: str) -> None:
    v30 = {"type": "number", "maximum": 10, "exclusiveMaximum": True}
    v31 = {"type": "number", "exclusiveMaximum": 10}
    assert _rules(v30, v31, direction) == []


def test_drift_appearing_is_one_variant_added_plus_the_drift_note() -> None:
    before = {"type": "object", "properties": {"id": {"type": "string"}}}
    after = {"type": "object", "properties": {"id": {
        "anyOf": [{"type": "string"}, {"type": "integer"}],
        "x-restscope-drift": {"variants": {"string": 97, "integer": 3}}}}}
    assert _rules(before, after, "response") == ["drift-changed", "response-variant-added"]
    assert _rules(after, before, "response") == ["drift-changed", "response-variant-removed"]
    assert _rules(before, after, "request") == ["drift-changed", "request-variant-added"]


def test_a_plain_object_becoming_one_of_its_oneof_members() -> None:
    before = {"type": "object", "properties": {"url": {"type": "string"}}}
    after = {"oneOf": [{"title": "Photo", "type": "object",
                        "properties": {"url": {"type": "string"}}},
                       {"title": "Video", "type": "object",
                        "properties": {"stream": {"type": "string"}}}]}
    assert _rules(before, after, "response") == ["response-variant-added"]


def test_read_only_properties_do_not_count_in_requests() -> None:
    before = {"type": "object", "properties": {"name": {"type": "string"}}}
    after = {"type": "object", "required": ["id"], "properties": {
        "name": {"type": "string"}, "id": {"type": "string", "readOnly": True}}}
    assert _rules(before, after, "request") == []
    assert _rules(before, after, "response") == ["response-property-added"]


def test_nested_arrays_and_additional_properties_are_followed() -> None:
    before = {"type": "object", "additionalProperties": {
        "type": "array", "items": {"type": "object", "properties": {"v": {"type": "integer"}}}}}
    after = {"type": "object", "additionalProperties": {
        "type": "array", "items": {"type": "object", "properties": {"v": {"type": "number"}}}}}
    findings = diff_specs(SpecDocument(embed_schema(before, "response"), "b"),
                          SpecDocument(embed_schema(after, "response"), "a"))
    assert [(f.rule, f.location) for f in findings] == [
        ("response-type-widened", "GET /items response 200 application/json {}[].v")]
