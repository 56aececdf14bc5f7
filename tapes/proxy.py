"""The record/replay proxy: an asyncio HTTP/1.1 server (httptools parsing) in front of tapes.

Modes: `replay` (never touches the network; a miss answers 502 with an explanation),
`record` (replay hits, record misses), `overwrite` (re-record each key once per run, then
replay), `passthrough` (forward, never record).

Invariants:
1. Hits are answered synchronously from the in-memory index and the reply cache (rebuilt when
   a tape's mtime or size changes); nothing on the hot path awaits.
2. Responses go out in request order on each keep-alive connection (pipelining-safe).
3. Only the configured upstream is contacted; an absolute-form target naming any other
   origin is refused with 403, CONNECT with 405.
4. Concurrent identical misses go upstream once: a per-key asyncio lock in this process and a
   per-key `flock` across processes; after taking them the folder is checked again.
5. Secrets are redacted before a tape is written (tapes.redact).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httptools

from observe.encoding import decode_content
from observe.errors import BodyError
from observe.formats.tape import dump_tape
from observe.headers import Headers
from tapes.explain import miss_text, operation_id_of, tape_label_name
from tapes.matching import MatchConfig, RequestKey, load_folder_config, request_key
from tapes.redact import redact
from tapes.store import HOP_HEADERS, TapeStore, bodyless, tape_name
from tapes.upstream import Upstream, forward, make_client

MODES = ("replay", "record", "overwrite", "passthrough")
_KEY_MEMO_LIMIT = 50_000


@dataclass
class ProxySettings:
    upstream: str
    folder: Path
    mode: str = "replay"
    match: MatchConfig | None = None  # None: the folder's tapes.yaml over the defaults
    ca: str | None = None
    timeout: float = 30.0
    redact_names: tuple[str, ...] = ()


@dataclass(slots=True)
class Incoming:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool
    accepts_encoding: bool = False
    key: RequestKey | None = None
    n: int = 1


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    recorded: int = 0
    forwarded: int = 0
    refused: int = 0
    miss_messages: list[str] = field(default_factory=list)


def _simple_response(status: int, reason: str, text: str, extra: str = "") -> bytes:
    body = text.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class TapeProxy:
    """The proxy's state: settings, store, upstream client, counters."""

    def __init__(self, settings: ProxySettings) -> None:
        if settings.mode not in MODES:
            raise ValueError(f"unknown mode {settings.mode!r}; choose from {', '.join(MODES)}")
        self.settings = settings
        self.mode = settings.mode
        self.folder = settings.folder.resolve()
        self.upstream = Upstream.parse(settings.upstream)
        self.config = settings.match or load_folder_config(self.folder)
        self.store = TapeStore(self.folder, self.config)
        self.store.scan()
        self.stats = Stats()
        self._key_memo: dict[tuple[str, str], RequestKey] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sequence: dict[str, int] = {}
        self._rerecorded: set[tuple[str, int]] = set()
        self._client = None if self.mode == "replay" else make_client(
            self.upstream, settings.ca, settings.timeout)
        self._server: asyncio.base_events.Server | None = None

    # -- server ----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0,
                    sock: socket.socket | None = None) -> tuple[str, int]:
        """Listen on host:port, or on an already bound socket (worker processes share one)."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(lambda: _Connection(self), sock=sock,
                                                    backlog=1024)
        else:
            self._server = await loop.create_server(lambda: _Connection(self), host, port,
                                                    backlog=1024)
        address = self._server.sockets[0].getsockname()
        return address[0], address[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._client is not None:
            await self._client.aclose()

    # -- requests --------------------------------------------------------------------------
    def key_of(self, request: Incoming) -> RequestKey:
        """The request's matching key, memoised for body-less requests (the common case)."""
        memo = None
        if not request.body and not self.config.headers:
            memo = (request.method, request.target)
            cached = self._key_memo.get(memo)
            if cached is not None:
                return cached
        headers = Headers(request.headers)
        body = request.body
        encoding = headers.get("content-encoding")
        if body and encoding:  # key the body as the tape stores it: decoded
            with contextlib.suppress(BodyError):
                body = decode_content(body, encoding)
        key = request_key(request.method, request.target, headers, body, self.config)
        if memo is not None:
            if len(self._key_memo) > _KEY_MEMO_LIMIT:
                self._key_memo.clear()
            self._key_memo[memo] = key
        return key

    def refusal(self, request: Incoming) -> bytes | None:
        """A 4xx for requests the proxy will not serve, after turning absolute form into origin."""
        if request.method == "CONNECT":
            self.stats.refused += 1
            return _simple_response(405, "Method Not Allowed",
                                    "restscope tapes: CONNECT is not supported\n")
        target = request.target
        if target.startswith(("http://", "https://")) or "://" in target.split("/", 1)[0]:
            if not self.upstream.same_origin(target):
                self.stats.refused += 1
                return _simple_response(
                    403, "Forbidden",
                    f"restscope tapes: this proxy forwards only to {self.upstream.scheme}://"
                    f"{self.upstream.authority}; refusing {target.split('?', 1)[0]}\n")
            rest = target.split("://", 1)[1]
            request.target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        elif not target.startswith("/") and target != "*":
            self.stats.refused += 1
            return _simple_response(400, "Bad Request", "restscope tapes: bad request target\n")
        return None

    def answer_now(self, request: Incoming) -> bytes | None:
        """The response bytes when they are known without waiting (hits, refusals), else None."""
        if request.target[:1] != "/" or request.method == "CONNECT":
            refused = self.refusal(request)
            if refused is not None:
                return refused
        if self.mode == "passthrough":
            return None
        key = request.key = self.key_of(request)
        digest = key.digest
        if self.config.sequence:
            n = request.n = self._sequence.get(digest, 0) + 1
            self._sequence[digest] = n
        else:
            n = 1
        if self.mode == "overwrite" and (digest, n) not in self._rerecorded:
            return None
        path = self.store.lookup(digest, n)
        if path is None:
            return None
        reply = self.store.reply(path)
        if reply is None:
            return None
        if self.config.latency != "none":
            return None
        self.stats.hits += 1
        self.store.used.add(path)
        return reply.wire(request.accepts_encoding)

    async def answer_later(self, request: Incoming) -> bytes:
        """The response for a request `answer_now` could not serve: latency, miss, record."""
        if self.mode == "passthrough":
            return await self._forward_only(request)
        key = request.key
        assert key is not None
        digest, n = key.digest, request.n
        if self.mode == "replay":
            return await self._replay_or_miss(request, key)
        lock = self._locks.setdefault(f"{digest}/{n}", asyncio.Lock())
        async with lock:
            if self.mode == "record" or (digest, n) in self._rerecorded:
                self._adopt_from_disk(digest)
                if self.store.lookup(digest, n) is not None:
                    return await self._replay_or_miss(request, key)
            fd = await self._file_lock(digest)
            try:
                if self.mode == "record":
                    self._adopt_from_disk(digest)
                    if self.store.lookup(digest, n) is not None:
                        return await self._replay_or_miss(request, key)
                return await self._record(request, key)
            finally:
                self.store.unlock(fd)

    async def _file_lock(self, digest: str) -> int:
        while True:
            fd = self.store.try_lock(digest)
            if fd is not None:
                return fd
            await asyncio.sleep(0.005)

    def _adopt_from_disk(self, digest: str) -> None:
        """Index tapes for `digest` that another process wrote since the scan."""
        known = set(self.store.entries[digest].paths) if digest in self.store.entries else set()
        for path in self.folder.glob(f"*/*_{digest}*.yaml"):
            if path not in known and not path.name.startswith("."):
                self.store.add(path)

    async def _replay_or_miss(self, request: Incoming, key: RequestKey) -> bytes:
        path = self.store.lookup(key.digest, request.n)
        reply = self.store.reply(path) if path is not None else None
        if path is None or reply is None:
            self.stats.misses += 1
            looked_for = self.folder / tape_label_name(self, request, key)
            text = miss_text(self, request, key, looked_for)
            self.stats.miss_messages.append(text)
            return _simple_response(502, "Bad Gateway", text, "X-Restscope-Tape: miss\r\n")
        delay = self.config.latency_seconds
        if self.config.latency == "recorded":
            delay = reply.duration
        if delay:
            await asyncio.sleep(delay)
        self.stats.hits += 1
        self.store.used.add(path)
        return reply.wire(request.accepts_encoding)

    async def _upstream_call(self, request: Incoming):  # type: ignore[no-untyped-def]
        assert self._client is not None
        self.stats.forwarded += 1
        return await forward(self._client, self.upstream, request.method, request.target,
                             request.headers, request.body)

    async def _forward_only(self, request: Incoming) -> bytes:
        try:
            exchange = await self._upstream_call(request)
        except Exception as exc:
            return _upstream_error(self, exc)
        return _wire_of(exchange)

    async def _record(self, request: Incoming, key: RequestKey) -> bytes:
        try:
            exchange = await self._upstream_call(request)
        except Exception as exc:
            return _upstream_error(self, exc)
        saved = redact(exchange, self.settings.redact_names)
        operation = operation_id_of(saved)
        if operation:
            saved = saved.with_meta(operation_id=operation)
        name = tape_name(request.method, key.path, key.digest, operation, request.n)
        path = self.store.path_for(self.upstream.host, name)
        await asyncio.to_thread(self.store.write, path, dump_tape(saved))  # fsync off the loop
        self.store.add(path)
        self._rerecorded.add((key.digest, request.n))
        self.stats.recorded += 1
        self.store.used.add(path)
        return _wire_of(exchange)


