"""The pcap/pcapng source: capture file -> frames -> TCP segments -> HTTP exchanges.

Registered as the "pcap" format of `observe.sources`, detected by the file's magic number
(pcap in both byte orders, micro or nano seconds; pcapng), gzipped or not. This module only wires
the layers together: `pcapfile` reads records, `linklayer` decodes them into `Segment`s, and the
sans-I/O `ConnectionTracker` reassembles TCP streams and parses HTTP/1.x into `Exchange`s.

Counted in the tally: "packets" (records read), "tcp segments" (handed to the reassembler),
plus every packet skipped, by reason (by `linklayer`) and every record skipped (by `pcapfile`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from observe.capture.linklayer import LINK_TYPES, LinkDecoder
from observe.capture.pcapfile import is_capture_head, read_frames
from observe.capture.tracker import ConnectionTracker
from observe.exchange import Exchange
from observe.sources import ReadOptions, register
from observe.tally import Tally


def sniff(head: bytes, path: Path) -> bool:
    """A pcap or pcapng file (the head is already gunzipped by `read_head`)."""
    return is_capture_head(head)


@register("pcap", sniff, "pcap/pcapng capture")
def read(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every HTTP exchange in the capture file at `path`, in the order they complete."""
    tracker = ConnectionTracker(options, tally, location=str(path), kind="pcap")
    decoder = LinkDecoder(tally)
    decode = decoder.decode
    feed = tracker.feed
    packets = segments = 0
    records = read_frames(path, tally, options.on_bytes, LINK_TYPES)
    try:
        for timestamp, linktype, frame in records:
            packets += 1
            segment = decode(timestamp, linktype, frame)
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
