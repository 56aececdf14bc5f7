"""Build capture files for tests, at test time, in a test's tmp_path (nothing is committed).

`tcp_conversation` turns an HTTP dialogue into scapy IP/TCP packets with consistent sequence
numbers; `frame` wraps a packet in the link layer of a link type (Ethernet, VLAN, QinQ, SLL,
SLL2, BSD loopback, OpenBSD LOOP, raw IP); `write_pcap` writes them with scapy's own writer (so
the reader under test is checked against an independent implementation) and `write_pcapng`
writes pcapng with the variations scapy cannot produce (big-endian sections, nanosecond
`if_tsresol`, several interfaces, simple/obsolete packet blocks, statistics blocks).
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Packet, Raw
from scapy.utils import RawPcapWriter

CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 8080)
CLIENT6 = ("2001:db8::1", 40000)
SERVER6 = ("2001:db8::2", 8080)
START = 1_700_000_000.0

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"


@dataclass(frozen=True)
class CraftedPacket:
    """One crafted packet: capture time, IP-layer scapy packet, and which side sent it."""

    time: float
    ip: Packet
    from_client: bool


def tcp_conversation(
    dialogue: Sequence[tuple[str, bytes]],
    *,
    client: tuple[str, int] = CLIENT,
    server: tuple[str, int] = SERVER,
    ipv6: bool = False,
    handshake: bool = True,
    close: str | None = "fin",
    mss: int = 1400,
    start: float = START,
    client_isn: int = 1000,
    server_isn: int = 5000,
) -> list[CraftedPacket]:
    """Packets of one TCP connection carrying `dialogue`: ("c"|"s", bytes) in send order.

    Each message is cut into `mss`-byte segments; every data segment carries ACK and PSH; the
    connection opens with a three-way handshake and closes with FIN (or RST) unless told not to.
    """
    ip_layer = IPv6 if ipv6 else IP
    packets: list[CraftedPacket] = []
    clock = [start]
    seq = {True: client_isn, False: server_isn}

    def send(from_client: bool, flags: str, payload: bytes = b"") -> None:
        src, dst = (client, server) if from_client else (server, client)
        tcp = TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq[from_client] & 0xFFFFFFFF,
                  ack=seq[not from_client] & 0xFFFFFFFF if "A" in flags else 0)
        layer = ip_layer(src=src[0], dst=dst[0]) / tcp
        if payload:
            layer = layer / Raw(payload)
        packets.append(CraftedPacket(clock[0], layer, from_client))
        clock[0] += 0.001
        seq[from_client] += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    if handshake:
        send(True, "S")
        send(False, "SA")
        send(True, "A")
    for side, message in dialogue:
        from_client = side == "c"
        for offset in range(0, len(message), mss):
            send(from_client, "PA", message[offset:offset + mss])
    if close == "fin":
        send(True, "FA")
        send(False, "FA")
        send(True, "A")
    elif close == "rst":
        send(False, "R")
    return packets


def frame(packet: Packet, linktype: int, *, vlan: Sequence[int] = ()) -> bytes:
    """The frame bytes of an IP-layer packet under link type `linktype`."""
    ip_bytes = bytes(packet)
    ipv6 = ip_bytes[0] >> 4 == 6
    if linktype == 1:
        layers: Packet = Ether(src=CLIENT_MAC, dst=SERVER_MAC)
        if len(vlan) == 2:
            layers = layers / Dot1AD(vlan=vlan[0]) / Dot1Q(vlan=vlan[1])
        elif len(vlan) == 1:
            layers = layers / Dot1Q(vlan=vlan[0])
        return bytes(layers / packet)
    if linktype == 113:
        return bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6) / packet)
    if linktype == 276:
        return bytes(CookedLinuxV2(pkttype=0, lladdrtype=1, lladdrlen=6) / packet)
    if linktype == 0:  # BSD NULL: address family in the capturing host's byte order
        return struct.pack("<I", 24 if ipv6 else 2) + ip_bytes
    if linktype == 108:  # OpenBSD LOOP: address family in network byte order
        return struct.pack(">I", 24 if ipv6 else 2) + ip_bytes
    if linktype in (12, 14, 101, 228, 229):
        return ip_bytes
    raise ValueError(f"crafting does not know link type {linktype}")


def frames(
    packets: Iterable[CraftedPacket], linktype: int, *, vlan: Sequence[int] = ()
) -> list[tuple[float, bytes]]:
    return [(p.time, frame(p.ip, linktype, vlan=vlan)) for p in packets]


def write_pcap(
    path: Path,
    captured: Sequence[tuple[float, bytes]],
    linktype: int,
    *,
    endianness: str = "<",
    nano: bool = False,
    gz: bool = False,
    snaplen: int = 65535,
) -> Path:
    """A classic pcap file written by scapy's RawPcapWriter."""
    writer = RawPcapWriter(str(path), linktype=linktype, endianness=endianness, nano=nano,
                           gz=gz, snaplen=snaplen, sync=True)
    writer.linktype = linktype  # scapy ignores a falsy link type (0, BSD loopback)
    writer._write_header(None)  # write_packet alone does not write the file header
    for time, data in captured:
        seconds = int(time)
        scale = 1_000_000_000 if nano else 1_000_000
        fraction = round((time - seconds) * scale)
        caplen = min(len(data), snaplen)
        writer.write_packet(data[:caplen], sec=seconds, usec=fraction, caplen=caplen,
                            wirelen=len(data))
    writer.close()
    return path


