"""Live agents write rolling summary files that `specs infer` turns into one spec (issue 8).

A real `restscope proxy` in reverse mode in front of a real local upstream, with
`--summary-dir`; the summary written when it stops must hold every operation the client called,
and `restscope specs infer DIR/*.summary` must render them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from observe.errors import InputError
from observe.live.summaries import parse_duration
from tests.observe.live.servers import LiveProcess, Upstream

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]


def test_durations_parse_and_bad_ones_say_what_to_type() -> None:
    assert parse_duration("60s") == 60.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("2") == 2.0
    with pytest.raises(InputError, match="try 60s"):
        parse_duration("soon")


def test_proxy_summary_files_infer_into_a_spec(tmp_path: Path, upstream: Upstream) -> None:
    summaries = tmp_path / "summaries"
    proxy = LiveProcess([sys.executable, "-m", "observe", "proxy", "--listen", "127.0.0.1:0",
                         "--upstream", upstream.url, "--log", str(tmp_path / "log.jsonl"),
                         "--confdir", str(tmp_path / "conf"), "--summary-dir", str(summaries),
                         "--summary-every", "1h"])
    try:
        port = proxy.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        with httpx.Client(trust_env=False, timeout=10) as client:
            base = f"http://127.0.0.1:{port}"
            for user in range(1, 4):
                assert client.get(f"{base}/users/{user}").status_code == 200
            assert client.post(f"{base}/users", json={"name": "Ada"}).status_code == 200
    finally:
        proxy.stop()
    files = sorted(summaries.glob("*.summary"))
    assert len(files) == 1, "stopping the proxy flushes the last period"
    spec = tmp_path / "api.yaml"
    result = subprocess.run([sys.executable, "-m", "observe", "specs", "infer", *map(str, files),
                             "-j", "1", "-o", str(spec)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    text = spec.read_text()
    assert "/users:" in text and "post:" in text
    assert "/users/1:" in text or "/users/{" in text
