"""vcrpy cassettes: every corpus cassette (YAML, JSON, flow-style, old httpx layout) and writing
cassettes that vcrpy itself loads.

Expected (method, url, status) come from vcrpy's own loader (see `expected`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from observe.errors import InputError
from observe.exchange import Exchange, Request, Response
from observe.formats import cassette
from observe.headers import Headers
from observe.sources import ReadOptions, detect_format, read_source
from observe.tally import Tally
from tests.conftest import corpus_path
from tests.observe.formats.expected import CASSETTES, FLICKR_CASSETTES

ALL = [("vcr_cassettes", name) for name in sorted(CASSETTES)] + [
    ("flickr_responses/xml_vcr_cassettes", name) for name in sorted(FLICKR_CASSETTES)
]


def read(path: Path, tally: Tally | None = None) -> list[Exchange]:
    return list(cassette.read_cassette(path, ReadOptions(), tally or Tally()))


@pytest.mark.corpus
@pytest.mark.parametrize(("folder", "name"), ALL)
def test_every_corpus_cassette_is_detected_and_read(folder: str, name: str) -> None:
    path = corpus_path(*folder.split("/"), name)
    assert detect_format(path) == "cassette"
    tally = Tally()
    exchanges = list(read_source(path, tally=tally))
    got = [(e.request.method, e.request.url, e.response.status if e.response else None)
           for e in exchanges]
    assert got == {**CASSETTES, **FLICKR_CASSETTES}[name]
    assert not tally.skipped
    for exchange in exchanges:  # every body is usable: decodes, and XML/JSON is text
        assert exchange.response is not None
        exchange.response.decoded()


@pytest.mark.corpus
def test_old_httpx_layout_with_gzip_header_over_a_decoded_body() -> None:
    [exchange] = read(corpus_path("vcr_cassettes", "vcrpy__gzip_httpx_old_format.yaml"))
    response = exchange.response
    assert response is not None
    assert response.headers.get("Content-Encoding") == "gzip"  # the header is kept ...
    assert response.content_encoding == ""  # ... but the body is already decoded
    assert response.json()["gzipped"] is True
    assert response.http_version == "HTTP/1.1" and response.reason == ""


@pytest.mark.corpus
def test_gzip_binary_bodies_stay_encoded() -> None:
    [exchange] = read(corpus_path("vcr_cassettes", "vcrpy__gzip_requests.yaml"))
    response = exchange.response
    assert response is not None
    assert response.body.startswith(b"\x1f\x8b") and response.content_encoding == "gzip"
    assert response.reason == "great"
    assert response.json()["gzipped"] is True
    post, delete = read(corpus_path("vcr_cassettes",
                                    "tweepy__test_client_create_and_delete_tweet.yaml"))
    assert json.loads(post.request.body) == {"text": "Test Tweet"}
    assert post.response is not None and post.response.status == 201
    assert post.response.json()["data"]["text"] == "Test Tweet"
    assert delete.response is not None and delete.response.json() == {"data": {"deleted": True}}


@pytest.mark.corpus
def test_old_flow_style_yaml_redirect() -> None:
    redirect, page = read(corpus_path("vcr_cassettes", "vcrpy__wild_domain_redirect.yaml"))
    assert redirect.response is not None
    assert redirect.response.headers.get("Location") == "http://moz.com/"
    assert redirect.response.body == b""
    assert redirect.request.headers.get("Accept") == "*/*"
    assert page.response is not None and page.response.content_encoding == "gzip"
    assert "<html" in page.response.text().lower()


@pytest.mark.corpus
def test_json_serializer_cassette_and_multi_valued_headers() -> None:
    exchanges = read(corpus_path("vcr_cassettes", "tweepy__testgeoapis.json"))
    assert exchanges[0].response is not None
    assert exchanges[0].response.json()["result"]["places"]
    [lookup] = read(corpus_path("flickr_responses", "xml_vcr_cassettes",
                                "flickr-photos-api__TestLookupUser.test_lookup_user_by_id.yml"))
    assert lookup.response is not None
    assert len(lookup.response.headers.get_all("set-cookie")) == 2
    assert 'code="100"' in lookup.response.text()


@pytest.mark.parametrize(
    "content",
    [b"interactions: [unclosed\n", b"interactions: 12\n", b'{"interactions": [', b"- a\n- b\n"],
)
def test_unusable_cassettes_give_one_line_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read(path)
    assert "\n" not in str(caught.value)


def test_yaml_is_never_executed(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("interactions: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError, match="not a valid cassette"):
        read(path)


def test_bad_interaction_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "one-bad.yaml"
    path.write_text(
        "interactions:\n- request: {method: GET, uri: 'http://h/'}\n  response: {}\n"
        "- request: {method: GET, uri: 'http://h/ok'}\n  response: {status: {code: 204}}\n"
    )
    tally = Tally()
    [exchange] = read(path, tally)
    assert exchange.response is not None and exchange.response.status == 204
    assert tally.skipped_of("record") == {
        "bad cassette interaction: response without a status code": 1
    }


def test_written_cassette_loads_in_vcrpy_and_reads_back(tmp_path: Path) -> None:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    from observe.encoding import encode_content

    exchanges = [
        Exchange(
            Request.from_url("POST", "https://api.example/v1/items?x=1",
                             headers=Headers([("Content-Type", "application/json")]),
                             body=b'{"name": "caf\xc3\xa9"}'),
            Response(status=201, reason="Created",
                     headers=Headers([("Content-Encoding", "gzip"), ("Set-Cookie", "a=1"),
                                      ("Set-Cookie", "b=2")]),
                     body=encode_content(b'{"id": 7}', "gzip"), content_encoding="gzip"),
        ),
        Exchange(Request.from_url("GET", "http://api.example/raw"),
                 Response(status=200, body=b"\x00\xffbinary")),
        Exchange(Request.from_url("GET", "http://api.example/lost")),  # no response: left out
    ]
    stream = io.StringIO()
    assert cassette.write_cassette(exchanges, stream) == 2
    path = tmp_path / "written.yaml"
    path.write_text(stream.getvalue(), encoding="utf-8")
    assert "!!binary" in stream.getvalue()
    requests, responses = FilesystemPersister.load_cassette(str(path), yamlserializer)
    assert [r.method for r in requests] == ["POST", "GET"]
    assert requests[0].uri == "https://api.example/v1/items?x=1"
    assert responses[0]["status"] == {"code": 201, "message": "Created"}
    assert responses[0]["headers"]["Set-Cookie"] == ["a=1", "b=2"]
    back = read(path)
    for original, again in zip(exchanges, back, strict=False):
        assert again.request.url == original.request.url
        assert again.request.body == original.request.body
        assert again.response == original.response
