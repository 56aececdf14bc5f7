"""The pcap/pcapng source: capture file -> frames -> TCP segments -> HTTP exchanges.

Registered as the "pcap" format of `observe.sources`, detected by the file's magic number
(pcap in both byte orders, micro or nano seconds; pcapng), gzipped or not. This module only wires
the layers together: `pcapfile` reads records, `linklayer` decodes them into `Segment`s, and the
sans-I/O `ConnectionTracker` reassembles TCP streams and parses HTTP/1.x into `Exchange`s.

Most packets of a capture are data segments of a connection already open, in untagged
Ethernet/IPv4 without options: those skip `Segment` and text addresses, found by the 4-tuple's
raw bytes in the tracker's `ipv4_streams` and given to `feed_data`; every other packet takes
the general path (`LinkDecoder.decode`, then `feed`). Both paths give the same results.

Counted in the tally: "packets" (records read), "tcp segments" (handed to the reassembler),
plus every packet skipped, by reason (by `linklayer`) and every record skipped (by `pcapfile`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from observe.capture.linklayer import LINK_TYPES, LinkDecoder
from observe.capture.pcapfile import is_capture_head, read_records
from observe.capture.segment import FIN, RST, SYN
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
    tracker = ConnectionTracker(options, tally, location=str(path), kind="pcap")
    decoder = LinkDecoder(tally)
    decode = decoder.decode
    feed = tracker.feed
    feed_data = tracker.feed_data
    ipv4_streams = tracker.ipv4_streams
    packets = segments = 0
    records = read_records(path, tally, options.on_bytes, LINK_TYPES)
    data = b""
    view = memoryview(data)
    try:
        for timestamp, linktype, chunk, start, stop in records:
            packets += 1
            if fast_path and linktype == 1 and stop - start >= _HEADERS:
                (ethertype, version_ihl, total_length, fragment, protocol, key, seq, ack,
                 data_offset, flags) = _ethernet_ipv4_tcp(chunk, start)
                entry = ipv4_streams.get(key)
                if (
                    entry is not None and ethertype == 0x0800 and version_ihl == 0x45
                    and protocol == 6 and not fragment & 0x3FFF and total_length
                    and data_offset >= 0x50 and not flags & _CONTROL and not entry[0].fin_seen
                ):
                    end = start + 14 + total_length
                    begin = start + 34 + (data_offset >> 4) * 4
                    if begin <= end <= stop:
                        segments += 1
                        exchanges = feed_data(entry, timestamp, seq, ack, flags,
                                              chunk[begin:end])
                        if exchanges:
                            yield from exchanges
                        continue
            if chunk is not data:
                data, view = chunk, memoryview(chunk)
            segment = decode(timestamp, linktype, view[start:stop])
            if segment is None:
                continue
            segments += 1
            exchanges = feed(segment)
            if exchanges:
                yield from exchanges
        yield from tracker.finish()
    finally:
        records.close()  # the file is closed now, even when the consumer stops early
        tally.count("packets", packets)
        tally.count("tcp segments", segments)
        decoder.flush_counts()
