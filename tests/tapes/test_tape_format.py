"""The tape file format: readable bodies, exact bytes back, explicit binary, versioning, and
the tape folder as a traffic source."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from observe.exchange import Exchange, Request, Response, Timing
from observe.formats.tape import TapeFormatError, dump_tape, parse_tape
from observe.formats.tapefolder import read_tape_folder
from observe.headers import Headers
from observe.sources import ReadOptions
from observe.tally import Tally
from tapes.matching import MatchConfig, load_folder_config, request_key


def exchange(body: bytes, content_type: str, encoding: str = "") -> Exchange:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    return Exchange(
        request=Request.from_url("GET", "https://api.example.test/v1/x?a=1",
                                 headers=Headers([("Host", "api.example.test")])),
        response=Response(status=200, reason="OK", headers=Headers(headers), body=body,
                          content_encoding=encoding),
        timing=Timing(10.0, None, None, 10.5),
        meta={"operation_id": "getX"},
    )


@pytest.mark.parametrize("document", [
    {"b": [1, 2, {"c": "ü"}], "a": None},
    [{"url": "http://x/y"}],
])
@pytest.mark.parametrize("render", [
    lambda v: json.dumps(v, separators=(",", ":")),
    lambda v: json.dumps(v),
    lambda v: json.dumps(v, separators=(",", ":")).replace("/", "\\/"),
    lambda v: json.dumps(v, indent=3),  # no known style: kept as text, still exact
])
def test_json_bodies_are_pretty_and_replay_exact_bytes(document: object, render) -> None:  # type: ignore[no-untyped-def]
    raw = render(document).encode("utf-8")
    text = dump_tape(exchange(raw, "application/json"))
    tape = parse_tape(text)
    assert tape.response_body == raw
    assert "json: |" in text or "text: |" in text or "text: '" in text


def test_gzip_body_is_stored_decoded_and_reencoded() -> None:
    raw = b'{"photos":{"page":1},"stat":"ok"}'
    text = dump_tape(exchange(gzip.compress(raw), "application/json", "gzip"))
    assert "content_encoding: gzip" in text and '"stat": "ok"' in text
    assert "Content-Length" not in text  # framing is computed on replay
    tape = parse_tape(text)
    assert tape.response_body == raw and tape.response_encoding == "gzip"
    assert tape.exchange.response is not None
    assert gzip.decompress(tape.exchange.response.body) == raw


def test_binary_body_has_an_explicit_tag() -> None:
    raw = bytes(range(256))
    text = dump_tape(exchange(raw, "image/png"))
    assert "binary: !!binary" in text
    assert parse_tape(text).response_body == raw


def test_corrupt_compressed_body_is_kept_raw_with_a_note() -> None:
    broken = gzip.compress(b"hello world" * 20)[:30]
    text = dump_tape(exchange(broken, "text/plain", "gzip"))
    assert "body kept as sent: gzip body ends" in text and "content_encoding" not in text
    tape = parse_tape(text)
    assert tape.response_body == broken and tape.response_encoding == ""


def test_round_trip_keeps_request_timing_and_meta() -> None:
    original = exchange(b"plain text\nline 2\n", "text/plain; charset=utf-8")
    tape = parse_tape(dump_tape(original))
    assert tape.exchange.request.url == original.request.url
    assert tape.duration == 0.5
    assert tape.exchange.meta["operation_id"] == "getX"
    assert dump_tape(original) == dump_tape(original)  # deterministic


@pytest.mark.parametrize(("text", "reason"), [
    ("restscope_tape: 9\nrequest: {url: 'http://x/'}\n", "unsupported tape version 9"),
    ("just a string\n", "no request section"),
    ("restscope_tape: 1\nrequest: [1, 2\n", "YAML error"),
    ("!!python/object:os.system {}\n", "YAML error"),  # never constructs code
])
def test_bad_tapes_raise_tape_format_error(text: str, reason: str) -> None:
    with pytest.raises(TapeFormatError, match="not a valid tape") as caught:
        parse_tape(text, "t.yaml")
    assert reason in caught.value.reason


def test_tape_folder_is_a_traffic_source(tmp_path: Path) -> None:
    (tmp_path / "api.example.test").mkdir()
    (tmp_path / "api.example.test" / "GET_x_000000000001.yaml").write_text(
        dump_tape(exchange(b"{}", "application/json")), encoding="utf-8")
    (tmp_path / "api.example.test" / "GET_bad_000000000002.yaml").write_text("x: [", "utf-8")
    (tmp_path / "api.example.test" / ".GET_x.yaml.123.tmp").write_text("partial", "utf-8")
    tally = Tally()
    found = list(read_tape_folder(tmp_path, ReadOptions(), tally))
    assert len(found) == 1 and found[0].origin.kind == "tapes"
    (reason,) = tally.skipped_of("record")
    assert reason.startswith("bad tape: YAML error")


def test_matching_key_rules(tmp_path: Path) -> None:
    config = MatchConfig()
    base = request_key("get", "/p?b=2&a=1&a=0&api_key=x&oauth_nonce=1", Headers(), b"", config)
    assert base.query == (("a", "1"), ("a", "0"), ("b", "2"))  # repeated keys keep order
    json_a = request_key("POST", "/p", Headers([("Content-Type", "application/json")]),
                         b'{"b":1,"a":2}', config)
    json_b = request_key("POST", "/p", Headers([("Content-Type", "application/json")]),
                         b'{"a": 2, "b": 1}', config)
    assert json_a.digest == json_b.digest
    form = Headers([("Content-Type", "application/x-www-form-urlencoded")])
    assert (request_key("POST", "/p", form, b"b=1&a=2&api_sig=zz", config).digest
            == request_key("POST", "/p", form, b"a=2&b=1&api_sig=yy", config).digest)
    host_a = request_key("GET", "/p", Headers([("Host", "a:1")]), b"", config)
    host_b = request_key("GET", "/p", Headers([("Host", "b:2")]), b"", config)
    assert host_a.digest == host_b.digest  # headers (Host too) are not in the key by default
    (tmp_path / "tapes.yaml").write_text("match:\n  headers: [X-Tenant]\n  "
                                         "ignore_params_extra: [page]\n", encoding="utf-8")
    folder_config = load_folder_config(tmp_path)
    one = request_key("GET", "/p?page=1", Headers([("X-Tenant", "a")]), b"", folder_config)
    two = request_key("GET", "/p?page=2", Headers([("X-Tenant", "b")]), b"", folder_config)
    assert one.query == two.query and one.digest != two.digest
