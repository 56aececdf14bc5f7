"""Rolling summary files written by live agents (`restscope sniff|proxy --summary-dir DIR`).

Each agent folds the exchanges it sees into a shape summary and, every `every` seconds (and at
exit), writes the summary of that period to `DIR/<agent>-<period start>-<seq>.summary`
atomically (temporary file + rename), then starts a new period. Summary files from any number of
agents and periods merge into one spec: `restscope specs merge DIR/*.summary -o all.summary`,
`restscope specs infer DIR/*.summary -o api.yaml`, or the same with `--dask`.

`observe` cannot import `specs`; the live commands load this class through the
`restscope.summarizers` entry point (name `openapi`).

Invariants: a written file is always whole (readers never see a partial file); nothing an agent
saw is lost between periods (each exchange lands in exactly one file).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from observe.exchange import Exchange
from specs.summary import ApiSummary
from specs.summary_file import dump_summary


class RollingSummaryWriter:
    """Fold exchanges into a summary; write it out every `every` seconds."""

    def __init__(self, directory: str | Path, every: float = 60.0,
                 agent: str | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.every = every
        self.agent = agent or f"{socket.gethostname()}-{os.getpid()}"
        self._now = time.time
        self._lock = threading.Lock()
        self._summary = ApiSummary()
        self._count = 0
        self._period_start = self._now()
        self._sequence = 0
        self.written: list[Path] = []

    def add(self, exchange: Exchange) -> Path | None:
        """Fold one exchange in; returns the file written when a period just ended."""
        with self._lock:
            self._summary.add(exchange, f"{self.agent}#{self._count:09d}")
            self._count += 1
            due = self._now() - self._period_start >= self.every
        return self.flush() if due else None

    def flush(self) -> Path | None:
        """Write the current period's summary (if it saw anything) and start a new period."""
        with self._lock:
            if self._count == 0:
                self._period_start = self._now()
                return None
            summary, self._summary = self._summary, ApiSummary()
            self._count = 0
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._period_start))
            self._period_start = self._now()
            self._sequence += 1
            name = f"{self.agent}-{stamp}-{self._sequence:05d}.summary"
        target = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        temporary.write_text(dump_summary(summary), encoding="utf-8")
        os.replace(temporary, target)
        self.written.append(target)
        return target

    def close(self) -> Path | None:
        return self.flush()
