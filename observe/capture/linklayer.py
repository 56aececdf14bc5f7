"""Decode captured frames (link layer, IPv4/IPv6, TCP) into `Segment` values.

`LinkDecoder(tally).decode(timestamp, linktype, frame)` returns the TCP segment a frame carries,
or None after counting the frame as a skipped packet with its reason ("udp", "arp",
"ip fragment", "truncated packet", ...). A dispatch table picks the link-layer decoder by link
type; every decoder reads with `struct.unpack_from` on the frame's memoryview and copies only the
TCP payload.

Invariants:
1. Link types: Ethernet (1) with any number of 802.1Q / 802.1ad (QinQ) tags, Linux cooked SLL
   (113) and SLL2 (276), BSD loopback NULL (0, host byte order) and OpenBSD LOOP (108, network
   byte order), raw IP (101, and the DLT values 12 and 14 some writers store), IPv4 (228),
   IPv6 (229). `LINK_TYPES` lists them; anything else is refused before reading (pcapfile).
2. IPv4 options are skipped by the header length; fragments are not reassembled but counted as
   "ip fragment". IPv6 hop-by-hop, routing, destination-options, fragment and AH extension
   headers are walked; an IPv6 fragment (other than an atomic one) is an "ip fragment" too.
3. The TCP payload ends where the IP length says (Ethernet padding is not payload); a frame cut
   short by the capture's snapshot length yields the bytes that are there (the reassembler sees
   the missing rest as a gap) and is counted as "packets cut by snaplen".
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from socket import AF_INET6, inet_ntop

from observe.capture.segment import Segment
from observe.tally import Tally

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
VLAN_ETHERTYPES = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
_ETHERTYPE_NAMES = {
    0x0806: "arp",
    0x8035: "rarp",
    0x88CC: "lldp",
    0x8863: "pppoe discovery",
    0x8864: "pppoe session",
    0x888E: "eapol",
    0x8847: "mpls",
    0x88F7: "ptp",
}
_IP_PROTOCOL_NAMES = {
    1: "icmp",
    2: "igmp",
    17: "udp",
    47: "gre",
    50: "esp",
    58: "icmpv6",
    89: "ospf",
    103: "pim",
    112: "vrrp",
    132: "sctp",
}
# address family values in BSD loopback headers
_AF_INET = 2
_AF_INET6 = frozenset({10, 24, 28, 30})
# IPv6 extension headers walked to find the upper-layer protocol
_IPV6_EXTENSIONS = frozenset({0, 43, 60, 51, 44})

_ipv4_header = struct.Struct("!BxHxxHxBxx4s4s").unpack_from
# the common case in one call: an IPv4 header without options followed by a TCP header
_ipv4_tcp_headers = struct.Struct("!BxHxxHxBxx4s4sHHIIBB").unpack_from
_ethernet_ipv4_tcp_headers = struct.Struct("!12xHBxHxxHxBxx4s4sHHIIBB").unpack_from
_tcp_header = struct.Struct("!HHIIBB").unpack_from
_ushort = struct.Struct("!H").unpack_from
_uint_le = struct.Struct("<I").unpack_from
_uint_be = struct.Struct(">I").unpack_from

# a link-layer decoder: frame -> (ethertype, offset of the network header), or None to skip
LinkDecoderFunction = Callable[[memoryview], tuple[int, int] | str]


def _ethernet(frame: memoryview) -> tuple[int, int] | str:
    if len(frame) < 14:
        return "truncated packet"
    ethertype = _ushort(frame, 12)[0]
    offset = 14
    while ethertype in VLAN_ETHERTYPES:
        if len(frame) < offset + 4:
            return "truncated packet"
        ethertype = _ushort(frame, offset + 2)[0]
        offset += 4
    return ethertype, offset


def _linux_sll(frame: memoryview) -> tuple[int, int] | str:
    if len(frame) < 16:
        return "truncated packet"
    return _ushort(frame, 14)[0], 16


def _linux_sll2(frame: memoryview) -> tuple[int, int] | str:
    if len(frame) < 20:
        return "truncated packet"
    return _ushort(frame, 0)[0], 20


def _family_ethertype(family: int) -> int | str:
    if family == _AF_INET:
        return ETHERTYPE_IPV4
    if family in _AF_INET6:
        return ETHERTYPE_IPV6
    return f"loopback family {family}"


def _bsd_null(frame: memoryview) -> tuple[int, int] | str:
    if len(frame) < 4:
        return "truncated packet"
    family = _uint_le(frame, 0)[0]
    if family > 0xFFFF:  # written by a big-endian machine
        family = _uint_be(frame, 0)[0]
    ethertype = _family_ethertype(family)
    return ethertype if isinstance(ethertype, str) else (ethertype, 4)


def _openbsd_loop(frame: memoryview) -> tuple[int, int] | str:
    if len(frame) < 4:
        return "truncated packet"
    ethertype = _family_ethertype(_uint_be(frame, 0)[0])
    return ethertype if isinstance(ethertype, str) else (ethertype, 4)


def _raw_ip(frame: memoryview) -> tuple[int, int] | str:
    if not len(frame):
        return "truncated packet"
    version = frame[0] >> 4
    if version == 4:
        return ETHERTYPE_IPV4, 0
    if version == 6:
        return ETHERTYPE_IPV6, 0
    return f"ip version {version}"


def _raw_ipv4(frame: memoryview) -> tuple[int, int] | str:
    return ETHERTYPE_IPV4, 0


def _raw_ipv6(frame: memoryview) -> tuple[int, int] | str:
    return ETHERTYPE_IPV6, 0


LINK_DECODERS: dict[int, LinkDecoderFunction] = {
    0: _bsd_null,
    1: _ethernet,
    12: _raw_ip,
    14: _raw_ip,
    101: _raw_ip,
    108: _openbsd_loop,
    113: _linux_sll,
    228: _raw_ipv4,
    229: _raw_ipv6,
    276: _linux_sll2,
}
LINK_TYPES = frozenset(LINK_DECODERS)
# building the named tuple without its Python-level __new__: the same value, made faster
_new_segment = tuple.__new__


class LinkDecoder:
    """Frames in, TCP segments out; every frame that carries none is counted by reason."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.cut_by_snaplen = 0
        self._ipv4_names: dict[bytes, str] = {}
        self._ipv6_names: dict[bytes, str] = {}

    def flush_counts(self) -> None:
        """Add the counters kept locally for speed to the tally."""
        if self.cut_by_snaplen:
            self.tally.count("packets cut by snaplen", self.cut_by_snaplen)
            self.cut_by_snaplen = 0

    def decode(self, timestamp: float, linktype: int, frame: memoryview) -> Segment | None:
        """The TCP segment in `frame`, or None (counted as a skipped packet)."""
        # fast path: untagged Ethernet, IPv4 without options or fragmentation, TCP, read with
        # one unpack; anything else takes the general path
        size = len(frame)
        if linktype == 1 and size >= 54:
            (ethertype, version_ihl, total_length, fragment, protocol, src, dst, src_port,
             dst_port, seq, ack, data_offset, flags) = _ethernet_ipv4_tcp_headers(frame, 0)
            if (ethertype == ETHERTYPE_IPV4 and version_ihl == 0x45 and protocol == 6
                    and not fragment & 0x3FFF and total_length and data_offset >= 0x50):
                end = 14 + total_length
                start = 34 + (data_offset >> 4) * 4
                if end <= size and start <= end:
                    # _segment, inlined: this is the line most packets take
                    names = self._ipv4_names
                    src_ip = names.get(src) or self._ipv4_name(src)
                    dst_ip = names.get(dst) or self._ipv4_name(dst)
                    payload = frame[start:end].tobytes() if end > start else b""
                    return _new_segment(  # type: ignore[no-any-return]
                        Segment,
                        (timestamp, src_ip, src_port, dst_ip, dst_port, seq, ack, flags, payload),
                    )
        return self._decode_general(timestamp, linktype, frame)

    def _ipv4_name(self, address: bytes) -> str:
        name = self._ipv4_names[address] = ".".join(map(str, address))
        return name

    def _segment(
        self, timestamp: float, frame: memoryview, start: int, end: int, src: bytes,
        dst: bytes, src_port: int, dst_port: int, seq: int, ack: int, flags: int,
    ) -> Segment | None:
        """A whole IPv4/TCP segment whose headers the fast path has read."""
        if start > end:
            self.tally.skip("packet", "bad tcp header")
            return None
        names = self._ipv4_names
        src_ip = names.get(src) or self._ipv4_name(src)
        dst_ip = names.get(dst) or self._ipv4_name(dst)
        payload = frame[start:end].tobytes() if end > start else b""
        return _new_segment(  # type: ignore[no-any-return]
            Segment, (timestamp, src_ip, src_port, dst_ip, dst_port, seq, ack, flags, payload)
        )

    def _decode_general(
        self, timestamp: float, linktype: int, frame: memoryview
    ) -> Segment | None:
        link = LINK_DECODERS[linktype](frame)
        if isinstance(link, str):
            self.tally.skip("packet", link)
            return None
        ethertype, offset = link
        if ethertype == ETHERTYPE_IPV4:
            return self._ipv4(timestamp, frame, offset)
        if ethertype == ETHERTYPE_IPV6:
            return self._ipv6(timestamp, frame, offset)
        if ethertype <= 1500:
            reason = "ieee 802.3 llc"
        else:
            reason = _ETHERTYPE_NAMES.get(ethertype, f"ethertype {ethertype:#06x}")
        self.tally.skip("packet", reason)
        return None

    def _ipv4(self, timestamp: float, frame: memoryview, offset: int) -> Segment | None:
        if len(frame) < offset + 20:
            self.tally.skip("packet", "truncated packet")
            return None
        if len(frame) >= offset + 40 and frame[offset] == 0x45:  # no options: one unpack
            (_, total_length, fragment, protocol, src, dst, src_port, dst_port, seq, ack,
             data_offset, flags) = _ipv4_tcp_headers(frame, offset)
            if protocol == 6 and not fragment & 0x3FFF and total_length and data_offset >= 0x50:
                end = offset + total_length
                if end <= len(frame):
                    start = offset + 20 + (data_offset >> 4) * 4
                    return self._segment(timestamp, frame, start, end, src, dst, src_port,
                                         dst_port, seq, ack, flags)
        version_ihl, total_length, fragment, protocol, src, dst = _ipv4_header(frame, offset)
        if version_ihl >> 4 != 4 or version_ihl & 0x0F < 5:  # not IPv4, or under 20 bytes
            self.tally.skip("packet", "bad ip header")
            return None
        if fragment & 0x3FFF:  # more fragments, or a fragment offset
            self.tally.skip("packet", "ip fragment")
            return None
        if protocol != 6:
            self.tally.skip("packet", _IP_PROTOCOL_NAMES.get(protocol, f"ip protocol {protocol}"))
            return None
        # a zero total length happens with TCP segmentation offload: the frame says how long
        end = offset + total_length if total_length else len(frame)
        names = self._ipv4_names
        src_ip = names.get(src) or self._ipv4_name(src)
        dst_ip = names.get(dst) or self._ipv4_name(dst)
        return self._tcp(timestamp, frame, offset + (version_ihl & 0x0F) * 4, end, src_ip, dst_ip)

    def _ipv6(self, timestamp: float, frame: memoryview, offset: int) -> Segment | None:
        if len(frame) < offset + 40:
            self.tally.skip("packet", "truncated packet")
            return None
        payload_length = _ushort(frame, offset + 4)[0]
        protocol = frame[offset + 6]
        end = offset + 40 + payload_length if payload_length else len(frame)
        src, dst = bytes(frame[offset + 8:offset + 24]), bytes(frame[offset + 24:offset + 40])
        position = offset + 40
        while protocol in _IPV6_EXTENSIONS:
            if len(frame) < position + 8:
                self.tally.skip("packet", "truncated packet")
                return None
            following = frame[position]
            if protocol == 44:  # fragment header: offset and M flag in bytes 2-3
                if _ushort(frame, position + 2)[0] & 0xFFF9:
                    self.tally.skip("packet", "ip fragment")
                    return None
                size = 8
            elif protocol == 51:  # authentication header counts 4-byte words, minus 2
                size = (frame[position + 1] + 2) * 4
            else:
                size = (frame[position + 1] + 1) * 8
            protocol = following
            position += size
        if protocol != 6:
            self.tally.skip("packet", _IP_PROTOCOL_NAMES.get(protocol, f"ip protocol {protocol}"))
            return None
        names = self._ipv6_names
        src_ip = names.get(src)
        if src_ip is None:
            src_ip = names[src] = inet_ntop(AF_INET6, src)
        dst_ip = names.get(dst)
        if dst_ip is None:
            dst_ip = names[dst] = inet_ntop(AF_INET6, dst)
        return self._tcp(timestamp, frame, position, end, src_ip, dst_ip)

    def _tcp(
        self, timestamp: float, frame: memoryview, offset: int, end: int, src_ip: str, dst_ip: str
    ) -> Segment | None:
        if len(frame) < offset + 14:
            self.tally.skip("packet", "truncated packet")
            return None
        src_port, dst_port, seq, ack, data_offset, flags = _tcp_header(frame, offset)
        if data_offset < 0x50:  # a TCP header is at least five 32-bit words
            self.tally.skip("packet", "bad tcp header")
            return None
        start = offset + (data_offset >> 4) * 4
        if end > len(frame):
            self.cut_by_snaplen += 1
            end = len(frame)
        if start > end:
            self.tally.skip("packet", "truncated packet" if end == len(frame) else "bad tcp header")
            return None
        payload = frame[start:end].tobytes() if end > start else b""
        return Segment(timestamp, src_ip, src_port, dst_ip, dst_port, seq, ack, flags, payload)
