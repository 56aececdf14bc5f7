"""Traffic sources: detect a file's format from its content and read it as Exchanges.

A reader is a function `read(path, options, tally) -> Iterator[Exchange]` registered under a
format name with a `sniff(head, path) -> bool` test that looks at the first bytes. Detection
goes by content first and by file name only as a tie-breaker, so a `.txt` HAR still reads.

Readers never raise for one bad record: they count it in the tally and go on. A file that is
unusable as a whole raises `InputError` (exit code 2 on the command line).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from observe.encoding import DEFAULT_DECODED_LIMIT
from observe.errors import InputError, UnknownFormatError
from observe.exchange import Exchange
from observe.tally import Tally

HEAD_SIZE = 4096


@dataclass(frozen=True)
class ReadOptions:
    """Options every reader understands."""

    decoded_limit: int = DEFAULT_DECODED_LIMIT
    hosts: frozenset[str] = frozenset()
    ports: frozenset[int] = frozenset()
    extra: dict[str, str] = field(default_factory=dict)
    # readers call this with the number of input bytes consumed since the last call
    on_bytes: Callable[[int], None] | None = field(default=None, compare=False)
    # (k, n): read only shard k of n (see `read_source`); (0, 1) reads everything
    shard: tuple[int, int] = (0, 1)

    def wants(self, host: str, port: int | None) -> bool:
        """Whether `--filter` lets an exchange with this server host and port through."""
        if self.hosts and host.lower() not in self.hosts:
            return False
        return not (self.ports and port not in self.ports)


Reader = Callable[[Path, ReadOptions, Tally], Iterator[Exchange]]
Sniffer = Callable[[bytes, Path], bool]


@dataclass(frozen=True)
class SourceFormat:
    name: str
    sniff: Sniffer
    read: Reader
    description: str
    # the reader honours options.shard itself, passing over other shards' records cheaply
    shards: bool = False


_FORMATS: dict[str, SourceFormat] = {}
_BUILTINS_LOADED = False


def register(name: str, sniff: Sniffer, description: str,
             shards: bool = False) -> Callable[[Reader], Reader]:
    """Decorator: register `read` as the reader for format `name` (`shards`: it honours
    `ReadOptions.shard` itself)."""

    def wrap(read: Reader) -> Reader:
        _FORMATS[name] = SourceFormat(name, sniff, read, description, shards)
        return read

    return wrap


def _load_builtin_formats() -> None:
    # importing the modules registers their readers
    from observe.capture import pcap_source  # noqa: F401
    from observe.formats import cassette, har, jsonl, mitmflows, tapefolder  # noqa: F401


def formats() -> dict[str, SourceFormat]:
    """Every registered format; the built-in readers are imported on first use."""
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _load_builtin_formats()
        _BUILTINS_LOADED = True
    return dict(_FORMATS)


def read_head(path: Path, size: int = HEAD_SIZE) -> bytes:
    """The first bytes of a file, gunzipped when it is gzip-compressed."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(size)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
        return head
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"{path}: corrupt gzip file ({exc})") from exc


def detect_format(path: Path) -> str:
    """The format name of `path`, from its content (a folder is a tape folder)."""
    known = formats()
    if path.is_dir():
        return "tapes"
    if not path.exists():
        raise InputError(f"{path}: no such file")
    head = read_head(path)
    if not head:
        raise UnknownFormatError(f"{path}: the file is empty")
    matches = [f.name for f in known.values() if f.name != "tapes" and f.sniff(head, path)]
    if not matches:
        raise UnknownFormatError(
            f"{path}: not a format restscope reads (pcap, pcapng, HAR, JSONL, mitmproxy flows, "
            "vcrpy cassette, tape folder)"
        )
    return matches[0]


def read_source(
    path: str | os.PathLike[str],
    options: ReadOptions | None = None,
    tally: Tally | None = None,
    format_name: str | None = None,
) -> Iterator[Exchange]:
    """Read one file or folder as a stream of Exchanges, whatever its format.

    With `options.shard = (k, n)` only shard k of n is read, so n workers can share a file:
    the n shards together yield every exchange exactly once, and their tallies add up to the
    tally of reading it whole. A reader registered with `shards=True` takes every n-th record
    and passes over the rest without building them (so records count in their own shard); for
    any other, the exchanges are dealt out by their position in the stream and shard 0 keeps
    the whole tally (the others count into a scratch one)."""
    path = Path(path)
    options = options or ReadOptions()
    tally = tally if tally is not None else Tally()
    name = format_name or detect_format(path)
    known = formats()
    if name not in known:
        raise UnknownFormatError(f"unknown format {name!r}; known: {', '.join(sorted(known))}")
    shard, shards = options.shard
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"bad shard {options.shard!r}")
    source = known[name]
    if shards == 1 or source.shards:
        return source.read(path, options, tally)
    return _dealt(source.read(path, options, tally if shard == 0 else Tally()), shard, shards)


def _dealt(exchanges: Iterator[Exchange], shard: int, shards: int) -> Iterator[Exchange]:
    for position, exchange in enumerate(exchanges):
        if position % shards == shard:
            yield exchange


def read_sources(
    paths: Iterable[str | os.PathLike[str]],
    options: ReadOptions | None = None,
    tally: Tally | None = None,
) -> Iterator[Exchange]:
    """Read several sources one after the other."""
    for path in paths:
        yield from read_source(path, options, tally)
