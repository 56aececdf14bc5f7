"""HalfStream: one TCP direction put back in order, with holes reported, never filled."""

from __future__ import annotations

from observe.capture.reassembly import SEQ_MASK, HalfStream, seq_before


class Recorder:
    """A sink that writes down what it is given: ('data', bytes) and ('gap', size) events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def data(
        self, payload: bytes, timestamp: float, seq: int, ack: int | None, push: int = 0,
    ) -> None:
        self.events.append(("data", payload))

    def gap(self, size: int) -> None:
        self.events.append(("gap", size))

    @property
    def stream(self) -> bytes:
        return b"".join(p for kind, p in self.events if kind == "data")  # type: ignore[misc]


def half(start: int = 100, max_pending: int = 1 << 20) -> tuple[HalfStream, Recorder]:
    sink = Recorder()
    stream = HalfStream(sink, max_pending)
    stream.start(start)
    return stream, sink


def test_in_order_segments_pass_straight_through() -> None:
    stream, sink = half()
    stream.add(100, b"abc", 1.0, None)
    stream.add(103, b"def", 1.1, None)
    assert sink.events == [("data", b"abc"), ("data", b"def")]
    assert stream.next_seq == 106


def test_out_of_order_segments_wait_for_the_hole_to_fill() -> None:
    stream, sink = half()
    stream.add(106, b"ghi", 1.0, None)
    stream.add(103, b"def", 1.1, None)
    assert sink.events == []
    stream.add(100, b"abc", 1.2, None)
    assert sink.stream == b"abcdefghi"
    assert stream.pending == {}


def test_retransmissions_are_counted_and_not_delivered_twice() -> None:
    stream, sink = half()
    stream.add(100, b"abc", 1.0, None)
    stream.add(100, b"abc", 1.1, None)
    stream.add(106, b"ghi", 1.2, None)
    stream.add(106, b"ghi", 1.3, None)  # a duplicate of pending data
    stream.add(103, b"def", 1.4, None)
    assert sink.stream == b"abcdefghi"
    assert stream.duplicates == 2


def test_overlapping_segments_are_trimmed() -> None:
    stream, sink = half()
    stream.add(100, b"abcd", 1.0, None)
    stream.add(102, b"cdef", 1.1, None)  # repacketised retransmission overlapping the tail
    stream.add(108, b"ij", 1.2, None)
    stream.add(105, b"fgh", 1.3, None)  # pending, overlaps nothing yet
    stream.add(104, b"efg", 1.4, None)  # fills the hole, overlaps the pending segment
    assert sink.stream == b"abcdefghij"


def test_sequence_numbers_wrap_around() -> None:
    start = SEQ_MASK - 2
    stream, sink = half(start)
    stream.add(start, b"abc", 1.0, None)
    stream.add(3, b"ghi", 1.1, None)
    stream.add(0, b"def", 1.2, None)
    assert sink.stream == b"abcdefghi"
    assert seq_before(SEQ_MASK, 0)
    assert not seq_before(0, SEQ_MASK)


def test_a_hole_is_reported_as_a_gap_at_flush_and_the_data_after_it_follows() -> None:
    stream, sink = half()
    stream.add(100, b"abc", 1.0, None)
    stream.add(110, b"xyz", 1.1, None)
    stream.flush()
    assert sink.events == [("data", b"abc"), ("gap", 7), ("data", b"xyz")]
    assert stream.gap_bytes == 7


def test_too_much_out_of_order_data_declares_the_hole_lost() -> None:
    stream, sink = half(max_pending=10)
    stream.add(100, b"a", 1.0, None)
    stream.add(200, b"0123456789", 1.1, None)
    assert sink.events == [("data", b"a")]
    stream.add(210, b"X", 1.2, None)  # passes the cap
    assert sink.events[:2] == [("data", b"a"), ("gap", 99)]
    assert sink.stream == b"a0123456789X"
    assert stream.pending_bytes == 0


def test_missing_bytes_before_a_fin_are_a_gap() -> None:
    stream, sink = half()
    stream.add(100, b"abc", 1.0, None)
    stream.fin(110)
    assert not stream.finished
    stream.flush()
    assert sink.events == [("data", b"abc"), ("gap", 7)]


def test_a_stream_without_syn_starts_at_its_first_segment() -> None:
    sink = Recorder()
    stream = HalfStream(sink)
    stream.add(5000, b"mid", 1.0, None)
    stream.add(4990, b"old data", 1.1, None)  # before the start: a retransmission
    assert sink.stream == b"mid"
    assert stream.seen_data
