"""mitmproxy flow files of four format versions (7, 11, 18, 20), read through mitmproxy.

Expected (method, url, status) come from mitmproxy's own FlowReader (see `expected`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from observe.errors import InputError, TruncatedInputError
from observe.exchange import Endpoint, Exchange
from observe.formats import mitmflows
from observe.sources import ReadOptions, detect_format, read_source
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.formats.expected import MITMPROXY_FLOWS


def read(path: Path, tally: Tally | None = None) -> list[Exchange]:
    return list(mitmflows.read_flows(path, ReadOptions(), tally or Tally()))


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(MITMPROXY_FLOWS))
def test_every_flow_file_is_detected_and_read(name: str) -> None:
    path = corpus_path("mitmproxy_flows", name)
    assert detect_format(path) == "mitmproxy"
    tally = Tally()
    exchanges = list(read_source(path, tally=tally))
    got = [(e.request.method, e.request.url, e.response.status if e.response else None)
           for e in exchanges]
    assert got == MITMPROXY_FLOWS[name]
    assert not tally.skipped


@pytest.mark.corpus
def test_flow_without_response_from_format_version_7() -> None:
    [exchange] = read(corpus_path("mitmproxy_flows", "mitmproxy__dumpfile-019.mitm"))
    assert exchange.response is None
    assert exchange.incomplete == "no response"
    assert exchange.request.http_version == "HTTP/2.0"
    assert exchange.request.authority == "webrv.rtb-seller.com"  # transparent mode, no Host
    assert exchange.client == Endpoint("::ffff:127.0.0.1", 53976)
    assert exchange.server == Endpoint("3.213.13.94", 443)


@pytest.mark.corpus
def test_old_version_11_flows_keep_wire_bodies_and_timing() -> None:
    plain, tls = read(corpus_path("mitmproxy_flows", "mitmproxy__dumpfile-7.mitm"))
    assert plain.request.scheme == "http" and tls.request.scheme == "https"
    for exchange in (plain, tls):
        assert exchange.response is not None
        assert exchange.response.content_encoding == ""
        assert b"<title>Example Domain</title>" in exchange.response.body
        assert len(exchange.response.body) == 1256
        timing = exchange.timing
        assert timing.request_start is not None and timing.response_end is not None
        assert timing.request_start <= timing.response_end
    assert plain.server == Endpoint("93.184.216.34", 80)


@pytest.mark.corpus
def test_streamed_event_stream_bodies_are_reported_incomplete() -> None:
    cancelled, second = read(corpus_path("mitmproxy_flows", "mitmproxy__flows_event_stream.mitm"))
    for exchange in (cancelled, second):
        assert exchange.response is not None and exchange.response.status == 200
        assert exchange.response.body == b""
        assert exchange.incomplete == "response body not recorded (streamed)"
    assert cancelled.meta == {"error": "stream reset by client (CANCEL)"}


@pytest.mark.corpus
def test_truncated_flow_file_keeps_the_whole_flows(tmp_path: Path) -> None:
    data = corpus_path("mitmproxy_flows", "mitmproxy__flows_successful_log.mitm").read_bytes()
    first_length = int(data.split(b":", 1)[0])
    first_end = len(str(first_length)) + 1 + first_length + 1
    cut = tmp_path / "cut.mitm"
    cut.write_bytes(data[: first_end + 100])
    tally = Tally()
    exchanges = read(cut, tally)
    assert [e.request.url for e in exchanges] == ["https://example.com/"]
    assert tally.skipped_of("record") == {"truncated flow": 1}
    early = tmp_path / "early.mitm"
    early.write_bytes(data[:500])
    with pytest.raises(TruncatedInputError) as caught:
        read(early)
    assert "\n" not in str(caught.value)


def test_garbage_is_a_one_line_input_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mitm"
    path.write_bytes(b"12:3:abc,this is not a flow file at all")
    assert detect_format(path) == "mitmproxy"
    with pytest.raises(InputError) as caught:
        read(path)
    message = str(caught.value)
    assert "\n" not in message and "not a readable mitmproxy flow file" in message


def test_sniff_wants_a_tnetstring_dictionary() -> None:
    path = Path("x")
    assert mitmflows.sniff(b"17867:4:type;4:http;", path)
    assert not mitmflows.sniff(b"12345", path)
    assert not mitmflows.sniff(b'{"log": {}}', path)


def test_non_http_flows_are_skipped_by_kind_and_errors_kept(tmp_path: Path) -> None:
    from mitmproxy import io as mitmproxy_io
    from mitmproxy.test import tflow

    path = tmp_path / "mixed.mitm"
    with open(path, "wb") as handle:
        writer = mitmproxy_io.FlowWriter(handle)
        for flow in (tflow.tflow(resp=True), tflow.ttcpflow(), tflow.tdnsflow(),
                     tflow.tflow(err=True)):
            writer.add(flow)
    tally = Tally()
    answered, failed = read(path, tally)
    assert tally.skipped_of("record") == {"tcp flow": 1, "dns flow": 1}
    assert answered.response is not None and answered.incomplete is None
    assert answered.origin.index == 0 and failed.origin.index == 3
    assert failed.response is None and failed.incomplete == "no response"
    assert failed.meta == {"error": "error"}
