"""What `restscope capture` runs: every source in order, through the plugin chain, serialised
for the chosen output (a JSONL line, a HAR entry or a terminal line).

A large pcap/pcapng source is read by `jobs` processes at once: each reads the whole file but
reassembles only its shard of the connections
(`pcap_source.read_connection_shard`), runs the plugin chain and serialises. The parent reads
shard 0 itself (a smaller share: it also merges and writes), merges its items and the
workers' by their keys into the order of a one-process read and renumbers the origin indexes,
so the output does not depend on `jobs`.

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
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

from observe.errors import RestscopeError
from observe.exchange import Exchange
from observe.options import usable_cores
from observe.pipeline import PluginChain
from observe.report import ByteProgress, exchange_line
from observe.sources import ReadOptions, detect_format, read_source
from observe.tally import Tally

SHARD_MIN_BYTES = 4 << 20  # smaller captures are not worth reading in several processes
_BATCH_BYTES = 256 << 10  # a worker sends its items in batches of about this size
_BATCH_ITEMS = 512

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


# each process reads the whole file, so beyond a few processes the reading they all repeat
# outweighs the share of the work each one saves (and memory grows with every process)
MAX_DEFAULT_JOBS = 8


def default_jobs() -> int:
    """The cores this process may use, up to MAX_DEFAULT_JOBS."""
    return min(usable_cores(), MAX_DEFAULT_JOBS)


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
        serialize = kind.serialize
        for exchange in chain.run(read_source(path, progress.watching(options), tally)):
            tally.exchange(exchange.incomplete)
            yield serialize(exchange)


def _worth_sharding(path: str) -> bool:
    """A large pcap/pcapng file, on a system that can fork (workers inherit the loaded
    plugins and the open state instead of importing everything again)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        return os.path.getsize(path) >= SHARD_MIN_BYTES and detect_format(Path(path)) == "pcap"
    except (OSError, RestscopeError):
        return False  # the one-process read reports it


# the parent reads a smaller share of the connections than each worker: it also merges and
# writes everything (measured on bench/capture.py's capture: about even at 0.8)
_PARENT_WEIGHT = 0.8


def _sharded(
    path: Path,
    options: ReadOptions,
    chain: PluginChain,
    tally: Tally,
    kind: OutputKind,
    jobs: int,
    progress: ByteProgress,
) -> Iterator[Item]:
    """Read `path` in `jobs` connection shards: shard 0 here, the others in worker processes;
    merge by key, renumber the origin indexes."""
    context = multiprocessing.get_context("fork")
    weights = [_PARENT_WEIGHT] + [1.0] * (jobs - 1)
    sys.stdout.flush()  # a forked child must not write the parent's buffered output again
    sys.stderr.flush()
    workers: list[_Worker] = []
    try:
        for shard in range(1, jobs):
            receiver, sender = context.Pipe(duplex=False)
            _widen(sender)
            spool = tempfile.TemporaryFile(prefix="restscope-capture-")  # noqa: SIM115 (stop)
            process = context.Process(
                target=_work,
                args=(sender, spool.fileno(), path, options, chain, kind.name, shard, weights),
                name=f"restscope-capture-{shard}", daemon=True,
            )
            workers.append(_Worker(shard, process, receiver, spool))
            process.start()
            sender.close()
        own = _shard_items(path, progress.watching(options), chain, tally, kind, 0, weights)
        streams = [w.items(tally, kind.text) for w in workers]
        text = kind.text
        for index, (_, item, span) in enumerate(heapq.merge(own, *streams)):
            if item is None:
                continue  # a plugin dropped it: it still took its index
            if span is not None:
                start, end = span
                if text:
                    item = item[:start] + str(index) + item[end:]
                else:
                    item = b"".join((item[:start], b"%d" % index, item[end:]))
            yield item
    finally:
        for worker in workers:
            worker.stop()


def _shard_items(
    path: Path, options: ReadOptions, chain: PluginChain, tally: Tally, kind: OutputKind,
    shard: int, weights: list[float],
) -> Iterator[tuple[Any, Item | None, tuple[int, int] | None]]:
    """One shard's exchanges after the chain, serialised: (key, item or None if a plugin
    dropped it, where the item's origin index stands or None to leave it)."""
    from observe.capture.pcap_source import read_connection_shard

    serialize, index_span = kind.serialize, kind.index_span
    apply = chain.apply
    for key, exchange in read_connection_shard(path, options, tally, shard, len(weights),
                                               weights):
        result = apply(exchange)
        if result is None:
            yield key, None, None
            continue
        tally.exchange(result.incomplete)
        item = serialize(result)
        # the merger renumbers the origin index, unless a plugin gave another origin
        if index_span is not None and result.origin == exchange.origin:
            yield key, item, index_span(item, bool(result.meta))
        else:
            yield key, item, None


