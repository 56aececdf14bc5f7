"""The capture file reader, against files written at test time by scapy and by `crafting`.

Each variant of the format list (pcap in both byte orders and resolutions, pcapng with several
interfaces, big-endian sections, other packet blocks, gzip) must give back exactly the frames
and timestamps that were written; truncated, empty and garbage files follow the documented
policy (see the module docstring of `observe.capture.pcapfile`).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from scapy.utils import PcapNgWriter

from observe.capture.linklayer import LINK_TYPES
from observe.capture.pcapfile import is_capture_head, read_frames
from observe.errors import InputError, TruncatedInputError, UnknownFormatError
from observe.tally import Tally
from tests.observe.capture.crafting import (
    Interface,
    frames,
    simple_dialogue,
    tcp_conversation,
    write_pcap,
    write_pcapng,
)


def _captured(linktype: int = 1) -> list[tuple[float, bytes]]:
    return frames(tcp_conversation(simple_dialogue(2)), linktype)


def _read(path: Path, tally: Tally | None = None) -> list[tuple[float, int, bytes]]:
    tally = tally if tally is not None else Tally()
    return [(t, lt, bytes(f)) for t, lt, f in read_frames(path, tally, link_types=LINK_TYPES)]


@pytest.mark.parametrize("endianness", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_pcap_variants_give_back_every_frame(
    tmp_path: Path, endianness: str, nano: bool, gz: bool
) -> None:
    captured = _captured()
    path = write_pcap(tmp_path / "c.pcap", captured, 1, endianness=endianness, nano=nano, gz=gz)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") is gz
    read = _read(path)
    assert [f for _, _, f in read] == [f for _, f in captured]
    assert {lt for _, lt, _ in read} == {1}
    tolerance = 1e-9 * 10 if nano else 1e-6
    for (t_read, _, _), (t_written, _) in zip(read, captured, strict=True):
        assert abs(t_read - t_written) < tolerance + 1e-6 * 0.5


def test_nanosecond_timestamps_keep_nanoseconds(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "n.pcap", [(1_700_000_000.000000123, b"\x45" + b"\x00" * 39)],
                      101, nano=True)
    header = path.read_bytes()[24:32]
    assert struct.unpack("<II", header)[1] > 0  # written with a sub-microsecond part
    [(time, linktype, _)] = _read(path)
    assert linktype == 101
    assert time == pytest.approx(1_700_000_000.000000123, abs=1e-6)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("block", ["epb", "opb"])
def test_pcapng_two_interfaces_of_different_link_types(
    tmp_path: Path, order: str, block: str
) -> None:
    ethernet = _captured(1)
    cooked = _captured(113)
    interfaces = [Interface(1), Interface(113, tsresol=9)]  # microseconds, nanoseconds
    packets = [(0, t, f) for t, f in ethernet] + [(1, t + 10, f) for t, f in cooked]
    path = write_pcapng(tmp_path / "c.pcapng", interfaces, packets, order=order, block=block)
    read = _read(path)
    assert [(lt, f) for _, lt, f in read] == [(1, f) for _, f in ethernet] + [
        (113, f) for _, f in cooked
    ]
    assert read[0][0] == pytest.approx(ethernet[0][0], abs=1e-6)
    assert read[-1][0] == pytest.approx(cooked[-1][0] + 10, abs=1e-6)


def test_pcapng_binary_timestamp_resolution_and_statistics_block(tmp_path: Path) -> None:
    captured = _captured(276)
    path = write_pcapng(
        tmp_path / "c.pcapng", [Interface(276, tsresol=0x80 | 20)],
        [(0, t, f) for t, f in captured], statistics=True, gz=True,
    )
    tally = Tally()
    read = _read(path, tally)
    assert [f for _, _, f in read] == [f for _, f in captured]
    assert read[1][0] == pytest.approx(captured[1][0], abs=2**-19)
    assert tally.skipped_of("record") == {"pcapng interface statistics block": 1}


def test_pcapng_simple_packet_blocks_use_interface_zero(tmp_path: Path) -> None:
    captured = _captured(101)
    path = write_pcapng(tmp_path / "s.pcapng", [Interface(101)],
                        [(0, t, f) for t, f in captured], block="spb")
    assert [(lt, f) for _, lt, f in _read(path)] == [(101, f) for _, f in captured]


def test_pcapng_written_by_scapy_with_two_named_interfaces(tmp_path: Path) -> None:
    """An independent writer: scapy gives each interface name its own IDB."""
    ethernet = _captured(1)
    cooked = _captured(113)
    writer = PcapNgWriter(str(tmp_path / "scapy.pcapng"))
    writer.linktype = 1
    writer._write_header(None)  # the section header and an unnamed interface 0
    for (t1, f1), (t2, f2) in zip(ethernet, cooked, strict=True):
        writer._write_packet(f1, linktype=1, sec=t1, ifname=b"eth0")
        writer._write_packet(f2, linktype=113, sec=t2, ifname=b"any")
    writer.close()
    read = _read(tmp_path / "scapy.pcapng")
    expected = [x for pair in zip(ethernet, cooked, strict=True) for x in pair]
    assert [f for _, _, f in read] == [f for _, f in expected]
    assert [lt for _, lt, _ in read] == [1, 113] * len(ethernet)


def test_progress_reports_add_up_to_the_file_size(tmp_path: Path) -> None:
    captured = _captured() * 400  # a few hundred KB
    for gz in (False, True):
        path = write_pcap(tmp_path / f"p{gz}.pcap", captured, 1, gz=gz)
        reported: list[int] = []
        list(read_frames(path, Tally(), on_bytes=reported.append))
        assert sum(reported) == path.stat().st_size


def test_empty_file_is_truncated_input(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(TruncatedInputError, match="empty"):
        _read(path)


@pytest.mark.parametrize("keep", [3, 10, 23])
def test_file_cut_inside_its_header_is_truncated_input(tmp_path: Path, keep: int) -> None:
    whole = write_pcap(tmp_path / "w.pcap", _captured(), 1).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(whole[:keep])
    with pytest.raises(TruncatedInputError):
        _read(path)


def test_file_cut_inside_the_first_record_is_truncated_input(tmp_path: Path) -> None:
    whole = write_pcap(tmp_path / "w.pcap", _captured(), 1).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(whole[:24 + 16 + 5])
    with pytest.raises(TruncatedInputError, match="first packet record"):
        _read(path)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_file_cut_mid_way_keeps_whole_records_and_counts_the_cut(
    tmp_path: Path, fmt: str
) -> None:
    captured = _captured()
    if fmt == "pcap":
        whole = write_pcap(tmp_path / "w", captured, 1).read_bytes()
    else:
        whole = write_pcapng(tmp_path / "w", [Interface(1)],
                             [(0, t, f) for t, f in captured]).read_bytes()
    path = tmp_path / "cut"
    path.write_bytes(whole[:-7])
    tally = Tally()
    read = _read(path, tally)
    assert [f for _, _, f in read] == [f for _, f in captured[:-1]]
    assert tally.skipped_of("record") == {"truncated record": 1}


def test_gzip_stream_cut_mid_way_keeps_what_was_read(tmp_path: Path) -> None:
    captured = _captured() * 200
    whole = write_pcap(tmp_path / "w.pcap", captured, 1).read_bytes()
    compressed = gzip.compress(whole)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(compressed[: len(compressed) * 2 // 3])
    tally = Tally()
    read = _read(path, tally)
    assert 0 < len(read) < len(captured)
    assert [f for _, _, f in read] == [f for _, f in captured[: len(read)]]
    assert sum(tally.skipped_of("record").values()) == 1


def test_corrupt_length_after_good_records_stops_and_is_counted(tmp_path: Path) -> None:
    captured = _captured()
    whole = bytearray(write_pcap(tmp_path / "w.pcap", captured, 1).read_bytes())
    second = 24 + 16 + len(captured[0][1])
    struct.pack_into("<I", whole, second + 8, 0x7FFFFFFF)
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(whole))
    tally = Tally()
    assert len(_read(path, tally)) == 1
    assert tally.skipped_of("record") == {"corrupt record": 1}


@pytest.mark.parametrize(
    "content",
    [b"GET / HTTP/1.1\r\n\r\n" * 4, bytes(range(256)), b"\x0a\x0d\x0d\x0a" + b"\x00" * 40],
    ids=["http-text", "binary", "pcapng-magic-without-byte-order"],
)
def test_garbage_is_an_unknown_format(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.pcap"
    path.write_bytes(content)
    assert not is_capture_head(content)
    with pytest.raises(UnknownFormatError):
        _read(path)


def test_unknown_link_type_is_named(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "u.pcap", [(START_TIME, b"\x00" * 20)], 147)
    with pytest.raises(InputError, match="link type 147 is not supported"):
        _read(path)
    ng = write_pcapng(tmp_path / "u.pcapng", [Interface(1), Interface(195)],
                      [(0, START_TIME, b"\x00" * 20)])
    with pytest.raises(InputError, match="link type 195"):
        _read(ng)


START_TIME = 1_700_000_000.0


def test_pcapng_sections_of_both_byte_orders_in_one_file(tmp_path: Path) -> None:
    """A second section restarts interface numbering and may switch byte order."""
    ethernet, raw = _captured(1), _captured(101)
    first = write_pcapng(tmp_path / "a", [Interface(1)], [(0, t, f) for t, f in ethernet])
    second = write_pcapng(tmp_path / "b", [Interface(101, tsresol=9)],
                          [(0, t, f) for t, f in raw], order=">")
    path = tmp_path / "two-sections.pcapng"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    read = _read(path)
    assert [(lt, f) for _, lt, f in read] == [(1, f) for _, f in ethernet] + [
        (101, f) for _, f in raw
    ]


def test_pcapng_packet_block_too_short_for_its_fields_is_counted(tmp_path: Path) -> None:
    captured = _captured()
    whole = write_pcapng(tmp_path / "w", [Interface(1)], [(0, t, f) for t, f in captured])
    short = struct.pack("<II", 6, 20) + b"\x00" * 8 + struct.pack("<I", 20)  # an 8-byte body
    path = tmp_path / "short.pcapng"
    path.write_bytes(whole.read_bytes() + short)
    tally = Tally()
    assert len(_read(path, tally)) == len(captured)
    assert tally.skipped_of("record") == {"packet block with a bad interface or length": 1}
