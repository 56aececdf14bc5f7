"""HTTPS upstreams: TLS is verified by default (an unknown CA is refused with a 502 that says
why), and `--ca` trusts a custom CA. The upstream is a local HTTPS server with a certificate
made for the test."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tapes.proxy import ProxySettings
from tapes.runner import BackgroundProxy
from tests.observe.live.servers import self_signed_certificate

pytestmark = pytest.mark.network


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"secure": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def https_upstream(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed_certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()


def test_unknown_ca_is_refused_and_custom_ca_works(
    https_upstream: tuple[str, Path], tmp_path: Path
) -> None:
    url, cert = https_upstream
    folder = tmp_path / "tapes"
    with BackgroundProxy(ProxySettings(upstream=url, folder=folder, mode="record")) as running:
        refused = httpx.get(running.url + "/secure")
    assert refused.status_code == 502
    assert refused.headers["x-restscope-tape"] == "upstream-error"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.text or "certificate" in refused.text.lower()
    assert not list(folder.rglob("*.yaml"))
    settings = ProxySettings(upstream=url, folder=folder, mode="record", ca=str(cert))
    with BackgroundProxy(settings) as running:
        recorded = httpx.get(running.url + "/secure")
    assert recorded.status_code == 200 and recorded.json() == {"secure": True}
    assert len(list(folder.rglob("*.yaml"))) == 1
