"""Streaming reader of packet capture files: pcap, pcapng, and either one gzip-compressed.

`read_frames(path, tally)` yields `(timestamp, linktype, frame)` for every captured packet, in
file order, reading the file in large chunks with `struct` over `memoryview` (no scapy).
`read_records` yields the same packets as `(timestamp, linktype, data, start, end)`, the frame
being `data[start:end]` of the reader's current chunk (bytes): a caller that reads headers with
`struct.unpack_from(data, start)` and slices the payload out of `data` makes no frame object.

Invariants:
1. Formats: pcap in both byte orders with micro- or nanosecond timestamps; pcapng with any
   number of sections (each with its own byte order) and interfaces (each with its own link type
   and `if_tsresol`/`if_tsoffset`); Enhanced, Simple and (obsolete) Packet blocks are read,
   every other block is skipped and counted as a skipped record by its name.
2. `frame` is a `memoryview` into the reader's buffer (and `data` that buffer itself): valid as
   long as it is referenced, never mutated. Callers copy only the bytes they keep (the TCP
   payload).
3. Truncation policy: a file that ends inside its header, or inside the very first record, is
   unusable and raises `TruncatedInputError`. A file that ends inside a later record (a capture
   cut short, a half-copied file) yields every whole record, counts one skipped record
   "truncated record" and stops. A gzip layer cut short or corrupt is treated the same way
   (counted as "truncated gzip stream"; whatever decompressed before the damage is read).
4. Garbage (no known magic number) raises `UnknownFormatError`; a record whose declared length is
   impossible raises `InputError` when it is the first one and is otherwise counted as
   "corrupt record" and ends the read (nothing after it can be trusted).
5. A link type outside `link_types` (when given) raises `InputError` naming its number, as soon
   as the header or interface block declaring it is read.
6. `on_bytes(n)` is called with the number of file bytes consumed, about every MiB and at the
   end, so a progress bar can follow; for a gzipped file these are compressed bytes, so the
   reports add up to the file's size either way.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Container, Generator
from pathlib import Path
from typing import BinaryIO

from observe.errors import InputError, TruncatedInputError, UnknownFormatError
from observe.tally import Tally

Frame = tuple[float, int, memoryview]
# timestamp, link type, the chunk holding the frame, where the frame starts and ends in it
Record = tuple[float, int, bytes, int, int]

CHUNK_SIZE = 1 << 20
# a record longer than this is not a packet but a sign of a corrupt or misread file
MAX_RECORD = 1 << 26

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"

SHB, IDB, OPB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
_BLOCK_NAMES = {
    4: "name resolution",
    5: "interface statistics",
    9: "systemd journal",
    10: "decryption secrets",
    0xBAD: "custom",
    0x40000BAD: "custom",
}

LINK_TYPE_MASK = 0x0000FFFF  # the upper bits of a pcap link type field carry FCS information


def is_capture_head(head: bytes) -> bool:
    """Whether `head` (already gunzipped) starts like a pcap or pcapng file."""
    return head[:4] in PCAP_MAGICS or (
        head[:4] == PCAPNG_MAGIC and head[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")
    )


class _Buffer:
    """Chunked reading: `fill(n)` makes sure `n` bytes are available after `pos`.

    Read errors are handled here, once: an unreadable file is an `InputError`; a gzip layer cut
    short or corrupt ends the data like a truncated file (counted once, or fatal when no record
    was read yet).
    """

    def __init__(
        self,
        path: Path,
        tally: Tally,
        handle: BinaryIO,
        raw: BinaryIO,
        on_bytes: Callable[[int], None] | None,
    ) -> None:
        self.path = path
        self.tally = tally
        self.handle = handle
        self.raw = raw  # the file itself, under a gzip layer or not: progress is its position
        self.data = b""
        self.view = memoryview(self.data)
        self.pos = 0
        self.eof = False
        self.on_bytes = on_bytes
        self.reported = 0
        self.records = 0  # packet records read so far

    def fill(self, n: int) -> bool:
        """Read until `n` bytes are available from `pos`; False if the file ends first."""
        while len(self.data) - self.pos < n:
            if self.eof:
                return False
            chunk = self._read(max(CHUNK_SIZE, n))
            if not chunk:
                self.eof = True
                return False
            self.data = self.data[self.pos:] + chunk
            self.view = memoryview(self.data)
            self.pos = 0
            if self.on_bytes is not None:
                self.report()
        return True

    def _read(self, size: int) -> bytes:
        try:
            return self.handle.read(size)
        except (EOFError, zlib.error) as exc:
            if self.records == 0:
                message = f"{self.path}: corrupt or truncated gzip data ({exc})"
                raise TruncatedInputError(message) from exc
            self.tally.skip("record", "truncated gzip stream")
            self.data = self.data[:self.pos]  # a partial record before the cut is not counted
            self.view = memoryview(self.data)
            return b""
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read ({exc.strerror or exc})") from exc

    def close(self) -> None:
        if self.on_bytes is not None:
            self.report()
        self.handle.close()
        self.raw.close()

    def report(self) -> None:
        """Tell `on_bytes` how far into the file the reader has got since the last report."""
        assert self.on_bytes is not None
        position = self.raw.tell()
        if position > self.reported:
            self.on_bytes(position - self.reported)
            self.reported = position


class _Gunzip:
    """A gzip stream (one or more members) read incrementally.

    Unlike `gzip.GzipFile`, whatever decompresses before a cut or a corrupt spot is returned
    first; the error (EOFError or zlib.error) comes on the next read.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.decompressor = zlib.decompressobj(wbits=31)

    def read(self, size: int) -> bytes:
        while True:
            compressed = self.raw.read(size)
            if not compressed:
                if not self.decompressor.eof and (
                    self.decompressor.unconsumed_tail or self.raw.tell() > 0
                ):
                    raise EOFError("the compressed file ends before its end-of-stream marker")
                return b""
            data = self.decompressor.decompress(compressed)
            while self.decompressor.eof and self.decompressor.unused_data:
                rest = self.decompressor.unused_data
                self.decompressor = zlib.decompressobj(wbits=31)
                data += self.decompressor.decompress(rest)
            if data:
                return data

    def close(self) -> None:
        self.raw.close()


