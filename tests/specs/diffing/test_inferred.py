"""`diff` on specs inferred from corpus traffic: the spec of half the Flickr cassettes against
the spec of all of them. Growing the traffic may only add (info) or relax (info) things;
shrinking it back removes them again, which breaks clients. Exact findings both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from observe.cli import cli
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus

BODY = "GET /people/getInfo response 200 application/json person."
NEW_FIELDS = ("expire", "mbox_sha1sum", "pro_badge", "timezone")
LISTING = "GET /galleries/getListForPhoto"


def _infer(files: list[str], out: Path) -> str:
    result = CliRunner().invoke(cli, ["specs", "infer", *files, "--plugin", "flickr", "-j", "1",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return str(out)


def _diff(base: str, new: str) -> tuple[int, list[tuple[str, str]]]:
    """Exit code and (rule, location) of every finding, response headers aside: how headers
    are inferred (which ones, their formats) belongs to the inference and still changes, so
    for them only their severity is asserted (below)."""
    result = CliRunner().invoke(cli, ["specs", "diff", base, new, "--format", "json"])
    findings = json.loads(result.stdout)["findings"]
    headers = [f for f in findings if " header " in f["location"]]
    assert all(f["severity"] != "breaking" for f in headers if base.endswith("half.yaml"))
    return result.exit_code, sorted((f["rule"], f["location"]) for f in findings
                                    if f not in headers)


def test_specs_inferred_from_half_and_all_of_the_traffic(tmp_path: Path) -> None:
    folder = corpus_path("flickr_responses", "xml_vcr_cassettes")
    files = sorted(str(p) for p in folder.glob("*.yml"))
    half = _infer(files[:6], tmp_path / "half.yaml")
    everything = _infer(files, tmp_path / "all.yaml")

    code, grown = _diff(half, everything)
    assert code == 0  # nothing breaks when the traffic only shows more
    assert grown == sorted([
        ("path-added", "/people/getPublicPhotos"),
        ("path-added", "/test/null"),
        ("path-added", "/urls/lookupUser"),
        ("request-parameter-became-optional", f"{LISTING} parameter cookie:ccc"),
        ("request-parameter-became-optional", f"{LISTING} parameter query:per_page"),
        ("request-parameter-became-optional", f"{LISTING} parameter query:photo_id"),
        ("response-status-added", f"{LISTING} response 400"),
        ("request-parameter-added-optional", "GET /people/getInfo parameter cookie:ccc"),
        *[("response-property-added", BODY + name) for name in NEW_FIELDS],
        ("response-status-added", "GET /people/getInfo response 401"),
        ("response-status-added", "GET /photos/getInfo response 503"),
    ])

    code, shrunk = _diff(everything, half)
    assert code == 1
    assert shrunk == sorted([
        ("path-removed", "/people/getPublicPhotos"),
        ("path-removed", "/test/null"),
        ("path-removed", "/urls/lookupUser"),
        ("request-parameter-became-required", f"{LISTING} parameter cookie:ccc"),
        ("request-parameter-became-required", f"{LISTING} parameter query:per_page"),
        ("request-parameter-became-required", f"{LISTING} parameter query:photo_id"),
        ("response-status-removed", f"{LISTING} response 400"),
        ("request-parameter-removed", "GET /people/getInfo parameter cookie:ccc"),
        *[("response-property-removed", BODY + name) for name in NEW_FIELDS],
        ("response-status-removed", "GET /people/getInfo response 401"),
        ("response-status-removed", "GET /photos/getInfo response 503"),
    ])
