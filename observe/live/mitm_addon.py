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
2. A flow gives the same request and response as it would read from a flow file
   (`observe.formats.mitmflows.flow_messages`: header text UTF-8, else Latin-1, per value).
3. Nothing is written until `restscope_log` is set; unset, the addon only counts.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

from mitmproxy import ctx, http

from observe.exchange import Exchange, Origin
from observe.formats.mitmflows import flow_endpoints, flow_messages, flow_timing
from observe.pipeline import exchange_place
from observe.tally import Tally

logger = logging.getLogger(__name__)


def flow_to_exchange(flow: http.HTTPFlow, location: str = "", index: int = 0) -> Exchange:
    """The Exchange a finished flow describes (response None when it never came): the same
    messages, timing and endpoints as a flow file gives, with the proxy's own origin and
    incomplete reasons."""
    request, response = flow_messages(flow)
    client, server = flow_endpoints(flow)
    incomplete = None
    if flow.error is not None:
        incomplete = f"proxy: {flow.error.msg}"
    elif response is None:
        incomplete = "no response"
    return Exchange(
        request=request,
        response=response,
        timing=flow_timing(flow),
        client=client,
        server=server,
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
                logger.warning("restscope: cannot log %s: %s", exchange_place(exchange), exc)

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
