"""Sans-I/O reassembly of one direction of a TCP connection into an ordered byte stream.

A `HalfStream` is fed segments (sequence number, payload, timestamp, ack) in capture order and
hands its sink contiguous data in stream order, plus explicit gaps where bytes were never seen.

Invariants:
1. Every byte reaches the sink at most once and in sequence order; retransmitted and overlapping
   bytes are trimmed, never delivered twice.
2. Missing bytes are never invented: a hole is reported to the sink as `gap(size)`, and the
   data after it follows. A hole is declared lost when the peer acknowledges bytes past it (the
   capture missed a segment the receiver got, so no retransmission will come), when the
   buffered out-of-order data passes its cap, or when the stream is flushed.
3. Sequence numbers are compared modulo 2**32, so wraparound is transparent.
4. Memory is bounded: out-of-order data waiting for a hole to fill never exceeds `max_pending`
   bytes (plus one segment).
5. The in-order case (seq == expected, nothing pending) is one comparison and one call.
"""

from __future__ import annotations

from typing import Protocol

SEQ_MASK = 0xFFFFFFFF
_HALF_SPACE = 0x80000000
_SPACE = 0x100000000
DEFAULT_MAX_PENDING = 4 * 1024 * 1024


class StreamSink(Protocol):
    """What a `HalfStream` delivers to: ordered data and explicit holes."""

    def data(
        self, payload: bytes, timestamp: float, seq: int, ack: int | None, push: int = 0,
    ) -> None: ...

    def gap(self, size: int) -> None: ...


def seq_before(a: int, b: int) -> bool:
    """Whether sequence number `a` comes strictly before `b` (modulo 2**32)."""
    return a != b and ((a - b) & SEQ_MASK) >= _HALF_SPACE


class HalfStream:
    """One direction of a TCP connection: sequence tracking and out-of-order buffering."""

    __slots__ = (
        "duplicates",
        "fin_seq",
        "gap_bytes",
        "max_pending",
        "next_seq",
        "origin_seq",
        "pending",
        "pending_bytes",
        "sink",
    )

    def __init__(self, sink: StreamSink, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.sink = sink
        self.max_pending = max_pending
        # the sequence number of the next byte the sink expects; None until the stream starts
        self.next_seq: int | None = None
        self.origin_seq: int | None = None  # where the stream started
        # out-of-order segments by sequence number: (payload, timestamp, ack)
        self.pending: dict[int, tuple[bytes, float, int | None]] = {}
        self.pending_bytes = 0
        self.fin_seq: int | None = None
        self.duplicates = 0  # segments that carried nothing new (retransmissions)
        self.gap_bytes = 0  # bytes reported missing

    def start(self, seq: int) -> None:
        """Set the sequence number of the first byte (ISN + 1 after a SYN)."""
        if self.next_seq is None:
            self.next_seq = self.origin_seq = seq & SEQ_MASK

    @property
    def seen_data(self) -> bool:
        """Whether any payload arrived (delivered or waiting)."""
        return bool(self.pending) or self.next_seq != self.origin_seq

    @property
    def finished(self) -> bool:
        """Whether a FIN was seen and every byte before it was delivered."""
        return self.fin_seq is not None and self.fin_seq == self.next_seq

    def fin(self, seq_after_payload: int) -> None:
        """Note a FIN: the stream ends just before `seq_after_payload`."""
        if self.fin_seq is None:
            self.fin_seq = seq_after_payload & SEQ_MASK

    def add(
        self, seq: int, payload: bytes, timestamp: float, ack: int | None, push: int = 0,
    ) -> None:
        """Take one segment's payload (non-empty) in capture order; `push` (the segment's PSH)
        is passed on with data delivered at once."""
        expected = self.next_seq
        if expected is None:
            # a stream seen without its SYN starts at the first byte seen
            expected = self.next_seq = self.origin_seq = seq
        offset = (seq - expected) & SEQ_MASK
        if offset == 0:
            self.next_seq = (seq + len(payload)) & SEQ_MASK
            self.sink.data(payload, timestamp, seq, ack, push)
            if self.pending:
                self._drain()
            return
        if offset >= _HALF_SPACE:
            behind = _SPACE - offset
            if behind >= len(payload):
                self.duplicates += 1
                return
            payload = payload[behind:]
            self.next_seq = (expected + len(payload)) & SEQ_MASK
            self.sink.data(payload, timestamp, expected, ack, push)
            if self.pending:
                self._drain()
            return
        held = self.pending.get(seq)
        if held is not None:
            if len(held[0]) >= len(payload):
                self.duplicates += 1
                return
            self.pending_bytes -= len(held[0])
        self.pending[seq] = (payload, timestamp, ack)
        self.pending_bytes += len(payload)
        if self.pending_bytes > self.max_pending:
            self._skip_hole()

    def _drain(self) -> None:
        """Deliver pending segments that have become contiguous."""
        pending = self.pending
        sink = self.sink
        while pending:
            expected = self.next_seq
            assert expected is not None
            held = pending.pop(expected, None)
            if held is not None:
                payload, timestamp, ack = held
                self.pending_bytes -= len(payload)
                self.next_seq = (expected + len(payload)) & SEQ_MASK
                sink.data(payload, timestamp, expected, ack)
                continue
            # an entry that starts before the expected byte: trim it or drop it
            for seq in list(pending):
                offset = (seq - expected) & SEQ_MASK
                if offset < _HALF_SPACE:
                    continue
                payload, timestamp, ack = pending.pop(seq)
                self.pending_bytes -= len(payload)
                behind = _SPACE - offset
                if behind >= len(payload):
                    self.duplicates += 1
                    continue
                payload = payload[behind:]
                self.next_seq = (expected + len(payload)) & SEQ_MASK
                sink.data(payload, timestamp, expected, ack)
                break
            else:
                return

    def _skip_hole(self) -> None:
        """Declare the bytes before the nearest pending segment lost, and go on after them."""
        expected = self.next_seq
        assert expected is not None
        nearest = min(self.pending, key=lambda seq: (seq - expected) & SEQ_MASK)
        size = (nearest - expected) & SEQ_MASK
        self.gap_bytes += size
        self.next_seq = nearest
        self.sink.gap(size)
        self._drain()

    def acknowledged(self, ack: int) -> None:
        """The peer acknowledged up to `ack`: holes before it will never be filled."""
        while self.pending and seq_before(self.next_seq, ack):  # type: ignore[arg-type]
            self._skip_hole()

    def flush(self) -> None:
        """End of input for this direction: deliver everything pending, with its holes."""
        while self.pending:
            self._skip_hole()
        if self.fin_seq is not None and self.next_seq is not None:
            missing = (self.fin_seq - self.next_seq) & SEQ_MASK
            if 0 < missing < _HALF_SPACE:
                # bytes before the FIN that never arrived
                self.gap_bytes += missing
                self.next_seq = self.fin_seq
                self.sink.gap(missing)
