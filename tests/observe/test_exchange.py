"""The Exchange model: immutability, header lookup, body decoding on demand, evolve and notes."""

from __future__ import annotations

import dataclasses
import gzip
import zlib

import brotli
import pytest

from observe.encoding import decode_content
from observe.errors import BodyDecodeError, BodyTooLargeError
from observe.exchange import Exchange, Note, Request, Response
from observe.headers import Headers


def _response(body: bytes, encoding: str, content_type: str = "application/json") -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Encoding", encoding)])
    return Response(status=200, headers=headers, body=body, content_encoding=encoding)


def test_headers_keep_order_and_casing_and_look_up_case_insensitively() -> None:
    headers = Headers([("X-A", "1"), ("content-TYPE", "text/plain"), ("x-a", "2")])
    assert headers.get("Content-Type") == "text/plain"
    assert headers.get_all("X-a") == ["1", "2"]
    assert list(headers) == [("X-A", "1"), ("content-TYPE", "text/plain"), ("x-a", "2")]
    assert headers.with_set("X-A", "9").fields == (("X-A", "9"), ("content-TYPE", "text/plain"))


def test_exchange_is_immutable_and_evolve_copies() -> None:
    request = Request.from_url("get", "http://api.example.com:8080/users/1?b=2&a=1&a=3")
    exchange = Exchange(request=request)
    with pytest.raises(dataclasses.FrozenInstanceError):
        exchange.request = request  # type: ignore[misc]
    assert request.method == "GET"
    assert request.host == "api.example.com" and request.port == 8080
    assert request.query == [("b", "2"), ("a", "1"), ("a", "3")]
    changed = exchange.with_note(Note("flickr", "path", "/services/rest/", "/photos/getInfo"))
    assert exchange.notes == () and changed.notes[0].plugin == "flickr"
    assert exchange.response is None and not exchange.is_complete


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, no zlib header
        ("br", brotli.compress),
    ],
)
def test_bodies_decode_on_demand(encoding: str, compress) -> None:
    payload = b'{"stat": "ok", "photo": {"id": "1"}}'
    response = _response(compress(payload), encoding)
    assert response.body != payload
    assert response.decoded() == payload
    assert response.json() == {"stat": "ok", "photo": {"id": "1"}}


def test_decompression_cap_stops_bombs() -> None:
    bomb = gzip.compress(b"\0" * (5 * 1024 * 1024))
    with pytest.raises(BodyTooLargeError):
        decode_content(bomb, "gzip", limit=1024 * 1024)
    assert len(decode_content(bomb, "gzip", limit=6 * 1024 * 1024)) == 5 * 1024 * 1024


def test_corrupt_and_invalid_bodies_raise_instead_of_being_mangled() -> None:
    with pytest.raises(BodyDecodeError):
        _response(b"not gzip at all", "gzip").decoded()
    with pytest.raises(BodyDecodeError):
        _response(gzip.compress(b"x" * 1000)[:-20], "gzip").decoded()
    with pytest.raises(BodyDecodeError):
        Response(headers=Headers([("Content-Type", "text/plain; charset=utf-8")]),
                 body=b"caf\xe9").text()
    latin = Response(headers=Headers([("Content-Type", "text/plain; charset=iso-8859-1")]),
                     body=b"caf\xe9")
    assert latin.text() == "café"
