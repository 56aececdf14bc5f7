"""The pytest plugin, driven with pytester: record then replay, misses fail with the proxy's
explanation, CI refuses recording, tapes_config overrides, report/prune, and pytest-xdist."""

from __future__ import annotations

from pathlib import Path

# yaml and the proxy are imported before pytester's in-process runs, which unload modules
# imported during a run (PyYAML's C loader cannot be imported twice in one process)
import pytest
import yaml  # noqa: F401

import tapes.proxy  # noqa: F401
from tests.tapes.conftest import LocalUpstream

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.network

# the inner tests use urllib: cheaper to start than an httpx client, and any client works
TEST_FILE = '''
import json
import urllib.request
import pytest

def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.load(response)

@pytest.mark.tapes("flickr", upstream="{upstream}")
def test_search(tapes_proxy):
    status, document = get(tapes_proxy.url + "/services/rest?method=flickr.photos.search&text=cats")
    assert status == 200
    assert document["params"]["text"]["_content"] == "cats"

@pytest.mark.tapes("flickr", upstream="{upstream}")
def test_info(tapes_proxy):
    status, _ = get(tapes_proxy.url + "/services/rest?method=flickr.photos.getInfo&id=7")
    assert status == 200
'''


def tape_count(folder: Path) -> int:
    return len([p for p in folder.rglob("*.yaml") if not p.name.startswith(".")])


def test_record_then_replay_offline(
    pytester: pytest.Pytester, upstream: LocalUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_api=TEST_FILE.format(upstream=upstream.url))
    pytester.runpytest("--tapes-mode", "record").assert_outcomes(passed=2)
    assert tape_count(pytester.path / "tapes" / "flickr") == 2
    upstream.stop()
    pytester.runpytest().assert_outcomes(passed=2)  # replay is the default


def test_miss_fails_the_test_with_the_explanation(
    pytester: pytest.Pytester, upstream: LocalUpstream
) -> None:
    pytester.makepyfile(test_miss=f'''
import urllib.error
import urllib.request
import pytest

@pytest.mark.tapes("empty", upstream="{upstream.url}")
def test_swallows_the_error(tapes_proxy):
    try:
        urllib.request.urlopen(tapes_proxy.url + "/never/recorded?x=1", timeout=30)
    except urllib.error.HTTPError:
        pass  # the client code swallows the 502: the plugin still fails the test
''')
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*the test made requests with no tape*",
        "*request:    GET /never/recorded?x=1*",
        "*looked for:*",
    ])
    assert upstream.total == 0


def test_record_refused_under_ci_unless_forced(
    pytester: pytest.Pytester, upstream: LocalUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_api=TEST_FILE.format(upstream=upstream.url))
    monkeypatch.setenv("CI", "true")
    refused = pytester.runpytest("--tapes-mode", "record")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*refused because CI is set*--tapes-force*"])
    pytester.runpytest("--tapes-mode", "record", "--tapes-force").assert_outcomes(passed=2)


def test_tapes_config_fixture_configures_folder_and_matching(
    pytester: pytest.Pytester, upstream: LocalUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(f'''
import pytest

@pytest.fixture
def tapes_config():
    return {{"upstream": "{upstream.url}", "folder": "cassettes",
             "ignore_params_extra": ["session_id"]}}
''')
    pytester.makepyfile(test_cfg='''
import urllib.request

def test_call(tapes_proxy, request):
    sid = request.config.getoption("--tapes-mode") or "replay"
    with urllib.request.urlopen(tapes_proxy.url + "/v1/me?session_id=" + sid) as response:
        assert response.status == 200
''')
    pytester.runpytest("--tapes-mode", "record").assert_outcomes(passed=1)
    assert tape_count(pytester.path / "cassettes") == 1
    pytester.runpytest().assert_outcomes(passed=1)  # another session_id still matches


def test_report_and_prune_unused_tapes(
    pytester: pytest.Pytester, upstream: LocalUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_api=TEST_FILE.format(upstream=upstream.url))
    pytester.runpytest("--tapes-mode", "record").assert_outcomes(passed=2)
    folder = pytester.path / "tapes" / "flickr"
    (tape,) = [p for p in folder.rglob("*.yaml") if "getInfo" in p.name]
    stale = tape.with_name("GET_photos.old_000000000000.yaml")
    stale.write_text(tape.read_text().replace("id=7", "id=8"))
    report = pytester.runpytest("--tapes-report")
    report.stdout.fnmatch_lines(["*1 tape(s) not used by this run*", "*unused:*photos.old*"])
    assert stale.exists()
    pytester.runpytest("--tapes-prune", "-k", "search").stdout.fnmatch_lines(["*not pruning*"])
    assert stale.exists()
    pytester.runpytest("--tapes-prune").stdout.fnmatch_lines(["*pruned 1 tape(s)*"])
    assert not stale.exists() and tape.exists()


def test_xdist_workers_share_one_folder(
    pytester: pytest.Pytester, upstream: LocalUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    body = TEST_FILE.format(upstream=upstream.url)
    # the same requests from many tests on two workers: each goes upstream once
    pytester.makepyfile(**{f"test_w{i}": body for i in range(3)})
    fast = ("-p", "no:hypothesispytest")  # its import costs seconds in every worker
    recorded = pytester.runpytest_subprocess("-n", "2", "--tapes-mode", "record", *fast)
    recorded.assert_outcomes(passed=6)
    assert upstream.total == 2
    assert tape_count(pytester.path / "tapes" / "flickr") == 2
    replayed = pytester.runpytest_subprocess("-n", "2", "--tapes-report", *fast)
    replayed.assert_outcomes(passed=6)
    replayed.stdout.fnmatch_lines(["*0 tape(s) not used by this run in 1 folder(s)*"])