_FALLOCATE: Any = None  # libc's fallocate, False where there is none


def release_space(fd: int, offset: int, length: int) -> bool:
    """Give back the disk (or tmpfs memory) behind a region of a file already read, keeping
    its size (Linux `fallocate` punching a hole): a spool file then holds only what the parent
    has not read yet. False where the system or file system cannot."""
    global _FALLOCATE
    if _FALLOCATE is None:
        _FALLOCATE = False
        if sys.platform.startswith("linux"):
            import ctypes
            import ctypes.util

            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
                _FALLOCATE = libc.fallocate
                _FALLOCATE.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                                       ctypes.c_int64)
            except (OSError, AttributeError):
                _FALLOCATE = False
    if not _FALLOCATE or length <= 0:
        return False
    # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    return bool(_FALLOCATE(fd, 0x02 | 0x01, offset, length) == 0)


def _widen(connection: Connection) -> None:
    """Make a pipe's buffer as large as the system allows (Linux: 1 MiB by default), so a
    worker's messages, which are small, seldom wait for the parent."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
    except (ImportError, OSError):
        pass


class _Worker:
    """The parent's end of one worker: its process, the pipe its messages come through and
    the spool file its items are written to (so the worker never waits for the parent to read
    them; the parent reads each batch with one `pread`)."""

    def __init__(self, shard: int, process: Any, receiver: Connection, spool: IO[bytes]) -> None:
        # the spool is an unlinked temporary file (TMPDIR); what the parent has read is
        # released at once (`release_space`), so it holds about one batch at a time
        self.shard = shard
        self.process = process
        self.receiver = receiver
        self.spool = spool

    def items(self, tally: Tally, text: bool) -> Iterator[tuple[Any, Item | None, Any]]:
        """The worker's items in order, as `_shard_items` gives them (JSONL lines as
        memoryviews of the batch read back); its tally is merged into `tally` at the end."""
        fd = self.spool.fileno()
        while True:
            try:
                message = pickle.loads(self.receiver.recv_bytes())
            except (EOFError, OSError):
                self.process.join(5)
                raise RestscopeError(
                    f"capture worker {self.shard} stopped unexpectedly "
                    f"(exit code {self.process.exitcode})"
                ) from None
            if message[0] == "items":
                _, entries, offset, length = message
                view = memoryview(os.pread(fd, length, offset))
                release_space(fd, offset, length)
                for key, start, end, span in entries:
                    if start < 0:
                        yield key, None, None
                    elif text:
                        yield key, str(view[start:end], "utf-8"), span
                    else:
                        yield key, view[start:end], span
            elif message[0] == "done":
                tally.merge(message[1])
                return
            elif message[0] == "error":
                raise message[1]
            else:
                raise RestscopeError(f"capture worker {self.shard} failed: {message[1]}")

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        if self.process.pid is not None:
            self.process.join(5)
        self.receiver.close()
        self.spool.close()


def _work(
    sender: Connection, spool: int, path: Path, options: ReadOptions, chain: PluginChain,
    kind_name: str, shard: int, weights: list[float],
) -> None:
    """A worker process: serialise one shard's items, write them to the spool file in batches
    and tell the parent where each batch is."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    tally = Tally()
    chain.tally = tally
    kind = output_kind(kind_name)
    read_options = dataclasses.replace(options, on_bytes=None)
    written = 0

    def send(message: tuple[Any, ...]) -> None:
        sender.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def flush(entries: list[tuple[Any, ...]], payload: list[bytes]) -> None:
        nonlocal written
        data = memoryview(b"".join(payload))
        done = 0
        while done < len(data):
            done += os.pwrite(spool, data[done:], written + done)
        send(("items", entries, written, len(data)))
        written += len(data)

    try:
        entries: list[tuple[Any, ...]] = []
        payload: list[bytes] = []
        size = 0
        for key, item, span in _shard_items(path, read_options, chain, tally, kind, shard,
                                            weights):
            if item is None:
                entries.append((key, -1, -1, None))
                continue
            data = item.encode("utf-8") if isinstance(item, str) else item
            entries.append((key, size, size + len(data), span))
            payload.append(data)
            size += len(data)
            if size >= _BATCH_BYTES or len(entries) >= _BATCH_ITEMS:
                flush(entries, payload)
                entries, payload, size = [], [], 0
        flush(entries, payload)
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
