"""HTTP/1.x over reassembled TCP: every framing case, fed as Segments built in memory."""

from __future__ import annotations

from observe.capture.segment import ACK, PSH, Segment
from observe.exchange import Endpoint, Origin
from observe.sources import ReadOptions
from observe.tally import Tally
from tests.observe.capture.tcpstreams import Builder, conversation, get, ok, run


def test_keep_alive_exchanges_come_out_whole_and_in_order() -> None:
    pairs = [
        (get("/services/rest/?method=flickr.test.echo&x=1"),
         ok(b'{"stat":"ok"}', extra="Content-Type: application/json\r\n")),
        (get("/b", extra="X-Trace: Mixed-Case\r\n"), ok(b"second" * 1000)),
    ]
    exchanges = run(conversation(pairs, mss=500))
    assert [e.request.target for e in exchanges] == [
        "/services/rest/?method=flickr.test.echo&x=1", "/b",
    ]
    first, second = exchanges
    assert first.request.method == "GET"
    assert first.request.scheme == "http"
    assert first.request.authority == "api.example.com"
    assert first.request.url == "http://api.example.com/services/rest/?method=flickr.test.echo&x=1"
    assert first.response is not None and first.response.json() == {"stat": "ok"}
    assert first.response.status == 200 and first.response.reason == "OK"
    assert first.response.http_version == "HTTP/1.1"
    assert first.incomplete is None
    assert first.client == Endpoint("10.0.0.1", 40000)
    assert first.server == Endpoint("10.0.0.2", 80)
    assert first.origin == Origin("pcap", "", 0)
    assert second.origin.index == 1
    assert second.request.headers.fields[1] == ("X-Trace", "Mixed-Case")
    assert second.response is not None and second.response.body == b"second" * 1000


def test_timing_uses_the_first_and_last_segment_of_each_message() -> None:
    segments = conversation([(get("/"), ok(b"x" * 2900))], mss=1000)
    # handshake 3 segments, request at 1000.004, response 1000.005..1000.007
    (exchange,) = run(segments)
    timing = exchange.timing
    assert timing.request_start == timing.request_end == 1000.004
    assert timing.response_start == 1000.005
    assert timing.response_end == 1000.007


def test_pipelined_requests_are_answered_in_order() -> None:
    pairs = [(get(f"/{i}"), ok(f"body {i}".encode())) for i in range(5)]
    exchanges = run(conversation(pairs, pipelined=True))
    assert [(e.request.target, e.response.body) for e in exchanges if e.response] == [
        (f"/{i}", f"body {i}".encode()) for i in range(5)
    ]


def test_chunked_body_is_dechunked_with_trailers_and_encoding_kept() -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"
        b"Trailer: X-Checksum\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Checksum: 42\r\n\r\n"
    )
    (exchange,) = run(conversation([(get("/"), response)], mss=7))
    assert exchange.response is not None
    assert exchange.response.body == b"abcdefg"
    assert exchange.response.content_encoding == "gzip"
    assert exchange.response.trailers.fields == (("X-Checksum", "42"),)
    assert exchange.incomplete is None


def test_close_delimited_body_ends_at_fin() -> None:
    response = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    (exchange,) = run(conversation([(get("/", extra="Connection: close\r\n"), response)], mss=5))
    assert exchange.response is not None
    assert exchange.response.body == b"until the end"
    assert exchange.response.http_version == "HTTP/1.0"
    assert exchange.incomplete is None


