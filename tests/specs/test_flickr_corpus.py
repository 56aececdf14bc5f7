"""Flickr corpus through the flickr plugin: one operation per method, errors under their
mapped statuses, dates, unix timestamps and NSIDs recognised (real recorded cassettes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from observe.tally import Tally
from specs.openapi import render_openapi
from specs.run import summarize_exchanges
from tests.conftest import corpus_path


def _cassettes() -> list[Path]:
    return sorted(corpus_path("flickr_responses", "xml_vcr_cassettes").glob("*.yml"))


def _methods_in(paths: list[Path]) -> set[str]:
    methods = set()
    for path in paths:
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            query = parse_qs(urlsplit(interaction["request"]["uri"]).query)
            methods.update(query.get("method", []))
    return methods


def _formats(node: Any, found: dict[str, set[str]], name: str = "") -> None:
    if isinstance(node, dict):
        if "format" in node and isinstance(node["format"], str):
            found.setdefault(node["format"], set()).add(name)
        for key, value in node.items():
            _formats(value, found, key if key not in ("properties", "items", "_content") else
                     name)
    elif isinstance(node, list):
        for value in node:
            _formats(value, found, name)


@pytest.fixture(scope="module")
def flickr_spec() -> dict[str, Any]:
    from observe.cli import process_exchanges

    paths = _cassettes()
    kwargs = {"plugins": ("flickr",), "filters": (), "max_body_size": "10MB"}
    exchanges = list(process_exchanges([str(p) for p in paths], kwargs, Tally()))
    doc = render_openapi(summarize_exchanges(exchanges, "flickr"))
    return {"doc": doc, "methods": _methods_in(paths)}


def test_one_operation_per_flickr_method(flickr_spec: dict[str, Any]) -> None:
    doc = flickr_spec["doc"]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert sorted(ids) == sorted(flickr_spec["methods"])
    assert "/services/rest" not in doc["paths"] and "/services/rest/" not in doc["paths"]


def test_errors_are_under_their_mapped_statuses(flickr_spec: dict[str, Any]) -> None:
    paths = flickr_spec["doc"]["paths"]
    assert {"200", "401", "404"} <= set(paths["/people/getInfo"]["get"]["responses"])
    assert set(paths["/photos/getExif"]["get"]["responses"]) == {"403"}
    assert set(paths["/profile/getProfile"]["get"]["responses"]) == {"400"}
    assert paths["/photos/getExif"]["get"]["responses"]["403"]["description"] == "Forbidden"


def test_dates_timestamps_and_nsids_are_recognised(flickr_spec: dict[str, Any]) -> None:
    found: dict[str, set[str]] = {}
    _formats(flickr_spec["doc"]["paths"], found)
    assert "flickr-nsid" in found and "nsid" in found["flickr-nsid"]
    assert "sql-datetime" in found and "firstdatetaken" in found["sql-datetime"]
    assert "unix-time" in found and "firstdate" in found["unix-time"]
    text = json.dumps(flickr_spec["doc"])
    assert "x-restscope-drift" not in text  # the recorded answers are consistent
