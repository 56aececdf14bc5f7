"""The flickr plugin on the embedded demo sample (examples/flickr-sample.pcap, recorded by
examples/make_sample.py): REST paths, statuses, and none of its fake credentials written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from observe.exchange import Exchange
from observe.formats.har import write_har
from observe.formats.jsonl import write_jsonl
from observe.pipeline import PluginChain
from observe.sources import ReadOptions
from observe.tally import Tally

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flickr-sample.pcap"
# the fake credentials examples/make_sample.py sends (see its header)
FAKE_CREDENTIALS = ("9f3c1e0b7d2a4c6e8f1a3b5c7d9e0f12", "72157600000000000-a1b2c3d4e5f60718",
                    "5d41402abc4b2a76b9719d911017c592")


@pytest.fixture(scope="module")
def rewritten() -> list[Exchange]:
    from observe.capture import pcap_source

    tally = Tally()
    chain = PluginChain.build(["flickr"], tally)
    return list(chain.run(pcap_source.read(SAMPLE, ReadOptions(), tally)))


def test_sample_calls_become_rest_paths(rewritten: list[Exchange]) -> None:
    assert all(e.response is not None for e in rewritten)
    calls = {(e.request.method, e.request.path, e.response.status if e.response else 0)
             for e in rewritten}
    assert calls == {
        ("GET", "/photos/getInfo", 200), ("GET", "/photos/getInfo", 404),
        ("GET", "/photos/search", 200), ("GET", "/people/getInfo", 200),
        ("GET", "/photos/comments/getList", 200), ("GET", "/groups/getInfo", 404),
        ("POST", "/photos/addTags", 200), ("POST", "/upload", 200),
    }
    assert all(e.response and e.response.mime_type == "application/json" for e in rewritten)


def test_sample_output_holds_no_credential(rewritten: list[Exchange]) -> None:
    for write in (write_har, write_jsonl):
        out = io.StringIO()
        write(iter(rewritten), out)
        text = out.getvalue()
        assert not [c for c in FAKE_CREDENTIALS if c in text]
