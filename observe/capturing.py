"""What `restscope capture` runs: every source in order, through the plugin chain, serialised
for the chosen output (a JSONL line, a HAR entry or a terminal line).

A large pcap/pcapng source is read by `jobs` worker processes at once: each reads the whole
file but reassembles only its shard of the connections
(`pcap_source.read_connection_shard`), runs the plugin chain and serialises. The parent merges
the workers' items by their keys into the order of a one-process read and renumbers the
origin indexes, so the output does not depend on `jobs`.

Invariants:
1. With the same sources and options, the bytes written are the same for every `jobs`
   (within the limits `read_connection_shard` states: captures with more than 65,536
   connections open at once, or a plugin that rewrites origins).
2. The workers' tallies add up to a one-process run's (`Tally.merge`).
3. An error a worker raises on purpose (a `RestscopeError`: unusable input, `--strict`) is
   raised in the parent as it is; a worker that crashes or dies is reported as a
   `RestscopeError` naming it. Workers never outlive the run.
"""

from __future__ import annotations

import dataclasses
import heapq
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from observe.errors import RestscopeError
from observe.exchange import Exchange
from observe.pipeline import PluginChain
from observe.report import ByteProgress, exchange_line
from observe.sources import ReadOptions, detect_format, read_source
from observe.tally import Tally

SHARD_MIN_BYTES = 4 << 20  # smaller captures are not worth reading in several processes
_BATCH_BYTES = 256 << 10  # a worker sends its items in batches of about this size
_BATCH_ITEMS = 512
_QUEUED_BATCHES = 16  # per worker, received but not yet merged

Item = Any  # bytes or a memoryview (a JSONL line), or str (a HAR entry, a terminal line)


@dataclasses.dataclass(frozen=True)
class OutputKind:
    """How exchanges are serialised for one output, and where an item holds its origin index
    (None: the item does not show it)."""

    name: str
    serialize: Callable[[Exchange], Item]
    # (item, whether the exchange has meta) -> where the origin index's digits stand
    index_span: Callable[[Item, bool], tuple[int, int]] | None
    text: bool  # items are str (sent between processes as UTF-8)


def output_kind(name: str) -> OutputKind:
    """"jsonl", "har" or "lines" (the terminal listing)."""
    if name == "jsonl":
        from observe.formats.jsonl import jsonl_line, origin_index_span

        return OutputKind(name, jsonl_line, origin_index_span, False)
    if name == "har":
        from observe.formats.har import entry_text
        from observe.formats.har import origin_index_span as har_span

        return OutputKind(name, entry_text, har_span, True)
    if name == "lines":
        return OutputKind(name, exchange_line, None, True)
    raise ValueError(f"no output kind {name!r}")


def default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def capture_items(
    paths: list[str],
    options: ReadOptions,
    chain: PluginChain,
    tally: Tally,
    kind: OutputKind,
    jobs: int,
    progress: ByteProgress,
) -> Iterator[Item]:
    """Every source's exchanges after the chain, serialised, in order; counted in `tally`."""
    for path in paths:
        progress.describe(Path(path))
        if jobs > 1 and _worth_sharding(path):
            yield from _sharded(Path(path), options, chain, tally, kind, jobs, progress)
            continue
        watched = dataclasses.replace(options, on_bytes=progress.advance) if progress.shown \
            else options
        serialize = kind.serialize
        for exchange in chain.run(read_source(path, watched, tally)):
            tally.exchange(exchange.incomplete)
            yield serialize(exchange)


def _worth_sharding(path: str) -> bool:
    try:
        return os.path.getsize(path) >= SHARD_MIN_BYTES and detect_format(Path(path)) == "pcap"
    except (OSError, RestscopeError):
        return False  # the one-process read reports it


def _sharded(
    path: Path,
    options: ReadOptions,
    chain: PluginChain,
    tally: Tally,
    kind: OutputKind,
    jobs: int,
    progress: ByteProgress,
) -> Iterator[Item]:
    """Read `path` in `jobs` connection shards in worker processes; merge, renumber."""
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()  # a forked child must not write the parent's buffered output again
    sys.stderr.flush()
    workers: list[_Worker] = []
    try:
        for shard in range(jobs):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(sender, path, options, chain, kind.name, shard, jobs),
                name=f"restscope-capture-{shard}", daemon=True,
            )
            process.start()
            sender.close()
            workers.append(_Worker(shard, process, receiver))
        for worker in workers:
            worker.start_receiving()
        streams = [w.items(tally, progress if w.shard == 0 else None) for w in workers]
        text = kind.text
        for index, (_, view, start, end, span) in enumerate(heapq.merge(*streams)):
            if start < 0:
                continue  # a plugin dropped it: it still took its index
            if span is None:
                item: Item = view[start:end]
            else:
                item = b"".join((view[start:start + span[0]], b"%d" % index,
                                 view[start + span[1]:end]))
            yield str(item, "utf-8") if text else item
    finally:
        for worker in workers:
            worker.stop()


