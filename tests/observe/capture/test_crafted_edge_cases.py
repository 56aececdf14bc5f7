"""Crafted captures, end to end (file -> frames -> segments -> tracker -> exchanges).

Part 1: every item of the capture format list (pcap byte orders and resolutions, pcapng with
two interfaces of different link types, gzip, each link type, VLAN, IPv4 and IPv6) carries the
same two-call dialogue and must give exactly those two exchanges.

Part 2: the TCP and HTTP edge cases of issue 2, each in its own crafted capture: out-of-order,
retransmitted and overlapping segments, a lost segment, a capture starting mid-connection,
connections without SYN/FIN, RST, pipelining, chunked bodies with trailers, 100-continue, 101,
HEAD/204/304 and close-delimited bodies.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import TCP
from scapy.packet import Raw

from observe.capture import pcap_source
from observe.errors import InputError
from observe.exchange import Exchange
from observe.sources import ReadOptions
from observe.tally import Tally
from tests.observe.capture.crafting import (
    CLIENT6,
    SERVER6,
    CraftedPacket,
    Interface,
    frames,
    http_request,
    http_response,
    simple_dialogue,
    tcp_conversation,
    write_pcap,
    write_pcapng,
)


def read(path: Path) -> tuple[list[Exchange], Tally]:
    tally = Tally()
    return list(pcap_source.read(path, ReadOptions(), tally)), tally


def capture(tmp_path: Path, packets: list[CraftedPacket], linktype: int = 1) -> Path:
    return write_pcap(tmp_path / "crafted.pcap", frames(packets, linktype), linktype)


def calls(exchanges: list[Exchange]) -> list[tuple[str, str, int | None]]:
    return [
        (e.request.method, e.request.target, e.response.status if e.response else None)
        for e in exchanges
    ]


TWO_CALLS = [("GET", "/items/0", 200), ("GET", "/items/1", 200)]


def assert_two_calls(exchanges: list[Exchange]) -> None:
    assert calls(exchanges) == TWO_CALLS
    for i, exchange in enumerate(exchanges):
        assert exchange.incomplete is None
        assert exchange.request.authority == "api.example.com"
        assert exchange.response is not None
        assert exchange.response.json() == {"id": i, "name": f"item {i}"}


# ---- part 1: the capture format list -------------------------------------------------------

Writer = Callable[[Path], Path]


def _pcap(linktype: int, ipv6: bool = False, **options: object) -> Writer:
    def write(folder: Path) -> Path:
        endpoints = {"client": CLIENT6, "server": SERVER6, "ipv6": True} if ipv6 else {}
        packets = tcp_conversation(simple_dialogue(2), mss=40, **endpoints)  # type: ignore[arg-type]
        vlan = options.pop("vlan", ())
        return write_pcap(folder / "f.pcap", frames(packets, linktype, vlan=vlan),  # type: ignore[arg-type]
                          linktype, **options)  # type: ignore[arg-type]

    return write


def _pcapng_two_interfaces(order: str, gz: bool = False) -> Writer:
    """One connection seen on an Ethernet interface, a second on a Linux cooked one (nanosec)."""

    def write(folder: Path) -> Path:
        first = tcp_conversation(simple_dialogue(2), mss=40)
        second = tcp_conversation(simple_dialogue(2), client=("10.0.0.9", 41000), mss=40,
                                  start=1_700_000_100.0)
        packets = [(0, t, f) for t, f in frames(first, 1)]
        packets += [(1, t, f) for t, f in frames(second, 113)]
        return write_pcapng(folder / "f.pcapng", [Interface(1), Interface(113, tsresol=9)],
                            packets, order=order, gz=gz)

    return write


FORMAT_MATRIX: dict[str, Writer] = {
    "pcap-le-micro": _pcap(1),
    "pcap-be-micro": _pcap(1, endianness=">"),
    "pcap-le-nano": _pcap(1, nano=True),
    "pcap-be-nano": _pcap(1, endianness=">", nano=True),
    "pcap-gzip": _pcap(1, gz=True),
    "ethernet-ipv6": _pcap(1, ipv6=True),
    "vlan-802.1q": _pcap(1, vlan=(42,)),
    "vlan-qinq": _pcap(1, vlan=(100, 42)),
    "vlan-ipv6": _pcap(1, ipv6=True, vlan=(7,)),
    "sll-ipv4": _pcap(113),
    "sll-ipv6": _pcap(113, ipv6=True),
    "sll2-ipv4": _pcap(276),
    "sll2-ipv6": _pcap(276, ipv6=True),
    "null-ipv4": _pcap(0),
    "null-ipv6": _pcap(0, ipv6=True),
    "loop-ipv4": _pcap(108),
    "loop-ipv6": _pcap(108, ipv6=True),
    "raw-101-ipv4": _pcap(101),
    "raw-101-ipv6": _pcap(101, ipv6=True),
    "raw-12": _pcap(12),
    "raw-14-ipv6": _pcap(14, ipv6=True),
    "ipv4-228": _pcap(228),
    "ipv6-229": _pcap(229, ipv6=True),
}


@pytest.mark.parametrize("variant", sorted(FORMAT_MATRIX))
def test_each_capture_format_gives_the_two_calls(tmp_path: Path, variant: str) -> None:
    exchanges, tally = read(FORMAT_MATRIX[variant](tmp_path))
    assert_two_calls(exchanges)
    assert tally.skipped_of("packet") == {}
    ipv6 = "ipv6" in variant or variant.endswith("229")
    assert exchanges[0].server is not None
    assert (":" in exchanges[0].server.host) is ipv6


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_pcapng_with_two_interfaces_of_different_link_types(
    tmp_path: Path, order: str, gz: bool
) -> None:
    exchanges, _ = read(_pcapng_two_interfaces(order, gz)(tmp_path))
    by_client = sorted(exchanges,
                       key=lambda e: (e.client.host if e.client else "", e.request.target))
    assert calls(by_client) == TWO_CALLS * 2
    assert {e.client.host for e in exchanges if e.client} == {"10.0.0.1", "10.0.0.9"}
    # the nanosecond interface's timestamps are read with its own resolution
    late = [e for e in exchanges if e.client and e.client.host == "10.0.0.9"]
    assert all((e.timing.request_start or 0) >= 1_700_000_100.0 for e in late)


# ---- part 2: TCP edge cases ----------------------------------------------------------------

def _big_dialogue() -> tuple[list[tuple[str, bytes]], bytes]:
    body = b"".join(b"line %04d of a long body\n" % i for i in range(120))
    dialogue = [
        ("c", http_request("GET", "/big")),
        ("s", http_response(200, body, [("Content-Type", "text/plain")])),
        ("c", http_request("GET", "/after")),
        ("s", http_response(200, b"after", [("Content-Type", "text/plain")])),
    ]
    return dialogue, body


def _server_data(packets: list[CraftedPacket]) -> list[int]:
    return [i for i, p in enumerate(packets) if not p.from_client and len(p.ip[TCP].payload)]


def test_out_of_order_segments_are_put_back_in_order(tmp_path: Path) -> None:
    dialogue, body = _big_dialogue()
    packets = tcp_conversation(dialogue, mss=200)
    data = _server_data(packets)
    packets[data[1]], packets[data[3]] = packets[data[3]], packets[data[1]]
    packets[data[4]], packets[data[5]] = packets[data[5]], packets[data[4]]
    exchanges, _ = read(capture(tmp_path, packets))
    assert calls(exchanges) == [("GET", "/big", 200), ("GET", "/after", 200)]
    assert exchanges[0].response is not None and exchanges[0].response.body == body
    assert [e.incomplete for e in exchanges] == [None, None]


def test_retransmitted_segments_are_not_duplicated(tmp_path: Path) -> None:
    dialogue, body = _big_dialogue()
    packets = tcp_conversation(dialogue, mss=200)
    data = _server_data(packets)
    packets = [*packets[:data[3]], packets[data[1]], packets[data[2]], *packets[data[3]:]]
    client_request = next(p for p in packets if p.from_client and len(p.ip[TCP].payload))
    packets.insert(packets.index(client_request) + 1, client_request)
    exchanges, _ = read(capture(tmp_path, packets))
    assert calls(exchanges) == [("GET", "/big", 200), ("GET", "/after", 200)]
    assert exchanges[0].response is not None and exchanges[0].response.body == body


def test_overlapping_segments_give_each_byte_once(tmp_path: Path) -> None:
    dialogue, body = _big_dialogue()
    packets = tcp_conversation(dialogue, mss=200)
    data = _server_data(packets)
    # a retransmission that covers the end of segment 2 and the start of segment 3
    second, third = packets[data[2]], packets[data[3]]
    joined = bytes(second.ip[TCP].payload) + bytes(third.ip[TCP].payload)
    overlap = second.ip.copy()
    overlap[TCP].seq = second.ip[TCP].seq + 100
    overlap[TCP].remove_payload()
    overlap = overlap / Raw(joined[100:300])
    del overlap.len
    del overlap.chksum
    del overlap[TCP].chksum
    packets.insert(data[3], CraftedPacket(second.time, overlap, False))
    exchanges, _ = read(capture(tmp_path, packets))
    assert exchanges[0].response is not None and exchanges[0].response.body == body
    assert calls(exchanges) == [("GET", "/big", 200), ("GET", "/after", 200)]


def test_a_lost_segment_makes_its_exchange_incomplete_never_glued(tmp_path: Path) -> None:
    dialogue, body = _big_dialogue()
    packets = tcp_conversation(dialogue, mss=200)
    data = _server_data(packets)
    del packets[data[4]]  # in the middle of /big's body
    exchanges, _ = read(capture(tmp_path, packets))
    big = [e for e in exchanges if e.request.target == "/big"]
    assert len(big) == 1 and big[0].incomplete
    if big[0].response is not None:
        assert big[0].response.body != body
        assert body.startswith(big[0].response.body[:800])  # what is kept is the real prefix
    after = [e for e in exchanges if e.request.target == "/after"]
    assert len(after) == 1 and after[0].response is not None
    assert after[0].response.body == b"after"


def test_capture_starting_mid_connection_resynchronises(tmp_path: Path) -> None:
    dialogue = simple_dialogue(3)
    packets = tcp_conversation(dialogue, mss=30)
    first_response = next(i for i, p in enumerate(packets)
                          if not p.from_client and len(p.ip[TCP].payload))
    # no handshake, and the capture begins in the middle of the first response
    exchanges, _ = read(capture(tmp_path, packets[first_response + 2:]))
    complete = [c for c, e in zip(calls(exchanges), exchanges, strict=True) if not e.incomplete]
    assert complete == [("GET", "/items/1", 200), ("GET", "/items/2", 200)]
    assert all(e.response is None or e.response.json()["id"] == int(e.request.target[-1])
               for e in exchanges if not e.incomplete)


def test_connection_without_syn_or_fin(tmp_path: Path) -> None:
    packets = tcp_conversation(simple_dialogue(2), handshake=False, close=None)
    exchanges, _ = read(capture(tmp_path, packets))
    assert_two_calls(exchanges)


def test_reset_after_the_last_response(tmp_path: Path) -> None:
    packets = tcp_conversation(simple_dialogue(2), close="rst")
    exchanges, _ = read(capture(tmp_path, packets))
    assert_two_calls(exchanges)


def test_reset_in_the_middle_of_a_response(tmp_path: Path) -> None:
    dialogue, _ = _big_dialogue()
    packets = tcp_conversation(dialogue[:2], mss=200, close=None)
    data = _server_data(packets)
    cut = packets[: data[3]]
    reset = tcp_conversation([], handshake=False, close="rst", server_isn=0)[0]
    reset.ip[TCP].seq = packets[data[3]].ip[TCP].seq
    cut.append(CraftedPacket(packets[data[3]].time, reset.ip, False))
    exchanges, _ = read(capture(tmp_path, cut))
    assert calls(exchanges) == [("GET", "/big", 200)] or calls(exchanges) == [("GET", "/big", None)]
    assert exchanges[0].incomplete


# ---- part 2: HTTP edge cases ---------------------------------------------------------------

def test_pipelined_requests_pair_in_order(tmp_path: Path) -> None:
    requests = b"".join(http_request("GET", f"/p/{i}") for i in range(3))
    responses = b"".join(http_response(200, b"body %d" % i) for i in range(3))
    packets = tcp_conversation([("c", requests), ("s", responses)], mss=50)
    exchanges, _ = read(capture(tmp_path, packets))
    assert calls(exchanges) == [("GET", f"/p/{i}", 200) for i in range(3)]
    assert [e.response.body for e in exchanges if e.response] == [b"body 0", b"body 1", b"body 2"]


def test_chunked_response_with_trailers(tmp_path: Path) -> None:
    chunked = b"7\r\n{\"a\": 1\r\n3\r\n, \"\r\n6\r\nb\": 2}\r\n0\r\nX-Checksum: abc123\r\n\r\n"
    response = http_response(200, chunked, [("Content-Type", "application/json"),
                                            ("Transfer-Encoding", "chunked"),
                                            ("Trailer", "X-Checksum")], length=False)
    packets = tcp_conversation([("c", http_request("GET", "/chunked")), ("s", response),
                                ("c", http_request("GET", "/next")),
                                ("s", http_response(200, b"ok"))], mss=16)
    exchanges, _ = read(capture(tmp_path, packets))
    assert calls(exchanges) == [("GET", "/chunked", 200), ("GET", "/next", 200)]
    first = exchanges[0].response
    assert first is not None
    assert first.json() == {"a": 1, "b": 2}
    assert first.trailers.get("x-checksum") == "abc123"


def test_chunked_request_body(tmp_path: Path) -> None:
    request = http_request("POST", "/upload", [("Transfer-Encoding", "chunked")],
                           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    packets = tcp_conversation([("c", request), ("s", http_response(201, b"created"))], mss=20)
    exchanges, _ = read(capture(tmp_path, packets))
    assert calls(exchanges) == [("POST", "/upload", 201)]
    assert exchanges[0].request.body == b"hello world"


def test_expect_100_continue(tmp_path: Path) -> None:
    head = http_request("POST", "/photos", [("Expect", "100-continue"),
                                            ("Content-Length", "11")])
    dialogue = [
        ("c", head),
        ("s", b"HTTP/1.1 100 Continue\r\n\r\n"),
        ("c", b"photo bytes"),
        ("s", http_response(200, b'{"stat": "ok"}')),
    ]
    exchanges, _ = read(capture(tmp_path, tcp_conversation(dialogue)))
    assert calls(exchanges) == [("POST", "/photos", 200)]
    assert exchanges[0].request.body == b"photo bytes"
    assert exchanges[0].incomplete is None


def test_101_switching_protocols_stops_http_on_the_connection(tmp_path: Path) -> None:
    upgrade = http_request("GET", "/socket", [("Connection", "Upgrade"),
                                              ("Upgrade", "websocket")])
    switching = http_response(101, headers=[("Connection", "Upgrade"), ("Upgrade", "websocket")],
                              reason="Switching Protocols", length=False)
    dialogue = [("c", upgrade), ("s", switching),
                ("c", b"\x81\x85GET / HTTP/1.1\r\n"), ("s", b"\x81\x05HTTP/1.1 200 OK\r\n\r\n")]
    exchanges, _ = read(capture(tmp_path, tcp_conversation(dialogue)))
    assert calls(exchanges) == [("GET", "/socket", 101)]


def test_head_204_304_have_no_body(tmp_path: Path) -> None:
    dialogue = [
        ("c", http_request("HEAD", "/file")),
        ("s", http_response(200, headers=[("Content-Length", "5000")], length=False)),
        ("c", http_request("DELETE", "/file")),
        ("s", http_response(204, reason="No Content", length=False)),
        ("c", http_request("GET", "/file", [("If-None-Match", '"v1"')])),
        ("s", http_response(304, headers=[("ETag", '"v1"')], reason="Not Modified",
                            length=False)),
        ("c", http_request("GET", "/last")),
        ("s", http_response(200, b"last")),
    ]
    exchanges, _ = read(capture(tmp_path, tcp_conversation(dialogue, mss=25)))
    assert calls(exchanges) == [("HEAD", "/file", 200), ("DELETE", "/file", 204),
                                ("GET", "/file", 304), ("GET", "/last", 200)]
    assert [e.response.body for e in exchanges if e.response] == [b"", b"", b"", b"last"]
    assert all(e.incomplete is None for e in exchanges)


def test_close_delimited_body(tmp_path: Path) -> None:
    body = b"no length, ends when the server closes\n" * 20
    dialogue = [("c", http_request("GET", "/stream")),
                ("s", http_response(200, body, version="1.0", length=False))]
    exchanges, _ = read(capture(tmp_path, tcp_conversation(dialogue, mss=100)))
    assert calls(exchanges) == [("GET", "/stream", 200)]
    assert exchanges[0].response is not None and exchanges[0].response.body == body
    assert exchanges[0].incomplete is None


def test_progress_callback_sees_the_whole_file(tmp_path: Path) -> None:
    path = FORMAT_MATRIX["pcap-gzip"](tmp_path)
    seen: list[int] = []
    tally = Tally()
    exchanges = list(pcap_source.read(path, ReadOptions(on_bytes=seen.append), tally))
    assert len(exchanges) == 2
    assert sum(seen) == path.stat().st_size
    assert tally.counts["packets"] == tally.counts["tcp segments"] > 0


# ---- robustness: damaged captures never crash -------------------------------------------

_DAMAGE_BASES: dict[str, bytes] = {}


def _damage_bases() -> dict[str, bytes]:
    """Two connections (IPv4 on Ethernet, IPv6 on SLL) with a chunked response, as a pcap, a
    pcapng of each byte order and a gzipped pcapng; built once."""
    if not _DAMAGE_BASES:
        chunked = http_response(200, b"4\r\nabcd\r\n0\r\n\r\n",
                                [("Transfer-Encoding", "chunked")], length=False)
        dialogue = [*simple_dialogue(2), ("c", http_request("GET", "/c")), ("s", chunked)]
        first = frames(tcp_conversation(dialogue, mss=48), 1)
        second = frames(tcp_conversation(simple_dialogue(1), client=CLIENT6, server=SERVER6,
                                         ipv6=True, mss=48), 113)
        interfaces = [Interface(1), Interface(113, tsresol=9)]
        packets = [(0, t, f) for t, f in first] + [(1, t, f) for t, f in second]
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            _DAMAGE_BASES["pcap"] = write_pcap(folder / "a", first, 1).read_bytes()
            for order in "<>":
                _DAMAGE_BASES[f"pcapng{order}"] = write_pcapng(
                    folder / "b", interfaces, packets, order=order, statistics=True
                ).read_bytes()
            _DAMAGE_BASES["pcapng.gz"] = write_pcapng(folder / "c", interfaces, packets,
                                                      gz=True).read_bytes()
    return _DAMAGE_BASES


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_captures_are_read_or_refused_never_crash(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Flipped bytes anywhere (headers, lengths, payloads) and cuts: an InputError or exchanges."""
    bases = _damage_bases()
    content = bytearray(bases[data.draw(st.sampled_from(sorted(bases)))])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(content) // 2, len(content)))
    path = tmp_path / "damaged.pcap"
    path.write_bytes(bytes(content[:cut]))
    try:
        exchanges, _ = read(path)
    except InputError:
        return
    assert all(isinstance(e, Exchange) for e in exchanges)


def test_stopping_early_still_counts_and_closes(tmp_path: Path) -> None:
    path = FORMAT_MATRIX["pcap-le-micro"](tmp_path)
    tally = Tally()
    exchanges = pcap_source.read(path, ReadOptions(), tally)
    first = next(exchanges)
    exchanges.close()  # type: ignore[attr-defined]
    assert first.request.target == "/items/0"
    _, whole = read(path)
    assert 0 < tally.counts["packets"] < whole.counts["packets"]
