"""The capture fast path (raw IPv4 4-tuple -> `feed_data`) must agree with the general path.

`pcap_source.read_exchanges(..., fast_path=False)` sends every packet through `LinkDecoder` and
`ConnectionTracker.feed`; the default takes the shortcut for data segments of known IPv4
connections in untagged Ethernet. Random captures of interleaved keep-alive connections, with
segments reordered, duplicated and lost, FIN and RST, connections seen without their SYN, and
packets that must leave the shortcut mid-connection (VLAN tags, IP options, frames cut by the
snapshot length) must give the very same exchanges and the very same tally either way.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.capture import pcap_source
from observe.exchange import Exchange
from observe.sources import ReadOptions
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.capture.crafting import http_request, http_response

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SERVER = (bytes([10, 0, 0, 2]), 80)


def ethernet_frame(src: tuple[bytes, int], dst: tuple[bytes, int], seq: int, ack: int,
                   flags: int, payload: bytes, variant: str) -> bytes:
    """Ethernet/IPv4/TCP; `variant` "vlan" adds an 802.1Q tag, "options" 4 bytes of IP
    options (both leave the fast path)."""
    options = b"\x01\x01\x01\x00" if variant == "options" else b""
    ip_length = 20 + len(options) + 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45 + len(options) // 4, 0, ip_length, 1, 0x4000, 64, 6,
                     0, src[0], dst[0]) + options
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      0x50, flags, 65535, 0, 0)
    link = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
    if variant == "vlan":
        link += b"\x81\x00\x00\x2a"
    return link + b"\x08\x00" + ip + tcp + payload


def write_capture(path: Path, frames: list[tuple[float, bytes]], snaplen: int) -> Path:
    with open(path, "wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
        for time, frame in frames:
            seconds = int(time)
            captured = frame[:snaplen]
            handle.write(struct.pack("<IIII", seconds, round((time - seconds) * 1e6),
                                     len(captured), len(frame)))
            handle.write(captured)
    return path


@st.composite
def connection(draw: Any, number: int) -> list[tuple[int, bytes, str]]:
    """(packet flags, payload, direction "c"/"s") of one connection, in send order."""
    packets: list[tuple[int, bytes, str]] = []
    if draw(st.booleans()):
        packets += [(SYN, b"", "c"), (SYN | ACK, b"", "s"), (ACK, b"", "c")]
    mss = draw(st.integers(8, 300))
    for i in range(draw(st.integers(0, 4))):
        method = draw(st.sampled_from(["GET", "POST", "HEAD"]))
        body = b"x" * draw(st.integers(0, 600)) if method == "POST" else b""
        request = http_request(method, f"/c{number}/{i}", body=body)
        size = draw(st.integers(0, 900))
        response = http_response(200, b"" if method == "HEAD" else b"{" * size,
                                 [("Content-Type", "application/json")])
        if method == "HEAD":
            response = response.replace(b"Content-Length: 0", b"Content-Length: %d" % size)
        for side, message in (("c", request), ("s", response)):
            for offset in range(0, len(message), mss):
                push = PSH if draw(st.booleans()) or offset + mss >= len(message) else 0
                packets.append((ACK | push, message[offset:offset + mss], side))
            if draw(st.booleans()):
                packets.append((ACK, b"", "c" if side == "s" else "s"))
    close = draw(st.sampled_from(["fin", "half-close", "rst", "none"]))
    if close == "half-close":  # the client's FIN goes right after its last request
        last = max((i for i, (_, data, side) in enumerate(packets) if side == "c" and data),
                   default=len(packets) - 1)
        packets.insert(last + 1, (FIN | ACK, b"", "c"))
        packets += [(FIN | ACK, b"", "s"), (ACK, b"", "c")]
    elif close == "fin":
        packets += [(FIN | ACK, b"", "c"), (FIN | ACK, b"", "s"), (ACK, b"", "c")]
    elif close == "rst":
        packets.append((RST, b"", "s"))
    return packets


@st.composite
def captures(draw: Any) -> tuple[list[tuple[float, bytes]], int]:
    streams = []
    for number in range(draw(st.integers(1, 3))):
        client = (bytes([10, 1, 0, number + 1]), 40000 + number)
        seq = {"c": draw(st.integers(0, 2**32 - 1)), "s": draw(st.integers(0, 2**32 - 1))}
        frames = []
        for flags, payload, side in draw(connection(number)):
            src, dst = (client, SERVER) if side == "c" else (SERVER, client)
            other = "s" if side == "c" else "c"
            variant = draw(st.sampled_from(["plain"] * 8 + ["vlan", "options"]))
            frames.append(ethernet_frame(src, dst, seq[side], seq[other], flags, payload,
                                         variant))
            seq[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        streams.append(frames)
    # interleave the connections, then disturb the order: swaps, duplicates, losses
    merged: list[bytes] = []
    while any(streams):
        stream = draw(st.sampled_from([s for s in streams if s]))
        merged.append(stream.pop(0))
    for _ in range(draw(st.integers(0, 4))):
        if len(merged) < 2:
            break
        i = draw(st.integers(0, len(merged) - 2))
        action = draw(st.sampled_from(["swap", "duplicate", "drop"]))
        if action == "swap":
            merged[i], merged[i + 1] = merged[i + 1], merged[i]
        elif action == "duplicate":
            merged.insert(i, merged[i])
        else:
            del merged[i]
    snaplen = draw(st.sampled_from([65535] * 4 + [200]))
    return [(1_700_000_000 + n * 0.001, f) for n, f in enumerate(merged)], snaplen


def read_both(path: Path) -> tuple[list[Exchange], dict[str, Any], list[Exchange], dict[str, Any]]:
    fast_tally, general_tally = Tally(), Tally()
    fast = list(pcap_source.read_exchanges(path, ReadOptions(), fast_tally))
    general = list(pcap_source.read_exchanges(path, ReadOptions(), general_tally,
                                              fast_path=False))
    return fast, fast_tally.to_dict(), general, general_tally.to_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(captures())
def test_fast_and_general_paths_agree(capture: tuple[list[tuple[float, bytes]], int]) -> None:
    frames, snaplen = capture
    with tempfile.TemporaryDirectory() as folder:
        fast, fast_tally, general, general_tally = read_both(
            write_capture(Path(folder) / "random.pcap", frames, snaplen))
    assert fast == general
    assert fast_tally == general_tally


def test_a_keep_alive_capture_takes_the_fast_path_and_agrees(tmp_path: Path) -> None:
    frames = []
    client, seq, ack = (bytes([10, 1, 0, 1]), 40000), 1000, 9000
    frames.append(ethernet_frame(client, SERVER, seq, 0, SYN, b"", "plain"))
    frames.append(ethernet_frame(SERVER, client, ack, seq + 1, SYN | ACK, b"", "plain"))
    seq, ack = seq + 1, ack + 1
    for i in range(20):
        request = http_request("GET", f"/items/{i}")
        frames.append(ethernet_frame(client, SERVER, seq, ack, ACK | PSH, request, "plain"))
        seq += len(request)
        response = http_response(200, b'{"id": %d}' % i * 300)
        for offset in range(0, len(response), 1448):
            piece = response[offset:offset + 1448]
            frames.append(ethernet_frame(SERVER, client, ack, seq, ACK | PSH, piece, "plain"))
            ack += len(piece)
    path = write_capture(tmp_path / "keepalive.pcap",
                         [(1_700_000_000 + n * 0.001, f) for n, f in enumerate(frames)], 65535)
    fast, fast_tally, general, general_tally = read_both(path)
    assert [e.request.target for e in fast] == [f"/items/{i}" for i in range(20)]
    assert all(e.incomplete is None for e in fast[:-1])
    assert fast == general and fast_tally == general_tally


def test_corpus_captures_agree() -> None:
    for name in ("akita-cli__simple_http_two.pcap", "zeek__pipelined-requests.pcap",
                 "zeek__100-continue.pcap", "zeek__post.pcap", "zeek__get-gzip.pcap"):
        fast, fast_tally, general, general_tally = read_both(corpus_path("pcap", name))
        assert fast == general, name
        assert fast_tally == general_tally, name


def test_a_fin_seen_before_the_last_data_sends_that_data_through_the_general_path(
    tmp_path: Path,
) -> None:
    """A close-delimited response whose FIN overtakes its last segment ends when that segment
    arrives (the FIN is then reached): before the exchange of a connection that follows."""
    frames = []
    first, second = (bytes([10, 1, 0, 1]), 40001), (bytes([10, 1, 0, 2]), 40002)
    request = http_request("GET", "/first")
    response = http_response(200, b"x" * 300, length=False)  # ends with the connection
    frames.append(ethernet_frame(first, SERVER, 100, 0, SYN, b"", "plain"))
    frames.append(ethernet_frame(SERVER, first, 900, 101, SYN | ACK, b"", "plain"))
    frames.append(ethernet_frame(first, SERVER, 101, 901, ACK | PSH, request, "plain"))
    ack = 101 + len(request)
    head, tail = response[:200], response[200:]
    frames.append(ethernet_frame(SERVER, first, 901, ack, ACK | PSH, head, "plain"))
    # the server's FIN overtakes its last data segment
    frames.append(ethernet_frame(SERVER, first, 901 + len(response), ack, FIN | ACK, b"", "plain"))
    frames.append(ethernet_frame(SERVER, first, 901 + len(head), ack, ACK | PSH, tail, "plain"))
    other = http_request("GET", "/second")
    frames.append(ethernet_frame(second, SERVER, 500, 0, SYN, b"", "plain"))
    frames.append(ethernet_frame(SERVER, second, 700, 501, SYN | ACK, b"", "plain"))
    frames.append(ethernet_frame(second, SERVER, 501, 701, ACK | PSH, other, "plain"))
    reply = http_response(200, b"ok")
    frames.append(ethernet_frame(SERVER, second, 701, 501 + len(other), ACK | PSH, reply,
                                 "plain"))
    path = write_capture(tmp_path / "fin-first.pcap",
                         [(1_700_000_000 + n * 0.001, f) for n, f in enumerate(frames)], 65535)
    fast, fast_tally, general, general_tally = read_both(path)
    assert [e.request.target for e in general] == ["/first", "/second"]
    assert fast == general and fast_tally == general_tally