def _open(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(the stream to read packets from, the file under it)."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return _Gunzip(raw), raw  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def read_frames(
    path: Path,
    tally: Tally,
    on_bytes: Callable[[int], None] | None = None,
    link_types: Container[int] | None = None,
) -> Generator[Frame, None, None]:
    """Every packet of the capture file at `path`, as (timestamp, linktype, frame bytes).

    Errors about the file as a whole (empty, garbage, unreadable) are raised by this call;
    the rest while iterating.
    """
    return _frames(read_records(path, tally, on_bytes, link_types))


def _frames(records: Generator[Record, None, None]) -> Generator[Frame, None, None]:
    data: bytes | None = None
    view = memoryview(b"")
    try:
        for timestamp, linktype, chunk, start, end in records:
            if chunk is not data:
                data, view = chunk, memoryview(chunk)
            yield timestamp, linktype, view[start:end]
    finally:
        records.close()


def read_records(
    path: Path,
    tally: Tally,
    on_bytes: Callable[[int], None] | None = None,
    link_types: Container[int] | None = None,
) -> Generator[Record, None, None]:
    """Every packet of the capture file at `path`, as (timestamp, linktype, data, start, end):
    the frame is `data[start:end]`. Errors as for `read_frames`."""
    handle, raw = _open(path)
    buffer = _Buffer(path, tally, handle, raw, on_bytes)
    try:
        if not buffer.fill(4):
            if not buffer.data:
                raise TruncatedInputError(f"{path}: the file is empty")
            raise TruncatedInputError(f"{path}: the file ends inside its header")
        magic = bytes(buffer.view[:4])
        if magic in PCAP_MAGICS:
            return _read_pcap(path, buffer, tally, link_types)
        if magic == PCAPNG_MAGIC:
            return _read_pcapng(path, buffer, tally, link_types)
        raise UnknownFormatError(f"{path}: not a pcap or pcapng file (magic {magic.hex()})")
    except BaseException:
        buffer.close()
        raise


def _check_link_type(path: Path, linktype: int, link_types: Container[int] | None) -> None:
    if link_types is not None and linktype not in link_types:
        raise InputError(
            f"{path}: link type {linktype} is not supported (restscope reads Ethernet, Linux "
            "cooked SLL/SLL2, BSD loopback, raw IPv4/IPv6)"
        )


def _stop(path: Path, tally: Tally, records: int, reason: str, detail: str) -> None:
    """A record cannot be read: fatal when it is the first one, else counted (truncation policy)."""
    if records == 0:
        error = TruncatedInputError if reason == "truncated record" else InputError
        raise error(f"{path}: {detail} in the first packet record; the file is unusable")
    tally.skip("record", reason)


def _read_pcap(
    path: Path, buffer: _Buffer, tally: Tally, link_types: Container[int] | None
) -> Generator[Record, None, None]:
    try:
        if not buffer.fill(24):
            raise TruncatedInputError(f"{path}: the file ends inside its 24-byte pcap header")
        order, resolution = PCAP_MAGICS[bytes(buffer.view[:4])]
        linktype = struct.unpack_from(order + "I", buffer.data, 20)[0] & LINK_TYPE_MASK
        _check_link_type(path, linktype, link_types)
        buffer.pos = 24
        unpack_header = struct.Struct(order + "IIII").unpack_from
        while True:
            # every whole record in the buffer, without touching the file
            data, pos = buffer.data, buffer.pos
            size = len(data)
            records = buffer.records
            while pos + 16 <= size:
                seconds, fraction, caplen, _origlen = unpack_header(data, pos)
                end = pos + 16 + caplen
                if end > size or caplen > MAX_RECORD:
                    break
                records += 1
                yield seconds + fraction * resolution, linktype, data, pos + 16, end
                pos = end
            buffer.pos = pos
            buffer.records = records
            if size - pos >= 16:
                caplen = unpack_header(data, pos)[2]
                if caplen > MAX_RECORD:
                    _stop(path, tally, records, "corrupt record", f"impossible length {caplen}")
                    return
                needed = 16 + caplen
            else:
                needed = 16
            if not buffer.fill(needed):
                if buffer.pos != len(buffer.data):
                    _stop(path, tally, buffer.records, "truncated record", "the file ends")
                return
    finally:
        buffer.close()


