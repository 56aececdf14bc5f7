"""`writer_for` and `restscope capture` end to end on HAR, flow files and cassettes.

The command detects each input's format from its content and writes HAR or JSONL; with
--no-redact and no plugins, HAR -> JSONL -> HAR keeps every exchange exactly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from observe.cli import cli
from observe.errors import InputError
from observe.exchange import Exchange
from observe.formats.cassette import write_cassette
from observe.formats.har import read_har, write_har
from observe.formats.jsonl import read_jsonl, write_jsonl
from observe.formats.writers import writer_for
from observe.sources import ReadOptions
from observe.tally import Tally
from tests.conftest import corpus_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["capture", *args], catch_exceptions=False)


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_writer_for_picks_by_name_then_extension() -> None:
    assert writer_for(Path("out.har"), None) is write_har
    assert writer_for(Path("OUT.JSONL"), None) is write_jsonl
    assert writer_for(Path("out.ndjson"), None) is write_jsonl
    assert writer_for(Path("out.txt"), "har") is write_har
    assert writer_for(Path("out.har"), "jsonl") is write_jsonl
    assert writer_for(Path("cassette.yaml"), "cassette") is write_cassette
    with pytest.raises(InputError, match="--format"):
        writer_for(Path("out.txt"), None)
    with pytest.raises(InputError, match="unknown output format"):
        writer_for(Path("out.har"), "xml")


@pytest.mark.corpus
def test_capture_har_to_jsonl(tmp_path: Path) -> None:
    source = corpus_path("har", "mitmproxy__har_files_chrome.har")
    out = tmp_path / "out.jsonl"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "exchanges: 3" in result.stderr
    assert "incomplete exchanges: 1" in result.stderr
    written = list(read_jsonl(out, ReadOptions(), Tally()))
    assert [(e.request.method, e.request.url, e.response.status if e.response else None)
            for e in written] == [
        ("GET", "https://mitmproxy.org/", 304),
        ("GET", "https://www.google.com/", None),
        ("GET", "https://www.google.com/images/branding/googlelogo/2x/"
                "googlelogo_light_color_272x92dp.png", 200),
    ]
    assert written[2].response is not None
    assert written[2].response.body.startswith(b"\x89PNG")


@pytest.mark.corpus
def test_har_to_jsonl_to_har_keeps_every_exchange_without_redaction(tmp_path: Path) -> None:
    source = corpus_path("har", "mitmproxy__flows_successful_log.har")
    middle, final = tmp_path / "middle.jsonl", tmp_path / "final.har"
    assert run(str(source), "-o", str(middle), "--no-redact").exit_code == 0
    assert run(str(middle), "-o", str(final), "--no-redact").exit_code == 0
    original = list(read_har(source, ReadOptions(), Tally()))
    assert list(read_har(final, ReadOptions(), Tally())) == original


@pytest.mark.corpus
def test_capture_mixes_every_input_format_in_one_run(tmp_path: Path) -> None:
    sources = [
        corpus_path("har", "mitmproxy__flows_successful_log.har"),  # 2 entries
        corpus_path("mitmproxy_flows", "mitmproxy__dumpfile-7.mitm"),  # 2 flows
        corpus_path("vcr_cassettes", "tweepy__testgeoapis.json"),  # 3 interactions
        corpus_path("flickr_responses", "xml_vcr_cassettes",
                    "flickr-photos-api__TestGetSinglePhoto.test_get_single_photo.yml"),  # 3
    ]
    out = tmp_path / "all.har"
    result = run(*map(str, sources), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "exchanges: 10" in result.stderr
    exchanges: list[Exchange] = list(read_har(out, ReadOptions(), Tally()))
    assert [e.origin.kind for e in exchanges] == ["har"] * 2 + ["mitmproxy"] * 2 + [
        "cassette"
    ] * 6


def test_garbage_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.har"
    garbage.write_bytes(b'{"log": {"entries": [{"request": {"method": "GET", "ur')
    line = one_error_line(run(str(garbage), "-o", str(tmp_path / "x.jsonl")))
    assert "ends early" in line
    unknown = tmp_path / "noise.bin"
    unknown.write_bytes(b"\x00" * 64)
    assert "not a format restscope reads" in one_error_line(run(str(unknown)))


@pytest.mark.corpus
def test_unknown_output_extension_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    source = corpus_path("har", "mitmproxy__har_files_insomnia.har")
    line = one_error_line(run(str(source), "-o", str(tmp_path / "out.txt")))
    assert "--format" in line


@pytest.mark.corpus
def test_fresh_process_detects_every_input_format(tmp_path: Path) -> None:
    """In a new interpreter (no test package preloading readers), `capture -o x.jsonl` must
    still detect pcaps, flow files and cassettes: importing the writers must not hide any reader."""
    sources = [
        corpus_path("mitmproxy_flows", "mitmproxy__dumpfile-7.mitm"),
        corpus_path("vcr_cassettes", "vcrpy__gzip_requests.yaml"),
        corpus_path("har", "mitmproxy__har_files_insomnia.har"),
        corpus_path("pcap", "zeek__get.pcap"),  # tshark: 1 GET
    ]
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "observe", "capture", *map(str, sources), "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exchanges: 5" in done.stderr
    assert len(out.read_text().splitlines()) == 5
