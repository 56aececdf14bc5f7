"""Terminal output for batch commands: the progress bar, one line per exchange, the summary, and
the exit check for inputs cut short."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from observe.errors import TruncatedInputError
from observe.exchange import Exchange
from observe.sources import ReadOptions, read_source
from observe.tally import Tally

PROGRESS_MIN_BYTES = 8 * 1024 * 1024

if TYPE_CHECKING:
    from rich.console import Console

    stderr: Console
    stdout: Console

_consoles: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """`stderr` and `stdout`: rich consoles, made (and rich imported) when first used; a run
    that writes to no terminal never needs them."""
    if name not in ("stderr", "stdout"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Any:
    console = _consoles.get(name)
    if console is None:
        from rich.console import Console

        console = _consoles[name] = (Console(stderr=True, highlight=False) if name == "stderr"
                                     else Console(highlight=False, soft_wrap=True))
    return console


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def _input_size(path: Path) -> int:
    try:
        if path.is_dir():
            return 0
        return path.stat().st_size
    except OSError:
        return 0


class ByteProgress:
    """A progress bar on stderr over the bytes of some input files, when they are large and
    stderr is a terminal (never under CI). `advance(n)` adds consumed bytes; `describe` names
    the file being read. It draws from the calling thread only (no refresh thread), so
    worker processes can be forked while it shows."""

    def __init__(self, paths: Iterable[Path]) -> None:
        total = sum(_input_size(p) for p in paths)
        self.shown = (_is_terminal(sys.stderr) and total >= PROGRESS_MIN_BYTES
                      and not os.environ.get("CI"))
        self._progress: Any = None  # a rich Progress while shown
        self._total = total
        self._next_draw = 0.0

    def __enter__(self) -> ByteProgress:
        if self.shown:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=_console("stderr"),
                transient=True,
                auto_refresh=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("reading", total=self._total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def watching(self, options: ReadOptions) -> ReadOptions:
        """`options` whose reader reports its bytes to this bar (unchanged when it is hidden)."""
        return dataclasses.replace(options, on_bytes=self.advance) if self.shown else options

    def describe(self, path: Path) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"reading {path.name}")
            self._progress.refresh()

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)
            now = time.monotonic()
            if now >= self._next_draw:
                self._next_draw = now + 0.1
                self._progress.refresh()


def progress_reader(
    paths: Iterable[str], options: ReadOptions, tally: Tally
) -> Iterator[Exchange]:
    """Read sources in order, with a progress bar on stderr when the input is large."""
    path_list = [Path(p) for p in paths]
    with ByteProgress(path_list) as progress:
        options = progress.watching(options)
        for path in path_list:
            progress.describe(path)
            yield from read_source(path, options, tally)


# C0 and C1 control characters and DEL: a captured URL must not move the cursor, recolour the
# terminal or break the one-line-per-exchange listing
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def exchange_line(exchange: Exchange) -> str:
    """The listing's line for an exchange: method, status, URL (control characters written
    as \\xNN), and why it is incomplete, if it is."""
    request = exchange.request
    status = str(exchange.response.status) if exchange.response else "---"
    line = f"{request.method:7} {status}  {request.url}"
    if exchange.incomplete:
        line += f"  [incomplete: {exchange.incomplete}]"
    # isprintable: no control character (and a quicker test than the regex)
    return line if line.isprintable() else _CONTROL.sub(_escape_control, line)


_LINES_PER_WRITE = 256


def print_lines(lines: Iterable[str], progress: ByteProgress) -> None:
    """Each line on stdout, a block of lines at a time (rich's layout of a line costs more
    than reading its exchange). Through rich only while a progress bar shares the terminal
    (it keeps the bar below the lines); otherwise straight to the stream."""
    write: Callable[[str], object] = sys.stdout.write
    if progress.shown and _is_terminal(sys.stdout):
        console = _console("stdout")

        def write(text: str) -> None:
            console.print(text, markup=False, emoji=False, end="")
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) >= _LINES_PER_WRITE:
            block.append("")
            write("\n".join(block))
            block.clear()
    if block:
        block.append("")
        write("\n".join(block))
    sys.stdout.flush()


def summary_lines(tally: Tally) -> list[str]:
    lines = [f"exchanges: {tally.exchanges}"]
    lines.append(f"incomplete exchanges: {tally.incomplete_total}")
    for reason, n in sorted(tally.incomplete.items()):
        lines.append(f"  {n:>8}  {reason}")
    for kind in ("packet", "stream", "record", "exchange"):
        skipped = tally.skipped_of(kind)
        lines.append(f"skipped {kind}s: {sum(skipped.values())}")
        for reason, n in skipped.items():
            lines.append(f"  {n:>8}  {reason}")
    for name, n in sorted(tally.counts.items()):
        lines.append(f"{name}: {n}")
    return lines


def print_summary(tally: Tally, sources: Iterable[str]) -> None:
    """The run's summary on stderr (its heading in bold on a terminal)."""
    names = ", ".join(str(s) for s in sources)
    lines = summary_lines(tally)
    if _is_terminal(sys.stderr):
        from rich.markup import escape

        console = _console("stderr")
        console.print(f"[bold]summary[/bold] ({escape(names)})")
        for line in lines:
            console.print(line, markup=False)
        return
    sys.stderr.write("".join(f"{line}\n" for line in (f"summary ({names})", *lines)))
    sys.stderr.flush()


def check_complete(tally: Tally, allow_truncated: bool) -> None:
    """Raise TruncatedInputError (exit code 2) when an input ended inside a record, unless
    `allow_truncated`; called once the command's output and summary are written, so nothing
    read before the cut is lost (tshark does the same with a capture cut short)."""
    cut = tally.cut_short()
    if cut and not allow_truncated:
        reasons = ", ".join(f"{n} {reason}" for reason, n in cut.items())
        raise TruncatedInputError(
            f"input cut short ({reasons}); everything before the cut was read and written "
            "(--allow-truncated accepts this)")
