"""`diff` on real specs: the corpus's Flickr Swagger file (converted to OpenAPI 3.0) edited the
way API changes hurt clients, with the exact findings; self-diffs; cycles; line numbers."""

from __future__ import annotations

import copy
import json
import time

import pytest
import yaml

from specs.diffing.engine import diff_specs
from specs.diffing.findings import Severity
from specs.diffing.loading import SpecDocument, parse_spec_text
from tests.specs.diffing.flickr import flickr_openapi, hurt_clients, reorder_keys

pytestmark = pytest.mark.corpus

OWNER_USERS = [
    ("favorites.getList", "photos[]"), ("galleries.getPhotos", "photos[]"),
    ("groups.pools.getPhotos", "photos[]"), ("people.getPhotos", "photos[]"),
    ("photos.getInfo", "photo"), ("photos.search", "photos[]"),
    ("photosets.getPhotos", "photoset[]"),
]


def _doc(data: dict, name: str = "new.yaml") -> SpecDocument:
    return SpecDocument(copy.deepcopy(data), name)


def test_flickr_edits_give_exactly_the_findings_clients_would_feel() -> None:
    base = flickr_openapi()
    findings = diff_specs(_doc(base, "old.yaml"), _doc(hurt_clients(base)))
    got = sorted((f.rule, f.location) for f in findings)
    method = "GET /rest?method=flickr."
    json_200 = "response 200 application/json"
    expected = sorted([
        ("path-removed", "/rest?method=flickr.photos.getExif"),
        ("request-maximum-decreased", f"{method}favorites.getList parameter query:per_page"),
        ("response-type-changed",
         f"{method}photos.getSizes {json_200} sizes.sizes[].width"),
        ("request-parameter-became-required", f"{method}photos.search parameter query:text"),
        ("request-enum-value-removed", "POST /upload request multipart/form-data is_public"),
        *[("response-property-removed", f"{method}{op} {json_200} {prefix}.owner.realname")
          for op, prefix in OWNER_USERS],
    ])
    assert got == expected
    assert all(f.severity == Severity.BREAKING for f in findings)
    removed = [f for f in findings if f.rule == "request-enum-value-removed"]
    assert removed[0].message == 'enum value "0" removed'


def test_a_spec_diffed_with_itself_or_a_key_reordered_copy_reports_nothing() -> None:
    base = flickr_openapi()
    assert diff_specs(_doc(base), _doc(base)) == []
    assert diff_specs(_doc(base), _doc(reorder_keys(base))) == []
    edited = hurt_clients(base)
    assert diff_specs(_doc(edited), _doc(reorder_keys(edited))) == []


def test_nullable_in_30_and_31_spellings_is_the_same_schema() -> None:
    def spec(version: str, name_schema: dict, extra: dict) -> dict:
        return {"openapi": version, "info": {"title": "t", "version": "1"},
                "paths": {"/p": {"get": {"responses": {"200": {
                    "description": "ok", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"name": name_schema, **extra}}}}}}}}}}

    v30 = spec("3.0.3", {"type": "string", "nullable": True},
               {"n": {"$ref": "#/components/schemas/N"}})
    v30["components"] = {"schemas": {"N": {"type": "integer", "nullable": True}}}
    for name_31 in ({"type": ["string", "null"]},
                    {"oneOf": [{"type": "string"}, {"type": "null"}]},
                    {"anyOf": [{"type": "null"}, {"type": "string"}]}):
        v31 = spec("3.0.3", name_31, {"n": {"$ref": "#/components/schemas/N"}})
        v31["components"] = {"schemas": {"N": {"type": ["integer", "null"]}}}
        assert diff_specs(_doc(v30), _doc(v31)) == []


def _cyclic_spec(width: int, extra_property: bool) -> dict:
    """`width` schemas that all refer to each other (and themselves): a dense $ref cycle."""
    schemas = {}
    for i in range(width):
        props = {f"to{j}": {"$ref": f"#/components/schemas/S{j}"} for j in range(width)}
        props["list"] = {"type": "array", "items": {"$ref": f"#/components/schemas/S{i}"}}
        props["either"] = {"oneOf": [{"$ref": f"#/components/schemas/S{(i + 1) % width}"},
                                     {"allOf": [{"$ref": "#/components/schemas/S0"}]}]}
        schemas[f"S{i}"] = {"type": "object", "properties": props}
    if extra_property:
        schemas[f"S{width - 1}"]["properties"]["added"] = {"type": "string"}
    ref = {"$ref": "#/components/schemas/S0"}
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/p": {"post": {
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": {"200": {"description": "ok",
                                      "content": {"application/json": {"schema": ref}}}}}}},
            "components": {"schemas": schemas}}


def test_cyclic_refs_diff_in_bounded_time() -> None:
    # 30 mutually recursive schemas: a naive walk would never end; memoized pairs finish
    started = time.perf_counter()
    findings = diff_specs(_doc(_cyclic_spec(30, False)), _doc(_cyclic_spec(30, True)))
    elapsed = time.perf_counter() - started
    rules = {f.rule for f in findings}
    assert rules == {"request-property-added-optional", "response-property-added"}
    assert all(f.pointer == "/components/schemas/S29/properties/added" for f in findings)
    assert elapsed < 60  # a guard against hanging, not a speed claim (see bench/diff.py)


def test_line_numbers_point_into_the_new_yaml_file() -> None:
    base = flickr_openapi()
    new_text = yaml.safe_dump(hurt_clients(base), sort_keys=False)
    new = parse_spec_text(new_text, "flickr.yaml")
    findings = diff_specs(SpecDocument(base, "old.json"), new)
    lines = new_text.splitlines()
    width = next(f for f in findings if f.rule == "response-type-changed")
    assert lines[width.line - 1].strip().startswith("width:")
    text_param = next(f for f in findings if f.rule == "request-parameter-became-required")
    assert lines[text_param.line - 1].strip() == "- name: text"
    gone = next(f for f in findings if f.rule == "path-removed")
    assert lines[gone.line - 1].strip() == "paths:"


def test_json_documents_get_lines_too() -> None:
    base = flickr_openapi()
    text = json.dumps(hurt_clients(base), indent=1)
    findings = diff_specs(SpecDocument(base, "old.json"), parse_spec_text(text, "new.json"))
    width = next(f for f in findings if f.rule == "response-type-changed")
    assert '"width"' in text.splitlines()[width.line - 1]
