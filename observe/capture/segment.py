"""The boundary between packet decoding and TCP reassembly: one TCP segment, already decoded.

Link-layer/IP decoding (`linklayer`) produces `Segment` values; the sans-I/O reassembler
(`reassembly`) consumes them. Nothing else crosses this boundary.
"""

from __future__ import annotations

from typing import NamedTuple

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10


class Segment(NamedTuple):
    """A TCP segment with its capture timestamp (seconds since the epoch, float)."""

    timestamp: float
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    seq: int
    ack: int
    flags: int
    payload: bytes
