"""The pcap/pcapng source: capture file -> frames -> TCP segments -> HTTP exchanges.

Registered as the "pcap" format of `observe.sources`, detected by the file's magic number
(pcap in both byte orders, micro or nano seconds; pcapng), gzipped or not. This module only wires
the layers together: `pcapfile` reads records, `linklayer` decodes them into `Segment`s, and the
sans-I/O `ConnectionTracker` reassembles TCP streams and parses HTTP/1.x into `Exchange`s.

Most packets of a capture are data segments of a connection already open, in untagged
Ethernet/IPv4 without options: those skip `Segment` and text addresses, found by the 4-tuple's
raw bytes in the tracker's `ipv4_streams` and given to `feed_data`; every other packet takes
the general path (`LinkDecoder.decode`, then `feed`). Both paths give the same results.

Idle connections are swept on capture time after every packet read (fed or not), so a reader
that feeds only some connections sweeps at the same moments as one that feeds them all.

`read_connection_shard` reads one shard of the connections (for `capture -j`): every exchange
comes with a key, and the shards' exchanges merged by key are a whole read's, in its order.

Counted in the tally: "packets" (records read), "tcp segments" (handed to the reassembler),
plus every packet skipped, by reason (by `linklayer`) and every record skipped (by `pcapfile`).
"""

from __future__ import annotations

import bisect
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from observe.capture.linklayer import LINK_TYPES, LinkDecoder
from observe.capture.pcapfile import is_capture_head, read_records
from observe.capture.segment import FIN, RST, SYN, Segment
from observe.capture.tracker import ConnectionTracker
from observe.exchange import Exchange
from observe.sources import ReadOptions, register
from observe.tally import Tally

# Ethernet, IPv4 and TCP headers in one read; the 4-tuple as the 12 bytes it takes in the packet
_ethernet_ipv4_tcp = struct.Struct("!12xHBxHxxHxBxx12sIIBB").unpack_from
_HEADERS = 54  # Ethernet, IPv4 and TCP headers without options
_CONTROL = SYN | FIN | RST


def sniff(head: bytes, path: Path) -> bool:
    """A pcap or pcapng file (the head is already gunzipped by `read_head`)."""
    return is_capture_head(head)


