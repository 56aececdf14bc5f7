"""`restscope tail --once` and `--follow --json` on capture logs in the real JSONL format."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from observe.cli import cli
from observe.formats.jsonl import loads_exchange
from observe.live.capture_log import CaptureLogWriter
from tests.observe.live.helpers import make_exchange

T0 = 1_700_000_000.0


def _write_log(path: Path) -> None:
    with CaptureLogWriter(path, max_bytes=2000, backups=50) as writer:
        for i in range(30):
            writer.write(make_exchange("GET", f"/users/{i}", 200, T0 + i, 0.020))
        for i in range(6):
            writer.write(make_exchange("POST", "/orders", 500, T0 + 30 + i, 0.100))
        writer.write(make_exchange(operation_id="flickr.photos.getInfo", start=T0 + 40))


def test_the_capture_log_is_the_jsonl_format(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    exchange = make_exchange()
    with CaptureLogWriter(path) as writer:
        writer.write(exchange)
    (line,) = path.read_text().splitlines()
    assert loads_exchange(line) == exchange


def test_tail_once_json_counts_every_operation_across_rotated_files(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _write_log(path)
    assert (tmp_path / "log.1.jsonl").exists()  # rotation happened
    result = CliRunner().invoke(cli, ["tail", str(path), "--once", "--json"])
    assert result.exit_code == 0, result.output
    snapshot = json.loads(result.output)
    rows = {row["operation"]: row for row in snapshot["operations"]}
    assert snapshot["exchanges"] == 37
    assert rows["GET /users/{id}"]["count"] == 30
    assert rows["GET /users/{id}"]["errors"] == 0
    assert abs(rows["GET /users/{id}"]["p50_ms"] - 20.0) < 0.3
    assert rows["POST /orders"]["error_ratio"] == 1.0
    assert rows["flickr.photos.getInfo"]["count"] == 1
    assert snapshot["operations"][0]["operation"] == "GET /users/{id}"


def test_tail_once_table_sorts_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _write_log(path)
    result = CliRunner().invoke(cli, ["tail", str(path), "--once", "--filter", "orders|flickr",
                                      "--sort", "p99"])
    assert result.exit_code == 0, result.output
    assert "POST /orders" in result.output and "flickr.photos.getInfo" in result.output
    assert "/users/" not in result.output
    assert result.output.index("POST /orders") < result.output.index("flickr.photos.getInfo")


def test_tail_follow_json_prints_new_operations_bursts_and_a_final_summary(
        tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _write_log(path)
    result = CliRunner().invoke(cli, ["tail", str(path), "--follow", "--json",
                                      "--duration", "0"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    kinds = [(e["event"], e.get("operation")) for e in events]
    assert kinds[:2] == [("new_operation", "GET /users/{id}"), ("new_operation", "POST /orders")]
    assert ("error_burst", "POST /orders") in kinds
    assert ("new_operation", "flickr.photos.getInfo") in kinds
    assert events[-1]["event"] == "summary" and events[-1]["exchanges"] == 37


def test_tail_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tail", str(tmp_path / "missing.jsonl"), "--once"])
    assert result.exit_code == 2
    assert "no such capture log" in result.output
    (tmp_path / "log.jsonl").write_text("")
    result = CliRunner().invoke(cli, ["tail", str(tmp_path / "log.jsonl"), "--once",
                                      "--filter", "("])
    assert result.exit_code == 2 and "not a valid pattern" in result.output


def test_tail_follow_prints_one_plain_line_per_event_for_grep(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _write_log(path)
    result = CliRunner().invoke(cli, ["tail", str(path), "--follow", "--duration", "0",
                                      "--filter", "orders"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2023-11-14T22:13:50.000Z NEW-OPERATION POST /orders first seen (status 500)"
    assert any(" ERROR-BURST POST /orders 5 errors in 5 requests over 10s" in li for li in lines)
    assert not any("/users/" in line for line in lines)
    assert lines[-1].split(" ", 2)[1] == "SUMMARY"
