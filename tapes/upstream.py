"""Forwarding one request to the configured upstream with httpx, and building its Exchange.

Invariants:
1. Only the configured upstream is ever contacted; the caller passes an origin-form target.
2. Redirects are returned as they are (follow_redirects=False); TLS is verified (custom CA
   bundle allowed). httpx adds no headers of its own: the client's headers go as sent, minus
   hop-by-hop fields and Host (set from the upstream).
3. The response body is read raw (as on the wire) with its Content-Encoding noted, so tapes
   can store it decoded and re-encode it on replay.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from observe.errors import InputError
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import Headers
from tapes.store import HOP_HEADERS

DROP_REQUEST_HEADERS = HOP_HEADERS | {"host", "expect"}


@dataclass(frozen=True)
class Upstream:
    """The one server a proxy forwards to."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--upstream {url!r}: expected http(s)://host[:port]")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))

    @property
    def authority(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return (parts.hostname or "").lower() == self.host and port == self.port


def make_client(upstream: Upstream, ca: str | None, timeout: float) -> httpx.AsyncClient:
    """An httpx client for `upstream`; TLS verified (a plain-http upstream never does TLS,
    since redirects are not followed, so no TLS context is built for it)."""
    verify: ssl.SSLContext | bool = upstream.scheme == "https"
    if ca and verify:
        verify = ssl.create_default_context(cafile=ca)
    client = httpx.AsyncClient(
        verify=verify, follow_redirects=False, timeout=timeout, trust_env=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )
    for name in list(client.headers.keys()):
        del client.headers[name]
    return client


async def forward(
    client: httpx.AsyncClient,
    upstream: Upstream,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> Exchange:
    """Send the request upstream and return the exchange with the raw response."""
    sent = [(n, v) for n, v in headers if n.lower() not in DROP_REQUEST_HEADERS]
    url = f"{upstream.scheme}://{upstream.authority}{upstream.base_path}{target}"
    started = time.time()
    request = client.build_request(method, url, headers=sent, content=body or None)
    response = await client.send(request, stream=True)
    try:
        chunks = [chunk async for chunk in response.aiter_raw()]
    finally:
        await response.aclose()
    ended = time.time()
    raw_headers = Headers(
        (n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw
    )
    encoding = raw_headers.get("content-encoding") or ""
    req_headers = Headers([("Host", upstream.authority), *sent])
    return Exchange(
        request=Request(
            method=method, scheme=upstream.scheme, authority=upstream.authority,
            target=target, headers=req_headers, body=body,
            content_encoding=req_headers.get("content-encoding") or "",
        ),
        response=Response(
            status=response.status_code, reason=response.reason_phrase, headers=raw_headers,
            body=b"".join(chunks), content_encoding="" if encoding == "identity" else encoding,
            http_version=response.http_version,
        ),
        timing=Timing(started, started, None, ended),
        server=Endpoint(upstream.host, upstream.port),
        origin=Origin("tapes-proxy", url),
    )
