"""Peak memory of a process and all its descendants, sampled from /proc (Linux).

`ru_maxrss` from `wait4` is the peak of the single largest process of a tree; a command that
forks workers uses more than that. `TreeMemory(pid)` samples every process of the tree every
`interval` seconds and keeps the peak of the summed RSS (pages shared between forked
processes counted in each) and of the summed PSS (shared pages split between their users: the
tree's real footprint). Sampling can miss a short peak, so both are lower bounds.
"""

from __future__ import annotations

import os
import threading


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(parent, []).append(int(name))
    return tree


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory:
    """Samples the memory of `pid` and its descendants until `stop()`."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self.most_processes = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            tree = _children()
            pids, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo.extend(tree.get(pid, ()))
            sizes = [_rss_pss_kb(pid) for pid in pids]
            rss = sum(r for r, _ in sizes) / 1024
            pss = sum(p for _, p in sizes) / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)
            self.most_processes = max(self.most_processes, sum(1 for r, _ in sizes if r))
            self._done.wait(self.interval)

    def stop(self) -> TreeMemory:
        self._done.set()
        self._thread.join()
        return self
