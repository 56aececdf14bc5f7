"""The rolling capture log: size rotation, and a follower that loses and repeats nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from observe.errors import InputError
from observe.live.capture_log import CaptureLogWriter, LogFollower, rotated_path
from observe.tally import Tally
from tests.observe.live.helpers import SIMPLE_CODEC, make_exchange


def _targets(exchanges: list) -> list[str]:
    return [e.request.target for e in exchanges]


def test_rotated_names_keep_the_extension(tmp_path: Path) -> None:
    assert rotated_path(tmp_path / "log.jsonl", 0) == tmp_path / "log.jsonl"
    assert rotated_path(tmp_path / "log.jsonl", 2) == tmp_path / "log.2.jsonl"
    assert rotated_path(tmp_path / "log", 1) == tmp_path / "log.1"


def test_writer_rotates_by_size_keeps_backups_and_starts_each_file_with_the_header(
        tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with CaptureLogWriter(path, max_bytes=400, backups=2, codec=SIMPLE_CODEC) as writer:
        for i in range(30):
            writer.write(make_exchange(target=f"/item/{i}"))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["log.1.jsonl", "log.2.jsonl", "log.jsonl"]
    for name in files:
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[0] == '{"version": 1}'
        assert sum(len(line) + 1 for line in lines) <= 400
    assert writer.rotations > 2


def test_follower_reads_backups_first_then_the_live_file_in_order(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with CaptureLogWriter(path, max_bytes=400, backups=10, codec=SIMPLE_CODEC) as writer:
        for i in range(20):
            writer.write(make_exchange(target=f"/item/{i}"))
    follower = LogFollower(path, codec=SIMPLE_CODEC)
    assert _targets(follower.poll()) == [f"/item/{i}" for i in range(20)]
    assert follower.poll() == []


def test_follower_keeps_a_partial_last_line_until_its_newline_arrives(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    line = SIMPLE_CODEC.encode(make_exchange(target="/late")) + "\n"
    path.write_text(SIMPLE_CODEC.encode(make_exchange(target="/first")) + "\n" + line[:10])
    follower = LogFollower(path, codec=SIMPLE_CODEC)
    assert _targets(follower.poll()) == ["/first"]
    assert follower.pending_partial()
    with open(path, "a") as handle:
        handle.write(line[10:])
    assert _targets(follower.poll()) == ["/late"]
    assert not follower.pending_partial()


def test_follower_sees_every_exchange_across_rotations_between_polls(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    follower_seen: list[str] = []
    writer = CaptureLogWriter(path, max_bytes=300, backups=20, codec=SIMPLE_CODEC)
    writer.write(make_exchange(target="/item/0"))
    follower = LogFollower(path, codec=SIMPLE_CODEC)
    follower_seen += _targets(follower.poll())
    for i in range(1, 60):
        writer.write(make_exchange(target=f"/item/{i}"))
        if i % 7 == 0:  # several rotations may happen between two polls
            follower_seen += _targets(follower.poll())
    writer.close()
    follower_seen += _targets(follower.poll())
    assert follower_seen == [f"/item/{i}" for i in range(60)]
    assert writer.rotations >= 5


def test_bad_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("not json\n" + SIMPLE_CODEC.encode(make_exchange(target="/ok")) + "\n")
    tally = Tally()
    follower = LogFollower(path, tally, codec=SIMPLE_CODEC)
    assert _targets(follower.poll()) == ["/ok"]
    assert sum(tally.skipped_of("record").values()) == 1


def test_a_missing_log_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such capture log"):
        LogFollower(tmp_path / "nope.jsonl", codec=SIMPLE_CODEC).poll()


def test_a_follower_told_to_wait_picks_the_log_up_when_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    follower = LogFollower(path, codec=SIMPLE_CODEC, wait=True)
    assert follower.poll() == []
    with CaptureLogWriter(path, codec=SIMPLE_CODEC) as writer:
        writer.write(make_exchange(target="/first"))
    assert _targets(follower.poll()) == ["/first"]


def test_a_follower_polling_from_another_thread_during_heavy_rotation_loses_nothing(
        tmp_path: Path) -> None:
    import threading

    path = tmp_path / "log.jsonl"
    writer = CaptureLogWriter(path, max_bytes=1_000, backups=1_000, codec=SIMPLE_CODEC)
    follower = LogFollower(path, codec=SIMPLE_CODEC, wait=True)
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        while not done.wait(0.002):
            seen.extend(_targets(follower.poll()))
        seen.extend(_targets(follower.poll()))

    thread = threading.Thread(target=follow)
    thread.start()
    for i in range(1_000):
        writer.write(make_exchange(target=f"/item/{i}"))
    writer.close()
    done.set()
    thread.join(30)
    assert seen == [f"/item/{i}" for i in range(1_000)]
    assert writer.rotations > 50
