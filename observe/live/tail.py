"""The three ways `restscope tail` reports a capture log: a snapshot, event lines, a dashboard.

All three share one loop body: `TailSession.poll()` reads what the log gained (rotation and
partial lines handled by `LogFollower`) and feeds it to a `LiveMonitor`, returning the events.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from observe.live.capture_log import LogFollower
from observe.live.checking import Drift
from observe.live.events import Event
from observe.live.monitor import LiveMonitor
from observe.live.snapshot import compile_filter, rows, snapshot_dict
from observe.tally import Tally


class TailSession:
    """A capture log followed into a monitor."""

    def __init__(self, path: Path, check: Callable[..., list[Drift]] | None,
                 summary_every: float = 60.0, wait: bool = False) -> None:
        self.path = path
        self.tally = Tally()
        self.follower = LogFollower(path, self.tally, wait=wait)
        self.monitor = LiveMonitor(check, summary_every=summary_every)

    def poll(self) -> list[Event]:
        events: list[Event] = []
        for exchange in self.follower.poll():
            self.tally.exchange(exchange.incomplete)
            events.extend(self.monitor.observe(exchange))
        return events


def print_snapshot(session: TailSession, as_json: bool, sort: str, pattern: str | None,
                   echo: Callable[[str], None]) -> None:
    """`tail --once`: one table (or one JSON object) of everything in the log now."""
    session.poll()
    compiled = compile_filter(pattern)
    table_rows = rows(session.monitor, sort, None, compiled)
    if as_json:
        data = snapshot_dict(session.monitor, table_rows)
        data["skipped"] = session.tally.to_dict()["skipped"]
        echo(json.dumps(data, sort_keys=True, ensure_ascii=False))
        return
    from rich.console import Console

    from observe.live.dashboard import ViewState, render

    state = ViewState(sort=sort, pattern=pattern or "")
    console = Console(width=160, soft_wrap=False)
    console.print(render(session.monitor, state, str(session.path), time.time(), console.width,
                         interactive=False))


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def follow_events(session: TailSession, as_json: bool, pattern: str | None,
                  echo: Callable[[str], None], interval: float = 0.2,
                  duration: float | None = None) -> None:
    """`tail --follow`: one line per event until interrupted (or `duration` seconds)."""
    compiled = compile_filter(pattern)
    stop = _Stop()
    previous = signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()

    def emit(event: Event) -> None:
        if compiled is not None and event.operation and not compiled.search(event.operation):
            return
        echo(event.to_json() if as_json else event.line())

    try:
        while not stop.requested:
            for event in session.poll():
                emit(event)
            summary = session.monitor.summary_due(time.time())
            if summary is not None:
                emit(summary)
            if duration is not None and time.monotonic() - started >= duration:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    emit(session.monitor.summary(session.monitor.table.latest))
