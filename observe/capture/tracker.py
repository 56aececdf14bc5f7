"""Sans-I/O TCP connection tracking: `Segment`s in, HTTP `Exchange`s out.

`ConnectionTracker.feed(segment)` returns the exchanges that segment completed, in order;
`finish()` flushes every connection at the end of input. Nothing here reads files or sockets.

Invariants:
1. A connection is found by its 4-tuple in either direction (one dict lookup per segment; an
   IPv4 packet decoder may instead look the raw 4-tuple bytes up in `ipv4_streams` and call
   `feed_data`, which is `feed` for a segment without SYN/FIN/RST). The client is the side
   that sent the SYN, else the side whose data starts with a request line, else the side with
   the higher port.
2. Memory is bounded: at most `max_connections` connections are tracked (idle ones are flushed
   first, then the oldest are evicted and counted); closed connections leave the table at once
   and are remembered in a bounded set so their late packets are counted, not re-read.
3. Everything skipped is counted in the tally by reason: streams (not HTTP, filtered out,
   upgraded), packets (retransmitted data, after close), exchanges (filtered out, no request).
   The caller counts the exchanges it receives (`Tally.exchange`); the tracker never does.
4. Exchanges carry `Origin(kind, location, index)` with a running index, in emission order.
5. An exchange is returned by the call whose segment completes it: usually the response's
   last segment (PSH), at the latest the next segment of that connection with data, its
   FIN/RST, the idle sweep, or `finish`.
6. Idle sweeps run on capture time, every `_SWEEP_INTERVAL` seconds: after a fed segment
   (`auto_sweep=True`, for live sources), or whenever the caller calls `expire` (a file
   source calls it after every packet it reads, fed or not, when the time is past
   `next_sweep`; so the sweeps do not depend on which packets a reader feeds).
7. Connections are closed (by a sweep, an eviction or `finish`) oldest first: in the order of
   `opened_at`, the caller's `packet` number when the connection was opened. With `opened`
   set to a list, every exchange added to the output appends its connection's `opened_at`
   there (what a reader needs to put exchanges from several trackers back in one order).
"""

from __future__ import annotations

import struct
from socket import inet_aton, inet_ntoa

from observe.capture.building import build_exchange, make_origin, text
from observe.capture.connection import Connection
from observe.capture.http1 import DEFAULT_MAX_BODY, MessageReader
from observe.capture.messages import REQUEST_LINE, Message
from observe.capture.reassembly import DEFAULT_MAX_PENDING, SEQ_MASK, HalfStream
from observe.capture.segment import ACK, FIN, PSH, RST, SYN, Segment
from observe.exchange import Endpoint, Exchange
from observe.sources import ReadOptions
from observe.tally import Tally

DEFAULT_IDLE_TIMEOUT = 300.0  # seconds of capture time without a packet
_SWEEP_INTERVAL = 10.0  # seconds of capture time between idle sweeps
_CLOSED_MEMORY = 8192
_CONTROL = SYN | FIN | RST
_PORTS = struct.Struct("!HH")

Key = tuple[str, int, str, int]
# what one direction's 4-tuple leads to: the connection, that direction's stream and reader,
# the other direction's reader and stream
Entry = tuple[Connection, HalfStream, MessageReader, MessageReader, HalfStream]


def _raw_key(key: Key) -> bytes | None:
    """The 4-tuple as the 12 bytes an IPv4 packet carries it in; None unless both addresses
    are IPv4 in dotted-quad text (the one form that maps to and from bytes exactly)."""
    src_ip, src_port, dst_ip, dst_port = key
    try:
        src, dst = inet_aton(src_ip), inet_aton(dst_ip)
        ports = _PORTS.pack(src_port, dst_port)
    except (OSError, struct.error):
        return None
    if inet_ntoa(src) != src_ip or inet_ntoa(dst) != dst_ip:
        return None
    return src + dst + ports


