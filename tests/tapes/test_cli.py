"""The `restscope tapes` commands: serve prints its address and replays (also with two worker
processes), bad input is one line and exit 2, import/check report, a tape folder is a source."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from observe.cli import cli
from tapes.proxy import ProxySettings
from tapes.runner import BackgroundProxy
from tests.tapes.conftest import LocalUpstream

pytestmark = pytest.mark.network


@contextmanager
def serve(*args: str) -> Iterator[str]:
    command = [sys.executable, "-m", "observe", "tapes", "serve", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert " on http://127.0.0.1:" in line, process.stderr.read() if process.stderr else ""
        yield line.split(" on ", 1)[1].split(" ", 1)[0]
    finally:
        process.terminate()
        process.wait(20)


def record(upstream: LocalUpstream, folder: Path, targets: list[str]) -> None:
    settings = ProxySettings(upstream=upstream.url, folder=folder, mode="record")
    with BackgroundProxy(settings) as running, httpx.Client(base_url=running.url) as client:
        for target in targets:
            assert client.get(target).status_code == 200


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_replays_from_a_folder(
    upstream: LocalUpstream, tmp_path: Path, workers: str
) -> None:
    targets = [f"/v1/items/{i}?lang=en" for i in range(6)]
    record(upstream, tmp_path, targets)
    calls = upstream.total
    arguments = ["--upstream", upstream.url, "--tapes", str(tmp_path), "--workers", workers]
    with serve(*arguments) as url, httpx.Client(base_url=url) as client:
        for _ in range(3):
            for target in targets:
                response = client.get(target)
                assert response.status_code == 200
                assert response.json()["path"] == target.split("?")[0]
        assert client.get("/v1/unknown").status_code == 502
    assert upstream.total == calls


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "--upstream", "ftp://x", "--tapes", "."], "expected http(s)://host[:port]"),
    (["serve", "--upstream", "http://x", "--tapes", "/nonexistent/tapes"], "no such tape folder"),
    (["serve", "--upstream", "http://x", "--tapes", ".", "--listen", "nope"], "HOST:PORT"),
    (["serve", "--upstream", "http://x", "--tapes", ".", "--latency", "soon"], "--latency"),
    (["serve", "--upstream", "http://x", "--tapes", ".", "--workers", "2", "--sequence"],
     "need one process"),
])
def test_bad_serve_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["tapes", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_import_check_and_tape_folder_as_source(upstream: LocalUpstream, tmp_path: Path) -> None:
    folder = tmp_path / "tapes"
    record(upstream, folder, ["/v1/items/1", "/v1/items/2?x=1"])
    runner = CliRunner()
    captured = runner.invoke(cli, ["capture", str(folder)])
    assert captured.exit_code == 0, captured.output
    assert captured.output.count("/v1/items/") == 2
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /v1/items/{id}:\n    get:\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n"
        "      responses:\n        '200': {description: ok}\n", encoding="utf-8")
    checked = runner.invoke(cli, ["tapes", "check", str(folder), "--spec", str(spec)])
    assert "of 2 tape(s) do not match" in checked.output
    assert checked.exit_code in (0, 1)
    missing = runner.invoke(cli, ["tapes", "import", str(tmp_path / "none.har"), "--tapes",
                                  str(folder)])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