def test_no_body_for_head_204_and_304_even_with_content_length() -> None:
    pairs = [
        (get("/head", method="HEAD"), b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
        (get("/nc"), b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"),
        (get("/nm"), b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
        (get("/after"), ok(b"after")),
    ]
    for pipelined in (False, True):
        exchanges = run(conversation(pairs, pipelined=pipelined))
        assert [(e.request.target, e.response.status, e.response.body) for e in exchanges
                if e.response] == [
            ("/head", 200, b""), ("/nc", 204, b""), ("/nm", 304, b""), ("/after", 200, b"after"),
        ]
        assert all(e.incomplete is None for e in exchanges)


def test_expect_100_continue_pairs_the_final_response_and_counts_the_interim() -> None:
    body = b"name=value&other=1"
    build = Builder().handshake()
    build.client_sends(get("/upload", method="POST", body=b"",
                           extra=f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n"))
    build.server_sends(b"HTTP/1.1 100 Continue\r\n\r\n")
    build.client_sends(body)
    build.server_sends(ok(b"stored"))
    build.close()
    tally = Tally()
    (exchange,) = run(build.segments, tally=tally)
    assert exchange.request.body == body
    assert exchange.response is not None and exchange.response.status == 200
    assert exchange.response.body == b"stored"
    assert tally.counts["interim 1xx responses"] == 1


def test_101_switching_protocols_emits_the_exchange_and_skips_the_rest() -> None:
    request = get("/chat", extra="Upgrade: websocket\r\nConnection: Upgrade\r\n")
    build = Builder().handshake()
    build.client_sends(request)
    build.server_sends(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\n\r\n\x81\x05hello")
    build.client_sends(b"\x81\x85mask!GET / HTTP/1.1\r\n\r\n")
    build.close()
    tally = Tally()
    exchanges = run(build.segments, tally=tally)
    assert [(e.request.target, e.response.status) for e in exchanges if e.response] == [
        ("/chat", 101),
    ]
    assert tally.skipped[("stream", "upgraded (101)")] == 1
    assert tally.skipped[("packet", "upgraded (101)")] == 1


def test_a_refused_upgrade_goes_on_reading_http() -> None:
    pairs = [
        (get("/chat", extra="Upgrade: websocket\r\nConnection: Upgrade\r\n"),
         ok(b"no websockets here", status="400 Bad Request")),
        (get("/next"), ok(b"fine")),
    ]
    exchanges = run(conversation(pairs))
    assert [(e.request.target, e.response.status) for e in exchanges if e.response] == [
        ("/chat", 400), ("/next", 200),
    ]


def test_connect_tunnel_stops_parsing() -> None:
    build = Builder().handshake()
    build.client_sends(b"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n")
    build.server_sends(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    build.client_sends(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    build.server_sends(b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56")
    build.close()
    tally = Tally()
    (exchange,) = run(build.segments, tally=tally)
    assert exchange.request.method == "CONNECT"
    assert exchange.response is not None and exchange.response.status == 200
    assert tally.skipped[("stream", "tunnel (CONNECT)")] == 1


def test_request_bodies_of_every_kind() -> None:
    chunked = (b"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    binary = bytes(range(256)) * 20
    pairs = [
        (get("/form", method="POST", body=b"a=1&b=2",
             extra="Content-Type: application/x-www-form-urlencoded\r\n"), ok()),
        (get("/json", method="PUT", body=b'{"k": [1, 2]}',
             extra="Content-Type: application/json\r\n"), ok()),
        (get("/bin", method="PATCH", body=binary), ok()),
        (chunked, ok()),
        (get("/empty", method="DELETE"), ok(status="204 No Content")),
    ]
    exchanges = run(conversation(pairs, mss=300))
    assert [(e.request.method, e.request.body) for e in exchanges] == [
        ("POST", b"a=1&b=2"), ("PUT", b'{"k": [1, 2]}'), ("PATCH", binary),
        ("POST", b"hello world"), ("DELETE", b""),
    ]
    assert exchanges[1].request.json() == {"k": [1, 2]}


def test_a_request_without_response_is_reported_incomplete() -> None:
    build = Builder().handshake()
    build.client_sends(get("/unanswered"))
    (exchange,) = run(build.segments)
    assert exchange.response is None
    assert exchange.incomplete == "no response"


def test_non_http_streams_are_skipped_and_counted() -> None:
    build = Builder(server=("10.0.0.2", 443)).handshake()
    build.client_sends(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100)
    build.server_sends(b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56" + b"\x00" * 100)
    build.close()
    tally = Tally()
    assert run(build.segments, tally=tally) == []
    assert tally.skipped[("stream", "not HTTP")] == 1


def test_capture_starting_mid_connection_resynchronises_on_the_next_request() -> None:
    pairs = [(get("/first"), ok(b"A" * 4000)), (get("/second"), ok(b"B" * 10))]
    segments = conversation(pairs, mss=1000, handshake=True)
    # drop the handshake, the first request and the first 2 segments of its response
    mid = segments[3 + 1 + 2:]
    tally = Tally()
    exchanges = run(mid, tally=tally)
    assert [(e.request.target, e.response.body) for e in exchanges if e.response] == [
        ("/second", b"B" * 10),
    ]
    assert all(e.incomplete is None for e in exchanges)


def test_capture_starting_at_a_response_boundary_does_not_misattribute_it() -> None:
    pairs = [(get("/first"), ok(b"A" * 10)), (get("/second"), ok(b"B" * 10))]
    segments = conversation(pairs, handshake=True)
    # drop the handshake and the first request: the capture opens on the first response
    exchanges = run(segments[4:])
    assert [(e.request.target, e.response.body) for e in exchanges if e.response] == [
        ("/second", b"B" * 10),
    ]


def test_a_lost_segment_makes_that_exchange_incomplete_and_the_next_one_whole() -> None:
    pairs = [(get("/a"), ok(b"a" * 3000)), (get("/b"), ok(b"b" * 300))]
    segments = conversation(pairs, mss=1000)
    lost = next(i for i, s in enumerate(segments) if s.payload.startswith(b"a" * 100))
    del segments[lost]
    tally = Tally()
    exchanges = run(segments, tally=tally)
    first, second = exchanges
    assert first.incomplete == "gap in response body"
    # what came before the hole, never bytes from after it
    assert first.response is not None and len(first.response.body) < 3000
    assert (b"a" * 3000).startswith(first.response.body)
    assert second.incomplete is None
    assert second.response is not None and second.response.body == b"b" * 300


def test_a_lost_request_does_not_shift_the_responses() -> None:
    pairs = [(get(f"/{i}"), ok(f"body {i}".encode())) for i in range(4)]
    segments = conversation(pairs)
    lost = next(i for i, s in enumerate(segments) if s.payload.startswith(b"GET /1 "))
    del segments[lost]
    tally = Tally()
    exchanges = run(segments, tally=tally)
    complete = [(e.request.target, e.response.body) for e in exchanges
                if e.response is not None and e.incomplete is None]
    assert complete == [("/0", b"body 0"), ("/2", b"body 2"), ("/3", b"body 3")]
    assert tally.skipped[("exchange", "response to a request not captured")] == 1


def test_a_lost_response_leaves_its_request_unanswered() -> None:
    pairs = [(get(f"/{i}"), ok(f"body {i}".encode())) for i in range(3)]
    segments = conversation(pairs)
    lost = next(i for i, s in enumerate(segments) if s.payload.endswith(b"body 1"))
    del segments[lost]
    exchanges = run(segments)
    outcome = [(e.request.target, e.response.body if e.response else None, e.incomplete)
               for e in exchanges]
    assert outcome == [
        ("/0", b"body 0", None),
        ("/1", None, "response lost in a gap"),
        ("/2", b"body 2", None),
    ]


def test_reset_in_the_middle_of_a_response() -> None:
    build = Builder().handshake()
    build.client_sends(get("/"))
    build.server_sends(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    build.reset(from_client=False)
    (exchange,) = run(build.segments)
    assert exchange.incomplete == "connection reset in response body"


def test_connections_without_syn_or_fin_are_read() -> None:
    segments = conversation([(get("/x"), ok(b"y"))], handshake=False, close=False)
    (exchange,) = run(segments)
    assert exchange.request.target == "/x"
    assert exchange.response is not None and exchange.response.body == b"y"
    assert exchange.incomplete is None


def test_authority_falls_back_to_the_server_address() -> None:
    request = b"GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n"
    (exchange,) = run(conversation([(request, ok(b"."))]))
    assert exchange.request.authority == "10.0.0.2:80"
    (v6,) = run(conversation([(request, ok(b"."))], client=("fd00::1", 5555),
                             server=("fd00::2", 8080)))
    assert v6.request.authority == "[fd00::2]:8080"
    assert v6.server == Endpoint("fd00::2", 8080)


def test_filter_by_host_and_by_port() -> None:
    pairs = [(get("/a", host="keep.example"), ok()), (get("/b", host="drop.example"), ok())]
    tally = Tally()
    exchanges = run(conversation(pairs), ReadOptions(hosts=frozenset({"keep.example"})), tally)
    assert [e.request.target for e in exchanges] == ["/a"]
    assert tally.skipped[("exchange", "filtered out")] == 1
    assert [e.origin.index for e in exchanges] == [0]
    tally = Tally()
    assert run(conversation(pairs), ReadOptions(ports=frozenset({8080})), tally) == []
    assert tally.skipped[("stream", "filtered out")] == 1


def test_retransmitted_segments_are_counted_not_doubled() -> None:
    segments = conversation([(get("/"), ok(b"z" * 3000))], mss=1000)
    data = [s for s in segments if s.payload]
    tally = Tally()
    (exchange,) = run([*segments[:6], data[2], data[1], *segments[6:]], tally=tally)
    assert exchange.response is not None and exchange.response.body == b"z" * 3000
    assert tally.skipped[("packet", "retransmitted data")] == 2


def test_the_connection_table_is_capped() -> None:
    segments: list[Segment] = []
    for n in range(3):
        build = Builder(client=("10.0.0.1", 50000 + n), start=1000.0 + n)
        build.handshake().client_sends(get(f"/{n}")).server_sends(ok(b"."))
        segments += build.segments  # no FIN: connections stay open
    tally = Tally()
    exchanges = run(segments, tally=tally, max_connections=2)
    assert sorted(e.request.target for e in exchanges) == ["/0", "/1", "/2"]
    assert tally.counts["connections evicted (table full)"] == 1


def test_idle_connections_are_flushed_and_a_reused_port_starts_afresh() -> None:
    first = conversation([(get("/old"), ok(b"old"))], close=False)
    second = conversation([(get("/new"), ok(b"new"))], start=5000.0, client_isn=777)
    exchanges = run([*first, *second])
    assert [(e.request.target, e.response.body) for e in exchanges if e.response] == [
        ("/old", b"old"), ("/new", b"new"),
    ]


def test_segments_after_close_are_counted() -> None:
    segments = conversation([(get("/"), ok(b"x"))])
    late = segments[4]._replace(timestamp=2000.0)
    tally = Tally()
    run([*segments, late], tally=tally)
    assert tally.skipped[("packet", "after connection close")] == 1


def test_a_segment_with_data_but_no_psh_is_parsed_when_the_other_side_speaks() -> None:
    build = Builder().handshake()
    build._add(True, ACK, get("/nopush"))
    build._add(False, ACK | PSH, ok(b"r"))
    (exchange,) = run(build.segments)
    assert exchange.request.target == "/nopush"
    assert exchange.response is not None and exchange.response.body == b"r"


def test_a_connection_idle_past_the_timeout_is_flushed_while_reading_goes_on() -> None:
    from observe.capture.tracker import ConnectionTracker

    quiet = Builder(client=("10.0.0.1", 41000)).handshake().client_sends(get("/waiting"))
    later = Builder(client=("10.0.0.9", 42000), start=1000.0 + 400).handshake()
    tally = Tally()
    tracker = ConnectionTracker(ReadOptions(), tally, idle_timeout=300.0)
    flushed = [e for s in quiet.segments + later.segments for e in tracker.feed(s)]
    assert [(e.request.target, e.incomplete) for e in flushed] == [("/waiting", "no response")]
    assert tally.counts["connections flushed when idle"] == 1


def test_sequence_numbers_wrapping_mid_connection() -> None:
    pairs = [(get("/a"), ok(b"x" * 5000)), (get("/b"), ok(b"y" * 5000))]
    segments = conversation(pairs, client_isn=0xFFFFFF00, server_isn=0xFFFFE000)
    exchanges = run(segments)
    assert [(e.request.target, e.response.body) for e in exchanges if e.response] == [
        ("/a", b"x" * 5000), ("/b", b"y" * 5000),
    ]
    assert all(e.incomplete is None for e in exchanges)


def test_lost_and_skipped_bytes_are_counted() -> None:
    pairs = [(get("/a"), ok(b"a" * 3000)), (get("/b"), ok(b"b" * 300))]
    segments = conversation(pairs, mss=1000)
    lost = next(i for i, s in enumerate(segments) if s.payload.startswith(b"a" * 100))
    size = len(segments[lost].payload)
    del segments[lost]
    tally = Tally()
    run(segments, tally=tally)
    assert tally.counts["bytes lost in gaps"] == size
    # the rest of the body after the hole is thrown away until the next status line
    assert tally.counts["bytes skipped to find the next message"] > 0


def test_a_stream_seen_mid_way_that_never_shows_http_is_counted_as_not_http() -> None:
    build = Builder(server=("10.0.0.2", 5432))
    build.client_sends(b"\x00\x00\x00\x08\x04\xd2\x16\x2f" * 50)
    build.server_sends(b"N" + b"\x00" * 300)
    tally = Tally()
    assert run(build.segments, tally=tally) == []
    assert tally.skipped[("stream", "not HTTP")] == 1


def test_expire_flushes_idle_connections_without_new_packets() -> None:
    from observe.capture.tracker import ConnectionTracker

    tracker = ConnectionTracker(ReadOptions(), Tally(), idle_timeout=60.0)
    for segment in Builder().handshake().client_sends(get("/live")).segments:
        assert tracker.feed(segment) == []
    assert tracker.expire(1030.0) == []
    (exchange,) = tracker.expire(1100.0)
    assert (exchange.request.target, exchange.incomplete) == ("/live", "no response")


def test_bare_lf_line_ends_and_odd_header_bytes_are_read() -> None:
    # llhttp insists on CRLF after a request line, but not in a response
    request = b"GET /lf HTTP/1.1\r\nHost: api.example.com\n\n"
    response = b"HTTP/1.1 200 OK\nContent-Length: 2\nX-Odd: a\x01b\n\nok"
    (exchange,) = run(conversation([(request, response)]))
    assert exchange.response is not None and exchange.response.body == b"ok"
    assert exchange.response.headers.get("x-odd") == "a\x01b"
    assert exchange.incomplete is None


def test_a_retransmitted_syn_does_not_restart_the_connection() -> None:
    segments = conversation([(get("/a"), ok(b"a"))], close=False)
    syn = segments[0]
    exchanges = run([*segments[:4], syn, *segments[4:]])
    assert [(e.request.target, e.incomplete) for e in exchanges] == [("/a", None)]


def test_a_server_that_never_answers_does_not_hold_every_request() -> None:
    from observe.capture.connection import MAX_WAITING

    build = Builder().handshake()
    for n in range(MAX_WAITING + 3):
        build.client_sends(get(f"/{n}"))
    tracker_out: list[str] = []
    from observe.capture.tracker import ConnectionTracker

    tracker = ConnectionTracker(ReadOptions(), Tally())
    for segment in build.segments:
        tracker_out += [e.request.target for e in tracker.feed(segment)]
    assert tracker_out == ["/0", "/1", "/2"]
    assert len(tracker.finish()) == MAX_WAITING