class ConnectionTracker:
    """Reassembles TCP connections from segments and reads the HTTP/1.x exchanges on them."""

    def __init__(
        self,
        options: ReadOptions,
        tally: Tally,
        location: str = "",
        kind: str = "pcap",
        max_connections: int = 65536,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_body: int = DEFAULT_MAX_BODY,
        auto_sweep: bool = True,
    ) -> None:
        self.options = options
        self.tally = tally
        self.location = location
        self.kind = kind
        self.max_connections = max(1, max_connections)
        self.idle_timeout = idle_timeout
        self.max_pending = max_pending
        self.max_body = max_body
        self._filtering = bool(options.hosts or options.ports)
        # both directions' 4-tuples -> what that direction feeds
        self._streams: dict[Key, Entry] = {}
        # the same entries for IPv4 connections, by the 12 bytes of the 4-tuple as they stand
        # in the packet (addresses, then ports): a packet decoder can look them up without
        # making text addresses or a `Segment` (read only; see `feed_data`)
        self.ipv4_streams: dict[bytes, Entry] = {}
        self._connections: dict[Key, Connection] = {}  # by client->server key, oldest first
        self._closed: dict[Key, None] = {}
        self._ready: list[Exchange] = []
        self._index = 0
        self.next_sweep = float("-inf")  # capture time of the next idle sweep (invariant 6)
        self.auto_sweep = auto_sweep
        # when `feed` sweeps: at `next_sweep`, or never without auto_sweep
        self._feed_sweep = self.next_sweep if auto_sweep else float("inf")
        self.packet = 0  # the caller's packet number, recorded when a connection opens
        self.opened: list[int] | None = None  # see invariant 7
        self._endpoints: dict[tuple[str, int], Endpoint] = {}

    # -- input ------------------------------------------------------------------------------

    def feed(self, segment: Segment) -> list[Exchange]:
        """Take one TCP segment; return the exchanges it completed, in order."""
        entry = self._streams.get(segment[1:5])  # type: ignore[arg-type]
        if entry is None:
            entry = self._open(segment)
            if entry is None:
                return self._take()
        timestamp, _, _, _, _, seq, ack, flags, payload = segment
        connection = entry[0]
        if not flags & _CONTROL and not connection.fin_seen:
            return self.feed_data(entry, timestamp, seq, ack, flags, payload)
        self._data(entry, timestamp, seq, ack, flags, payload)
        self._control(connection, segment)
        if timestamp > self._feed_sweep:
            self._sweep(timestamp)
        return self._take()

    def feed_data(
        self, entry: Entry, timestamp: float, seq: int, ack: int, flags: int, payload: bytes,
    ) -> list[Exchange]:
        """`feed` for a segment without SYN, FIN or RST, on a connection with no FIN seen,
        whose entry the caller found (in `ipv4_streams`: the capture fast path)."""
        self._data(entry, timestamp, seq, ack, flags, payload)
        if timestamp > self._feed_sweep:
            self._sweep(timestamp)
        if self._ready:
            return self._take()
        return []

    def _data(
        self, entry: Entry, timestamp: float, seq: int, ack: int, flags: int, payload: bytes,
    ) -> None:
        connection, stream, reader, other_reader, other_stream = entry
        connection.last_ts = timestamp
        if other_stream.pending and flags & ACK:
            other_stream.acknowledged(ack)
        if payload:
            if connection.dead is None:
                if other_reader.batch:
                    # the other side spoke first: parse what it said before this
                    other_reader.push()
                if seq == stream.next_seq and not stream.pending:
                    # in order (HalfStream.add's first case, inlined for speed)
                    stream.next_seq = (seq + len(payload)) & SEQ_MASK
                    reader.data(payload, timestamp, seq, ack if flags & ACK else None,
                                flags & PSH)
                else:
                    stream.add(seq, payload, timestamp, ack if flags & ACK else None)
                    if flags & PSH:
                        reader.push()
            else:
                self.tally.skip("packet", connection.dead)

    def finish(self) -> list[Exchange]:
        """End of input: flush every connection still open; return what that completes."""
        for connection in list(self._connections.values()):
            self._close(connection, reset=False)
        return self._take()

    def expire(self, now: float) -> list[Exchange]:
        """Flush connections idle since before `now - idle_timeout` (for live sources, whose
        clock runs on when no packet comes); return what that completes."""
        self._sweep(now)
        return self._take()

    def _take(self) -> list[Exchange]:
        ready = self._ready
        if ready:
            self._ready = []
        return ready if ready else []

    # -- connections ------------------------------------------------------------------------

    def _open(self, segment: Segment) -> Entry | None:
        timestamp, src_ip, src_port, dst_ip, dst_port, _, _, flags, payload = segment
        syn = bool(flags & SYN)
        if not syn and not payload:
            return None  # a bare ACK/FIN/RST of a connection we do not know: nothing to read
        key: Key = (src_ip, src_port, dst_ip, dst_port)
        if key in self._closed:
            if not syn:
                self.tally.skip("packet", "after connection close")
                return None
            del self._closed[key]
        if len(self._connections) >= self.max_connections:
            self._make_room(timestamp)
        if syn:
            src_is_client = not flags & ACK
        elif REQUEST_LINE.match(payload):
            src_is_client = True
        elif payload.startswith(b"HTTP/"):
            src_is_client = False
        else:
            src_is_client = src_port > dst_port
        source, destination = (src_ip, src_port), (dst_ip, dst_port)
        client, server = (source, destination) if src_is_client else (destination, source)
        connection = Connection(self, client, server, syn, self.max_pending, self.max_body)
        connection.last_ts = timestamp
        connection.opened_at = self.packet
        if self.options.ports and server[1] not in self.options.ports:
            connection.kill("filtered out")
        client_key, server_key = connection.keys
        self._connections[client_key] = connection
        requests, responses = connection.requests, connection.responses
        client_stream, server_stream = connection.client_stream, connection.server_stream
        self._streams[client_key] = (
            connection, client_stream, requests, responses, server_stream,
        )
        self._streams[server_key] = (
            connection, server_stream, responses, requests, client_stream,
        )
        raw_client, raw_server = connection.raw_keys = _raw_key(client_key), _raw_key(server_key)
        if raw_client is not None and raw_server is not None:
            self.ipv4_streams[raw_client] = self._streams[client_key]
            self.ipv4_streams[raw_server] = self._streams[server_key]
        return self._streams[key]

    def _control(self, connection: Connection, segment: Segment) -> None:
        """SYN, FIN and RST: where streams start and end."""
        flags = segment.flags
        client_key = connection.keys[0]
        from_client = segment[1:5] == client_key
        stream = connection.client_stream if from_client else connection.server_stream
        if flags & SYN:
            first = (segment.seq + 1) & SEQ_MASK
            if stream.next_seq is None:
                stream.start(first)
                if not from_client and connection.requests.last_ack is None:
                    # what the client's first request acknowledges
                    connection.requests.last_ack = first
            elif from_client and not flags & ACK and stream.origin_seq != first:
                # the 4-tuple is reused by a new connection
                self._close(connection, reset=False)
                self._closed.pop(client_key, None)
                entry = self._open(segment)
                if entry is not None:
                    entry[1].start(first)
                return
        if flags & RST:
            self._close(connection, reset=True)
            return
        if flags & FIN:
            connection.fin_seen = True
            stream.fin(segment.seq + len(segment.payload) + (1 if flags & SYN else 0))
        if connection.fin_seen:
            client_stream, server_stream = connection.client_stream, connection.server_stream
            if server_stream.finished:
                connection.requests.push()
                connection.responses.eof()
            if client_stream.finished:
                connection.requests.eof()
            if client_stream.finished and server_stream.finished:
                self._close(connection, reset=False)

    def _close(self, connection: Connection, reset: bool) -> None:
        client_key, server_key = connection.keys
        if self._connections.pop(client_key, None) is None:
            return
        self._streams.pop(client_key, None)
        self._streams.pop(server_key, None)
        for raw_key in connection.raw_keys:
            if raw_key is not None:
                self.ipv4_streams.pop(raw_key, None)
        closed = self._closed
        closed[client_key] = None
        closed[server_key] = None
        while len(closed) > _CLOSED_MEMORY:
            del closed[next(iter(closed))]
        connection.close(reset)

    def _sweep(self, now: float) -> None:
        """Flush connections idle for longer than `idle_timeout` (capture time)."""
        self.next_sweep = now + _SWEEP_INTERVAL
        if self.auto_sweep:
            self._feed_sweep = self.next_sweep
        limit = now - self.idle_timeout
        idle = [c for c in self._connections.values() if c.last_ts < limit]
        for connection in idle:
            self._close(connection, reset=False)
        if idle:
            self.tally.count("connections flushed when idle", len(idle))

    def _make_room(self, now: float) -> None:
        self._sweep(now)
        while len(self._connections) >= self.max_connections:
            oldest = next(iter(self._connections.values()))
            self.tally.count("connections evicted (table full)")
            self._close(oldest, reset=False)

    # -- output -----------------------------------------------------------------------------

    def _endpoint(self, address: tuple[str, int]) -> Endpoint:
        endpoint = self._endpoints.get(address)
        if endpoint is None:
            if len(self._endpoints) > 4096:
                self._endpoints.clear()
            endpoint = self._endpoints[address] = Endpoint(*address)
        return endpoint

    def emit(self, connection: Connection, request: Message, response: Message | None) -> None:
        """Build the Exchange for a finished pair (ExchangeSink)."""
        host = request.host
        server_ip, server_port = connection.server
        if host is not None:
            authority = text(host).strip()
        elif ":" in server_ip:
            authority = f"[{server_ip}]:{server_port}"
        else:
            authority = f"{server_ip}:{server_port}"
        if self._filtering and not self._wanted(authority, server_port):
            self.tally.skip("exchange", "filtered out")
            return
        origin = make_origin(self.kind, self.location, self._index)
        self._index += 1
        endpoints = connection.endpoints
        if endpoints is None:
            endpoints = connection.endpoints = (
                self._endpoint(connection.client), self._endpoint(connection.server),
            )
        self._ready.append(build_exchange(request, response, authority, *endpoints, origin))
        if self.opened is not None:
            self.opened.append(connection.opened_at)

    def _wanted(self, authority: str, port: int) -> bool:
        host = authority.rsplit("@", 1)[-1]
        host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
        return self.options.wants(host, port)

