"""`restscope tail` on a capture log while a running `restscope proxy` writes (and rotates) it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import httpx
import pytest

from observe.live.checking import CHECKER_GROUP
from tests.observe.live.servers import LiveProcess, Upstream

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]

SPEC = """\
openapi: 3.1.0
info: {title: users, version: "1"}
paths:
  /users/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a user
          content:
            application/json:
              schema:
                type: object
                required: [id, name]
                properties:
                  id: {type: integer}
                  name: {type: string}
                  echo: {type: ["null", string]}
"""


def _restscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "observe", *args]


def _real_checker_available() -> str | None:
    found = [ep for ep in entry_points(group=CHECKER_GROUP) if ep.name == "openapi"]
    if not found:
        return "no restscope.checkers:openapi entry point installed"
    try:
        found[0].load()
    except ImportError as exc:
        return f"the specs live checker does not load yet ({exc})"
    return None


def _events(process: LiveProcess) -> list[dict]:
    return [json.loads(line) for line in process.output if line.startswith("{")]


def _wait_events(process: LiveProcess, predicate, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(process)
        if predicate(events):
            return events
        time.sleep(0.05)
    raise AssertionError("events not seen:\n" + "".join(process.output))


@pytest.fixture
def proxy(tmp_path: Path, upstream: Upstream):
    log = tmp_path / "capture.jsonl"
    process = LiveProcess(_restscope(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream.url, "--log", str(log),
        "--log-max", "4k", "--log-backups", "50", "--confdir", str(tmp_path / "conf")))
    port = process.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    yield log, f"http://127.0.0.1:{port}"
    process.stop()


def test_tail_follows_a_log_a_running_proxy_writes_and_rotates(proxy) -> None:
    log, base = proxy
    with httpx.Client(trust_env=False, timeout=10) as client:
        client.get(f"{base}/users/1")  # the log exists once something was written
        deadline = time.monotonic() + 10
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        tail = LiveProcess(_restscope("tail", str(log), "--follow", "--json", "--duration", "20",
                                      "--summary-every", "0.2"))
        try:
            _wait_events(tail, lambda ev: any(e["event"] == "new_operation" for e in ev))
            for i in range(2, 30):  # enough to rotate the 4k log several times
                client.get(f"{base}/users/{i}")
            for _ in range(6):
                client.get(f"{base}/fail")
            events = _wait_events(tail, lambda ev: any(
                e["event"] == "summary" and e["exchanges"] == 35 for e in ev))
        finally:
            tail.stop()
        assert (log.parent / "capture.1.jsonl").exists()
        once = subprocess.run(_restscope("tail", str(log), "--once", "--json"),
                              capture_output=True, text=True, timeout=30)
    new = [e["operation"] for e in events if e["event"] == "new_operation"]
    assert new == ["GET /users/{id}", "GET /fail"]
    burst = next(e for e in events if e["event"] == "error_burst")
    assert burst["operation"] == "GET /fail" and burst["errors"] >= 5
    summary = next(e for e in events if e["event"] == "summary" and e["exchanges"] == 35)
    assert summary["operations"] == 2 and summary["errors"] == 6
    snapshot = json.loads(once.stdout)
    rows = {row["operation"]: row for row in snapshot["operations"]}
    assert rows["GET /users/{id}"]["count"] == 29
    assert rows["GET /fail"]["count"] == 6 and rows["GET /fail"]["error_ratio"] == 1.0


@pytest.mark.skipif(_real_checker_available() is not None,
                    reason=str(_real_checker_available()))
def test_tail_with_a_spec_the_traffic_breaks_reports_drift(proxy, tmp_path: Path) -> None:
    log, base = proxy
    spec = tmp_path / "api.yaml"
    spec.write_text(SPEC)
    with httpx.Client(trust_env=False, timeout=10) as client:
        for i in range(1, 5):
            client.get(f"{base}/users/{i}")
        deadline = time.monotonic() + 10
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        tail = LiveProcess(_restscope("tail", str(log), "--follow", "--json", "--spec", str(spec),
                                      "--duration", "20"))
        try:
            client.get(f"{base}/users/7")  # id drifts to a string
            client.get(f"{base}/missing/x")  # an operation the spec does not have
            events = _wait_events(tail, lambda ev: sum(e["event"] == "drift" for e in ev) >= 2)
        finally:
            tail.stop()
    drift = [e for e in events if e["event"] == "drift"]
    assert any(e["operation"] == "GET /users/{id}" for e in drift), drift
    assert any(e["operation"] == "GET /missing/x" for e in drift), drift
    once = subprocess.run(_restscope("tail", str(log), "--once", "--json", "--spec", str(spec)),
                          capture_output=True, text=True, timeout=30)
    assert json.loads(once.stdout)["drift_findings"] >= 2


class _TypeChecker:
    """Stands in for the specs checker: flags a string `id` where the spec says integer."""

    def check(self, exchange):
        from dataclasses import dataclass

        @dataclass
        class Finding:
            rule_id: str
            severity: str
            location: str
            message: str

        body = exchange.response.json() if exchange.response is not None else {}
        if isinstance(body.get("id", 0), str):
            return [Finding("type-changed", "warning", "response.200.body/id",
                            "expected integer, got string")]
        return []


def build_fake_checker(spec_path: str) -> _TypeChecker:
    return _TypeChecker()


def test_tail_loads_the_checker_through_its_entry_point_group(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The plumbing without `specs`: a checker registered under restscope.checkers:openapi."""
    from click.testing import CliRunner

    from observe.cli import cli
    from observe.live import checking
    from observe.live.capture_log import CaptureLogWriter
    from tests.observe.live.helpers import make_exchange

    fake = EntryPoint("openapi", f"{__name__}:build_fake_checker", CHECKER_GROUP)
    monkeypatch.setattr(checking, "entry_points", lambda group: [fake])
    spec = tmp_path / "api.yaml"
    spec.write_text(SPEC)
    log = tmp_path / "log.jsonl"
    with CaptureLogWriter(log) as writer:
        writer.write(make_exchange(target="/users/1"))
        drifted = make_exchange(target="/users/7")
        assert drifted.response is not None
        writer.write(drifted.evolve(response=drifted.response.evolve(body=b'{"id": "7"}')))
    result = CliRunner().invoke(cli, ["tail", str(log), "--follow", "--json", "--spec",
                                      str(spec), "--duration", "0"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    drift = [e for e in events if e["event"] == "drift"]
    assert [(d["operation"], d["rule"], d["location"]) for d in drift] == [
        ("GET /users/{id}", "type-changed", "response.200.body/id")]


def test_flickr_methods_are_operations_and_stat_fail_counts_as_an_error(
        tmp_path: Path, upstream: Upstream) -> None:
    """The plugin chain runs live: operations are Flickr methods, stat=fail is an error."""
    log = tmp_path / "flickr.jsonl"
    config = tmp_path / "flickr.yaml"
    config.write_text("hosts: [127.0.0.1]\n")
    proxy = LiveProcess(_restscope(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream.url, "--log", str(log),
        "--plugin", "flickr", "--plugin-config", str(config),
        "--confdir", str(tmp_path / "conf")))
    try:
        port = proxy.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        rest = f"http://127.0.0.1:{port}/services/rest/"
        with httpx.Client(trust_env=False, timeout=10) as client:
            for method, times in (("flickr.photos.getInfo", 3), ("flickr.photos.delete", 2)):
                for _ in range(times):
                    client.get(rest, params={"method": method, "api_key": "k3y",
                                             "photo_id": "2733", "format": "json",
                                             "nojsoncallback": "1"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
                not log.exists() or log.read_text().count("\n") < 5):
            time.sleep(0.05)
    finally:
        proxy.stop()
    assert "k3y" not in log.read_text()
    once = subprocess.run(_restscope("tail", str(log), "--once", "--json"),
                          capture_output=True, text=True, timeout=30)
    rows = {row["operation"]: row for row in json.loads(once.stdout)["operations"]}
    assert rows["flickr.photos.getInfo"]["count"] == 3
    assert rows["flickr.photos.getInfo"]["errors"] == 0
    assert rows["flickr.photos.delete"]["count"] == 2
    assert rows["flickr.photos.delete"]["error_ratio"] == 1.0
