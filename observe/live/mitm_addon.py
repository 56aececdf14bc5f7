"""The mitmproxy addon of the observing proxy: each finished flow becomes an Exchange.

Used in-process by `restscope proxy`, and on its own by people who already run mitmproxy:

    mitmdump -s observe/live/mitm_addon.py --set restscope_log=capture.jsonl

For each HTTP flow that ends (with a response, or with an error) the addon builds an `Exchange`
from the raw wire content (body bytes still content-encoded, with the encoding named), the
flow's timestamps and the connection endpoints; runs the plugin chain (redaction last unless
`restscope_no_redact`); and appends it to the rolling capture log. Options (all `--set`-able):
`restscope_log`, `restscope_log_max`, `restscope_log_backups`, `restscope_plugins`,
`restscope_plugin_config`, `restscope_no_redact`.

Invariants:
1. A flow is turned into at most one exchange; one that fails in the plugin chain is counted.
   Exchanges are logged in the order their flows finished (one worker thread, one queue).
2. Header names, values and the request target are kept byte for byte (decoded as latin-1).
3. Nothing is written until `restscope_log` is set; unset, the addon only counts.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

from mitmproxy import ctx, http

from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.headers import Headers
from observe.tally import Tally

logger = logging.getLogger(__name__)


def _headers(message: http.Message) -> Headers:
    return Headers((n.decode("latin-1"), v.decode("latin-1")) for n, v in message.headers.fields)


def _trailers(message: http.Message) -> Headers:
    if not message.trailers:
        return Headers()
    return Headers((n.decode("latin-1"), v.decode("latin-1")) for n, v in message.trailers.fields)


def _encoding(message: http.Message) -> str:
    return (message.headers.get("content-encoding") or "").strip().lower()


def _endpoint(address: Any) -> Endpoint | None:
    if not address:
        return None
    return Endpoint(str(address[0]), int(address[1]))


def _authority(request: http.Request) -> str:
    if request.authority:
        return request.authority
    host_header = request.host_header
    if host_header:
        return host_header
    default = 443 if request.scheme == "https" else 80
    return request.host if request.port == default else f"{request.host}:{request.port}"


def flow_to_exchange(flow: http.HTTPFlow, location: str = "", index: int = 0) -> Exchange:
    """The Exchange a finished flow describes (response None when it never came)."""
    req = flow.request
    request = Request(
        method=req.method,
        scheme=req.scheme,
        authority=_authority(req),
        target=req.path,
        headers=_headers(req),
        body=req.raw_content or b"",
        content_encoding=_encoding(req),
        http_version=req.http_version,
        trailers=_trailers(req),
    )
    response: Response | None = None
    resp = flow.response
    if resp is not None:
        response = Response(
            status=resp.status_code,
            reason=resp.reason,
            headers=_headers(resp),
            body=resp.raw_content or b"",
            content_encoding=_encoding(resp),
            http_version=resp.http_version,
            trailers=_trailers(resp),
        )
    timing = Timing(
        request_start=req.timestamp_start,
        request_end=req.timestamp_end,
        response_start=resp.timestamp_start if resp is not None else None,
        response_end=resp.timestamp_end if resp is not None else None,
    )
    incomplete = None
    if flow.error is not None:
        incomplete = f"proxy: {flow.error.msg}"
    elif response is None:
        incomplete = "no response"
    return Exchange(
        request=request,
        response=response,
        timing=timing,
        client=_endpoint(flow.client_conn.peername),
        server=_endpoint(flow.server_conn.peername),
        origin=Origin("proxy", location, index),
        incomplete=incomplete,
    )


class RestscopeAddon:
    """Flows in, plugin chain, rolling capture log out.

    The hooks only snapshot each flow into an Exchange (cheap) and queue it; one worker thread
    runs the plugin chain and writes the log, so neither delays the response to the client.
    """

    def __init__(self, managed: bool = False) -> None:
        # a managed addon (restscope proxy) is set up by `setup`; mitmproxy options are ignored
        self.managed = managed
        self.tally = Tally()
        self.chain: Any = None
        self.writer: Any = None
        self.summaries: Any = None
        self.index = 0
        self.location = ""
        self._queue: queue.SimpleQueue[Exchange | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def load(self, loader: Any) -> None:
        loader.add_option("restscope_log", str, "", "Append exchanges to this JSONL capture log.")
        loader.add_option("restscope_log_max", int, 64 * 1024 * 1024,
                          "Rotate the capture log when it passes this many bytes.")
        loader.add_option("restscope_log_backups", int, 5, "Rotated capture logs to keep.")
        loader.add_option("restscope_plugins", Sequence[str], [],
                          "restscope plugins to run on each exchange, in order (e.g. flickr).")
        loader.add_option("restscope_plugin_config", str, "",
                          "YAML configuration for the restscope plugins.")
        loader.add_option("restscope_no_redact", bool, False,
                          "Keep credentials in the capture log (off by default).")

    def configure(self, updated: set[str]) -> None:
        if self.managed or not any(name.startswith("restscope_") for name in updated):
            return
        options = ctx.options
        self.setup(
            log=options.restscope_log,
            plugins=list(options.restscope_plugins),
            plugin_config=options.restscope_plugin_config or None,
            redact=not options.restscope_no_redact,
            max_bytes=options.restscope_log_max,
            backups=options.restscope_log_backups,
        )

    def setup(self, log: str, plugins: list[str], plugin_config: str | None, redact: bool,
              max_bytes: int, backups: int, summary_dir: str | None = None,
              summary_every: float = 60.0) -> None:
        """Build the plugin chain and open the capture log (raises InputError on bad input)."""
        from observe.live.capture_log import CaptureLogWriter
        from observe.live.summaries import open_summary_sink
        from observe.pipeline import PluginChain

        chain = PluginChain.build(
            plugins, self.tally, config_path=plugin_config, redact=redact,
            report_error=lambda line: logger.warning("restscope: %s", line),
        )
        self.close()
        self.chain = chain
        self.location = log
        self.writer = CaptureLogWriter(log, max_bytes, backups) if log else None
        self.summaries = open_summary_sink(summary_dir, summary_every)
        self._worker = threading.Thread(target=self._work, name="restscope-log", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        while True:
            exchange = self._queue.get()
            if exchange is None:
                return
            try:
                self._write(exchange)
            except Exception as exc:  # a bad exchange must not stop the log
                self.tally.skip("exchange", f"capture log write failed: {type(exc).__name__}")
                logger.warning("restscope: cannot log %s: %s", exchange.request.url, exc)

    def _write(self, exchange: Exchange) -> None:
        if self.chain is not None:
            result = self.chain.apply(exchange)
            if result is None:
                return
            exchange = result
        self.tally.exchange(exchange.incomplete)
        if self.writer is not None:
            self.writer.write(exchange)
        if self.summaries is not None:
            self.summaries.add(exchange)

    def record(self, flow: http.HTTPFlow) -> None:
        exchange = flow_to_exchange(flow, self.location, self.index)
        self.index += 1
        if self._worker is None:  # not set up (no options yet): count only
            self.tally.exchange(exchange.incomplete)
            return
        self._queue.put(exchange)

    def response(self, flow: http.HTTPFlow) -> None:
        self.record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:
            self.record(flow)

    def close(self) -> None:
        """Finish the queued exchanges, then close the log."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.summaries is not None:
            self.summaries.close()
            self.summaries = None

    def done(self) -> None:
        self.close()


addons = [RestscopeAddon()]
