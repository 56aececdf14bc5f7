"""Reading a source in n shards: every exchange exactly once, tallies adding up to the whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from observe.sources import ReadOptions, read_source
from observe.tally import Tally
from tests.conftest import corpus_path


def _entry(i: int) -> dict[str, object]:
    return {"startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
            "request": {"method": "GET", "url": f"https://h.example/items/{i}",
                        "httpVersion": "HTTP/1.1", "headers": []},
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                         "headers": [], "content": {"size": 2, "mimeType": "application/json",
                                                    "text": "{}"}},
            "timings": {"send": 0, "wait": 1, "receive": 0}}


def _read(path: Path, shard: tuple[int, int],
          filters: frozenset[str] = frozenset()) -> tuple[list[str], Tally]:
    tally = Tally()
    options = ReadOptions(shard=shard, hosts=filters)
    return [x.request.url for x in read_source(path, options, tally)], tally


def _counts(tallies: list[Tally]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for tally in tallies:
        for kind, reasons in tally.to_dict()["skipped"].items():
            for reason, count in reasons.items():
                total.setdefault(kind, {}).setdefault(reason, 0)
                total[kind][reason] += count
    return total


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_har_shards_partition_entries_and_tallies(tmp_path: Path, shards: int) -> None:
    entries = [_entry(i) for i in range(11)]
    entries[4] = {"request": "broken"}  # a bad entry: counted once, by its own shard
    text = json.dumps({"log": {"version": "1.2", "entries": entries}})
    path = tmp_path / "x.har"
    path.write_text(text[: text.rindex("}, {") + 1])  # cut short: "truncated" counted once
    whole, whole_tally = _read(path, (0, 1))
    parts = [_read(path, (k, shards)) for k in range(shards)]
    assert sorted(url for urls, _ in parts for url in urls) == sorted(whole)
    assert len(whole) == 9
    assert _counts([t for _, t in parts]) == _counts([whole_tally])


@pytest.mark.parametrize("name", ["zeek__pipelined-requests.pcap",
                                  "akita-cli__simple_http_two.pcap"])
def test_sources_without_their_own_sharding_are_dealt_by_position(name: str) -> None:
    path = corpus_path("pcap", name)
    whole, whole_tally = _read(path, (0, 1))
    parts = [_read(path, (k, 2)) for k in range(2)]
    assert parts[0][0] == whole[0::2] and parts[1][0] == whole[1::2]
    assert _counts([t for _, t in parts]) == _counts([whole_tally])
    assert parts[0][1].to_dict() == whole_tally.to_dict()


def test_a_bad_shard_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_text(json.dumps({"log": {"entries": [_entry(0)]}}))
    with pytest.raises(ValueError):
        _read(path, (2, 2))
