"""The `restscope tail` terminal dashboard: rich tables refreshed in place, keys to sort/filter.

Keys (only when stdin is a terminal; it is put in cbreak mode and restored on exit):
  1-9 sort by that column (again: reverse), s next sort column, r reverse,
  / type a filter pattern (Enter applies, Esc cancels), c clear the filter, q quit.

Rendering is a pure function of the monitor and the view state (`render`), so it is tested
without a terminal; `run_dashboard` adds the rich Live loop and the key reader.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from observe.errors import InputError
from observe.live.events import format_time
from observe.live.monitor import LiveMonitor
from observe.live.snapshot import COLUMNS, SORT_KEYS, Row, compile_filter, rows

NEW_HIGHLIGHT_SECONDS = 30.0


@dataclass
class ViewState:
    sort: str = "count"
    descending: bool | None = None
    pattern: str = ""
    typing: str | None = None  # the filter being typed after '/'
    quit: bool = False
    new_since: dict[str, float] = field(default_factory=dict)  # operation -> wall time

    def handle_key(self, key: str) -> None:
        if self.typing is not None:
            if key in ("\r", "\n"):
                self.pattern, self.typing = self.typing, None
            elif key == "\x1b":
                self.typing = None
            elif key in ("\x7f", "\b"):
                self.typing = self.typing[:-1]
            elif key.isprintable():
                self.typing += key
            return
        if key == "q":
            self.quit = True
        elif key == "/":
            self.typing = ""
        elif key == "c":
            self.pattern = ""
        elif key == "r":
            self.descending = not self._descending()
        elif key == "s":
            index = (SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)
            self.sort, self.descending = SORT_KEYS[index], None
        elif key.isdigit() and 1 <= int(key) <= len(SORT_KEYS):
            column = SORT_KEYS[int(key) - 1]
            if column == self.sort:
                self.descending = not self._descending()
            else:
                self.sort, self.descending = column, None

    def _descending(self) -> bool:
        return COLUMNS[self.sort][1] if self.descending is None else self.descending


def _num(value: float | None, scale: float = 1000.0) -> str:
    return "-" if value is None else f"{value * scale:.1f}"


def _clock(timestamp: float | None) -> str:
    text = format_time(timestamp)
    return text[11:19] if len(text) > 19 else text


NARROW = 110  # below this many columns the first/last-seen columns are left out


def operations_table(table_rows: list[Row], state: ViewState, now_wall: float,
                     width: int = 200) -> Table:
    table = Table(expand=True, header_style="bold")
    shown = SORT_KEYS if width >= NARROW else [k for k in SORT_KEYS if k not in ("first", "last")]
    for number, key in enumerate(SORT_KEYS, 1):
        if key not in shown:
            continue
        header = COLUMNS[key][0]
        if key == state.sort:
            header += " ▼" if state._descending() else " ▲"
        if key == "operation":
            table.add_column(f"{number} {header}", ratio=1, min_width=16, no_wrap=True,
                             overflow="ellipsis")
        else:
            table.add_column(f"{number} {header}", justify="right", no_wrap=True)
    for row in table_rows:
        created = state.new_since.get(row.operation)
        is_new = created is not None and now_wall - created < NEW_HIGHLIGHT_SECONDS
        error_style = "red" if row.error_ratio >= 0.05 else ""
        cells: list[Text | str] = [
            Text(("NEW " if is_new else "") + row.operation,
                 style="bold green" if is_new else ""),
            str(row.count), f"{row.rate:.2f}",
            Text(f"{row.error_ratio * 100:.1f}", style=error_style),
            _num(row.p50), _num(row.p95), _num(row.p99),
        ]
        if width >= NARROW:
            cells += [_clock(row.first), _clock(row.last)]
        table.add_row(*cells)
    return table


def render(monitor: LiveMonitor, state: ViewState, source: str, now_wall: float,
           width: int = 200, interactive: bool = True) -> Group:
    try:
        pattern = compile_filter(state.pattern)
    except InputError:  # typed live: an unfinished pattern is taken literally
        pattern = re.compile(re.escape(state.pattern), re.IGNORECASE)
    table_rows = rows(monitor, state.sort, state.descending, pattern)
    head = Text.assemble(
        ("restscope tail ", "bold"), source, "  ",
        f"{monitor.table.total} exchanges, {len(monitor.table)} operations, "
        f"{monitor.drift_total} drift findings",
    )
    if state.typing is not None:
        head.append(f"\nfilter: {state.typing}█", style="yellow")
    elif state.pattern:
        head.append(f"\nfilter: {state.pattern} (c clears)", style="yellow")
    drift = Table(title="recent drift", expand=True, show_header=True, header_style="bold")
    for name in ("last seen", "operation", "rule", "location", "count"):
        drift.add_column(name, overflow="ellipsis", no_wrap=True)
    for record in list(monitor.recent_drifts)[-8:][::-1]:
        drift.add_row(_clock(record.time), record.operation, record.drift.rule,
                      record.drift.location, str(record.count))
    parts: list[RenderableType] = [head, operations_table(table_rows, state, now_wall, width),
                                   drift]
    if interactive:
        parts.append(Text("keys: 1-9 sort  s next  r reverse  / filter  c clear  q quit",
                          style="dim"))
    return Group(*parts)


@contextlib.contextmanager
def key_reader(stream: IO[str] | None) -> Iterator[Callable[[], list[str]]]:
    """Yields a function returning the keys pressed since the last call (none without a tty)."""
    if stream is None or not stream.isatty():
        yield list
        return
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    keys: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def read_keys() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                data = os.read(fd, 32).decode("utf-8", "replace")
                with lock:
                    keys.extend(data)

    def take() -> list[str]:
        with lock:
            pressed = keys[:]
            keys.clear()
        return pressed

    tty.setcbreak(fd)
    thread = threading.Thread(target=read_keys, daemon=True)
    thread.start()
    try:
        yield take
    finally:
        stop.set()
        thread.join(timeout=1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_dashboard(
    monitor: LiveMonitor,
    poll: Callable[[], int],
    state: ViewState,
    source: str,
    interval: float = 0.25,
    console: Console | None = None,
) -> None:
    """Refresh the dashboard until 'q' or Ctrl-C; `poll()` feeds new exchanges to the monitor."""
    console = console or Console()
    known = {stats.name for stats in monitor.table}
    with key_reader(sys.stdin) as take_keys, Live(
        render(monitor, state, source, time.time(), console.width), console=console,
        auto_refresh=False, screen=False, transient=False,
    ) as live:
        try:
            while not state.quit:
                poll()
                now = time.time()
                for stats in monitor.table:
                    if stats.name not in known:
                        known.add(stats.name)
                        state.new_since[stats.name] = now
                for key in take_keys():
                    state.handle_key(key)
                live.update(render(monitor, state, source, now, console.width), refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