@register("pcap", sniff, "pcap/pcapng capture")
def read(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every HTTP exchange in the capture file at `path`, in the order they complete."""
    return read_exchanges(path, options, tally)


def read_exchanges(
    path: Path, options: ReadOptions, tally: Tally, fast_path: bool = True
) -> Iterator[Exchange]:
    """`read`; `fast_path=False` sends every packet through the general path (for tests that
    check both paths agree)."""
    for _, exchange in _read(path, options, tally, fast_path, 0, []):
        yield exchange


# where an exchange stands in the order of a whole-file read: the number of the packet whose
# handling returned it, the phase (0: the packet's own segment, 1: the idle sweep after it,
# 2: the end of the file), its connection's `opened_at`, and a running count
ExchangeKey = tuple[int, int, int, int]


def read_connection_shard(
    path: Path, options: ReadOptions, tally: Tally, shard: int, shards: int,
    weights: Sequence[float] | None = None,
) -> Iterator[tuple[ExchangeKey, Exchange]]:
    """The exchanges of the connections in shard `shard` of `shards`, each with its key.

    Every shard reads the whole file, but only reassembles the connections its shard owns (by
    a hash of the connection's two endpoints; `weights`, one per shard, give shards unequal
    shares of the connections), passing over other connections' packets. The shards'
    exchanges, merged by key, are the exchanges of a whole-file read in its order; their
    origin indexes are counted per shard (the merger renumbers them). Shard 0 counts the
    packets read and everything skipped that belongs to no connection, each shard what
    belongs to its connections, so the shards' tallies add up to the whole read's.

    The connection-table limits (`max_connections` and the memory of closed connections) hold
    per shard: on captures with more than 65,536 connections open at once the shards' results
    can differ from a whole read's.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"bad shard {shard} of {shards}")
    weights = list(weights) if weights is not None else [1.0] * shards
    if len(weights) != shards or min(weights) <= 0:
        raise ValueError(f"need {shards} positive weights, not {weights!r}")
    total = sum(weights)
    running = 0.0
    bounds = []  # shard k owns the hashes in [bounds[k - 1], bounds[k])
    for weight in weights[:-1]:
        running += weight
        bounds.append(int(running / total * _HASHES))
    return _read(path, options, tally, True, shard, bounds)


_HASHES = 1 << 32


def _owner(segment: Segment, bounds: list[int]) -> int:
    """The shard that owns a segment's connection: the same for both directions, and the
    same in every process (a CRC, not the salted `hash`), mixed so that its high bits vary."""
    ends = sorted(((segment.src_ip, segment.src_port), (segment.dst_ip, segment.dst_port)))
    crc = zlib.crc32(f"{ends[0][0]} {ends[0][1]} {ends[1][0]} {ends[1][1]}".encode())
    return bisect.bisect_right(bounds, crc * 0x9E3779B1 & 0xFFFFFFFF)


_FOREIGN_MEMORY = 1 << 18  # raw 4-tuples remembered as another shard's (a cache, cleared when full)


def _read(
    path: Path, options: ReadOptions, tally: Tally, fast_path: bool, shard: int,
    bounds: list[int],
) -> Iterator[tuple[ExchangeKey, Exchange]]:
    sharded = bool(bounds)
    # what belongs to no connection is counted by shard 0 alone
    shared_tally = tally if shard == 0 else Tally()
    tracker = ConnectionTracker(options, tally, location=str(path), kind="pcap",
                                auto_sweep=False)
    opened: list[int] = []
    tracker.opened = opened
    decoder = LinkDecoder(shared_tally)
    decode = decoder.decode
    feed = tracker.feed
    feed_data = tracker.feed_data
    expire = tracker.expire
    ipv4_streams = tracker.ipv4_streams
    foreign: set[bytes] = set()  # raw 4-tuples (both directions) of other shards' connections
    next_sweep = tracker.next_sweep
    packets = segments = emitted = 0
    on_bytes = options.on_bytes if shard == 0 else None
    records = read_records(path, shared_tally, on_bytes, LINK_TYPES)
    data = b""
    view = memoryview(data)
    nothing: list[Exchange] = []  # never appended to
    exchanges: list[Exchange]
    try:
        for timestamp, linktype, chunk, start, stop in records:
            packets += 1
            exchanges = nothing
            key = None
            handled = False  # by the fast path, or passed over as another shard's
            if linktype == 1 and stop - start >= _HEADERS:
                (ethertype, version_ihl, total_length, fragment, protocol, key, seq, ack,
                 data_offset, flags) = _ethernet_ipv4_tcp(chunk, start)
                if (
                    ethertype == 0x0800 and version_ihl == 0x45 and protocol == 6
                    and not fragment & 0x3FFF
                ):
                    entry = ipv4_streams.get(key)
                    if (
                        entry is not None and fast_path and total_length and data_offset >= 0x50
                        and not flags & _CONTROL and not entry[0].fin_seen
                    ):
                        end = start + 14 + total_length
                        begin = start + 34 + (data_offset >> 4) * 4
                        if begin <= end <= stop:
                            segments += 1
                            exchanges = feed_data(entry, timestamp, seq, ack, flags,
                                                  chunk[begin:end])
                            handled = True
                    elif entry is None and key in foreign:
                        handled = True
                else:
                    key = None
            if not handled:
                if chunk is not data:
                    data, view = chunk, memoryview(chunk)
                cut = decoder.cut_by_snaplen
                segment = decode(timestamp, linktype, view[start:stop])
                if segment is not None:
                    if sharded and (key is None or key not in ipv4_streams) and (
                        _owner(segment, bounds) != shard
                    ):
                        decoder.cut_by_snaplen = cut  # counted by the owner
                        if key is not None:
                            if len(foreign) >= _FOREIGN_MEMORY:
                                foreign.clear()
                            foreign.add(key)
                            foreign.add(key[4:8] + key[:4] + key[10:] + key[8:10])
                    else:
                        segments += 1
                        tracker.packet = packets
                        exchanges = feed(segment)
            if exchanges:
                for exchange, opened_at in zip(exchanges, opened, strict=True):
                    emitted += 1
                    yield (packets, 0, opened_at, emitted), exchange
                opened.clear()
            if timestamp > next_sweep:
                swept = expire(timestamp)
                next_sweep = tracker.next_sweep
                if swept:
                    for exchange, opened_at in zip(swept, opened, strict=True):
                        emitted += 1
                        yield (packets, 1, opened_at, emitted), exchange
                    opened.clear()
        for exchange, opened_at in zip(tracker.finish(), opened, strict=True):
            emitted += 1
            yield (packets, 2, opened_at, emitted), exchange
        opened.clear()
    finally:
        records.close()  # the file is closed now, even when the consumer stops early
        if shard == 0:
            tally.count("packets", packets)
            decoder.flush_counts()
        elif decoder.cut_by_snaplen:
            tally.count("packets cut by snaplen", decoder.cut_by_snaplen)
        tally.count("tcp segments", segments)
