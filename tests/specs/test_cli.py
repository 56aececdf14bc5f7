"""`restscope specs summarize | merge | infer` end to end, on JSONL files written here.

The traffic is seeded with the two classic drifts: a `taken` field that is an SQL datetime in
47 responses and free text in 3, and a `views` field that is an integer in 40 and a string in
10. The stories: -j and input order never change a byte; summaries merge in any order; old
summary versions are refused; the drift report counts exactly; --update keeps human edits.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from observe.cli import cli
from observe.exchange import Exchange
from observe.formats.writers import writers
from tests.specs.helpers import json_exchange


def _photo(i: int) -> dict[str, object]:
    return {
        "photo": {
            "id": str(5_000_000 + i),
            "owner": {"nsid": f"{1000 + i}@N0{i % 10}", "username": f"user{i}"},
            "dates": {"taken": "2014-05-06 12:34:56" if i % 17 != 5 else "last summer",
                      "posted": str(1_399_380_000 + i)},
            "views": i if i % 5 else str(i),
        },
        "stat": "ok",
    }


def _exchanges() -> list[Exchange]:
    out = [json_exchange("GET", f"https://api.example.com/v1/photos/{7000 + i}", 200, _photo(i),
                         index=i) for i in range(50)]
    out += [json_exchange("GET", "https://api.example.com/v1/photos/search?q=cats", 200,
                          {"photos": [], "total": 0}, index=60)]
    out += [json_exchange("POST", f"https://api.example.com/v1/photos/{7000 + i}/comments",
                          201, {"id": i, "created": "2024-01-02T03:04:05Z"}, index=70 + i,
                          request_body={"text": f"nice {i}"}) for i in range(4)]
    return out


@pytest.fixture
def traffic(tmp_path: Path) -> list[Path]:
    write = writers()["jsonl"]
    exchanges = _exchanges()
    paths = []
    for part in range(3):
        path = tmp_path / f"part{part}.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            write(exchanges[part::3], handle)
        paths.append(path)
    return paths


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["specs", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_jobs_and_input_order_do_not_change_a_byte(traffic: list[Path], tmp_path: Path) -> None:
    one, two, rev = tmp_path / "one.yaml", tmp_path / "two.yaml", tmp_path / "rev.yaml"
    run("infer", *map(str, traffic), "-j", "1", "-o", str(one))
    run("infer", *map(str, traffic), "-j", "2", "-o", str(two))
    run("infer", *map(str, reversed(traffic)), "-j", "2", "-o", str(rev))
    assert one.read_bytes() == two.read_bytes() == rev.read_bytes()
    doc = yaml.safe_load(one.read_text())
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {"/v1/photos/search", "/v1/photos/{photoId}",
                                 "/v1/photos/{photoId}/comments"}
    assert doc["servers"] == [{"url": "https://api.example.com"}]
    photo = doc["paths"]["/v1/photos/{photoId}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["photo"]["properties"]
    assert photo["owner"]["properties"]["nsid"]["format"] == "flickr-nsid"
    assert photo["dates"]["properties"]["posted"]["format"] == "unix-time"
    assert photo["id"]["format"] == "integer-string"


def test_summaries_merge_in_any_order(traffic: list[Path], tmp_path: Path) -> None:
    parts = []
    for i, path in enumerate(traffic):
        out = tmp_path / f"{i}.summary"
        run("summarize", str(path), "-o", str(out))
        parts.append(out)
    ab, ba = tmp_path / "ab.summary", tmp_path / "ba.summary"
    run("merge", *map(str, parts), "-o", str(ab))
    run("merge", *map(str, reversed(parts)), "-o", str(ba))
    assert ab.read_bytes() == ba.read_bytes()
    whole = tmp_path / "whole.summary"
    run("summarize", *map(str, traffic), "-o", str(whole), "-j", "2")
    assert whole.read_bytes() == ab.read_bytes()
    from_summary, from_traffic = tmp_path / "s.yaml", tmp_path / "t.yaml"
    run("infer", str(ab), "-o", str(from_summary))
    run("infer", *map(str, traffic), "-o", str(from_traffic))
    assert from_summary.read_bytes() == from_traffic.read_bytes()


def test_other_summary_versions_are_refused(traffic: list[Path], tmp_path: Path) -> None:
    path = tmp_path / "x.summary"
    run("summarize", str(traffic[0]), "-o", str(path))
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["specs", "merge", str(path), "-o", str(tmp_path / "y")])
    assert result.exit_code == 2
    assert "version 99 is not supported" in result.output
    assert "Traceback" not in result.output


def test_drift_report_counts_both_classic_cases(traffic: list[Path], tmp_path: Path) -> None:
    output = run("infer", *map(str, traffic), "-o", str(tmp_path / "a.yaml"),
                 "--drift-report", "json")
    report = json.loads(output[output.index("["):output.rindex("]") + 1])
    by_field = {entry["location"].rsplit("/", 1)[-1]: entry for entry in report}
    assert by_field["taken"]["variants"] == {"string:sql-datetime": 47, "string:text": 3}
    assert by_field["views"]["variants"] == {"integer": 40, "string": 10}
    assert [e["location"].rsplit("/", 1)[-1] for e in report][:2] == ["taken", "views"]
    # the free-text values are exchanges 5, 22 and 39 (in part2, part1, part0): the smallest
    # location is reported, whatever the order the files were read in
    assert by_field["taken"]["examples"]["string:text"] == f"{traffic[0].name}#000000039"
    spec = yaml.safe_load((tmp_path / "a.yaml").read_text())
    taken = spec["paths"]["/v1/photos/{photoId}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["photo"]["properties"]["dates"][
        "properties"]["taken"]
    assert taken["x-restscope-drift"]["variants"] == {"string:sql-datetime": 47,
                                                      "string:text": 3}
    assert {"type": "string", "format": "sql-datetime"} in taken["anyOf"]
    text = run("infer", *map(str, traffic), "-o", str(tmp_path / "b.yaml"),
               "--drift-report", "markdown")
    assert "| 1 |" in text and "`GET /v1/photos/{photoId}`" in text


def test_explain_and_openapi_30_json(traffic: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "spec.json"
    text = run("infer", *map(str, traffic), "--openapi", "3.0", "--explain", "-o", str(out))
    assert "/v1/photos/*: parameter (int values" in text
    doc = json.loads(out.read_text())
    assert doc["openapi"] == "3.0.3"
    assert "null" not in json.dumps(doc)


HAND_EDITED = """\
openapi: 3.1.0
info:
  title: Photos (hand-written)
  version: 2.0.0
