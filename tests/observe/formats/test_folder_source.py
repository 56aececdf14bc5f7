"""A folder given as a source: tapes, plus every other traffic file in it, nothing lost silently."""

from __future__ import annotations

import shutil
from pathlib import Path

from observe.formats.cassette import read_cassette
from observe.sources import ReadOptions, read_source
from observe.tally import Tally
from tests.conftest import corpus_path


def test_a_folder_of_cassettes_reads_every_cassette(tmp_path: Path) -> None:
    cassettes = sorted(corpus_path("vcr_cassettes").glob("*.yaml"))[:3]
    for cassette in cassettes:
        (tmp_path / cassette.name).symlink_to(cassette)
    (tmp_path / "notes.txt").write_text("not traffic\n")
    (tmp_path / ".hidden.yaml").write_text("ignored: true\n")
    tally = Tally()
    found = list(read_source(tmp_path, ReadOptions(), tally))
    expected = [x for c in sorted(cassettes) for x in read_cassette(c, ReadOptions(), Tally())]
    assert [x.request.url for x in found] == [x.request.url for x in expected]
    assert len(found) >= 3
    assert tally.to_dict()["skipped"]["record"] == {"not a traffic file": 1}


def test_a_broken_tape_is_still_counted_as_one(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("just: a mapping\n")
    shutil.copy(Path(__file__), tmp_path / "code.py")
    tally = Tally()
    assert list(read_source(tmp_path, ReadOptions(), tally)) == []
    skipped = tally.to_dict()["skipped"]["record"]
    assert sum(skipped.values()) == 2
    assert any(reason.startswith("bad tape") for reason in skipped)


def test_filter_by_port_uses_the_scheme_default_for_tapes(tmp_path: Path) -> None:
    from observe.exchange import Exchange, Request, Response
    from observe.formats.tape import dump_tape

    request = Request(method="GET", scheme="https", authority="api.example", target="/a")
    tape = Exchange(request=request, response=Response(status=200))
    (tmp_path / "a.yaml").write_text(dump_tape(tape))
    kept = list(read_source(tmp_path, ReadOptions(ports=frozenset({443})), Tally()))
    tally = Tally()
    dropped = list(read_source(tmp_path, ReadOptions(ports=frozenset({80})), tally))
    assert [x.request.url for x in kept] == ["https://api.example/a"]
    assert dropped == [] and tally.to_dict()["skipped"]["exchange"] == {"filtered out": 1}
