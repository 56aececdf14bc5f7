"""`restscope capture` on capture files: output, summary, and one-line errors (exit code 2).

Bad input of every kind (truncated, garbage, empty, unknown link type) must end the command
with one line on stderr and exit code 2, never a traceback; what a run skips is listed in the
summary by reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from observe.capture import pcap_source  # noqa: F401 - registered here whatever the test order
from observe.cli import cli
from observe.sources import detect_format
from tests.observe.capture.crafting import (
    Interface,
    frames,
    simple_dialogue,
    tcp_conversation,
    write_pcap,
    write_pcapng,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["capture", *args], catch_exceptions=False)


def _two_calls(folder: Path, **options: object) -> Path:
    captured = frames(tcp_conversation(simple_dialogue(2), mss=60), 1)
    return write_pcap(folder / "two.pcap", captured, 1, **options)  # type: ignore[arg-type]


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("restscope: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "options", [{}, {"endianness": ">", "nano": True}, {"gz": True}], ids=["pcap", "be-nano", "gz"]
)
def test_capture_prints_one_line_per_exchange_and_a_summary(
    tmp_path: Path, options: dict[str, object]
) -> None:
    path = _two_calls(tmp_path, **options)
    assert detect_format(path) == "pcap"
    result = run(str(path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["GET", "200", "http://api.example.com/items/0"]
    assert lines[1].split() == ["GET", "200", "http://api.example.com/items/1"]
    assert "exchanges: 2" in result.stderr
    assert "incomplete exchanges: 0" in result.stderr


def test_pcapng_is_detected_by_content_whatever_its_name(tmp_path: Path) -> None:
    captured = frames(tcp_conversation(simple_dialogue(2)), 113)
    path = write_pcapng(tmp_path / "traffic.txt", [Interface(113)],
                        [(0, t, f) for t, f in captured], order=">")
    assert detect_format(path) == "pcap"
    result = run(str(path))
    assert result.exit_code == 0 and len(result.stdout.strip().splitlines()) == 2


def test_summary_lists_skipped_packets_by_reason(tmp_path: Path) -> None:
    captured = frames(tcp_conversation(simple_dialogue(1)), 1)
    noise = [bytes(Ether() / ARP()), bytes(Ether() / IP(dst="192.0.2.9") / UDP() / b"dns"),
             bytes(Ether() / IP(dst="192.0.2.9") / UDP() / b"dns")]
    path = write_pcap(tmp_path / "noisy.pcap",
                      captured + [(captured[-1][0] + 1, f) for f in noise], 1)
    result = run(str(path))
    assert result.exit_code == 0
    assert "skipped packets: 3" in result.stderr
    summary = [line.split() for line in result.stderr.splitlines()]
    assert ["1", "arp"] in summary and ["2", "udp"] in summary


def test_a_capture_cut_mid_way_is_read_then_exits_2(tmp_path: Path) -> None:
    """As tshark does: everything before the cut is read and written, the summary counts the
    cut, and the command ends with one error line and exit code 2 (0 with --allow-truncated)."""
    whole = _two_calls(tmp_path).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(whole[:-30])  # inside the last packet (the final ACK)
    result = run(str(path))
    assert result.exit_code == 2
    assert len(result.stdout.strip().splitlines()) == 2
    assert "truncated record" in result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("restscope: error: input cut short (1 truncated record)")
    jsonl = tmp_path / "cut.jsonl"
    written = run(str(path), "-o", str(jsonl))
    assert written.exit_code == 2
    assert len(jsonl.read_text().splitlines()) == 2  # nothing read before the cut is lost
    allowed = run(str(path), "--allow-truncated")
    assert allowed.exit_code == 0
    assert allowed.stdout == result.stdout
    assert "truncated record" in allowed.stderr and "error" not in allowed.stderr


def test_a_capture_without_packets_is_valid_and_empty(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "none.pcap", [], 1)
    assert path.stat().st_size == 24
    result = run(str(path))
    assert result.exit_code == 0 and result.stdout == ""
    assert "exchanges: 0" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "ends inside"),
        (b"this is not a capture at all, just text\n" * 10, "not a format restscope reads"),
        (bytes(range(256)) * 4, "not a format restscope reads"),
    ],
    ids=["empty", "cut-header", "text", "binary"],
)
def test_unusable_files_give_one_line_and_exit_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    assert message in _one_error_line(run(str(path)))


def test_file_cut_in_its_first_record_gives_exit_2(tmp_path: Path) -> None:
    whole = _two_calls(tmp_path).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(whole[:24 + 16 + 10])
    assert "first packet record" in _one_error_line(run(str(path)))


def test_gzip_cut_short_gives_exit_2(tmp_path: Path) -> None:
    compressed = _two_calls(tmp_path, gz=True).read_bytes()
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(compressed[:30])
    _one_error_line(run(str(path)))


def test_corrupt_gzip_data_gives_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.pcap.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    _one_error_line(CliRunner().invoke(cli, ["capture", str(path)]))


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_unknown_link_type_gives_exit_2_naming_it(tmp_path: Path, fmt: str) -> None:
    if fmt == "pcap":
        path = write_pcap(tmp_path / "x.pcap", [(1.0, b"\x00" * 30)], 147)
    else:
        path = write_pcapng(tmp_path / "x.pcapng", [Interface(147)], [(0, 1.0, b"\x00" * 30)])
    assert "link type 147" in _one_error_line(run(str(path)))


def test_jsonl_output_has_one_exchange_per_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run(str(_two_calls(tmp_path)), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2
    assert "/items/1" in json.dumps(records[1])


def test_har_output_has_every_entry(tmp_path: Path) -> None:
    out = tmp_path / "out.har"
    result = run(str(_two_calls(tmp_path)), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    entries = json.loads(out.read_text(encoding="utf-8"))["log"]["entries"]
    assert [e["request"]["url"] for e in entries] == [
        "http://api.example.com/items/0", "http://api.example.com/items/1"]
    assert [e["response"]["status"] for e in entries] == [200, 200]


def test_the_installed_command_gives_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pcap"
    path.write_bytes(b"\xa1\xb2\xc3\xd4" + b"\xff" * 20)  # big-endian magic, header cut short
    process = subprocess.run([sys.executable, "-m", "observe", "capture", str(path)],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr.strip().count("\n") == 0
    assert process.stderr.startswith("restscope: error: ")


def test_a_fresh_process_reads_a_capture(tmp_path: Path) -> None:
    path = _two_calls(tmp_path)
    process = subprocess.run([sys.executable, "-m", "observe", "capture", str(path)],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert len(process.stdout.strip().splitlines()) == 2
