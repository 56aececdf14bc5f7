"""Connection shards (`read_connection_shard`) and `restscope capture -j`.

The promise: the shards' exchanges, merged by key and renumbered, are exactly a whole read's
(same exchanges, same order, same tally), and `capture -j N` writes the same bytes as `-j 1`.
Captures here mix many interleaved connections, idle gaps long enough for the idle sweep to
flush connections in several shards at once, connections left open at the end, IPv6 (which
takes the general decoding path), non-TCP packets and packets cut by the snap length.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import observe.capturing as capturing
from observe.capture.pcap_source import read_connection_shard, read_exchanges
from observe.capture.segment import Segment
from observe.capturing import capture_items, output_kind
from observe.cli import cli
from observe.exchange import Exchange
from observe.pipeline import PluginChain
from observe.report import ByteProgress
from observe.sources import ReadOptions
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.capture.crafting import (
    CLIENT6,
    SERVER6,
    frames,
    simple_dialogue,
    tcp_conversation,
    write_pcap,
)
from tests.observe.capture.tcpstreams import Builder, get, ok

_FRAME = struct.Struct("!6s6sH BBHHHBBH4s4s HHIIBBHHH")
_MACS = bytes.fromhex("020000000002"), bytes.fromhex("020000000001")


def _ethernet(segment: Segment) -> bytes:
    """An Ethernet/IPv4/TCP frame for a test segment (checksums left zero: not checked)."""
    src = bytes(map(int, segment.src_ip.split(".")))
    dst = bytes(map(int, segment.dst_ip.split(".")))
    header = _FRAME.pack(
        _MACS[0], _MACS[1], 0x0800, 0x45, 0, 40 + len(segment.payload), 0, 0x4000, 64, 6, 0,
        src, dst, segment.src_port, segment.dst_port, segment.seq, segment.ack, 0x50,
        segment.flags, 65535, 0, 0,
    )
    return header + segment.payload


def _connection(number: int, start: float, calls: int, pipelined: bool, end: str,
                body: int) -> list[Segment]:
    build = Builder(client=(f"10.0.{number // 200}.{number % 200 + 1}", 40000 + number),
                    server=("10.9.0.1", 80 + number % 3), start=start, step=0.5)
    build.handshake()
    pairs = [(get(f"/items/{number}/{i}"), ok(b"x" * (body + i))) for i in range(calls)]
    if pipelined:
        for request, _ in pairs:
            build.client_sends(request, 700)
        for _, response in pairs:
            build.server_sends(response, 700)
    else:
        for request, response in pairs:
            build.client_sends(request, 700)
            build.server_sends(response, 700)
    if end == "fin":
        build.close()
    elif end == "rst":
        build.reset(from_client=False)
    elif end == "half":  # a request whose response never comes
        build.client_sends(get(f"/items/{number}/unanswered"), 700)
    return build.segments


def _write(path: Path, frames_: Sequence[tuple[float, bytes]], snaplen: int = 65535) -> Path:
    return write_pcap(path, sorted(frames_, key=lambda f: f[0]), 1, snaplen=snaplen)


def _mixed_capture(path: Path, plan: Sequence[tuple[float, int, bool, str, int]],
                   snaplen: int = 65535) -> Path:
    captured: list[tuple[float, bytes]] = []
    for number, (start, calls, pipelined, end, body) in enumerate(plan):
        captured += [(s.timestamp, _ethernet(s))
                     for s in _connection(number, start, calls, pipelined, end, body)]
    # IPv6 conversations take the general path; UDP is skipped and counted once
    for k, start in enumerate((1000.2, 1500.7)):
        packets = tcp_conversation(simple_dialogue(2), client=(CLIENT6[0], 50000 + k),
                                   server=SERVER6, ipv6=True, start=start, mss=80)
        captured += frames(packets, 1)
    noise = Ether() / IP(src="10.0.0.9", dst="10.0.0.10") / UDP(sport=53, dport=53) / b"dns"
    captured += [(1000.05 + 37 * i, bytes(noise)) for i in range(20)]
    return _write(path, captured, snaplen)


def _merged(
    path: Path, shards: int, options: ReadOptions | None = None
) -> tuple[list[Exchange], Tally]:
    tally = Tally()
    parts = [list(read_connection_shard(path, options or ReadOptions(), tally, k, shards))
             for k in range(shards)]
    merged = [exchange for _, exchange in heapq.merge(*parts, key=lambda item: item[0])]
    return [dataclasses.replace(e, origin=dataclasses.replace(e.origin, index=i))
            for i, e in enumerate(merged)], tally


def _whole(path: Path, options: ReadOptions | None = None) -> tuple[list[Exchange], Tally]:
    tally = Tally()
    return list(read_exchanges(path, options or ReadOptions(), tally)), tally


PLAN = [
    # start, calls, pipelined, how it ends, body size
    (1000.0, 3, False, "fin", 900),
    (1000.1, 2, True, "open", 2000),   # left open: flushed by the idle sweep
    (1000.3, 4, False, "half", 100),    # ends with an unanswered request
    (1001.0, 1, False, "rst", 3000),
    (1400.0, 2, False, "open", 50),     # opens after the sweep flushed the early ones
    (1400.2, 3, True, "half", 700),
    (1900.0, 2, False, "open", 10),     # open at the end of the file: flushed by finish
    (1900.1, 1, False, "open", 10),
]


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_merged_shards_equal_a_whole_read(tmp_path: Path, shards: int) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    whole, whole_tally = _whole(path)
    merged, tally = _merged(path, shards)
    assert merged == whole
    assert tally == whole_tally
    # the capture exercises what the keys are for: sweeps, finish, every kind of ending
    assert whole_tally.counts["connections flushed when idle"] >= 2
    assert whole_tally.skipped_of("packet")["udp"] == 20
    assert any(e.incomplete for e in whole) and len(whole) > 20


@pytest.mark.parametrize("shards", [2, 3])
def test_one_sweep_flushing_connections_of_every_shard_keeps_their_order(
    tmp_path: Path, shards: int
) -> None:
    # twelve connections left open, opened in an order unrelated to their shards, all
    # flushed by the same idle sweep when a late connection's packets come
    plan = [(1000.0 + 0.01 * k, 1 + k % 3, False, "open" if k % 2 else "half", 40 * k)
            for k in range(12)]
    plan.append((1500.0, 1, False, "fin", 10))
    path = _mixed_capture(tmp_path / "sweep.pcap", plan)
    whole, whole_tally = _whole(path)
    merged, tally = _merged(path, shards)
    assert whole_tally.counts["connections flushed when idle"] >= 12
    assert merged == whole
    assert tally == whole_tally


def test_each_shard_owns_whole_connections(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    owners: dict[tuple[Any, ...], set[int]] = {}
    for shard in range(3):
        for _, exchange in read_connection_shard(path, ReadOptions(), Tally(), shard, 3):
            assert exchange.client is not None and exchange.server is not None
            owners.setdefault((exchange.client, exchange.server), set()).add(shard)
    assert all(len(shards) == 1 for shards in owners.values())
    assert len({s for shards in owners.values() for s in shards}) > 1  # work is shared out


def test_packets_cut_by_snaplen_are_counted_once(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "cut.pcap", PLAN, snaplen=400)
    whole, whole_tally = _whole(path)
    merged, tally = _merged(path, 3)
    assert whole_tally.counts["packets cut by snaplen"] > 0
    assert tally == whole_tally
    assert merged == whole


_ending = st.sampled_from(["fin", "rst", "open", "half"])
_connections = st.lists(
    st.tuples(st.floats(1000, 2200).map(lambda t: round(t, 3)), st.integers(1, 3),
              st.booleans(), _ending, st.integers(0, 1500)),
    min_size=1, max_size=7,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=_connections, shards=st.integers(2, 4))
def test_any_mix_of_connections_merges_back_exactly(
    tmp_path: Path, plan: list[tuple[float, int, bool, str, int]], shards: int
) -> None:
    path = _mixed_capture(tmp_path / "any.pcap", plan)
    whole, whole_tally = _whole(path)
    merged, tally = _merged(path, shards)
    assert merged == whole
    assert tally == whole_tally


def test_a_port_filter_gives_the_same_exchanges(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    options = ReadOptions(ports=frozenset({81}))
    whole, whole_tally = _whole(path, options)
    merged, tally = _merged(path, 2, options)
    assert whole and merged == whole and tally == whole_tally
    assert whole_tally.skipped_of("stream")


@pytest.mark.parametrize("name", sorted(os.listdir(corpus_path("pcap"))))
def test_corpus_captures_merge_back_exactly(name: str) -> None:
    path = corpus_path("pcap", name)
    whole, whole_tally = _whole(path)
    for shards in (2, 3):
        merged, tally = _merged(path, shards)
        assert merged == whole, f"{name} in {shards} shards"
        assert tally == whole_tally


# --- restscope capture -j ------------------------------------------------------------------


def _capture(*args: str) -> Result:
    return CliRunner().invoke(cli, ["capture", *args], catch_exceptions=False)


@pytest.fixture()
def shard_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shard test-sized captures too (large ones only, by default)."""
    monkeypatch.setattr(capturing, "SHARD_MIN_BYTES", 0)


