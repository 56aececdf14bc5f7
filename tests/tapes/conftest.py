"""Fixtures for the tapes tests: a small local upstream API on 127.0.0.1 that counts its calls.

The upstream answers JSON (gzip when asked), a redirect, a binary body, a large chunked body,
and echoes secrets back (like flickr.test.echo does) so redaction is exercised.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

SECRET = "c0ffee5ecret9a7b"


@dataclass
class LocalUpstream:
    server: ThreadingHTTPServer
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: LocalUpstream

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(n.lower() == "transfer-encoding" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.upstream.lock:
            self.upstream.calls[f"{self.command} {self.path}"] += 1
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if parts.path == "/redirect":
            self._reply(302, b"", [("Location", "/elsewhere")])
            return
        if parts.path == "/binary":
            self._reply(200, bytes(range(256)) * 4, [("Content-Type", "image/png")])
            return
        if parts.path == "/large":
            payload = b"".join(b"line %06d\n" % i for i in range(60_000))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 65_536):
                chunk = payload[start:start + 65_536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        document = {
            "stat": "ok",
            "method": self.command,
            "path": parts.path,
            "params": {k: {"_content": v} for k, v in query},
            "body_length": len(body),
            "echo_api_key": {"api_key": SECRET},
            "url": "https://example.test/a/b",
        }
        data = json.dumps(document).encode()
        headers = [("Content-Type", "application/json; charset=utf-8"), ("X-Served-By", "up1"),
                   ("Set-Cookie", f"session={SECRET}; Path=/")]
        if "gzip" in (self.headers.get("accept-encoding") or ""):
            data = gzip.compress(data)
            headers.append(("Content-Encoding", "gzip"))
        self._reply(200, data, headers)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


def start_upstream(port: int = 0) -> LocalUpstream:
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    upstream = LocalUpstream(server)
    handler.upstream = upstream
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream


@pytest.fixture
def upstream() -> Iterator[LocalUpstream]:
    server = start_upstream()
    yield server
    server.stop()
