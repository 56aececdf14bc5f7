"""The checker on hand-made exchanges: matching, every check rule, redaction, grouping, and the
live entry point (build_checker), plus `specs check` formats and exit codes."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from observe.exchange import Exchange, Origin, Request, Response
from observe.headers import Headers
from specs.checking.checker import Checker, FindingTally
from specs.checking.command import check_command
from specs.checking.live import build_checker
from specs.checking.matching import OperationIndex
from specs.checking.rules import CHECK_RULES
from specs.diffing.findings import Severity
from specs.diffing.loading import parse_spec_text

PHOTO = {
    "type": "object", "required": ["id", "owner"],
    "properties": {
        "id": {"type": "string"},
        "owner": {"type": "object", "properties": {"nsid": {"type": "string"}}},
        "taken": {"type": "string", "format": "date-time"},
        "views": {"type": "integer", "minimum": 0},
        "title": {"type": "string", "nullable": True},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
        "media": {"oneOf": [{"title": "Photo", "type": "object",
                             "properties": {"url": {"type": "string"}}, "required": ["url"]},
                            {"title": "Video", "type": "object",
                             "properties": {"stream": {"type": "string"}},
                             "required": ["stream"]}]},
    },
}
SPEC = {
    "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://api.example.com/v2"}],
    "paths": {
        "/photos/{photo_id}": {"get": {
            "parameters": [{"name": "photo_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}},
                           {"name": "lang", "in": "query", "required": True,
                            "schema": {"type": "string", "enum": ["en", "fr"]}}],
            "responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Photo"}}}},
                "4XX": {"description": "client error"}}}},
        "/photos/recent": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/photos": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["title"],
                "properties": {"title": {"type": "string"}}}}}},
            "responses": {"201": {"description": "created"}}}},
        "/rest?method=flickr.people.getInfo": {"get": {
            "responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Photo": PHOTO}},
}


def _exchange(method: str, target: str, status: int = 200, body: object = None,
              request_body: object = None, headers: Headers | None = None) -> Exchange:
    response_headers = Headers([("Content-Type", "application/json")])
    request_headers = headers or Headers([("Host", "api.example.com")])
    raw = b"" if request_body is None else json.dumps(request_body).encode()
    if request_body is not None:
        request_headers = request_headers.with_added("Content-Type", "application/json")
    return Exchange(
        request=Request(method=method, target=target, headers=request_headers, body=raw),
        response=Response(status=status, headers=response_headers,
                          body=b"" if body is None else json.dumps(body).encode()),
        origin=Origin("memory", "test.har", 3))


def _checker() -> Checker:
    return Checker(parse_spec_text(yaml.safe_dump(SPEC, sort_keys=False), "api.yaml"))


GOOD = {"id": "1", "owner": {"nsid": "1@N01"}, "taken": "2024-01-01T10:00:00Z", "views": 3,
        "title": None, "tags": ["cat"], "media": {"url": "https://x/1.jpg"}}


def _rules(findings) -> list[tuple[str, str]]:
    return sorted((f.rule, f.location) for f in findings)


def test_conforming_traffic_gives_nothing() -> None:
    checker = _checker()
    assert checker.check(_exchange("GET", "/photos/42?lang=en", body=GOOD)) == []
    assert checker.check(_exchange("GET", "/v2/photos/42?lang=en", body=GOOD)) == []  # server
    assert checker.check(_exchange("GET", "/photos/recent")) == []  # literal beats {photo_id}
    assert checker.check(_exchange("GET", "/photos/42?lang=fr", status=404)) == []  # 4XX


def test_flickr_rpc_templates_match_raw_and_rewritten_calls() -> None:
    index = OperationIndex(SPEC)
    raw = index.match("GET", "/rest", [("method", "flickr.people.getInfo"), ("user_id", "1")])
    rewritten = index.match("GET", "/people/getInfo", [("user_id", "1")])
    assert raw is not None and rewritten is not None
    assert raw.template == rewritten.template == "/rest?method=flickr.people.getInfo"
    assert index.match("GET", "/rest", [("method", "flickr.photos.getInfo")]) is None


def test_each_body_deviation_has_its_rule_and_generic_pointer() -> None:
    body = dict(GOOD, views=-1, taken="yesterday", tags=["ok", "too long"], extra=1,
                media={"stream": 5})
    del body["owner"]
    findings = _checker().check(_exchange("GET", "/photos/42?lang=en", body=body))
    where = "GET /photos/{photo_id} response 200 application/json"
    assert _rules(findings) == sorted([
        ("response-body-invalid", f"{where} /views"),
        ("response-format-mismatch", f"{where} /taken"),
        ("response-body-invalid", f"{where} /tags/-"),
        ("response-property-unknown", f"{where} /extra"),
        ("response-property-missing", f"{where} /owner"),
        ("response-body-invalid", f"{where} /media/stream"),
    ])
    tags = next(f for f in findings if f.location.endswith("/tags/-"))
    assert tags.example.endswith('/tags/1 = "too long"')
    assert tags.file == "api.yaml"
    spec_lines = yaml.safe_dump(SPEC, sort_keys=False).splitlines()
    assert spec_lines[tags.line - 1].strip() == "schema:"  # the response schema it breaks


def test_operations_statuses_and_parameters() -> None:
    checker = _checker()
    findings = [
        *checker.check(_exchange("DELETE", "/photos/42")),
        *checker.check(_exchange("GET", "/albums/7/photos")),
        *checker.check(_exchange("GET", "/photos/abc?lang=de&debug=1", body=GOOD)),
        *checker.check(_exchange("GET", "/photos/42", status=500)),
        *checker.check(_exchange("POST", "/photos", status=201, request_body={"name": "x"})),
    ]
    assert _rules(findings) == sorted([
        ("operation-unknown", "DELETE /photos/{int}"),
        ("operation-unknown", "GET /albums/{int}/photos"),
        ("request-parameter-invalid", "GET /photos/{photo_id} parameter path:photo_id"),
        ("request-parameter-invalid", "GET /photos/{photo_id} parameter query:lang"),
        ("request-parameter-unknown", "GET /photos/{photo_id} parameter query:debug"),
        ("request-parameter-missing", "GET /photos/{photo_id} parameter query:lang"),
        ("status-unknown", "GET /photos/{photo_id} response 500"),
        ("request-property-unknown", "POST /photos request application/json /name"),
        ("request-property-missing", "POST /photos request application/json /title"),
    ])
    unknown_method = next(f for f in findings if f.location == "DELETE /photos/{int}")
    assert "not documented for this path" in unknown_method.message


def test_examples_are_redacted() -> None:
    body = dict(GOOD, api_token="s3cr3t-value", views="many")
    finding_list = _checker().check(_exchange(
        "GET", "/photos/42?lang=en&api_key=abcdef123456", body=body))
    text = "\n".join(f.example for f in finding_list)
    assert "abcdef123456" not in text and "s3cr3t-value" not in text
    assert "REDACTED" in text
    assert any(f.example.endswith('/views = "many"') for f in finding_list)


def test_tally_groups_counts_and_keeps_the_first_example() -> None:
    checker, tally = _checker(), FindingTally()
    for photo_id in (1, 2, 3):
        tally.add(checker.check(_exchange("GET", f"/photos/{photo_id}?lang=en",
                                          body=dict(GOOD, extra=photo_id))))
    (finding,) = tally.findings()
    assert finding.count == 3 and "/photos/1?" in finding.example


def test_live_entry_point_builds_a_checker(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    (entry,) = [e for e in entry_points(group="restscope.checkers") if e.name == "openapi"]
    checker = entry.load()(str(spec))
    assert isinstance(checker, Checker)
    findings = checker.check(_exchange("GET", "/nowhere"))
    assert [(f.rule, f.severity) for f in findings] == [("operation-unknown", Severity.BREAKING)]
    assert build_checker(str(spec)).check(_exchange("GET", "/photos/1?lang=en", body=GOOD)) == []


def test_every_rule_the_checker_emits_is_in_the_table() -> None:
    assert all(rule.severity in Severity for rule in CHECK_RULES.values())
    assert len(CHECK_RULES) == 15


@pytest.fixture
def har(tmp_path: Path) -> Path:
    entries = []
    for target, status, body in (("/photos/1?lang=en", 200, GOOD),
                                 ("/photos/2?lang=en", 200, dict(GOOD, extra=True)),
                                 ("/nowhere", 404, {"error": "no"})):
        entries.append({
            "startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
            "request": {"method": "GET", "url": f"https://api.example.com{target}",
                        "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                        "cookies": [], "headersSize": -1, "bodySize": 0},
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                         "headers": [{"name": "Content-Type", "value": "application/json"}],
                         "cookies": [], "content": {"size": 1, "mimeType": "application/json",
                                                    "text": json.dumps(body)},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}})
    path = tmp_path / "traffic.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                        "entries": entries}}))
    return path


def test_check_command_formats_and_exit_codes(tmp_path: Path, har: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    runner = CliRunner()
    result = runner.invoke(check_command, [str(spec), str(har), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["tool"] == "check"
    assert {(f["rule"], f["count"]) for f in report["findings"]} == {
        ("operation-unknown", 1), ("response-property-unknown", 1)}
    result = runner.invoke(check_command, [str(spec), str(har), "--format", "github",
                                           "--fail-on", "never"])
    assert result.exit_code == 0
    assert result.stdout.startswith("::error file=")
    assert "::warning file=" in result.stdout
    markdown = runner.invoke(check_command, [str(spec), str(har), "--format", "markdown"])
    assert "| Severity | Rule | Location | Finding | Count | Example |" in markdown.stdout


def test_check_command_unusable_spec_exits_2(tmp_path: Path, har: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 2.0\n")
    result = CliRunner().invoke(check_command, [str(bad), str(har)])
    assert result.exit_code == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


def test_a_url_value_loses_its_secret_query_in_the_example() -> None:
    body = dict(GOOD, views="https://api.example.com/x?api_key=abcdef123456&page=2")
    findings = _checker().check(_exchange("GET", "/photos/42?lang=en", body=body))
    (views,) = [f for f in findings if f.location.endswith("/views")]
    assert "abcdef123456" not in views.example and "page=2" in views.example


def test_the_live_tail_reads_our_findings(tmp_path: Path) -> None:
    # observe.live loads the checker through the entry point and reads findings by duck typing
    from observe.live.checking import load_checker

    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    check = load_checker(str(spec))
    (drift,) = check(_exchange("GET", "/nowhere"))
    assert (drift.rule, drift.severity, drift.location) == (
        "operation-unknown", "breaking", "GET /nowhere")
