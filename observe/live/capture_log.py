"""The rolling capture log: JSONL exchanges (the `observe.formats.jsonl` format), rotated by size.

Writing: `CaptureLogWriter(path, max_bytes, backups)` appends one line per exchange, each in one
`write` call and flushed, so a reader sees whole lines or a partial last line, never interleaved
ones. When the next line would pass `max_bytes`, `log.jsonl` becomes `log.1.jsonl`, `log.1`
becomes `log.2` ... up to `backups` (older ones are deleted) and a new `log.jsonl` starts (with
the format's header line, if it has one). Exchanges are written as given: the live sources redact
them in the plugin chain before they get here.

Reading: `LogFollower(path).poll()` returns the exchanges written since the last call without
blocking. It starts with the rotated files (oldest first), keeps a partial last line until its
newline arrives, and on rotation (the path names a new file, or the file got shorter) drains the
old file through its open handle, reads the files rotated after it, then continues with the
new one. Invariants of reading:
1. Files are told apart by inode; the file being read stays open until the switch is done, so
   its inode cannot be reused, and the files rotated after it are the ones below it.
2. The live and rotated files are opened together as one consistent view (every name still
   points at the file opened for it, no rotation half done), retried until it is; files are
   read through their handles, so a rename after opening loses nothing.
3. Only a log rotated past `backups` between two polls loses data, and that is counted.
Lines that do not decode are counted in the tally ("record", reason) and skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from observe.errors import InputError
from observe.exchange import Exchange
from observe.tally import Tally

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_BACKUPS = 5
MAX_BACKUPS = 10_000
SNAPSHOT_ATTEMPTS = 100
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class LineCodec:
    """How exchanges become lines and back (the JSONL format's functions)."""

    header: Callable[[], str | None]
    encode: Callable[[Exchange], str]
    # a line -> an Exchange, or None for a line that is not an exchange (the header)
    decode: Callable[[str], Exchange | None]


def jsonl_codec() -> LineCodec:
    """The codec of `observe.formats.jsonl`, loaded when first needed."""
    from observe.live._jsonl_adapter import codec

    return codec()


def rotated_path(path: Path, index: int) -> Path:
    """`log.jsonl`, 2 -> `log.2.jsonl` (index 0 is the live file)."""
    if index == 0:
        return path
    suffix = path.suffix or ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    return path.with_name(f"{stem}.{index}{suffix}")


class CaptureLogWriter:
    """Appends exchanges to a size-rotated JSONL log."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
        codec: LineCodec | None = None,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.codec = codec or jsonl_codec()
        self.written = 0
        self.rotations = 0
        self.written_in_file = False  # no rotation before the file holds one exchange
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle: IO[str] = open(  # noqa: SIM115 - closed by close()
                self.path, "a", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write the capture log ({exc.strerror})") from exc
        self._size = self._handle.tell()
        if self._size == 0:
            self._write_header()

    def _write_header(self) -> None:
        header = self.codec.header()
        if header:
            self._emit(header)

    def _emit(self, line: str) -> None:
        data = line if line.endswith("\n") else line + "\n"
        self._handle.write(data)
        self._handle.flush()
        self._size += len(data.encode("utf-8"))

    def write(self, exchange: Exchange) -> None:
        line = self.codec.encode(exchange)
        size = len(line.encode("utf-8")) + 1
        if self._size and self._size + size > self.max_bytes and self.written_in_file:
            self.rotate()
        self._emit(line)
        self.written += 1
        self.written_in_file = True

    def rotate(self) -> None:
        """Start a new live file; shift the older ones up by one."""
        self._handle.close()
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            highest = 0  # the rotated files are log.1 ... log.<highest>, without gaps
            while highest < self.backups and rotated_path(self.path, highest + 1).exists():
                highest += 1
            rotated_path(self.path, self.backups).unlink(missing_ok=True)
            for index in range(min(highest, self.backups - 1), -1, -1):
                os.replace(rotated_path(self.path, index), rotated_path(self.path, index + 1))
        self._handle = open(self.path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._size = 0
        self.written_in_file = False
        self.rotations += 1
        self._write_header()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()

    def __enter__(self) -> CaptureLogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class LogFollower:
    """Reads a rolling capture log incrementally; `poll()` never blocks."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        tally: Tally | None = None,
        codec: LineCodec | None = None,
        wait: bool = False,
    ) -> None:
        self.path = Path(path)
        self.tally = tally if tally is not None else Tally()
        self.codec = codec or jsonl_codec()
        self.wait = wait  # a missing log is waited for (followers) instead of an error
        self._handle: IO[bytes] | None = None
        self._inode: tuple[int, int] | None = None
        self._partial = b""
        self._started = False
        self.lines = 0

    def _decode_lines(self, data: bytes, out: list[Exchange]) -> None:
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            if not raw.strip():
                continue
            self.lines += 1
            try:
                exchange = self.codec.decode(raw.decode("utf-8"))
            except (InputError, ValueError, KeyError, TypeError) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                self.tally.skip("record", f"bad capture log line: {reason}")
                continue
            if exchange is not None:
                out.append(exchange)

    def _finish_file(self) -> None:
        if self._partial.strip():
            self.tally.skip("record", "capture log line cut short")
        self._partial = b""

    def _open(self, path: Path) -> tuple[IO[bytes], tuple[int, int]] | None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
        stat = os.fstat(handle.fileno())
        return handle, (stat.st_dev, stat.st_ino)

    def _drain(self, out: list[Exchange]) -> None:
        assert self._handle is not None
        while True:
            data = self._handle.read(_READ_CHUNK)
            if not data:
                return
            self._decode_lines(data, out)

    @staticmethod
    def _exists(path: Path) -> bool:
        return _inode(path) is not None

    def _snapshot(self) -> tuple[tuple[IO[bytes], tuple[int, int]] | None,
                                 list[tuple[IO[bytes], tuple[int, int]]]]:
        """The live file and the rotated ones (newest first), opened, as one consistent view.

        A rotation while the files are being opened shifts names under us; the view is kept
        only when every name still points at the file opened for it, else it is taken again.
        """
        for _attempt in range(SNAPSHOT_ATTEMPTS):
            current = self._open(self.path)
            backups: list[tuple[IO[bytes], tuple[int, int]]] = []
            hole = False
            for index in range(1, MAX_BACKUPS + 1):  # log.1, log.2 ... to two missing names
                opened = self._open(rotated_path(self.path, index))
                if opened is None:
                    # a rotation moves one missing name down the chain: look past it
                    if self._exists(rotated_path(self.path, index + 1)):
                        hole = True
                        continue
                    break
                backups.append(opened)
            names = [self.path] + [rotated_path(self.path, i) for i in range(1, len(backups) + 1)]
            opened_inodes = [current[1] if current else None] + [inode for _, inode in backups]
            settled = not hole and (current is not None or not backups)
            if settled and [_inode(name) for name in names] == opened_inodes and \
                    _inode(rotated_path(self.path, len(backups) + 1)) is None:
                return current, backups
            if _attempt == SNAPSHOT_ATTEMPTS - 1:
                break
            for handle, _ in ([current] if current else []) + backups:
                handle.close()
        self.tally.count("capture log views taken while rotating")
        return current, backups

    def _switch_to_current(self, old: tuple[int, int] | None, out: list[Exchange]) -> None:
        """Open the live file, then read every rotated file newer than `old`, oldest first.

        Files are opened before they are read and told apart by inode (`old` is still open, so
        its inode cannot have been reused), so a rotation in the middle loses nothing: a file
        renamed after it was opened is still read through its handle, and a live file that
        rotates after it was opened is noticed at the next poll.
        """
        current, backups = self._snapshot()
        inodes = [inode for _, inode in backups]
        if old is not None and old in inodes:
            newer = backups[: inodes.index(old)]
        else:
            if old is not None:
                self.tally.skip("record", "capture log rotated away before it was read")
            newer = backups
        try:
            for handle, inode in reversed(newer):
                if current is None or inode != current[1]:
                    self._decode_lines(handle.read(), out)
                    self._finish_file()
        finally:
            for handle, _ in backups:
                handle.close()
        if current is not None:
            self._handle, self._inode = current
            self._partial = b""

    def poll(self) -> list[Exchange]:
        """Every exchange written since the last call (whole lines only)."""
        out: list[Exchange] = []
        if not self._started:
            if not self.path.exists() and _inode(rotated_path(self.path, 1)) is None:
                if self.wait:
                    return out
                raise InputError(f"{self.path}: no such capture log")
            self._started = True
            self._switch_to_current(None, out)
        if self._handle is None:
            current = self._open(self.path)
            if current is not None:
                self._handle, self._inode = current
                self._partial = b""
                self._drain(out)
            return out
        self._drain(out)
        try:
            stat = self.path.stat()
        except FileNotFoundError:  # mid-rotation: the next poll sees the new file
            return out
        position = self._handle.tell()
        rotated = (stat.st_dev, stat.st_ino) != self._inode
        truncated = not rotated and stat.st_size < position
        if rotated or truncated:
            self._drain(out)
            self._finish_file()
            old, old_handle = self._inode, self._handle
            self._handle = None
            try:
                if rotated:  # the old file stays open meanwhile: its inode is not reused
                    self._switch_to_current(old, out)
            finally:
                old_handle.close()
            if self._handle is None:
                opened = self._open(self.path)
                if opened is not None:
                    self._handle, self._inode = opened
            if self._handle is not None:
                self._drain(out)
        return out

    def pending_partial(self) -> bool:
        """Whether a line without its newline is waiting (the writer is mid-line)."""
        return bool(self._partial.strip())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
