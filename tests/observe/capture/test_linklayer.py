"""Frames of every supported link type, IPv4 and IPv6, decoded into TCP segments.

The frames are built by scapy (an independent encoder); each test checks that the segments
carry exactly the addresses, ports, sequence numbers and payload bytes scapy put in, and that
frames without TCP are counted by reason, never silently dropped.
"""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_RR, fragment
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from observe.capture.linklayer import LINK_TYPES, LinkDecoder
from observe.capture.segment import ACK, PSH, SYN, Segment
from observe.tally import Tally
from tests.observe.capture.crafting import (
    CLIENT,
    CLIENT6,
    SERVER,
    SERVER6,
    frame,
    simple_dialogue,
    tcp_conversation,
)


def _decode(data: bytes, linktype: int, tally: Tally | None = None) -> Segment | None:
    decoder = LinkDecoder(tally if tally is not None else Tally())
    segment = decoder.decode(1.5, linktype, memoryview(data))
    decoder.flush_counts()
    return segment


IPV4_LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 276]
IPV6_LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 229, 276]


def test_every_link_type_has_a_decoder() -> None:
    assert frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276}) == LINK_TYPES


@pytest.mark.parametrize(
    ("linktype", "ipv6"),
    [(lt, False) for lt in IPV4_LINK_TYPES] + [(lt, True) for lt in IPV6_LINK_TYPES],
)
def test_a_conversation_decodes_under_each_link_type(linktype: int, ipv6: bool) -> None:
    client, server = (CLIENT6, SERVER6) if ipv6 else (CLIENT, SERVER)
    packets = tcp_conversation(simple_dialogue(2), client=client, server=server, ipv6=ipv6)
    tally = Tally()
    segments = [_decode(frame(p.ip, linktype), linktype, tally) for p in packets]
    assert tally.skipped == {}
    for packet, segment in zip(packets, segments, strict=True):
        assert segment is not None
        tcp = packet.ip[TCP]
        src, dst = (client, server) if packet.from_client else (server, client)
        assert (segment.src_ip, segment.src_port) == src
        assert (segment.dst_ip, segment.dst_port) == dst
        assert (segment.seq, segment.ack, segment.flags) == (tcp.seq, tcp.ack, int(tcp.flags))
        assert segment.payload == bytes(tcp.payload)
    assert segments[0] is not None and segments[0].flags == SYN
    payload = b"".join(s.payload for s, p in zip(segments, packets, strict=True)
                       if s is not None and p.from_client)
    assert payload.startswith(b"GET /items/0 HTTP/1.1\r\n")


@pytest.mark.parametrize("tags", [(10,), (100, 200), (1, 2, 3)], ids=["802.1q", "qinq", "triple"])
def test_vlan_tags_are_skipped(tags: tuple[int, ...]) -> None:
    payload = b"GET / HTTP/1.1\r\n\r\n"
    ip = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=1234, dport=80, flags="PA") / payload
    if len(tags) <= 2:
        data = frame(ip, 1, vlan=tags)
    else:  # three stacked 802.1Q tags, built by hand
        data = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x81\x00"
        for i, tag in enumerate(tags):
            data += struct.pack("!HH", tag, 0x8100 if i < len(tags) - 1 else 0x0800)
        data += bytes(ip)
    segment = _decode(data, 1)
    assert segment is not None
    assert (segment.src_ip, segment.dst_port, segment.payload) == ("192.0.2.1", 80, payload)


def test_ipv4_options_are_skipped_by_header_length() -> None:
    ip = IP(src="192.0.2.1", dst="192.0.2.2", options=[IPOption_RR(routers=["1.2.3.4"] * 3)])
    packet = ip / TCP(sport=5, dport=80, flags="PA", seq=7) / b"body"
    assert packet[IP].ihl is None and len(bytes(packet)) > 20 + 20 + 4
    segment = _decode(frame(packet, 1), 1)
    assert segment is not None and segment.payload == b"body" and segment.seq == 7


def test_ethernet_padding_is_not_payload() -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5, dport=80, flags="A")
    padded = frame(packet, 1) + b"\x00" * 6  # a 54-byte frame padded to the 60-byte minimum
    segment = _decode(padded, 1)
    assert segment is not None and segment.payload == b"" and segment.flags == ACK


