"""Real loopback servers and processes for the live tests (127.0.0.1 only, bounded in time).

- `Upstream`: a threaded http.server answering a small JSON API (optionally over TLS with a
  throwaway self-signed certificate), keep-alive, gzip when asked.
- `LiveProcess`: a restscope or mitmdump subprocess whose output is read line by line in a
  thread, so a test can wait for "listening on HOST:PORT" with a deadline.
"""

from __future__ import annotations

import datetime
import gzip
import json
import queue
import re
import signal
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path.startswith("/services/rest"):  # Flickr-style RPC: errors are 200 + stat=fail
            method = dict(parse_qsl(query)).get("method", "")
            status = 200
            if method == "flickr.photos.delete":
                body = {"stat": "fail", "code": 1, "message": "Photo not found"}
            else:
                body = {"photo": {"id": "2733", "title": {"_content": "x"}}, "stat": "ok"}
        elif path.startswith("/fail"):
            status, body = 500, {"stat": "fail", "message": "boom"}
        elif path.startswith("/missing"):
            status, body = 404, {"error": "not found"}
        else:
            # /users/{id}: the id is an integer, except for /users/7 where it drifts to a string
            tail = path.rsplit("/", 1)[-1]
            user_id: object = int(tail) if tail.isdigit() and tail != "7" else tail
            status, body = 200, {"id": user_id, "name": "Ada", "echo": sent.decode() or None}
        data = json.dumps(body).encode()
        headers = [("Content-Type", "application/json")]
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


class Upstream:
    """A threaded JSON API on 127.0.0.1 (TLS when `tls_dir` is given)."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls_dir is not None:
            cert, key = self_signed_certificate(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for 127.0.0.1 (its own CA, so a client can trust
    it as a CA file), written into `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "upstream-cert.pem", folder / "upstream-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


class LiveProcess:
    """A subprocess with its merged output read line by line in the background."""

    def __init__(self, args: list[str], cwd: Path | None = None) -> None:
        self.args = args
        self.process = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(self.process.stdout,),
                                       daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        """The first new output line matching `pattern` (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        compiled = re.compile(pattern)
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            match = compiled.search(line)
            if match:
                return match
        raise AssertionError(f"{pattern!r} not seen; output:\n{''.join(self.output)}")

    def stop(self, timeout: float = 10.0) -> str:
        """SIGTERM, wait, and return everything the process printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.thread.join(5)
        return "".join(self.output)
