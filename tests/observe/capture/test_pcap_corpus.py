"""Every real capture in ../shared/corpus/pcap, read end to end, against what tshark reports.

The expectations below were established by hand with tshark 4.0.17 (Debian 12), not by
restscope, and written in here (no tshark at test time):

    tshark -r FILE -Y http.request -T fields -e tcp.stream -e http.host \\
        -e http.request.method -e http.request.uri
    tshark -r FILE -Y http.response -T fields -e tcp.stream -e http.response.code \\
        -e http.content_length_header -e http.content_encoding -e http.transfer_encoding

Differences from tshark, on purpose: tshark lists a `100 Continue` interim response as an HTTP
response of its own; restscope folds it into the exchange of the request it answers (the final
status is the exchange's status), so "100-continue" files have fewer responses here than
tshark shows lines.
"""

from __future__ import annotations

import pytest

from observe.capture import pcap_source
from observe.exchange import Exchange
from observe.sources import ReadOptions, detect_format
from observe.tally import Tally
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus

# file -> sorted (method, host, target, status, response Content-Length or -1 when none)
EXPECTED: dict[str, list[tuple[str, str, str, int, int]]] = {
    "akita-cli__simple_http_two.pcap": [
        ("GET", "localhost:8080", "/", 200, 612),
        ("GET", "localhost:8080", "/favicon.ico", 404, 153),
    ],
    # tshark: a 100 (frame 6) then the 200 (frame 63, chunked, text/html) for one POST
    "zeek__100-continue.pcap": [("POST", "www.osu.edu", "/", 200, -1)],
    "zeek__get-gzip.pcap": [("GET", "httpbin.org", "/gzip", 200, 165)],
    "zeek__get.pcap": [("GET", "bro.org", "/download/CHANGES.bro-aux.txt", 200, 4705)],
    # 9 TCP streams, 10 requests; tshark also lists three 100 interim responses (streams 0, 4, 5)
    "zeek__http-body-match.pcap": sorted(
        [("GET", "192.88.99.42", "/abcd", 200, 2), ("GET", "192.88.99.42", "/abcd", 200, 4)]
        + [("POST", "192.88.99.42", "/abcd", 200, n) for n in (2, 22, 4, 4, 2, 2)]
        + [("POST", "192.88.99.42", "/abcd", 200, -1)] * 2  # chunked gzip responses
    ),
    "zeek__missing-zlib-header.pcap": [("GET", "ads1.msn.com", "/library/dap.js", 200, 5139)] * 2,
    "zeek__pipelined-requests.pcap": sorted(
        ("GET", "www.mozilla.org", target, 200, length)
        for target, length in [
            ("/style/enhanced.css", 946),
            ("/script/urchin.js", 6716),
            ("/images/template/screen/bullet_utility.png", 94),
            ("/images/template/screen/key-point-top.png", 2349),
            ("/projects/calendar/images/header-sunbird.png", 27579),
        ]
    ),
    "zeek__post.pcap": [("POST", "httpbin.org", "/post", 200, 366)],
}

# in capture order on the one connection, as tshark lists them
PIPELINED_ORDER = [
    "/style/enhanced.css",
    "/script/urchin.js",
    "/images/template/screen/bullet_utility.png",
    "/images/template/screen/key-point-top.png",
    "/projects/calendar/images/header-sunbird.png",
]


def _read(name: str) -> tuple[list[Exchange], Tally]:
    tally = Tally()
    exchanges = list(pcap_source.read(corpus_path("pcap", name), ReadOptions(), tally))
    return exchanges, tally


def _summary(exchange: Exchange) -> tuple[str, str, str, int, int]:
    assert exchange.response is not None, exchange.request.target
    length = exchange.response.headers.get("Content-Length")
    return (
        exchange.request.method,
        exchange.request.authority,
        exchange.request.target,
        exchange.response.status,
        int(length) if length is not None else -1,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_capture_matches_tshark(name: str) -> None:
    exchanges, tally = _read(name)
    assert sorted(_summary(e) for e in exchanges) == EXPECTED[name]
    assert [e.incomplete for e in exchanges] == [None] * len(exchanges)
    assert tally.counts["packets"] > 0
    for exchange in exchanges:
        assert exchange.response is not None
        declared = exchange.response.headers.get("Content-Length")
        if declared is not None:
            assert len(exchange.response.body) == int(declared)
        assert exchange.origin.kind == "pcap"


def test_every_corpus_pcap_has_an_expectation_and_is_detected_as_pcap() -> None:
    folder = corpus_path("pcap")
    assert sorted(p.name for p in folder.glob("*.pcap*")) == sorted(EXPECTED)
    assert {detect_format(folder / name) for name in EXPECTED} == {"pcap"}


def test_keep_alive_order_is_capture_order() -> None:
    exchanges, _ = _read("zeek__pipelined-requests.pcap")
    assert [e.request.target for e in exchanges] == PIPELINED_ORDER


def test_bodies_decode_as_tshark_shows() -> None:
    """gzip, chunked+gzip and raw deflate (no zlib header) bodies all decode."""
    [gzip_exchange], _ = _read("zeek__get-gzip.pcap")
    assert gzip_exchange.response is not None
    assert gzip_exchange.response.content_encoding == "gzip"
    assert gzip_exchange.response.json()["gzipped"] is True
    deflated, _ = _read("zeek__missing-zlib-header.pcap")
    for exchange in deflated:
        assert exchange.response is not None
        assert exchange.response.content_encoding == "deflate"
        assert len(exchange.response.decoded()) > 5139
    matched, _ = _read("zeek__http-body-match.pcap")
    chunked = [e for e in matched if e.response is not None
               and e.response.headers.get("Transfer-Encoding") == "chunked"]
    assert len(chunked) == 2
    for exchange in chunked:
        assert exchange.response is not None and exchange.response.decoded()


def test_expect_100_continue_post_carries_its_body() -> None:
    [exchange], _ = _read("zeek__100-continue.pcap")
    assert exchange.request.headers.get("Expect", "").lower() == "100-continue"
    assert len(exchange.request.body) == 2001  # tshark: Content-Length 2001
    assert exchange.response is not None and exchange.response.status == 200
