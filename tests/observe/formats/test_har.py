"""HAR reading on every real export in the corpus, its edge cases, and HAR writing.

The expected (method, url, status) of each corpus file were listed with jq (see `expected`);
the edge-case values below were read from the files by eye and are cited next to each test.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observe.encoding import encode_content
from observe.errors import BodyDecodeError, InputError, TruncatedInputError
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.formats import har
from observe.headers import Headers
from observe.sources import ReadOptions, detect_format, read_source
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.formats.expected import HAR
from tests.observe.formats.strategies import exchanges


def read(path: Path, tally: Tally | None = None) -> list[Exchange]:
    return list(har.read_har(path, ReadOptions(), tally if tally is not None else Tally()))


def summary(exchanges: list[Exchange]) -> list[tuple[str, str, int | None]]:
    return [(e.request.method, e.request.url, e.response.status if e.response else None)
            for e in exchanges]


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(HAR))
def test_every_corpus_har_is_detected_and_read(name: str) -> None:
    path = corpus_path("har", name)
    assert detect_format(path) == "har"
    tally = Tally()
    exchanges = list(read_source(path, tally=tally))
    assert summary(exchanges) == HAR[name]
    assert not tally.skipped
    assert all(e.origin.kind == "har" and e.origin.location == str(path) for e in exchanges)


@pytest.mark.corpus
def test_bom_har_reads_with_normalised_http2_version() -> None:
    path = corpus_path("har", "mitmproxy__har_files_with-bom.har")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    [exchange] = read(path)
    assert exchange.request.http_version == "HTTP/2.0"  # the file says "http/2.0"
    assert exchange.server == Endpoint("99.83.181.31", 443)


@pytest.mark.corpus
def test_chrome_status_zero_is_a_missing_response_and_base64_bodies_decode() -> None:
    first, blocked, logo = read(corpus_path("har", "mitmproxy__har_files_chrome.har"))
    # entry 2: status 0, "_error": "net::ERR_INTERNET_DISCONNECTED"
    assert blocked.response is None
    assert blocked.incomplete == har.NO_RESPONSE
    assert blocked.meta == {"error": "net::ERR_INTERNET_DISCONNECTED"}
    assert not blocked.is_complete
    # entry 3: a PNG as base64 over HTTP/3 ("h3"), served from 142.250.185.164
    assert logo.response is not None
    assert logo.response.body.startswith(b"\x89PNG\r\n")
    assert len(logo.response.body) == 7108  # content.size
    assert logo.response.content_encoding == ""
    assert logo.response.http_version == "HTTP/3"
    assert logo.server == Endpoint("142.250.185.164", 443)
    # HTTP/2 pseudo-header fields (':authority', ':method', ...) are not kept as headers
    assert first.request.headers.get("accept-encoding") == "gzip, deflate, br"
    assert not any(name.startswith(":") for name, _ in first.request.headers)


@pytest.mark.corpus
def test_firefox_times_with_offset_and_left_out_bodies_are_counted() -> None:
    tally = Tally()
    exchanges = read(corpus_path("har", "mitmproxy__har_files_firefox.har"), tally)
    first = exchanges[0]
    # "2023-03-29T16:58:59.303-07:00", timings blocked 17, send 0, wait 6, receive 0
    start = datetime(2023, 3, 29, 23, 58, 59, 303000, tzinfo=UTC).timestamp()
    assert first.timing.request_start == pytest.approx(start)
    assert first.timing.request_end == pytest.approx(start + 0.017)
    assert first.timing.response_end == pytest.approx(start + 0.023)
    # five image entries say "Response bodies are not included."
    assert tally.counts["HAR responses without their body"] == 5
    assert exchanges[1].response is not None and exchanges[1].response.body == b""
    favicon = exchanges[-1]
    assert favicon.response is not None and len(favicon.response.body) == 98065


@pytest.mark.corpus
def test_corrupt_gzip_body_reads_but_decoding_it_raises() -> None:
    [exchange] = read(corpus_path("har", "mitmproxy__flows_corrupted_gzip_body.har"))
    response = exchange.response
    assert response is not None
    # the base64 body still carries the gzip magic: it was never decoded by mitmproxy
    assert response.body.startswith(b"\x1f\x8b") and len(response.body) == 24
    assert response.content_encoding == "gzip"
    with pytest.raises(BodyDecodeError):
        response.decoded()
    with pytest.raises(BodyDecodeError):
        response.text()
    # timings: connect 1.52, send 9.51, wait 4.96, receive 2.95 ms; ssl -1 is ignored
    start = exchange.timing.request_start
    assert start == pytest.approx(datetime(2024, 11, 14, 14, 59, 42, 210687, UTC).timestamp())
    assert exchange.timing.request_end == pytest.approx(start + 0.011035919, abs=1e-6)
    assert exchange.timing.response_end == pytest.approx(start + 0.018944978, abs=1e-6)
    assert exchange.server == Endpoint("127.0.0.1", 5000)


@pytest.mark.corpus
def test_post_data_and_missing_versions() -> None:
    [form] = read(corpus_path("har", "mitmproxy2swagger__form_data_har.har"))
    assert form.request.body == b"username=alice&password=secret"
    assert form.request.http_version == "HTTP/1.1"  # no httpVersion in the file
    assert form.response is not None and form.response.json() == {}
    get, post = read(corpus_path("har", "mitmproxy__flows_successful_log.har"))
    assert get.request.body == b""  # no postData at all
    assert post.request.body == b"key1=value1&key2=value2"
    assert post.response is not None and post.response.json()["form"] == {
        "key1": "value1", "key2": "value2"
    }


@pytest.mark.corpus
def test_har_and_flow_file_of_the_same_traffic_agree() -> None:
    from_har = read(corpus_path("har", "mitmproxy__flows_successful_log.har"))
    from_flows = list(read_source(corpus_path("mitmproxy_flows",
                                              "mitmproxy__flows_successful_log.mitm")))
    assert summary(from_har) == summary(from_flows)
    for a, b in zip(from_har, from_flows, strict=True):
        assert a.response is not None and b.response is not None
        assert a.response.decoded() == b.response.decoded()
        assert a.request.body == b.request.body


def test_filter_keeps_only_the_wanted_host(tmp_path: Path) -> None:
    exchanges = [
        Exchange(Request.from_url("GET", "https://a.example/x"), Response()),
        Exchange(Request.from_url("GET", "http://b.example/y"), Response()),
    ]
    path = tmp_path / "two.har"
    with open(path, "w", encoding="utf-8") as handle:
        har.write_har(exchanges, handle)
    tally = Tally()
    kept = list(har.read_har(path, ReadOptions(ports=frozenset({443})), tally))
    assert [e.request.host for e in kept] == ["a.example"]
    assert tally.skipped_of("exchange") == {"filtered out": 1}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x00\x01garbage", InputError),
        (b'{"log": {"entries": [{"request": ', TruncatedInputError),
        (b'{"log": {"version": "1.2"}}', InputError),
        (b"[1, 2, 3]", InputError),
        (b"\xff\xfe{}", InputError),
    ],
)
def test_unusable_files_give_one_line_errors(tmp_path: Path, content: bytes,
                                              error: type[Exception]) -> None:
    path = tmp_path / "bad.har"
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        read(path)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_bad_entries_are_counted_and_skipped(tmp_path: Path) -> None:
    good = {"request": {"method": "GET", "url": "http://h/"}, "response": {"status": 200}}
    document = {"log": {"entries": [42, {"response": {}}, good,
                                     {"request": {"method": "GET", "url": "http://h/"},
                                      "response": {"status": "abc"}}]}}
    path = tmp_path / "some-bad.har"
    path.write_text(json.dumps(document))
    tally = Tally()
    exchanges = read(path, tally)
    assert len(exchanges) == 1 and exchanges[0].origin.index == 2
    assert tally.skipped_of("record") == {
        "bad HAR entry: entry is not an object": 1,
        "bad HAR entry: no request": 1,
        "bad HAR entry: status is not a number": 1,
    }


def test_sniff_goes_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(b'\xef\xbb\xbf  {"log":{"version":"1.2","entries":[]}}')
    assert detect_format(path) == "har"
    assert har.sniff(b'{"creator": 1, "log": {"entries": []}}', path)
    assert not har.sniff(b'{"v":1,"request":{"log":{"version":1}}}', path)
    assert not har.sniff(b"interactions:\n- request: {}", path)


# --- writing ---------------------------------------------------------------------------------


def _gzip_exchange() -> Exchange:
    body = b'{"photos": {"page": 1}}'
    return Exchange(
        request=Request.from_url("GET", "https://api.flickr.com/services/rest/?method=x",
                                 headers=Headers([("Host", "api.flickr.com")])),
        response=Response(
            status=200,
            reason="OK",
            headers=Headers([("Content-Type", "application/json"),
                             ("Content-Encoding", "gzip")]),
            body=encode_content(body, "gzip"),
            content_encoding="gzip",
        ),
        timing=Timing(1700000000.25, 1700000000.5, 1700000001.0, 1700000001.5),
        server=Endpoint("10.0.0.1", 443),
        origin=Origin("pcap", "capture.pcap", 7),
        meta={"operation_id": "x", "tag": "photos"},
    )


def test_written_har_is_standard_and_other_tools_read_it(tmp_path: Path) -> None:
    exchange = _gzip_exchange()
    stream = io.StringIO()
    assert har.write_har([exchange], stream) == 1
    document = json.loads(stream.getvalue())
    assert document["log"]["version"] == "1.2"
    entry = document["log"]["entries"][0]
    for key in ("startedDateTime", "time", "request", "response", "cache", "timings"):
        assert key in entry
    assert entry["startedDateTime"] == "2023-11-14T22:13:20.250000+00:00"
    assert entry["time"] == 1250.0
    assert entry["timings"]["send"] == 250.0 and entry["timings"]["wait"] == 500.0
    # the standard field holds the decoded body, the custom one the wire bytes
    content = entry["response"]["content"]
    assert content["text"] == '{"photos": {"page": 1}}'
    assert "_wireBody" in content
    assert "_contentEncoding" not in content  # the header and the wire bytes already say gzip
    assert entry["_meta"] == {"operation_id": "x", "tag": "photos"}
    # mitmproxy's own HAR importer opens the file and sees the decoded body
    from mitmproxy import io as mitmproxy_io

    path = tmp_path / "out.har"
    path.write_text(stream.getvalue(), encoding="utf-8")
    with open(path, "rb") as handle:
        [flow] = list(mitmproxy_io.FlowReader(handle).stream())
    assert flow.request.pretty_url == "https://api.flickr.com/services/rest/?method=x"
    assert flow.response.status_code == 200
    assert flow.response.get_content() == b'{"photos": {"page": 1}}'
    # and restscope reads it back exactly
    assert read(path) == [exchange]


def test_writer_output_is_deterministic_and_empty_input_is_valid_har() -> None:
    first, second = io.StringIO(), io.StringIO()
    har.write_har([_gzip_exchange()] * 2, first)
    har.write_har([_gzip_exchange()] * 2, second)
    assert first.getvalue() == second.getvalue()
    empty = io.StringIO()
    assert har.write_har([], empty) == 0
    assert json.loads(empty.getvalue())["log"]["entries"] == []


def test_missing_response_writes_status_zero_and_reads_back(tmp_path: Path) -> None:
    exchange = Exchange(Request.from_url("POST", "http://h/upload", body=b"\x00\xff"),
                        incomplete="no response")
    stream = io.StringIO()
    har.write_har([exchange], stream)
    entry = json.loads(stream.getvalue())["log"]["entries"][0]
    assert entry["response"]["status"] == 0
    assert entry["request"]["postData"]["encoding"] == "base64"
    path = tmp_path / "x.har"
    path.write_text(stream.getvalue())
    assert read(path) == [exchange]


def test_post_data_given_only_as_params(tmp_path: Path) -> None:
    def entry(mime: str, params: list[dict[str, str]]) -> dict[str, object]:
        return {"request": {"method": "POST", "url": "http://h/form",
                            "postData": {"mimeType": mime, "params": params}},
                "response": {"status": 200}}

    document = {"log": {"entries": [
        entry("application/x-www-form-urlencoded", [{"name": "a b", "value": "1&2"},
                                                    {"name": "c", "value": ""}]),
        entry("multipart/form-data; boundary=x", [{"name": "file", "fileName": "f.txt"}]),
    ]}}
    path = tmp_path / "params.har"
    path.write_text(json.dumps(document))
    tally = Tally()
    form, multipart = read(path, tally)
    assert form.request.body == b"a+b=1%262&c="
    assert multipart.request.body == b""
    assert tally.counts["HAR request bodies given only as form params"] == 1


@settings(max_examples=40, deadline=None)
@given(items=st.lists(exchanges(), min_size=1, max_size=3))
def test_every_written_entry_has_the_standard_fields_other_tools_need(
    items: list[Exchange],
) -> None:
    stream = io.StringIO()
    har.write_har(items, stream)
    text = stream.getvalue()
    assert text.isascii()
    for entry in json.loads(text)["log"]["entries"]:
        assert datetime.fromisoformat(entry["startedDateTime"]).tzinfo is not None
        assert entry["time"] >= 0
        assert all(entry["timings"][k] >= 0 for k in ("send", "wait", "receive"))
        request, response = entry["request"], entry["response"]
        assert request["url"].split("://")[0] in ("http", "https")
        for message in (request, response):
            assert isinstance(message["httpVersion"], str)
            assert all(set(h) == {"name", "value"} for h in message["headers"])
            assert isinstance(message["cookies"], list)
        assert isinstance(response["status"], int)
        assert isinstance(response["content"]["size"], int)
        assert isinstance(response["content"]["mimeType"], str)
