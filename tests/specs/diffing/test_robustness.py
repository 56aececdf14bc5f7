"""Property tests: any document shaped roughly like OpenAPI diffs without crashing, a document
diffed with itself (or a key-reordered copy) reports nothing, and checking odd values against
odd schemas never raises."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Request, Response
from observe.headers import Headers
from specs.checking.checker import Checker
from specs.diffing.engine import diff_specs
from specs.diffing.loading import SpecDocument
from tests.specs.diffing.flickr import reorder_keys

KEYS = st.sampled_from([
    "type", "properties", "items", "required", "enum", "oneOf", "anyOf", "allOf", "$ref",
    "nullable", "format", "maxLength", "minimum", "additionalProperties", "parameters",
    "responses", "content", "schema", "name", "in", "get", "post", "requestBody",
    "application/json", "200", "x-restscope-drift", "security", "a", "b",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(
        ["string", "integer", "object", "array", "null", "query", "path", "#/components/x",
         "#/components/schemas/S", "#/paths", "date-time"]))
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=25)


def _spec(junk: object, schema: object) -> dict:
    """`junk` as a path item, and again inside a well-formed operation; `schema` as the
    request and response schemas and as the component every `$ref` above points to."""
    body = {"content": {"application/json": {"schema": schema}}}
    operation = {"parameters": [junk, {"name": "id", "in": "path", "schema": schema}],
                 "requestBody": body, "responses": {"200": body, "default": junk},
                 "security": junk}
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/p/{id}": {"get": operation, "put": junk},
                      "/q": junk if isinstance(junk, dict) else {}},
            "servers": junk, "components": {"schemas": {"S": schema}}}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH, JSONISH, JSONISH, JSONISH)
def test_any_shape_diffs_without_crashing(p1: object, s1: object, p2: object,
                                          s2: object) -> None:
    old, new = _spec(p1, s1), _spec(p2, s2)
    findings = diff_specs(SpecDocument(copy.deepcopy(old), "a"), SpecDocument(new, "b"))
    assert all(f.rule and f.message for f in findings)
    assert diff_specs(SpecDocument(copy.deepcopy(old), "a"), SpecDocument(old, "b")) == []
    assert diff_specs(SpecDocument(copy.deepcopy(old), "a"),
                      SpecDocument(reorder_keys(old), "b")) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH, JSONISH, st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "type"]), inner,
                                                 max_size=3)), max_leaves=15))
def test_checking_any_value_against_any_schema_never_raises(schema: object, s: object,
                                                           value: object) -> None:
    import json

    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/p": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": schema}}}}}}},
            "components": {"schemas": {"S": s}}}
    checker = Checker(SpecDocument(spec, "spec"))
    exchange = Exchange(
        request=Request(method="GET", target="/p"),
        response=Response(status=200, headers=Headers([("Content-Type", "application/json")]),
                          body=json.dumps(value).encode()))
    for finding in checker.check(exchange):
        assert finding.rule and finding.location


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=8), st.sampled_from(["010", "0x1F", "1_000", "yes", "off", "~",
                                                    "2024-01-01", "1e3", ".inf", "12:30"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=20)


@settings(max_examples=120, deadline=None)
@given(YAML_VALUES, st.sampled_from([None, True, False]))
def test_the_fast_yaml_reader_gives_what_yaml_safe_load_gives(value: object,
                                                               flow: bool | None) -> None:
    import yaml

    from specs.diffing.loading import _load_with_nodes

    text = yaml.safe_dump({"v": value, "literal": "010"}, default_flow_style=flow)
    assert _load_with_nodes(text)[0] == yaml.safe_load(text)
    raw = "raw: [010, 0x1F, 1_000, yes, off, ~, 2024-01-01, 1.5e+3, .inf, 12:30, -0, +7]\n"
    assert _load_with_nodes(raw)[0] == yaml.safe_load(raw)


def test_a_recursive_yaml_alias_is_unusable_input(tmp_path) -> None:
    from click.testing import CliRunner

    from specs.diffing.command import diff_command

    spec = tmp_path / "loop.yaml"
    spec.write_text("openapi: 3.1.0\npaths: {}\nx-loop: &a [1, *a]\n")
    result = CliRunner().invoke(diff_command, [str(spec), str(spec)])
    assert result.exit_code == 2 and "refers to itself" in result.stderr


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(max_size=4), JSONISH, max_size=4), st.sampled_from([None, 1, 2]))
def test_json_lines_agree_with_the_yaml_node_lines(value: dict, indent: int | None) -> None:
    import json

    from specs.diffing.findings import join_pointer
    from specs.diffing.loading import SpecDocument, json_line_map

    text = json.dumps(value, indent=indent)
    as_yaml = SpecDocument(value, "x.yaml", text)  # line_of through yaml's composed nodes
    as_yaml.text = "\n" + text  # not starting with "{": forces the node path ...
    lines = json_line_map(text)
    for pointer, line in lines.items():
        assert as_yaml.line_of(pointer) == line + 1  # ... one line lower
    assert set(lines) >= {join_pointer("", key) for key in value}
