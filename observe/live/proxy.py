"""Run mitmproxy in-process as an observing proxy with the restscope addon.

Reverse mode (`upstream` given: clients talk to the proxy as if it were the API) or regular
forward-proxy mode (clients set HTTP(S)_PROXY and trust mitmproxy's CA for HTTPS). Listens on
127.0.0.1 unless told otherwise; port 0 picks a free port, and the bound address is announced
on stdout in one line once the server is up ("restscope proxy listening on HOST:PORT ...").
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from observe.errors import InputError
from observe.live.mitm_addon import RestscopeAddon


@dataclass(frozen=True)
class ProxySettings:
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    upstream: str | None = None
    confdir: str | None = None
    log: str = ""
    plugins: tuple[str, ...] = ()
    plugin_config: str | None = None
    redact: bool = True
    max_bytes: int = 64 * 1024 * 1024
    backups: int = 5
    ssl_insecure: bool = False
    summary_dir: str | None = None
    summary_every: float = 60.0

    @property
    def mode(self) -> str:
        return f"reverse:{self.upstream}" if self.upstream else "regular"


def parse_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:8080', ':0', '8080', '[::1]:8080' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise InputError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080 or :0")
    return host, int(port)


def validate_upstream(url: str) -> str:
    if not url.startswith(("http://", "https://")) or url[-3:] == "://":
        raise InputError(f"--upstream {url!r}: expected a URL like https://api.example.com")
    return url.rstrip("/")


class _Announce:
    """Prints the bound address once mitmproxy's servers run."""

    def __init__(self, settings: ProxySettings, echo: Callable[[str], None]) -> None:
        self.settings = settings
        self.echo = echo

    def running(self) -> None:
        from mitmproxy import ctx

        server = ctx.master.addons.get("proxyserver")
        for address in server.listen_addrs():
            host, port = address[0], address[1]
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            upstream = self.settings.upstream
            mode = f"reverse proxy to {upstream}" if upstream else "forward proxy"
            log = f", log {self.settings.log}" if self.settings.log else ""
            self.echo(f"restscope proxy listening on {shown} ({mode}{log})")


def _observing_addons() -> list[Any]:
    """The mitmproxy addons an observing proxy needs (fewer addons: fewer calls per hook)."""
    from mitmproxy.addons import (
        core,
        disable_h2c,
        dns_resolver,
        next_layer,
        proxyauth,
        proxyserver,
        tlsconfig,
        update_alt_svc,
        upstream_auth,
    )

    return [
        core.Core(), disable_h2c.DisableH2C(), proxyauth.ProxyAuth(), proxyserver.Proxyserver(),
        dns_resolver.DnsResolver(), next_layer.NextLayer(), tlsconfig.TlsConfig(),
        upstream_auth.UpstreamAuth(), update_alt_svc.UpdateAltSvc(),
    ]


async def _run(settings: ProxySettings, addon: RestscopeAddon,
               echo: Callable[[str], None]) -> None:
    from mitmproxy import options
    from mitmproxy.addons.errorcheck import ErrorCheck
    from mitmproxy.master import Master

    extra: dict[str, Any] = {}
    if settings.confdir:
        Path(settings.confdir).expanduser().mkdir(parents=True, exist_ok=True)
        extra["confdir"] = str(Path(settings.confdir).expanduser())
    opts = options.Options(
        listen_host=settings.listen_host,
        listen_port=settings.listen_port,
        mode=[settings.mode],
        ssl_insecure=settings.ssl_insecure,
        **extra,
    )
    master = Master(opts, with_termlog=False)
    master.addons.add(*_observing_addons())
    # connect upstream when the first request arrives: measured lower added latency
    opts.update(connection_strategy="lazy")
    master.addons.add(ErrorCheck(repeat_errors_on_stderr=True))
    master.addons.add(addon, _Announce(settings, echo))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, master.shutdown)
    await master.run()


def run_proxy(settings: ProxySettings, echo: Callable[[str], None]) -> RestscopeAddon:
    """Serve until SIGINT/SIGTERM; returns the addon (its tally counts what was seen)."""
    addon = RestscopeAddon(managed=True)
    addon.setup(
        log=settings.log, plugins=list(settings.plugins), plugin_config=settings.plugin_config,
        redact=settings.redact, max_bytes=settings.max_bytes, backups=settings.backups,
        summary_dir=settings.summary_dir, summary_every=settings.summary_every,
    )
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # the log worker thread must not hold the event loop off for the default 5 ms
    sys.setswitchinterval(0.0005)
    try:
        asyncio.run(_run(settings, addon, echo))
    finally:
        addon.close()
        sys.stdout.flush()
    return addon
