"""HAR and JSONL round-trip exactly: Exchange -> file -> Exchange gives an equal Exchange (==).

Checked on generated exchanges (every corner of the model, see `strategies`) and on every
exchange of every corpus file the other readers read. Writing twice gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange
from observe.formats.har import read_har, write_har
from observe.formats.jsonl import dumps_exchange, loads_exchange, read_jsonl, write_jsonl
from observe.sources import ReadOptions, read_source
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.formats.expected import CASSETTES, FLICKR_CASSETTES, HAR, MITMPROXY_FLOWS
from tests.observe.formats.strategies import exchanges

PCAPS = [
    "akita-cli__simple_http_two.pcap",
    "zeek__100-continue.pcap",
    "zeek__get-gzip.pcap",
    "zeek__get.pcap",
    "zeek__http-body-match.pcap",
    "zeek__missing-zlib-header.pcap",
    "zeek__pipelined-requests.pcap",
    "zeek__post.pcap",
]
Writer = Callable[[Iterable[Exchange], TextIO], int]
Reader = Callable[[Path, ReadOptions, Tally], Iterator[Exchange]]
FORMATS: dict[str, tuple[Writer, Reader]] = {
    "har": (write_har, read_har),
    "jsonl": (write_jsonl, read_jsonl),
}


def round_trip(items: list[Exchange], name: str, folder: Path) -> tuple[list[Exchange], str]:
    write, read = FORMATS[name]
    stream = io.StringIO()
    assert write(items, stream) == len(items)
    path = folder / f"out.{name}"
    path.write_text(stream.getvalue(), encoding="utf-8")
    tally = Tally()
    back = list(read(path, ReadOptions(), tally))
    assert not tally.skipped
    return back, stream.getvalue()


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(items=st.lists(exchanges(), max_size=4))
def test_generated_exchanges_round_trip_exactly(name: str, items: list[Exchange],
                                                tmp_path: Path) -> None:
    back, text = round_trip(items, name, tmp_path)
    assert back == items
    again = io.StringIO()
    FORMATS[name][0](back, again)
    assert again.getvalue() == text, "writing the read-back exchanges gives the same bytes"


@settings(max_examples=60, deadline=None)
@given(item=exchanges())
def test_one_jsonl_line_round_trips(item: Exchange) -> None:
    line = dumps_exchange(item)
    assert "\n" not in line
    assert line.startswith('{"v":1,')
    assert loads_exchange(line) == item


CORPUS_FILES = (
    [("har", name) for name in sorted(HAR)]
    + [("mitmproxy_flows", name) for name in sorted(MITMPROXY_FLOWS)]
    + [("vcr_cassettes", name) for name in sorted(CASSETTES)]
    + [("flickr_responses/xml_vcr_cassettes", name) for name in sorted(FLICKR_CASSETTES)]
    + [("pcap", name) for name in PCAPS]
)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize(("folder", "file"), CORPUS_FILES)
def test_corpus_exchanges_round_trip_exactly(name: str, folder: str, file: str,
                                             tmp_path: Path) -> None:
    items = list(read_source(corpus_path(*folder.split("/"), file)))
    assert items
    back, _ = round_trip(items, name, tmp_path)
    assert back == items