def _units_per_second(tsresol: int) -> int:
    """The if_tsresol option as timestamp units per second: 10^v, or 2^v when the top bit is set.

    Timestamps are divided by it as integers, so nanosecond values keep their precision.
    """
    return 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol


def _interface(
    path: Path, body: memoryview, order: str, link_types: Container[int] | None
) -> tuple[int, int, int, int]:
    """An Interface Description Block body -> (linktype, units/second, offset seconds, snaplen)."""
    if len(body) < 8:
        raise InputError(f"{path}: interface description block too short")
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", body, 0)
    _check_link_type(path, linktype, link_types)
    units, offset = 1_000_000, 0
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(order + "HH", body, pos)
        value = body[pos + 4:pos + 4 + length]
        if code == 0:
            break
        if code == 9 and len(value) >= 1:
            units = _units_per_second(value[0])
        elif code == 14 and len(value) >= 8:
            offset = struct.unpack_from(order + "q", value, 0)[0]
        pos += 4 + ((length + 3) & ~3)
    return linktype, units, offset, snaplen


def _read_pcapng(
    path: Path, buffer: _Buffer, tally: Tally, link_types: Container[int] | None
) -> Generator[Record, None, None]:
    try:
        order = "<"
        interfaces: list[tuple[int, int, int, int]] = []
        last_time = 0.0
        first = True
        while True:
            if not buffer.fill(12):
                if first:
                    raise TruncatedInputError(f"{path}: the file ends inside its pcapng header")
                if buffer.pos != len(buffer.data):
                    _stop(path, tally, buffer.records, "truncated record", "the file ends")
                return
            data, pos = buffer.data, buffer.pos
            block_type_raw = data[pos:pos + 4]
            if block_type_raw == PCAPNG_MAGIC:
                byte_order_magic = data[pos + 8:pos + 12]
                if byte_order_magic == b"\x4d\x3c\x2b\x1a":
                    order = "<"
                elif byte_order_magic == b"\x1a\x2b\x3c\x4d":
                    order = ">"
                else:
                    if first:
                        message = f"{path}: not a pcapng file (bad byte-order magic)"
                        raise UnknownFormatError(message)
                    _stop(path, tally, buffer.records, "corrupt record", "a bad section header")
                    return
                interfaces = []  # interface ids are per section
            elif first:
                raise UnknownFormatError(f"{path}: a pcapng file must start with a section header")
            block_type, total = struct.unpack_from(order + "II", data, pos)
            if total < 12 or total % 4 or total > MAX_RECORD:
                if first:
                    message = f"{path}: not a pcapng file (bad block length {total})"
                    raise UnknownFormatError(message)
                detail = f"impossible block length {total}"
                _stop(path, tally, buffer.records, "corrupt record", detail)
                return
            if not buffer.fill(total):
                if first:
                    raise TruncatedInputError(f"{path}: the file ends inside its pcapng header")
                _stop(path, tally, buffer.records, "truncated record", "the file ends")
                return
            data, pos = buffer.data, buffer.pos
            body = buffer.view[pos + 8:pos + total - 4]
            buffer.pos = pos + total
            first = False
            if block_type in (EPB, OPB):
                if len(body) < 20:
                    tally.skip("record", "packet block with a bad interface or length")
                    continue
                if block_type == EPB:
                    interface_id, high, low, caplen, _origlen = struct.unpack_from(
                        order + "IIIII", body, 0
                    )
                else:
                    interface_id, _drops, high, low, caplen, _origlen = struct.unpack_from(
                        order + "HHIIII", body, 0
                    )
                if interface_id >= len(interfaces) or 20 + caplen > len(body):
                    tally.skip("record", "packet block with a bad interface or length")
                    continue
                linktype, units, offset, _snaplen = interfaces[interface_id]
                last_time = ((high << 32) | low) / units + offset
                buffer.records += 1
                yield last_time, linktype, data, pos + 28, pos + 28 + caplen
            elif block_type == SPB:
                if not interfaces or len(body) < 4:
                    tally.skip("record", "packet block with a bad interface or length")
                    continue
                linktype, _units, _offset, snaplen = interfaces[0]
                origlen = struct.unpack_from(order + "I", body, 0)[0]
                caplen = min(origlen, len(body) - 4, snaplen or origlen)
                buffer.records += 1
                # a simple packet block has no timestamp: use the previous packet's
                yield last_time, linktype, data, pos + 12, pos + 12 + caplen
            elif block_type == IDB:
                interfaces.append(_interface(path, body, order, link_types))
            elif block_type != SHB:
                name = _BLOCK_NAMES.get(block_type, f"type {block_type:#x}")
                tally.skip("record", f"pcapng {name} block")
    finally:
        buffer.close()
