"""The capture's builders make exactly what the model's own constructors make."""

from __future__ import annotations

from observe.capture.building import build_exchange, headers_of, make_origin, text
from observe.capture.messages import Message
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import Headers
from tests.observe.capture.tcpstreams import conversation, get, run


def _message(is_request: bool, headers: list[tuple[str, str]], body: bytes) -> Message:
    message = Message(is_request, 10.0 if is_request else 10.5, 1, None)
    message.end_ts = 10.25 if is_request else 10.75
    message.headers = headers
    message.body = [body[:2], body[2:]]
    message.version = "HTTP/1.0"
    return message


def test_built_exchanges_equal_the_constructors_field_for_field() -> None:
    request = _message(True, [("Host", "h"), ("Content-Encoding", "GZIP ")], b"\x1f\x8bxy")
    request.method, request.target, request.coding = "POST", b"/x?y=1", b"GZIP "
    response = _message(False, [("Content-Type", "application/json")], b'{"a": 1}')
    response.status, response.reason, response.incomplete = 404, b"Not Found", "cut"
    response.trailers = [("X-T", "1")]
    client, server, origin = Endpoint("10.0.0.1", 4000), Endpoint("::1", 80), Origin("pcap", "f", 3)
    built = build_exchange(request, response, "h", client, server, origin)
    expected = Exchange(
        request=Request(
            headers=Headers([("Host", "h"), ("Content-Encoding", "GZIP ")]), body=b"\x1f\x8bxy",
            content_encoding="gzip", http_version="HTTP/1.0", method="POST", authority="h",
            target="/x?y=1",
        ),
        response=Response(
            headers=Headers([("Content-Type", "application/json")]), body=b'{"a": 1}',
            http_version="HTTP/1.0", trailers=Headers([("X-T", "1")]), status=404,
            reason="Not Found",
        ),
        timing=Timing(10.0, 10.25, 10.5, 10.75),
        client=client, server=server, origin=origin, incomplete="cut",
    )
    assert built == expected
    for value, constructed in ((built, expected), (built.request, expected.request),
                               (built.response, expected.response),
                               (built.timing, expected.timing)):
        assert value.__dict__.keys() == constructed.__dict__.keys()
    assert built.response is not None and built.response.json() == {"a": 1}


def test_an_unanswered_request_has_partial_timing_and_the_reason() -> None:
    request = _message(True, [], b"")
    request.no_response = "no response"
    built = build_exchange(request, None, "h", Endpoint("a", 1), Endpoint("b", 2), Origin("x"))
    assert built.response is None and built.incomplete == "no response"
    assert built.timing == Timing(10.0, 10.25)
    assert built.request.headers == Headers() and built.request.trailers == Headers()


def test_origin_equals_the_constructor() -> None:
    assert make_origin("pcap", "f", 3) == Origin("pcap", "f", 3)
    assert make_origin("pcap", "f", 3).__dict__ == Origin("pcap", "f", 3).__dict__


def test_each_value_gets_its_own_cache() -> None:
    ends = Endpoint("a", 1), Endpoint("b", 2)
    first = build_exchange(_message(True, [], b""), _message(False, [], b"{}"), "h", *ends,
                           Origin("x")).response
    second = build_exchange(_message(True, [], b""), _message(False, [], b"[]"), "h", *ends,
                            Origin("x")).response
    assert first is not None and second is not None
    assert first.json() == {}
    assert second.json() == []


def test_header_text_is_utf8_or_latin1_never_lossy() -> None:
    response = (b"HTTP/1.1 200 OK\r\nX-Utf8: Zo\xc3\xab\r\nX-Latin1: Zo\xeb\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-End: \xeb\r\n\r\n")
    (exchange,) = run(conversation([(get("/"), response)]))
    assert exchange.response is not None
    assert exchange.response.headers.fields[:2] == (("X-Utf8", "Zoë"), ("X-Latin1", "Zoë"))
    assert exchange.response.trailers.fields == (("X-End", "ë"),)
    assert text(b"/caf\xc3\xa9") == "/café"


def test_headers_made_from_pairs_equal_the_constructors() -> None:
    built = headers_of([("Content-Type", "text/plain"), ("X-A", "1")])
    assert built == Headers([("Content-Type", "text/plain"), ("X-A", "1")])
    assert built.get("content-type") == "text/plain"
    assert built.with_set("X-A", "2").fields == (("Content-Type", "text/plain"), ("X-A", "2"))