paths:
  /v1/photos/{photoId}:
    get:
      operationId: getPhoto
      description: Returns one photo. Written by a human; keep me.
      x-owner: team-photos
      parameters:
      - name: photoId
        in: path
        required: true
        schema:
          type: integer
      responses:
        '200':
          description: The photo
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/PhotoEnvelope'
  /v1/legacy:
    get:
      operationId: legacy
      responses:
        '200':
          description: Never seen in traffic
components:
  schemas:
    PhotoEnvelope:
      type: object
      description: Hand-written schema
      properties:
        photo:
          type: object
"""


def test_update_keeps_human_edits_and_adds_operations(traffic: list[Path],
                                                      tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(HAND_EDITED)
    run("infer", *map(str, traffic), "--update", str(spec))
    doc = yaml.safe_load(spec.read_text())
    photo = doc["paths"]["/v1/photos/{photoId}"]["get"]
    assert photo["description"] == "Returns one photo. Written by a human; keep me."
    assert photo["x-owner"] == "team-photos"
    assert photo["operationId"] == "getPhoto"
    assert photo["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PhotoEnvelope"}
    assert doc["components"]["schemas"]["PhotoEnvelope"]["description"] == "Hand-written schema"
    assert doc["info"]["title"] == "Photos (hand-written)"
    assert "/v1/legacy" in doc["paths"]  # not seen, but only --prune removes
    assert "post" in doc["paths"]["/v1/photos/{photoId}/comments"]  # added from traffic
    assert "/v1/photos/search" in doc["paths"]
    run("infer", *map(str, traffic), "--update", str(spec), "--prune")
    pruned = yaml.safe_load(spec.read_text())
    assert "/v1/legacy" not in pruned["paths"]
    assert pruned["paths"]["/v1/photos/{photoId}"]["get"]["x-owner"] == "team-photos"


def test_shards_of_one_file_give_the_same_summary_and_tally(traffic: list[Path],
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    from observe.tally import Tally
    from specs import run as run_module

    monkeypatch.setattr(run_module, "SHARD_MIN_BYTES", 0)
    kwargs = {"plugins": (), "filters": (), "max_body_size": "10MB"}
    one_tally, three_tally = Tally(), Tally()
    one = run_module.summarize_sources([str(traffic[0])], kwargs, 1, one_tally)
    three = run_module.summarize_sources([str(traffic[0])], kwargs, 3, three_tally)
    assert len(run_module.plan_jobs([str(traffic[0])], kwargs, 3)) == 3
    assert one == three
    assert one_tally.to_dict() == three_tally.to_dict()


def test_shards_of_one_har_give_the_same_summary_and_tally(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A HAR reader deals entries out itself (other shards' entries are not built)."""
    from observe.tally import Tally
    from specs import run as run_module

    monkeypatch.setattr(run_module, "SHARD_MIN_BYTES", 0)
    path = tmp_path / "all.har"
    with open(path, "w", encoding="utf-8") as handle:
        writers()["har"](_exchanges(), handle)
    kwargs = {"plugins": (), "filters": (), "max_body_size": "10MB"}
    one_tally, three_tally = Tally(), Tally()
    one = run_module.summarize_sources([str(path)], kwargs, 1, one_tally)
    three = run_module.summarize_sources([str(path)], kwargs, 3, three_tally)
    assert one == three
    assert one_tally.to_dict() == three_tally.to_dict()
    assert one_tally.exchanges == len(_exchanges())


