"""The fast factories make exactly what the model's own constructors make."""

from __future__ import annotations

from types import MappingProxyType

from observe.capture.building import (
    fast_factory,
    headers_of,
    make_exchange,
    make_origin,
    make_request,
    make_response,
    make_timing,
    text,
)
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import Headers


def test_fast_factories_equal_the_constructors_field_for_field() -> None:
    headers = Headers([("Host", "h"), ("Content-Encoding", "gzip")])
    fields = dict(headers=headers, body=b"\x1f\x8b", content_encoding="gzip", method="POST",
                  authority="h", target="/x?y=1")
    assert make_request(**fields).__dict__.keys() == Request(**fields).__dict__.keys()
    assert make_request(**fields) == Request(**fields)
    assert make_response(status=404, reason="Not Found") == Response(status=404, reason="Not Found")
    assert make_timing(request_start=1.0) == Timing(request_start=1.0)
    assert make_origin(kind="pcap", location="f", index=3) == Origin("pcap", "f", 3)
    request = Request(**fields)
    built = make_exchange(request=request, response=None, timing=Timing(), client=None,
                          server=Endpoint("::1", 80), origin=Origin("pcap"), incomplete="x",
                          meta=MappingProxyType({}))
    expected = Exchange(request=request, server=Endpoint("::1", 80), origin=Origin("pcap"),
                        incomplete="x")
    assert built == expected
    assert set(built.__dict__) == set(expected.__dict__)


def test_each_value_gets_its_own_cache() -> None:
    first = make_response(body=b"{}", headers=Headers([("Content-Type", "application/json")]))
    second = make_response(body=b"[]", headers=Headers([("Content-Type", "application/json")]))
    assert first.json() == {}
    assert second.json() == []


def test_a_slotted_class_falls_back_to_its_constructor() -> None:
    assert fast_factory(Headers) is Headers


def test_header_text_is_utf8_or_latin1_never_lossy() -> None:
    assert headers_of([(b"X-Name", "Zoë".encode())]).fields == (("X-Name", "Zoë"),)
    assert headers_of([(b"X-Name", b"Zo\xeb")]).fields == (("X-Name", "Zoë"),)
    assert text(b"/caf\xc3\xa9") == "/café"


def test_headers_made_from_pairs_equal_the_constructors() -> None:
    built = headers_of([(b"Content-Type", b"text/plain"), (b"X-A", b"1")])
    assert built == Headers([("Content-Type", "text/plain"), ("X-A", "1")])
    assert built.get("content-type") == "text/plain"
    assert built.with_set("X-A", "2").fields == (("Content-Type", "text/plain"), ("X-A", "2"))
