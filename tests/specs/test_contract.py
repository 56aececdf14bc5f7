"""The contract: every body observed validates against the schema inferred for it.

Checked on random JSON documents (hypothesis) and on every source in the shared corpus, read
through the same pipeline the CLI uses, with the Flickr plugin on for Flickr traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from observe.tally import Tally
from specs.document import validate_document
from specs.openapi import group_operations, render_openapi
from specs.openapi30 import downgrade_to_30
from specs.paths import path_key
from specs.schema import shape_schema
from specs.shape import summarize
from specs.summary import ApiSummary, body_value
from tests.conftest import CORPUS, corpus_path
from tests.specs.test_shape_laws import values


def resolve_refs(node: Any, doc: dict[str, Any]) -> Any:
    """Inline `#/components/...` references so a schema can be validated on its own."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve_refs(target, doc)
        return {k: resolve_refs(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_refs(v, doc) for v in node]
    return node


@settings(max_examples=80, deadline=None)
@given(st.lists(values, min_size=1, max_size=10))
def test_every_value_validates_against_its_inferred_schema(batch: list[Any]) -> None:
    schema = shape_schema(summarize(batch, "f"))
    validator = Draft202012Validator(schema)
    for value in batch:
        errors = list(validator.iter_errors(value))
        assert not errors, (value, schema, errors[0].message)


def _corpus_files() -> list[Path]:
    folders = ["har", "pcap", "mitmproxy_flows", "vcr_cassettes",
               "flickr_responses/xml_vcr_cassettes"]
    files = []
    for folder in folders:
        base = CORPUS / folder
        if base.is_dir():
            files.extend(sorted(p for p in base.iterdir() if p.is_file()))
    return files


CORPUS_FILES = _corpus_files()


@pytest.mark.parametrize("path", CORPUS_FILES or [None],
                         ids=lambda p: p.name if p else "corpus-absent")
def test_corpus_source_gives_valid_spec_and_bodies_validate(path: Path | None) -> None:
    if path is None:
        corpus_path("har")  # skips with the reason, or fails when CI=true
        return
    from observe.cli import process_exchanges

    plugins = ("flickr",) if "flickr" in path.parent.name else ()
    kwargs = {"plugins": plugins, "filters": (), "max_body_size": "10MB"}
    exchanges = list(process_exchanges([str(path)], kwargs, Tally()))
    summary = ApiSummary()
    for i, exchange in enumerate(exchanges):
        summary.add(exchange, f"c#{i:09d}")
    grouped = group_operations(summary)
    doc = render_openapi(summary, grouped=grouped)
    validate_document(doc)
    validate_document(downgrade_to_30(doc))  # --openapi 3.0 is valid too
    checked = 0
    for exchange in exchanges:
        request = exchange.request
        key = request.path if exchange.meta.get("path_fixed") else path_key(request.path)[0]
        template = grouped.templating.templates[key].path
        operation = doc["paths"][template][request.method.lower()]
        sides = [(request, operation.get("requestBody", {}))]
        if exchange.response is not None:
            sides.append((exchange.response,
                          operation["responses"][str(exchange.response.status)]))
        for message, spec_part in sides:
            mime, value, decodable = body_value(message)
            if value is None or not decodable:
                continue
            schema = resolve_refs(spec_part["content"][mime]["schema"], doc)
            errors = list(Draft202012Validator(schema).iter_errors(value))
            assert not errors, (request.url, errors[0].message)
            checked += 1
    assert checked >= 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["/a/1", "/a/22", "/b", "/c/x1y2z3w4q5"]), values,
                          st.sampled_from([200, 404])), min_size=1, max_size=8),
       st.dictionaries(st.sampled_from(["p", "q", "r"]), values, min_size=3, max_size=3))
def test_whole_documents_validate_every_body(calls: list[tuple[str, Any, int]],
                                             shared: dict[str, Any]) -> None:
    from tests.specs.helpers import json_exchange

    exchanges = [json_exchange("GET", f"http://h.example{path}", status,
                               {"body": body, "shared": shared}, index=i)
                 for i, (path, body, status) in enumerate(calls)]
    summary = ApiSummary()
    for i, exchange in enumerate(exchanges):
        summary.add(exchange, f"m#{i:09d}")
    grouped = group_operations(summary)
    doc = render_openapi(summary, grouped=grouped)
    validate_document(doc)
    for exchange in exchanges:
        assert exchange.response is not None
        template = grouped.templating.templates[path_key(exchange.request.path)[0]].path
        response = doc["paths"][template]["get"]["responses"][str(exchange.response.status)]
        schema = resolve_refs(response["content"]["application/json"]["schema"], doc)
        errors = list(Draft202012Validator(schema).iter_errors(exchange.response.json()))
        assert not errors, errors[0].message
