"""Test helpers: TCP conversations built in memory as `Segment` lists (no files, no scapy).

`conversation` lays HTTP messages out as a client and a server would send them: a handshake,
each request then its response (or every request first, when pipelined), MSS-sized segments,
ACKs that acknowledge exactly what the peer sent, and a FIN each way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from observe.capture.segment import ACK, FIN, PSH, RST, SYN, Segment
from observe.capture.tracker import ConnectionTracker
from observe.exchange import Exchange
from observe.sources import ReadOptions
from observe.tally import Tally

CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 80)
MASK = 0xFFFFFFFF


class Builder:
    """Appends segments of one connection, tracking both sides' sequence numbers."""

    def __init__(
        self,
        client: tuple[str, int] = CLIENT,
        server: tuple[str, int] = SERVER,
        client_isn: int = 1000,
        server_isn: int = 900000,
        start: float = 1000.0,
        step: float = 0.001,
    ) -> None:
        self.client = client
        self.server = server
        self.client_seq = client_isn
        self.server_seq = server_isn
        self.time = start
        self.step = step
        self.segments: list[Segment] = []

    def _add(self, from_client: bool, flags: int, payload: bytes = b"") -> Segment:
        self.time += self.step
        if from_client:
            source, destination = self.client, self.server
            seq, ack = self.client_seq, self.server_seq
        else:
            source, destination = self.server, self.client
            seq, ack = self.server_seq, self.client_seq
        segment = Segment(
            round(self.time, 6), source[0], source[1], destination[0], destination[1],
            seq & MASK, ack & MASK, flags, payload,
        )
        advance = len(payload) + (1 if flags & (SYN | FIN) else 0)
        if from_client:
            self.client_seq += advance
        else:
            self.server_seq += advance
        self.segments.append(segment)
        return segment

    def handshake(self) -> Builder:
        self._add(True, SYN)
        self._add(False, SYN | ACK)
        self._add(True, ACK)
        return self

    def send(self, from_client: bool, data: bytes, mss: int = 1460) -> Builder:
        """Send `data` in `mss`-sized segments, PSH on the last one (as TCP stacks do)."""
        for start in range(0, len(data), mss):
            last = start + mss >= len(data)
            self._add(from_client, ACK | PSH if last else ACK, data[start:start + mss])
        return self

    def client_sends(self, data: bytes, mss: int = 1460) -> Builder:
        return self.send(True, data, mss)

    def server_sends(self, data: bytes, mss: int = 1460) -> Builder:
        return self.send(False, data, mss)

    def close(self, client_first: bool = True) -> Builder:
        self._add(client_first, FIN | ACK)
        self._add(not client_first, FIN | ACK)
        self._add(client_first, ACK)
        return self

    def reset(self, from_client: bool = True) -> Builder:
        self._add(from_client, RST)
        return self


def conversation(
    pairs: Sequence[tuple[bytes, bytes]],
    pipelined: bool = False,
    handshake: bool = True,
    close: bool = True,
    mss: int = 1460,
    **builder: object,
) -> list[Segment]:
    """A connection carrying `pairs` of (raw request, raw response)."""
    build = Builder(**builder)  # type: ignore[arg-type]
    if handshake:
        build.handshake()
    if pipelined:
        for request, _ in pairs:
            build.client_sends(request, mss)
        for _, response in pairs:
            build.server_sends(response, mss)
    else:
        for request, response in pairs:
            build.client_sends(request, mss)
            build.server_sends(response, mss)
    if close:
        build.close()
    return build.segments


def run(
    segments: Iterable[Segment], options: ReadOptions | None = None, tally: Tally | None = None,
    **tracker: object,
) -> list[Exchange]:
    """Feed segments to a fresh tracker; every exchange it returns, `finish` included."""
    tracker_ = ConnectionTracker(options or ReadOptions(), tally or Tally(), **tracker)  # type: ignore[arg-type]
    out: list[Exchange] = []
    for segment in segments:
        out.extend(tracker_.feed(segment))
    out.extend(tracker_.finish())
    return out


def get(target: str = "/", host: str = "api.example.com", extra: str = "", body: bytes = b"",
        method: str = "GET") -> bytes:
    """A raw request (Content-Length added when there is a body)."""
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def ok(body: bytes = b"", status: str = "200 OK", extra: str = "") -> bytes:
    """A raw response with a Content-Length."""
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body