def _block(order: str, block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def _option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


@dataclass(frozen=True)
class Interface:
    linktype: int
    tsresol: int | None = None  # the if_tsresol option byte, None for the default microseconds
    snaplen: int = 262144


def write_pcapng(
    path: Path,
    interfaces: Sequence[Interface],
    captured: Sequence[tuple[int, float, bytes]],
    *,
    order: str = "<",
    block: str = "epb",
    gz: bool = False,
    statistics: bool = False,
) -> Path:
    """A pcapng file: one section, `interfaces`, and (interface, time, frame) packets.

    `block` picks the packet block: "epb" (enhanced), "opb" (obsolete packet block) or "spb"
    (simple: no interface id, no timestamp). `statistics` adds an interface statistics block.
    """
    out = [_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for interface in interfaces:
        options = b""
        if interface.tsresol is not None:
            options = _option(order, 9, bytes([interface.tsresol])) + _option(order, 0, b"")
        body = struct.pack(order + "HHI", interface.linktype, 0, interface.snaplen) + options
        out.append(_block(order, 1, body))
    for interface_id, time, data in captured:
        code = interfaces[interface_id].tsresol
        if code is None:
            units = round(time * 1_000_000)
        elif code & 0x80:
            units = round(time * 2 ** (code & 0x7F))
        else:
            units = round(time * 10**code)
        high, low = units >> 32, units & 0xFFFFFFFF
        if block == "epb":
            body = struct.pack(order + "IIIII", interface_id, high, low, len(data), len(data))
            out.append(_block(order, 6, body + data))
        elif block == "opb":
            body = struct.pack(order + "HHIIII", interface_id, 0, high, low, len(data), len(data))
            out.append(_block(order, 2, body + data))
        else:
            out.append(_block(order, 3, struct.pack(order + "I", len(data)) + data))
    if statistics:
        out.append(_block(order, 5, struct.pack(order + "III", 0, 0, 0)))
    content = b"".join(out)
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


def http_request(method: str, target: str, headers: Sequence[tuple[str, str]] = (),
                 body: bytes = b"", host: str = "api.example.com") -> bytes:
    """An HTTP/1.1 request with Host and, for a body, Content-Length."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body and not any(name.lower() in ("content-length", "transfer-encoding")
                        for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_response(status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = (),
                  reason: str = "OK", length: bool = True, version: str = "1.1") -> bytes:
    """An HTTP response with Content-Length unless told otherwise (`length=False`)."""
    lines = [f"HTTP/{version} {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length and not any(name.lower() in ("content-length", "transfer-encoding")
                          for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def simple_dialogue(n: int = 2) -> list[tuple[str, bytes]]:
    """`n` GET/200 JSON pairs on one keep-alive connection: /items/0, /items/1, ..."""
    dialogue: list[tuple[str, bytes]] = []
    for i in range(n):
        dialogue.append(("c", http_request("GET", f"/items/{i}")))
        body = b'{"id": %d, "name": "item %d"}' % (i, i)
        dialogue.append(("s", http_response(200, body, [("Content-Type", "application/json")])))
    return dialogue
