"""The proxy end to end: record against a local upstream, replay with the upstream stopped.

Acceptance 1 (identical responses on replay), 3 (gzip tapes are readable text and replay
gzip-encoded) and the proxy's safety rules (one upstream only, never writing outside the
folder, a miss explains itself).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
from pathlib import Path

import httpx
import pytest

from tapes.matching import MatchConfig
from tapes.proxy import ProxySettings
from tapes.runner import BackgroundProxy
from tests.tapes.conftest import SECRET, LocalUpstream

pytestmark = pytest.mark.network

REQUESTS = [
    ("GET", "/services/rest?method=flickr.photos.search&text=cats&page=2&api_key=" + SECRET, None),
    ("GET", "/services/rest?method=flickr.photos.getInfo&photo_id=1&tag=a&tag=b", None),
    ("POST", "/v1/items", b'{"b": 2, "a": [1, 2]}'),
    ("GET", "/redirect", None),
    ("GET", "/binary", None),
    ("GET", "/large", None),
]
IGNORED_HEADERS = {"date", "server", "content-length", "x-restscope-tape", "transfer-encoding"}


def proxy(upstream: str, folder: Path, mode: str, **match: object) -> BackgroundProxy:
    config = MatchConfig().merged(**match) if match else None
    return BackgroundProxy(ProxySettings(upstream=upstream, folder=folder, mode=mode,
                                         match=config))


def fetch(client: httpx.Client, method: str, target: str, body: bytes | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"} if body else {}
    return client.request(method, target, content=body, headers=headers)


def headers_that_matter(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in response.headers.multi_items()
                  if k.lower() not in IGNORED_HEADERS and k.lower() != "set-cookie")


def test_record_then_replay_with_upstream_stopped(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record") as running, \
            httpx.Client(base_url=running.url) as client:
        recorded = [fetch(client, *request) for request in REQUESTS]
        assert running.proxy.stats.recorded == len(REQUESTS)
    upstream.stop()
    with proxy(upstream.url, tmp_path, "replay") as running, \
            httpx.Client(base_url=running.url) as client:
        replayed = [fetch(client, *request) for request in REQUESTS]
        assert running.proxy.stats.misses == 0
    for before, after in zip(recorded, replayed, strict=True):
        assert after.status_code == before.status_code
        assert headers_that_matter(after) == headers_that_matter(before)
        if before.status_code == 200 and "json" in before.headers["content-type"]:
            # the upstream echoed a secret: the tape holds it redacted, everything else equal
            mine, theirs = before.json(), after.json()
            assert theirs["echo_api_key"]["api_key"] == "REDACTED"
            mine.pop("echo_api_key"), theirs.pop("echo_api_key")
            mine["params"].pop("api_key", None), theirs["params"].pop("api_key", None)
            assert mine == theirs
        else:
            assert after.content == before.content
    assert replayed[3].status_code == 302 and replayed[3].headers["location"] == "/elsewhere"
    assert len(replayed[5].content) == 60_000 * 12


def test_gzip_tape_is_readable_and_replays_gzip(upstream: LocalUpstream, tmp_path: Path) -> None:
    target = "/services/rest?method=flickr.photos.search&text=gzip"
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + target, headers={"Accept-Encoding": "gzip"})
    (tape,) = tmp_path.rglob("*.yaml")
    text = tape.read_text(encoding="utf-8")
    assert "content_encoding: gzip" in text
    assert '"path": "/services/rest"' in text  # the JSON body is stored decoded, pretty
    upstream.stop()
    with proxy(upstream.url, tmp_path, "replay") as running:
        raw = httpx.get(running.url + target, headers={"Accept-Encoding": "gzip"})
        wire = socket_get(running.address, target, "Accept-Encoding: gzip\r\n")
        plain = socket_get(running.address, target, "")
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json()["path"] == "/services/rest"
    head, _, body = wire.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert json.loads(gzip.decompress(body))["params"]["text"] == {"_content": "gzip"}
    head, _, body = plain.partition(b"\r\n\r\n")
    assert b"content-encoding" not in head.lower()  # a client that did not ask gets it plain
    assert json.loads(body)["stat"] == "ok"


def socket_get(address: tuple[str, int], target: str, extra: str) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
                     .encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_miss_in_replay_explains_itself(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/services/rest?method=flickr.photos.search&text=cats")
    calls = upstream.total
    with proxy(upstream.url, tmp_path, "replay") as running:
        miss = httpx.get(running.url + "/services/rest?method=flickr.photos.search&text=dogs")
    assert upstream.total == calls  # replay never touches the network
    assert miss.status_code == 502
    assert miss.headers["x-restscope-tape"] == "miss"
    assert "GET /services/rest?method=flickr.photos.search&text=dogs" in miss.text
    assert "looked for:" in miss.text and "GET_photos.search_" in miss.text
    assert "query text: recorded 'cats', requested 'dogs'" in miss.text


def test_volatile_parameters_and_query_order_do_not_matter(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/p?b=2&a=1&api_key=one&oauth_nonce=x&oauth_timestamp=1")
    with proxy(upstream.url, tmp_path, "replay") as running:
        hit = httpx.get(running.url + "/p?a=1&b=2&api_key=two&oauth_nonce=y&oauth_timestamp=2")
        repeated = httpx.get(running.url + "/p?a=1&b=2&b=3")
    assert hit.status_code == 200
    assert repeated.status_code == 502


def test_hand_edit_applies_at_once(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/edit-me")
    (tape,) = tmp_path.rglob("*.yaml")
    assert ".locks/" in (tmp_path / ".gitignore").read_text(encoding="utf-8")  # local state
    with proxy(upstream.url, tmp_path, "replay") as running:
        assert httpx.get(running.url + "/edit-me").json()["stat"] == "ok"
        text = tape.read_text(encoding="utf-8").replace('"stat": "ok"', '"stat": "edited"')
        tape.write_text(text.replace("status: 200", "status: 203"), encoding="utf-8")
        edited = httpx.get(running.url + "/edit-me")
    assert edited.status_code == 203
    assert edited.json()["stat"] == "edited"


def test_sequence_mode_plays_recordings_in_order(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record", sequence=True) as running:
        for _ in range(3):
            httpx.post(running.url + "/counter", content=b"x")
    assert len(list(tmp_path.rglob("*.yaml"))) == 3
    with proxy(upstream.url, tmp_path, "replay", sequence=True) as running:
        labels = [httpx.post(running.url + "/counter", content=b"x").headers["x-restscope-tape"]
                  for _ in range(4)]
    assert labels[0].endswith(".yaml") and labels[1].endswith("_2.yaml")
    assert labels[2].endswith("_3.yaml") and labels[3] == "miss"


def test_passthrough_and_overwrite(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "passthrough") as running:
        assert httpx.get(running.url + "/pass").status_code == 200
    assert not list(tmp_path.rglob("*.yaml"))
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/again")
        httpx.get(running.url + "/again")
    assert upstream.calls["GET /again"] == 1
    with proxy(upstream.url, tmp_path, "overwrite") as running:
        httpx.get(running.url + "/again")
        httpx.get(running.url + "/again")
    assert upstream.calls["GET /again"] == 2  # re-recorded once, then replayed


def test_absolute_form_for_another_host_is_refused(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        with httpx.Client(proxy=running.url) as client:
            refused = client.get("http://evil.example/steal")
            own = client.get(upstream.url + "/own?x=1")
        connect = socket_raw(running.address, b"CONNECT evil.example:443 HTTP/1.1\r\n"
                             b"Host: evil.example:443\r\n\r\n")
    assert refused.status_code == 403
    assert own.status_code == 200
    assert connect.startswith(b"HTTP/1.1 405")
    assert all("evil" not in call for call in upstream.calls)


def socket_raw(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        return sock.recv(65536)


@pytest.mark.parametrize("target", [
    "/../../../../tmp/escape?method=flickr.x/../../../escape",
    "/a/..%2F..%2F..%2Fescape",
    "/%2e%2e/%2e%2e/escape",
    "/" + "n" * 5000,
    "/?method=flickr.../../../../escape",
    "/services/rest?method=..%2F..%2Fescape",
])
def test_never_writes_outside_the_folder(
    upstream: LocalUpstream, tmp_path: Path, target: str
) -> None:
    folder = tmp_path / "tapes"
    with proxy(upstream.url, folder, "record") as running:
        response = socket_raw(running.address, f"GET {target} HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n".encode())
    assert response.startswith(b"HTTP/1.1 ")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written, "the request was recorded"
    for path in written:
        assert path.resolve().is_relative_to(folder.resolve())
        assert len(path.name) < 120
    assert not (tmp_path / "escape").exists()
    assert os.listdir(tmp_path) == ["tapes"]


def test_keep_alive_and_pipelining(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        request = b"GET /pipe?n=%d HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection(running.address, timeout=10) as sock:
            sock.sendall(b"".join(request % i for i in range(5)))
            data = b""
            while data.count(b"HTTP/1.1 200") < 5:
                data += sock.recv(65536)
    # answers come back in request order, each on the same connection
    order = [data.index(b'"n": {"_content": "%d"}' % i) for i in range(5)]
    assert order == sorted(order)


def test_index_cache_follows_hand_edits_and_survives_corruption(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/cached?q=old")
    cache = tmp_path / ".restscope-index.json"
    with proxy(upstream.url, tmp_path, "replay") as running:
        assert httpx.get(running.url + "/cached?q=old").status_code == 200
    assert cache.exists()
    (tape,) = tmp_path.rglob("*.yaml")
    tape.write_text(tape.read_text(encoding="utf-8").replace("q=old", "q=newer"), "utf-8")
    with proxy(upstream.url, tmp_path, "replay") as running:
        assert httpx.get(running.url + "/cached?q=newer").status_code == 200
    cache.write_text("{not json", encoding="utf-8")
    with proxy(upstream.url, tmp_path, "replay") as running:
        assert httpx.get(running.url + "/cached?q=newer").status_code == 200


def test_fixed_latency_still_replays(upstream: LocalUpstream, tmp_path: Path) -> None:
    with proxy(upstream.url, tmp_path, "record") as running:
        httpx.get(running.url + "/slow")
    with proxy(upstream.url, tmp_path, "replay", latency="5") as running:
        response = httpx.get(running.url + "/slow")
        assert running.proxy.stats.hits == 1
    assert response.status_code == 200 and response.json()["path"] == "/slow"


def test_gzip_request_body_and_expect_continue(upstream: LocalUpstream, tmp_path: Path) -> None:
    body = json.dumps({"b": 1, "a": [1, 2, 3]}).encode()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with proxy(upstream.url, tmp_path, "record") as running:
        assert httpx.post(running.url + "/v1/upload", content=gzip.compress(body),
                          headers=headers).status_code == 200
    with proxy(upstream.url, tmp_path, "replay") as running:
        # gzip output differs between compressors; the key uses the decoded body
        again = gzip.compress(json.dumps({"a": [1, 2, 3], "b": 1}).encode(), compresslevel=1)
        assert httpx.post(running.url + "/v1/upload", content=again,
                          headers=headers).status_code == 200
        raw = socket_raw(running.address, b"POST /v1/upload HTTP/1.1\r\nHost: x\r\n"
                         b"Expect: 100-continue\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 2\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")


def test_no_content_replays_without_a_body(tmp_path: Path) -> None:
    folder = tmp_path / "127.0.0.1"
    folder.mkdir()
    (folder / "DELETE_items_1_000000000001.yaml").write_text(
        "restscope_tape: 1\nrequest: {method: DELETE, url: 'http://127.0.0.1/items/1'}\n"
        "response: {status: 204, headers: [[X-Done, 'yes']]}\n", encoding="utf-8")
    with proxy("http://127.0.0.1:9", tmp_path, "replay") as running:
        raw = socket_raw(running.address, b"DELETE /items/1 HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204 ") and b"X-Done: yes" in head
    assert b"content-length" not in head.lower() and rest == b""
