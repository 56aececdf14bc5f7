"""Terminal output for batch commands: the progress bar, one line per exchange, the summary."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from observe.exchange import Exchange
from observe.sources import ReadOptions, read_source
from observe.tally import Tally

PROGRESS_MIN_BYTES = 8 * 1024 * 1024

stderr = Console(stderr=True, highlight=False)
stdout = Console(highlight=False, soft_wrap=True)


def _input_size(path: Path) -> int:
    try:
        if path.is_dir():
            return 0
        return path.stat().st_size
    except OSError:
        return 0


def progress_reader(
    paths: Iterable[str], options: ReadOptions, tally: Tally
) -> Iterator[Exchange]:
    """Read sources in order, with a progress bar on stderr when the input is large."""
    path_list = [Path(p) for p in paths]
    total = sum(_input_size(p) for p in path_list)
    show = stderr.is_terminal and total >= PROGRESS_MIN_BYTES and not os.environ.get("CI")
    if not show:
        for path in path_list:
            yield from read_source(path, options, tally)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task("reading", total=total)
        for path in path_list:
            progress.update(task, description=f"reading {path.name}")
            watched = dataclasses.replace(
                options, on_bytes=lambda n: progress.advance(task, n)
            )
            yield from read_source(path, watched, tally)


def exchange_line(exchange: Exchange) -> str:
    request = exchange.request
    status = str(exchange.response.status) if exchange.response else "---"
    line = f"{request.method:7} {status}  {request.url}"
    if exchange.incomplete:
        line += f"  [incomplete: {exchange.incomplete}]"
    return line


def print_exchange_line(exchange: Exchange) -> None:
    stdout.print(exchange_line(exchange), markup=False)


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
    names = ", ".join(str(s) for s in sources)
    stderr.print(f"[bold]summary[/bold] ({names})")
    for line in summary_lines(tally):
        stderr.print(line, markup=False)