class _Worker:
    """The parent's end of one worker: its process, and a thread that receives its batches
    into a bounded queue (so no worker waits on the pipe while the merge waits on another)."""

    def __init__(self, shard: int, process: Any, receiver: Connection) -> None:
        self.shard = shard
        self.process = process
        self.receiver = receiver
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_BATCHES)
        self._thread = threading.Thread(target=self._receive, daemon=True,
                                        name=f"restscope-receive-{shard}")

    def start_receiving(self) -> None:
        self._thread.start()

    def _receive(self) -> None:
        try:
            while True:
                self.queue.put(self.receiver.recv_bytes())
        except (EOFError, OSError):
            self.queue.put(None)

    def items(self, tally: Tally, progress: ByteProgress | None) -> Iterator[tuple[Any, ...]]:
        """The worker's items in order: (key, payload view, start, end, span) with the item at
        view[start:end] (start -1: a plugin dropped it) and span where its origin index's
        digits stand (None: keep them); its tally is merged into `tally` at the end."""
        reported = 0
        while True:
            message = pickle.loads(self._next())
            if message[0] == "items":
                _, entries, done = message
                view = memoryview(self._next())
                if progress is not None and done > reported:
                    progress.advance(done - reported)
                    reported = done
                for key, start, end, span in entries:
                    yield key, view, start, end, span
            elif message[0] == "done":
                tally.merge(message[1])
                return
            elif message[0] == "error":
                raise message[1]
            else:
                raise RestscopeError(f"capture worker {self.shard} failed: {message[1]}")

    def _next(self) -> bytes:
        data = self.queue.get()
        if data is None:
            self.process.join(5)
            raise RestscopeError(
                f"capture worker {self.shard} stopped unexpectedly "
                f"(exit code {self.process.exitcode})"
            )
        return data

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        self.receiver.close()


def _work(
    sender: Connection, path: Path, options: ReadOptions, chain: PluginChain, kind_name: str,
    shard: int, shards: int,
) -> None:
    """A worker process: read one connection shard, run the chain, serialise, send batches."""
    from observe.capture.pcap_source import read_connection_shard

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    tally = Tally()
    chain.tally = tally
    kind = output_kind(kind_name)
    consumed = 0

    def on_bytes(n: int) -> None:
        nonlocal consumed
        consumed += n

    read_options = dataclasses.replace(options, on_bytes=on_bytes if shard == 0 else None)
    index_span, text = kind.index_span, kind.text

    def send(message: tuple[Any, ...]) -> None:
        sender.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    try:
        entries: list[tuple[Any, ...]] = []
        payload: list[bytes] = []
        size = 0
        for key, exchange in read_connection_shard(path, read_options, tally, shard, shards):
            result = chain.apply(exchange)
            if result is None:
                entries.append((key, -1, -1, None))
                continue
            tally.exchange(result.incomplete)
            item = kind.serialize(result)
            # the parent renumbers the origin index, unless a plugin gave another origin
            span = (
                index_span(item, bool(result.meta))
                if index_span is not None and result.origin == exchange.origin else None
            )
            if text:
                item = item.encode("utf-8")
            entries.append((key, size, size + len(item), span))
            payload.append(item)
            size += len(item)
            if size >= _BATCH_BYTES or len(entries) >= _BATCH_ITEMS:
                send(("items", entries, consumed))
                sender.send_bytes(b"".join(payload))
                entries, payload, size = [], [], 0
        send(("items", entries, consumed))
        sender.send_bytes(b"".join(payload))
        send(("done", tally))
    except BrokenPipeError:
        pass  # the parent stopped reading: nothing left to tell it
    except RestscopeError as exc:
        try:
            send(("error", exc))
        except (pickle.PicklingError, TypeError, AttributeError):
            send(("failed", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:  # report it to the parent rather than print a traceback here
        send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
