"""Acceptance 5: after `--plugin flickr` (redaction on by default), no credential value from the
corpus appears anywhere in what restscope prints or writes.

The credential values are collected straight from the corpus files with regular expressions
(not with the code under test): the OAuth consumer keys, tokens, nonces and signatures in the
flickr-sdk tapes' request lines, and the api_key / api_sig values Flickr echoed back in JSON.
The corpus exchanges are written to a HAR file in tmp_path (unredacted, the input a user would
have) and run through the real command line; the outputs are searched for every value in its
raw, percent-encoded and JSON-escaped forms.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import pytest

from observe.formats.har import write_har
from observe.formats.jsonl import write_jsonl
from observe.pipeline import PluginChain
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.plugins import corpus

pytestmark = pytest.mark.corpus

REPO = Path(__file__).resolve().parents[2]
_QUERY_SECRET = re.compile(
    r"[?&](oauth_consumer_key|oauth_token|oauth_signature|oauth_nonce|api_key|api_sig|"
    r"auth_token)=([^&\s\"']+)")
_ECHO_SECRET = re.compile(
    r'"(oauth_consumer_key|oauth_token|oauth_signature|oauth_nonce|api_key|api_sig|'
    r'auth_token)":\{"_content":"([^"]+)"\}')


def corpus_secrets() -> set[str]:
    found: set[str] = set()
    folders = [corpus_path("flickr_responses", "json_yakbak_tapes"),
               corpus_path("flickr_responses", "xml_vcr_cassettes")]
    for folder in folders:
        for path in folder.iterdir():
            found.update(unquote(m.group(2)) for m in _QUERY_SECRET.finditer(path.read_text()))
    for path in corpus_path("flickr_responses", "json_yakbak_tapes_decoded").glob("*.json"):
        found.update(m.group(2).replace("\\/", "/")
                     for m in _ECHO_SECRET.finditer(path.read_text()))
    return {s for s in found if len(s) >= 8}


def forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
            json.dumps(secret)[1:-1].replace("/", "\\/")}


def leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if any(f in text for f in forms(s)))


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    values = corpus_secrets()
    # the 2016 OAuth consumer key, token and six signatures, two nonces... at least
    assert "68a62ca6dccd553ca49e069d4b68e92d" in values
    assert "72157660394259366-112955b6c5659e6b" in values
    assert "x0DAi/RsJ/NwA9zxA7G8QKN6l68=" in values
    assert len(values) >= 10
    return values


@pytest.fixture(scope="module")
def corpus_har(tmp_path_factory: pytest.TempPathFactory, secrets: set[str]) -> Path:
    path = tmp_path_factory.mktemp("in") / "flickr-corpus.har"
    with open(path, "w", encoding="utf-8") as handle:
        write_har(corpus.yakbak_exchanges() + corpus.cassette_exchanges(), handle)
    assert leaks(path.read_text(encoding="utf-8"), secrets)  # the input does hold them
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "flickr.yaml"
    path.write_text("extra_hosts: [fts.flickr.vip.bf1.yahoo.com]\n", encoding="utf-8")
    return path


def restscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "observe", *args], capture_output=True,
                          text=True, timeout=120, cwd=REPO, check=False)


def test_capture_lines_and_summary_hold_no_secret(
    corpus_har: Path, config: Path, secrets: set[str]
) -> None:
    run = restscope("capture", str(corpus_har), "--plugin", "flickr", "--plugin-config",
                    str(config))
    assert run.returncode == 0, run.stderr
    assert "/photos/getInfo?photo_id=21300619575" in run.stdout
    assert leaks(run.stdout + run.stderr, secrets) == []


def test_no_redact_does_show_them(corpus_har: Path, config: Path, secrets: set[str]) -> None:
    """The search above can find what it looks for: without redaction the v2 tape leaks."""
    run = restscope("capture", str(corpus_har), "--plugin", "flickr", "--plugin-config",
                    str(config), "--no-redact")
    assert run.returncode == 0, run.stderr
    assert leaks(run.stdout, secrets)


@pytest.mark.parametrize("plugin", ["flickr", "rpc"])
def test_written_har_and_jsonl_hold_no_secret(
    tmp_path: Path, corpus_har: Path, config: Path, secrets: set[str], plugin: str
) -> None:
    """The chain every command runs, written with the HAR and JSONL writers."""
    if plugin == "rpc":
        rpc = (REPO / "examples" / "rpc-flickr.yaml").read_text(encoding="utf-8")
        config = tmp_path / "rpc.yaml"
        config.write_text(rpc.replace("secure.flickr.com]",
                                      "secure.flickr.com, fts.flickr.vip.bf1.yahoo.com]"))
    from observe.sources import read_source

    for writer, name in ((write_har, "out.har"), (write_jsonl, "out.jsonl")):
        chain = PluginChain.build([plugin], Tally(), config_path=config)
        out = tmp_path / name
        with open(out, "w", encoding="utf-8") as handle:
            count = writer(chain.run(read_source(corpus_har)), handle)
        assert count == 38
        assert leaks(out.read_text(encoding="utf-8"), secrets) == []


@pytest.mark.parametrize("suffix", ["har", "jsonl"])
def test_capture_output_files_hold_no_secret(
    tmp_path: Path, corpus_har: Path, config: Path, secrets: set[str], suffix: str
) -> None:
    out = tmp_path / f"out.{suffix}"
    run = restscope("capture", str(corpus_har), "--plugin", "flickr", "--plugin-config",
                    str(config), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert leaks(out.read_text(encoding="utf-8") + run.stdout + run.stderr, secrets) == []


def test_specs_commands_write_and_print_no_secret(
    tmp_path: Path, corpus_har: Path, config: Path, secrets: set[str]
) -> None:
    """The spec, summary, drift report and check report of the same traffic hold no secret."""
    common = ["--plugin", "flickr", "--plugin-config", str(config)]
    spec, summary = tmp_path / "api.yaml", tmp_path / "x.summary"
    runs = [
        restscope("specs", "infer", str(corpus_har), *common, "-j", "1", "-o", str(spec),
                  "--drift-report", "json", "--explain"),
        restscope("specs", "summarize", str(corpus_har), *common, "-j", "1", "-o",
                  str(summary)),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    check = restscope("specs", "check", str(spec), str(corpus_har), *common, "--format", "json")
    assert check.returncode in (0, 1), check.stderr
    written = spec.read_text(encoding="utf-8") + summary.read_text(encoding="utf-8")
    printed = "".join(run.stdout + run.stderr for run in (*runs, check))
    assert "/photos/getInfo" in written
    assert leaks(written + printed, secrets) == []