@pytest.mark.parametrize(
    "extensions",
    [
        [IPv6ExtHdrHopByHop()],
        [IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(addresses=["2001:db8::9"]), IPv6ExtHdrDestOpt()],
        [IPv6ExtHdrFragment(offset=0, m=0)],  # an atomic fragment is a whole packet
    ],
    ids=["hop-by-hop", "hop-routing-destination", "atomic-fragment"],
)
def test_ipv6_extension_headers_are_walked(extensions: list[object]) -> None:
    layers = IPv6(src="2001:db8::1", dst="2001:db8::2")
    for extension in extensions:
        layers = layers / extension
    packet = layers / TCP(sport=5, dport=443, flags="PA") / b"data"
    segment = _decode(frame(packet, 229), 229)
    assert segment is not None
    assert (segment.src_ip, segment.dst_ip, segment.payload) == ("2001:db8::1", "2001:db8::2",
                                                                 b"data")
    assert segment.flags == PSH | ACK


def test_fragments_are_counted_not_decoded() -> None:
    big = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5, dport=80) / (b"x" * 3000)
    pieces = fragment(big, fragsize=1000)
    assert len(pieces) == 4  # 3020 bytes of TCP header and data in 1000-byte pieces
    ipv6_piece = (IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=10, m=1)
                  / Raw(b"x" * 64))
    tally = Tally()
    for piece in pieces:
        assert _decode(frame(piece, 1), 1, tally) is None
    assert _decode(frame(ipv6_piece, 1), 1, tally) is None
    assert tally.skipped_of("packet") == {"ip fragment": 5}


def test_packets_without_tcp_are_counted_by_reason() -> None:
    tally = Tally()
    others = [
        (bytes(Ether() / ARP()), 1),
        (frame(IP(dst="192.0.2.2") / UDP(sport=53, dport=53) / b"dns", 1), 1),
        (frame(IP(dst="192.0.2.2") / ICMP(), 113), 113),
        (frame(IP(dst="192.0.2.2", proto=250) / b"xx", 101), 101),
        (bytes(Ether(type=0x88CC) / b"lldp"), 1),
        (bytes(Ether(type=0x1234) / b"?"), 1),
        (struct.pack("<I", 7) + b"\x00" * 20, 0),
        (b"\x45\x00", 1),
    ]
    for data, linktype in others:
        assert _decode(data, linktype, tally) is None
    assert tally.skipped_of("packet") == {
        "arp": 1, "udp": 1, "icmp": 1, "ip protocol 250": 1, "lldp": 1,
        "ethertype 0x1234": 1, "loopback family 7": 1, "truncated packet": 1,
    }


def test_null_loopback_written_by_a_big_endian_host() -> None:
    packet = IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=5, dport=80, flags="PA") / b"hi"
    segment = _decode(struct.pack(">I", 2) + bytes(packet), 0)
    assert segment is not None and segment.payload == b"hi"


def test_frame_cut_by_snaplen_keeps_the_bytes_present_and_counts_it() -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5, dport=80, flags="PA") / (
        b"a" * 100)
    data = frame(packet, 1)[:14 + 20 + 20 + 30]
    tally = Tally()
    segment = _decode(data, 1, tally)
    assert segment is not None and segment.payload == b"a" * 30
    assert tally.counts["packets cut by snaplen"] == 1


def test_tcp_header_cut_short_is_a_truncated_packet() -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5, dport=80)
    tally = Tally()
    assert _decode(frame(packet, 101)[:30], 101, tally) is None
    assert tally.skipped_of("packet") == {"truncated packet": 1}


@pytest.mark.parametrize("linktype", [1, 101])
def test_tcp_data_offset_below_five_words_is_a_bad_header(linktype: int) -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5, dport=80, dataofs=3) / (b"x" * 8)
    tally = Tally()
    assert _decode(frame(packet, linktype), linktype, tally) is None
    assert tally.skipped_of("packet") == {"bad tcp header": 1}


def test_ipv4_header_length_under_five_words_is_a_bad_header() -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2", ihl=4) / TCP(sport=5, dport=80) / b"data"
    tally = Tally()
    assert _decode(frame(packet, 1), 1, tally) is None
    assert tally.skipped_of("packet") == {"bad ip header": 1}
