"""The observing proxy end to end: a real upstream, a real `restscope proxy` (or `mitmdump -s`)
on loopback, an httpx client through it, and the capture log's exchanges checked."""

from __future__ import annotations

import ssl
import sys
import time
from pathlib import Path

import httpx
import pytest

from observe.exchange import Exchange
from tests.observe.live.conftest import read_log
from tests.observe.live.servers import LiveProcess, Upstream

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]
ROOT = Path(__file__).resolve().parents[3]
ADDON = ROOT / "observe" / "live" / "mitm_addon.py"
MITMDUMP = Path(sys.executable).with_name("mitmdump")


def _restscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "observe", *args]


def _wait_for_exchanges(log: Path, count: int, timeout: float = 10.0) -> list[Exchange]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            exchanges = read_log(log)
            if len(exchanges) >= count:
                return exchanges
        time.sleep(0.05)
    raise AssertionError(f"{log}: fewer than {count} exchanges after {timeout}s")


def _drive(client: httpx.Client, base: str) -> None:
    """The fixed script: a GET with a credential, a JSON POST, a failure, a 404, a HEAD."""
    assert client.get(f"{base}/users/1", params={"api_key": "s3cret"}).json()["id"] == 1
    assert client.post(f"{base}/users", json={"name": "Ada"}).status_code == 200
    assert client.get(f"{base}/fail").status_code == 500
    assert client.get(f"{base}/missing/x").status_code == 404
    assert client.head(f"{base}/users/2").status_code == 200


def _check_script(exchanges: list[Exchange], upstream: Upstream) -> None:
    assert [(e.request.method, e.request.path, e.response and e.response.status)
            for e in exchanges] == [
        ("GET", "/users/1", 200), ("POST", "/users", 200), ("GET", "/fail", 500),
        ("GET", "/missing/x", 404), ("HEAD", "/users/2", 200),
    ]
    first, post = exchanges[0], exchanges[1]
    # redacted by default, in the target and wherever the value appears
    assert "s3cret" not in first.request.target and "REDACTED" in first.request.target
    # bodies are raw as on the wire, with their encoding named
    assert first.response is not None and first.response.content_encoding == "gzip"
    assert first.response.body[:2] == b"\x1f\x8b"
    assert first.response.json()["name"] == "Ada"
    assert post.request.json() == {"name": "Ada"}
    assert post.response is not None and post.response.json()["echo"] == '{"name":"Ada"}'
    for exchange in exchanges:
        assert exchange.origin.kind == "proxy"
        assert exchange.incomplete is None
        assert exchange.server is not None and exchange.server.port == upstream.port
        assert exchange.timing.duration is not None and exchange.timing.duration >= 0
        assert exchange.request.headers.get("host") is not None


def test_reverse_proxy_logs_every_exchange_of_a_plain_http_script(
        tmp_path: Path, upstream: Upstream) -> None:
    log = tmp_path / "capture.jsonl"
    proxy = LiveProcess(_restscope("proxy", "--listen", "127.0.0.1:0", "--upstream",
                                   upstream.url, "--log", str(log),
                                   "--confdir", str(tmp_path / "conf")))
    try:
        port = proxy.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        with httpx.Client(trust_env=False, timeout=10) as client:
            _drive(client, f"http://127.0.0.1:{port}")
        exchanges = _wait_for_exchanges(log, 5)
    finally:
        output = proxy.stop()
    _check_script(exchanges, upstream)
    assert "exchanges: 5" in output  # the run's summary on exit


def test_forward_proxy_sees_https_through_its_generated_ca(
        tmp_path: Path, tls_upstream: Upstream) -> None:
    log = tmp_path / "capture.jsonl"
    confdir = tmp_path / "conf"
    proxy = LiveProcess(_restscope("proxy", "--listen", "127.0.0.1:0", "--log", str(log),
                                   "--confdir", str(confdir), "--ssl-insecure"))
    try:
        port = proxy.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        ca = confdir / "mitmproxy-ca-cert.pem"
        assert ca.exists()
        verify = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=verify, trust_env=False,
                          timeout=10) as client:
            _drive(client, tls_upstream.url)
        exchanges = _wait_for_exchanges(log, 5)
    finally:
        proxy.stop()
    _check_script(exchanges, tls_upstream)
    assert {e.request.scheme for e in exchanges} == {"https"}
    assert exchanges[0].request.authority == f"127.0.0.1:{tls_upstream.port}"


def test_the_addon_works_under_mitmdump(tmp_path: Path, upstream: Upstream) -> None:
    log = tmp_path / "capture.jsonl"
    proxy = LiveProcess([
        str(MITMDUMP), "-s", str(ADDON), "--listen-host", "127.0.0.1", "-p", "0",
        "--mode", f"reverse:{upstream.url}", "--set", f"confdir={tmp_path / 'conf'}",
        "--set", f"restscope_log={log}", "--set", "termlog_verbosity=info",
        "--set", "flow_detail=0",
    ], cwd=tmp_path)
    try:
        port = proxy.wait_for(r"listening at (?:http://)?127\.0\.0\.1:(\d+)").group(1)
        with httpx.Client(trust_env=False, timeout=10) as client:
            _drive(client, f"http://127.0.0.1:{port}")
        exchanges = _wait_for_exchanges(log, 5)
    finally:
        proxy.stop()
    _check_script(exchanges, upstream)


def test_bad_proxy_arguments_are_one_line_errors(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(_restscope("proxy", "--upstream", "api.example.com"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--upstream" in result.stderr
    result = subprocess.run(_restscope("proxy", "--listen", "127.0.0.1:http"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--listen" in result.stderr