@pytest.mark.usefixtures("shard_small_files")
@pytest.mark.parametrize("suffix", [".jsonl", ".har"])
def test_capture_with_workers_writes_the_same_bytes(tmp_path: Path, suffix: str) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    outputs = {}
    summaries = {}
    for jobs in (1, 2, 3):
        out = tmp_path / f"j{jobs}{suffix}"
        result = _capture(str(path), "-o", str(out), "-j", str(jobs))
        assert result.exit_code == 0, result.stderr
        outputs[jobs] = out.read_bytes()
        summaries[jobs] = result.stderr
    assert outputs[2] == outputs[1] and outputs[3] == outputs[1]
    assert summaries[2] == summaries[1] and summaries[3] == summaries[1]
    if suffix == ".jsonl":
        origins = [json.loads(line)["origin"] for line in outputs[1].splitlines()]
    else:
        origins = [e["_origin"] for e in json.loads(outputs[1])["log"]["entries"]]
    assert [o["index"] for o in origins] == list(range(len(origins)))  # renumbered in order
    assert len(origins) > 20


@pytest.mark.usefixtures("shard_small_files")
def test_listing_with_workers_prints_the_same_lines(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    one = _capture(str(path), "-j", "1")
    two = _capture(str(path), "-j", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and one.stdout.count("\n") > 20


def _dropping_chain(tally: Tally) -> PluginChain:
    class DropEveryThird:
        name = "drop-third"
        drop_reason = "every third item"

        def applies_to(self, exchange: Exchange) -> bool:
            return True

        def rewrite(self, exchange: Exchange) -> Exchange | None:
            target = exchange.request.target
            return None if target.endswith(("/0", "/3")) else exchange

    return PluginChain([DropEveryThird()], tally)


def _items(path: Path, jobs: int, kind: str) -> tuple[list[Any], Tally]:
    tally = Tally()
    with ByteProgress([path]) as progress:
        items = list(capture_items([str(path)], ReadOptions(), _dropping_chain(tally), tally,
                                   output_kind(kind), jobs, progress))
    return [bytes(i) if isinstance(i, memoryview) else i for i in items], tally


@pytest.mark.usefixtures("shard_small_files")
def test_exchanges_a_plugin_drops_keep_their_place_in_the_numbering(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    one, one_tally = _items(path, 1, "jsonl")
    two, two_tally = _items(path, 2, "jsonl")
    assert two == one
    assert one_tally == two_tally
    assert one_tally.skipped_of("exchange")["drop-third: every third item"] > 2


class _ExitingPlugin:
    """Kills the worker process it runs in (a stand-in for a crash); in the parent, which
    reads a shard too, it lets exchanges through."""

    name = "exit"

    def __init__(self) -> None:
        self.parent = os.getpid()

    def applies_to(self, exchange: Exchange) -> bool:
        return True

    def rewrite(self, exchange: Exchange) -> Exchange | None:
        if os.getpid() != self.parent:
            os._exit(3)
        return exchange


@pytest.mark.usefixtures("shard_small_files")
def test_a_worker_that_dies_is_reported(tmp_path: Path) -> None:
    from observe.errors import RestscopeError

    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    tally = Tally()
    with pytest.raises(RestscopeError, match=r"capture worker \d stopped unexpectedly "
                                             r"\(exit code 3\)"), ByteProgress([path]) as progress:
        list(capture_items([str(path)], ReadOptions(), PluginChain([_ExitingPlugin()], tally),
                           tally, output_kind("jsonl"), 2, progress))


@pytest.mark.usefixtures("shard_small_files")
def test_a_truncated_capture_gives_one_line_and_exit_2_with_workers(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(path.read_bytes()[:30])  # inside the first record
    result = CliRunner().invoke(cli, ["capture", str(cut), "-j", "2", "-o",
                                      str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("restscope: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("shard_small_files")
def test_a_capture_cut_short_later_is_read_alike_with_workers(tmp_path: Path) -> None:
    """Cut inside a later record: every process reads up to the cut, the output is -j 1's, the
    cut is counted once, and the run ends with exit code 2 after writing."""
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(path.read_bytes()[:-700])
    results = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.jsonl"
        results[jobs] = (_capture(str(cut), "-j", jobs, "-o", str(out)), out.read_bytes())
    (one, one_bytes), (two, two_bytes) = results["1"], results["2"]
    assert one.exit_code == two.exit_code == 2
    assert one_bytes == two_bytes and one_bytes.count(b"\n") > 20
    assert one.stderr == two.stderr
    assert "1 truncated record" in one.stderr.splitlines()[-1]


@pytest.mark.usefixtures("shard_small_files")
def test_strict_plugin_failure_in_a_worker_stops_the_run(tmp_path: Path) -> None:
    from observe.pipeline import PluginFailedError

    parent = os.getpid()

    class Failing:
        name = "failing"

        def applies_to(self, exchange: Exchange) -> bool:
            return True

        def rewrite(self, exchange: Exchange) -> Exchange | None:
            if os.getpid() == parent:
                return exchange  # fails in the worker only
            raise ValueError("no")

    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    tally = Tally()
    chain = PluginChain([Failing()], tally, strict=True)
    with pytest.raises(PluginFailedError, match="plugin failing failed on GET"), \
            ByteProgress([path]) as progress:
        list(capture_items([str(path)], ReadOptions(), chain, tally, output_kind("jsonl"), 2,
                           progress))


def test_spool_space_is_given_back_once_read(tmp_path: Path) -> None:
    with open(tmp_path / "spool", "w+b") as spool:
        spool.write(b"x" * (1 << 20))
        spool.flush()
        fd = spool.fileno()
        before = os.fstat(fd).st_blocks
        if not capturing.release_space(fd, 0, 1 << 20):
            pytest.skip("this file system cannot punch holes")
        assert os.fstat(fd).st_size == 1 << 20  # the size is kept: offsets stay valid
        assert os.fstat(fd).st_blocks < before // 4
        assert os.pread(fd, 4, 0) == b"\0\0\0\0"


def test_without_fork_large_captures_are_read_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    monkeypatch.setattr(capturing, "SHARD_MIN_BYTES", 0)
    assert capturing._worth_sharding(str(path))
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert not capturing._worth_sharding(str(path))


def test_small_and_non_pcap_sources_are_read_in_process(tmp_path: Path) -> None:
    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    assert not capturing._worth_sharding(str(path))  # under 4 MiB
    har = tmp_path / "x.har"
    har.write_bytes(b"{}")
    assert not capturing._worth_sharding(str(har))



@pytest.mark.usefixtures("shard_small_files")
def test_workers_with_the_progress_bar_showing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from rich.console import Console

    import observe.report as report

    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    plain = _capture(str(path), "-o", str(tmp_path / "plain.jsonl"), "-j", "1")
    screen = io.StringIO()
    monkeypatch.setitem(report._consoles, "stderr",
                        Console(file=screen, force_terminal=True, width=100))
    monkeypatch.setattr(report, "_is_terminal", lambda stream: stream is sys.stderr)
    monkeypatch.setattr(report, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.delenv("CI", raising=False)
    shown = _capture(str(path), "-o", str(tmp_path / "shown.jsonl"), "-j", "2")
    assert plain.exit_code == shown.exit_code == 0
    assert "reading mixed.pcap" in screen.getvalue()
    assert (tmp_path / "shown.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()


@pytest.mark.usefixtures("shard_small_files")
@pytest.mark.parametrize("container", ["pcapng", "gzip"])
def test_workers_read_pcapng_and_gzipped_captures_alike(tmp_path: Path, container: str) -> None:
    from tests.observe.capture.crafting import Interface, write_pcapng

    plain = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    records = list(read_records_of(plain))
    if container == "pcapng":
        # two interfaces, the packets dealt between them
        path = write_pcapng(tmp_path / "mixed.pcapng", [Interface(1), Interface(1)],
                            [(i % 2, t, f) for i, (t, f) in enumerate(records)])
    else:
        path = write_pcap(tmp_path / "mixed.pcap.gz", records, 1, gz=True)
    outputs = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"{container}-{jobs}.jsonl"
        result = _capture(str(path), "-o", str(out), "-j", jobs)
        assert result.exit_code == 0, result.stderr
        outputs.append((out.read_bytes().replace(str(path).encode(), b"P"), result.stderr))
    reference = _capture(str(plain), "-o", str(tmp_path / "ref.jsonl"), "-j", "1")
    assert reference.exit_code == 0
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] == (tmp_path / "ref.jsonl").read_bytes().replace(str(plain).encode(), b"P")


def read_records_of(path: Path) -> list[tuple[float, bytes]]:
    from observe.capture.pcapfile import read_frames

    return [(t, bytes(frame)) for t, _, frame in read_frames(path, Tally())]


@pytest.mark.usefixtures("shard_small_files")
def test_the_listing_under_a_progress_bar_prints_the_same_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a bar on the terminal the lines go through rich (in blocks), and are the same."""
    import io

    from rich.console import Console

    import observe.report as report

    path = _mixed_capture(tmp_path / "mixed.pcap", PLAN)
    plain = _capture(str(path), "-j", "1")
    screen = io.StringIO()
    monkeypatch.setitem(report._consoles, "stderr",
                        Console(file=screen, force_terminal=True, width=100, highlight=False))
    monkeypatch.setattr(report, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(report, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.delenv("CI", raising=False)
    report._consoles.pop("stdout", None)
    shown = _capture(str(path), "-j", "2")
    report._consoles.pop("stdout", None)  # bound to this run's stdout
    assert plain.exit_code == shown.exit_code == 0
    assert "reading mixed.pcap" in screen.getvalue()
    assert shown.stdout == plain.stdout and plain.stdout.count("\n") > 20
