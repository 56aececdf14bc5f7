"""`check` on corpus traffic against a spec inferred (by `restscope specs infer`) from the other
half of it reports exactly what only the checked half has.

Traffic: the twelve Flickr XML cassettes of the corpus (flickr-photos-api), read with the flickr
plugin (RPC calls become `/photos/getInfo`, XML answers become JSON). Half A (the first six
files by name) is inferred into a spec; half B is checked against it. The expectation is
computed from the exchanges themselves, independently of the checker: operations, statuses,
query parameters and response properties that B has and A never showed, and parameters A
always sent that B leaves out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from observe.cli import cli, process_exchanges
from observe.errors import BodyError
from observe.tally import Tally
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus

READ = {"plugins": ("flickr",), "plugin_config": None, "no_redact": False, "strict": False,
        "filters": (), "max_body_size": "64MB"}


def _halves() -> tuple[list[str], list[str]]:
    folder = corpus_path("flickr_responses", "xml_vcr_cassettes")
    files = sorted(str(p) for p in folder.glob("*.yml"))
    assert len(files) == 12
    return files[:6], files[6:]


def _keys(value: Any, pointer: str, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{pointer}/{key}"
            out.add(child)
            _keys(item, child, out)
    elif isinstance(value, list):
        for item in value:
            _keys(item, f"{pointer}/-", out)


class Shapes:
    """What a half of the traffic shows, per operation."""

    def __init__(self, files: list[str]) -> None:
        self.operations: set[str] = set()
        self.statuses: dict[str, set[int]] = defaultdict(set)
        self.params: dict[str, list[set[str]]] = defaultdict(list)
        self.fields: dict[tuple[str, int], set[str]] = defaultdict(set)
        for exchange in process_exchanges(files, dict(READ), Tally()):
            op = f"{exchange.request.method} {exchange.request.path}"
            self.operations.add(op)
            self.params[op].append({name for name, _ in exchange.request.query})
            response = exchange.response
            assert response is not None
            self.statuses[op].add(response.status)
            try:
                body = response.json()
            except BodyError:
                continue
            _keys(body, "", self.fields[(op, response.status)])


def _expected(a: Shapes, b: Shapes) -> set[tuple[str, str]]:
    expected = {("operation-unknown", op) for op in b.operations - a.operations}
    for op in b.operations & a.operations:
        for status in b.statuses[op] - a.statuses[op]:
            expected.add(("status-unknown", f"{op} response {status}"))
        always = set.intersection(*a.params[op])
        seen_a = set.union(*a.params[op])
        for sent in b.params[op]:
            for name in always - sent:
                expected.add(("request-parameter-missing", f"{op} parameter query:{name}"))
            for name in sent - seen_a:
                expected.add(("request-parameter-unknown", f"{op} parameter query:{name}"))
        for status in b.statuses[op] & a.statuses[op]:
            new = b.fields[(op, status)] - a.fields[(op, status)]
            for pointer in new:
                if pointer.rsplit("/", 1)[0] not in new:  # only the top of a new subtree
                    expected.add(("response-property-unknown",
                                  f"{op} response {status} application/json {pointer}"))
    return expected


def test_check_reports_exactly_what_only_the_other_half_has(tmp_path: Path) -> None:
    half_a, half_b = _halves()
    spec = tmp_path / "half-a.yaml"
    runner = CliRunner()
    inferred = runner.invoke(cli, ["specs", "infer", *half_a, "--plugin", "flickr", "-j", "1",
                                   "-o", str(spec)])
    assert inferred.exit_code == 0, inferred.output
    checked = runner.invoke(cli, ["specs", "check", str(spec), *half_b, "--plugin", "flickr",
                                  "--format", "json"])
    assert checked.exit_code == 1, checked.output
    report = json.loads(checked.stdout)
    got = {(f["rule"], f["location"]) for f in report["findings"]}
    expected = _expected(Shapes(half_a), Shapes(half_b))
    assert got == expected
    # the shape of the answer, spelled out: 3 new operations, 3 new statuses, 4 new fields
    rules = sorted(rule for rule, _ in got)
    assert rules.count("operation-unknown") == 3
    assert rules.count("status-unknown") == 3
    assert rules.count("response-property-unknown") == 4
    assert ("operation-unknown", "GET /people/getPublicPhotos") in got
    # every finding carries one redacted example exchange and a count
    retried = next(f for f in report["findings"] if f["location"].endswith("response 503"))
    assert retried["count"] == 11 and "test_a_persistent_error_201" in retried["example"]


def test_checking_the_half_a_spec_was_inferred_from_reports_nothing(tmp_path: Path) -> None:
    half_a, _ = _halves()
    spec = tmp_path / "half-a.yaml"
    runner = CliRunner()
    assert runner.invoke(cli, ["specs", "infer", *half_a, "--plugin", "flickr", "-j", "1",
                               "-o", str(spec)]).exit_code == 0
    checked = runner.invoke(cli, ["specs", "check", str(spec), *half_a, "--plugin", "flickr",
                                  "--format", "json", "--fail-on", "info"])
    assert json.loads(checked.stdout)["findings"] == []
    assert checked.exit_code == 0