def _upstream_error(proxy: TapeProxy, exc: Exception) -> bytes:
    return _simple_response(
        502, "Bad Gateway",
        f"restscope tapes: upstream {proxy.upstream.scheme}://{proxy.upstream.authority} "
        f"failed: {type(exc).__name__}: {exc}\n",
        "X-Restscope-Tape: upstream-error\r\n",
    )


def _wire_of(exchange) -> bytes:  # type: ignore[no-untyped-def]
    response = exchange.response
    lines = [f"HTTP/1.1 {response.status} {response.reason or 'OK'}"]
    lines += [f"{n}: {v}" for n, v in response.headers if n.lower() not in HOP_HEADERS]
    if bodyless(response.status):
        body = b""
    else:
        body = response.body
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head + body


class _Connection(asyncio.Protocol):
    """One client connection: parse requests, answer in order, keep alive."""

    def __init__(self, proxy: TapeProxy) -> None:
        self.proxy = proxy
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.pending: deque[Incoming] = deque()
        self.busy = False
        self.closing = False
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._fail(400, f"malformed request: {exc}")

    def _fail(self, status: int, text: str) -> None:
        reason = "Bad Request" if status == 400 else "Internal Server Error"
        if self.transport is not None and not self.closing:
            self.transport.write(_simple_response(status, reason,
                                                  f"restscope tapes: {text}\n"))
            self.transport.close()
        self.closing = True

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_headers_complete(self) -> None:
        """Answer `Expect: 100-continue` so clients send large bodies without waiting."""
        writable = self.transport is not None and not self.closing and not self.busy
        for name, value in self._headers:
            if writable and name.lower() == "expect" and value.lower() == "100-continue":
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        accepts = False
        for name, value in self._headers:
            if len(name) == 15 and name.lower() == "accept-encoding":
                accepts = "gzip" in value or "br" in value or "deflate" in value
        request = Incoming(
            method=self.parser.get_method().decode("ascii"),
            target=self._url.decode("latin-1"),
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=self.parser.should_keep_alive(),
            accepts_encoding=accepts,
        )
        if self.busy:
            self.pending.append(request)
            if len(self.pending) > 64 and self.transport is not None:
                self.transport.pause_reading()
            return
        answer = self.proxy.answer_now(request)
        if answer is not None:
            self._send(answer, request.keep_alive)
        else:
            self.busy = True
            asyncio.get_running_loop().create_task(self._serve_slowly(request))

    def _send(self, data: bytes, keep_alive: bool) -> None:
        if self.transport is None or self.closing:
            return
        self.transport.write(data)
        if not keep_alive:
            self.closing = True
            self.transport.close()

    async def _serve_slowly(self, request: Incoming) -> None:
        try:
            answer = await self.proxy.answer_later(request)
            self._send(answer, request.keep_alive)
            while self.pending and not self.closing:
                following = self.pending.popleft()
                answer_now = self.proxy.answer_now(following)
                if answer_now is None:
                    answer_now = await self.proxy.answer_later(following)
                self._send(answer_now, following.keep_alive)
            if self.transport is not None and not self.closing:
                self.transport.resume_reading()
        except Exception as exc:  # never leave a client hanging
            self._fail(500, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.busy = False