def test_same_traffic_in_another_folder_gives_the_same_bytes(traffic: list[Path],
                                                              tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copies = []
    for path in traffic:
        copy = elsewhere / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    run("infer", *map(str, traffic), "-o", str(a))
    run("infer", *map(str, copies), "-o", str(b))
    assert a.read_bytes() == b.read_bytes()


def test_a_repeated_query_parameter_is_not_required_when_sometimes_absent() -> None:
    from specs.openapi import render_openapi
    from specs.run import summarize_exchanges

    exchanges = [json_exchange("GET", "http://h.example/tags?tag=a&tag=b", 200, {}, index=0),
                 json_exchange("GET", "http://h.example/tags", 200, {}, index=1)]
    doc = render_openapi(summarize_exchanges(exchanges, "m"))
    (param,) = doc["paths"]["/tags"]["get"]["parameters"]
    assert param["name"] == "tag" and "required" not in param


def test_an_input_cut_short_is_read_then_ends_the_command_with_exit_2(
    traffic: list[Path], tmp_path: Path
) -> None:
    """A traffic file that ends inside a record: the spec is written from everything before the
    cut and the summary counts it, then one error line and exit code 2 (as `capture` does);
    --allow-truncated accepts it. `specs check` reports its findings first, likewise."""
    cut = tmp_path / "cut.jsonl"
    cut.write_text(traffic[0].read_text() + '{"request": {"method": "GET", "url": "https://a')
    runner = CliRunner()
    spec, allowed_spec = tmp_path / "cut.yaml", tmp_path / "allowed.yaml"
    result = runner.invoke(cli, ["specs", "infer", str(cut), "-j", "1", "-o", str(spec)])
    assert result.exit_code == 2, result.output
    assert "truncated line" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "restscope: error: input cut short (1 truncated line)")
    allowed = runner.invoke(cli, ["specs", "infer", str(cut), "-j", "1", "-o",
                                  str(allowed_spec), "--allow-truncated"])
    assert allowed.exit_code == 0, allowed.output
    assert spec.read_bytes() == allowed_spec.read_bytes()
    assert "/v1/photos/{photoId}" in yaml.safe_load(spec.read_text())["paths"]
    checked = runner.invoke(cli, ["specs", "check", str(spec), str(cut)])
    assert checked.exit_code == 2
    assert checked.stderr.strip().splitlines()[-1].startswith("restscope: error: input cut short")
    assert runner.invoke(cli, ["specs", "check", str(spec), str(cut),
                               "--allow-truncated"]).exit_code == 0
