"""The progress bar of batch commands (`observe.report.ByteProgress`).

It shows only on a terminal, for large inputs, never under CI; it draws from the calling thread
(no refresh thread, so worker processes can be forked while it shows).
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

import observe.report as report
from observe.report import ByteProgress
from observe.tally import Tally


@pytest.fixture()
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    screen = io.StringIO()
    monkeypatch.setitem(report._consoles, "stderr",
                        Console(file=screen, force_terminal=True, width=100, highlight=False))
    monkeypatch.setattr(report, "_is_terminal", lambda stream: stream is sys.stderr)
    monkeypatch.setattr(report, "PROGRESS_MIN_BYTES", 10)
    monkeypatch.delenv("CI", raising=False)
    return screen


def _input(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "traffic.pcap"
    path.write_bytes(b"x" * size)
    return path


def test_the_bar_shows_on_a_terminal_and_draws_without_a_thread(
    tmp_path: Path, terminal: io.StringIO
) -> None:
    path = _input(tmp_path, 4000)
    threads = threading.active_count()
    with ByteProgress([path]) as progress:
        assert progress.shown
        assert threading.active_count() == threads  # safe to fork now
        progress.describe(path)
        progress.advance(2000)
    drawn = terminal.getvalue()
    assert "reading traffic.pcap" in drawn
    assert "2.0" in drawn and "4.0" in drawn  # 2.0/4.0 kB


def test_no_bar_under_ci_or_for_small_inputs(
    tmp_path: Path, terminal: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ByteProgress([_input(tmp_path, 5)]) as progress:
        assert not progress.shown
        progress.advance(5)  # harmless
    monkeypatch.setenv("CI", "true")
    with ByteProgress([_input(tmp_path, 4000)]) as progress:
        assert not progress.shown
    assert terminal.getvalue() == ""


def test_the_summary_names_sources_as_they_are(terminal: io.StringIO,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    tally.count("packets", 3)
    report.print_summary(tally, ["cap[1].pcap", "b.har"])  # on the (fake) terminal, in bold
    shown = terminal.getvalue()
    assert "(cap[1].pcap, b.har)" in shown and "packets: 3" in shown
    assert "\x1b[1m" in shown  # the heading in bold


def test_the_summary_is_plain_text_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    tally.count("packets", 3)
    report.print_summary(tally, ["[bold]x[/bold].pcap"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "summary ([bold]x[/bold].pcap)"
    assert "packets: 3" in lines
    assert "\x1b" not in "".join(lines)
