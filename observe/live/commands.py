"""The `restscope proxy`, `restscope sniff` and `restscope tail` commands (thin click layers).

Loaded lazily by the command root (`observe.cli`); each command validates its input, raises
`InputError` for unusable input (exit code 2, one line) and hands off to the module that does
the work: `proxy` (mitmproxy in-process), `sniffer` (scapy), `tail`/`dashboard` (reports).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from observe.live.summaries import parse_duration
from observe.options import parse_size, plugin_options

DEFAULT_LOG = "restscope-capture.jsonl"


def _echo(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _log_options(func: Any) -> Any:
    func = click.option(
        "--log", "log", default=DEFAULT_LOG, show_default=True, metavar="PATH",
        help="Rolling capture log (JSONL, redacted) that `restscope tail` and any other "
             "command can read.",
    )(func)
    func = click.option(
        "--log-max", default="64MB", show_default=True, metavar="SIZE",
        help="Rotate the log when it passes this size (log.jsonl -> log.1.jsonl ...).",
    )(func)
    func = click.option(
        "--log-backups", default=5, show_default=True, type=click.IntRange(0, 1000),
        help="How many rotated logs to keep.",
    )(func)
    func = click.option(
        "--summary-dir", default=None, metavar="DIR",
        help="Also write rolling shape-summary files here; merge them from many agents with "
             "`restscope specs merge DIR/*.summary` or `restscope specs infer DIR/*.summary`.",
    )(func)
    func = click.option(
        "--summary-every", default="60s", show_default=True, metavar="DURATION",
        help="With --summary-dir: start a new summary file this often (e.g. 60s, 5m).",
    )(func)
    return func


@click.command("proxy")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Address to listen on (port 0 picks a free port; the bound address is "
                   "printed).")
@click.option("--upstream", metavar="URL", default=None,
              help="Reverse mode: forward every request to this API (clients point at the "
                   "proxy). Without it, a regular forward proxy (clients set HTTPS_PROXY).")
@click.option("--confdir", default=None, metavar="DIR",
              help="mitmproxy's configuration folder, where its CA lives "
                   "(default ~/.mitmproxy).")
@click.option("--ssl-insecure", is_flag=True,
              help="Do not verify the upstream server's certificate.")
@_log_options
@plugin_options
def proxy_command(listen: str, upstream: str | None, confdir: str | None, ssl_insecure: bool,
                  log: str, log_max: str, log_backups: int, summary_dir: str | None,
                  summary_every: str, **kwargs: Any) -> None:
    """Observe API traffic as a proxy (mitmproxy in-process) and log every exchange.

    Each finished request/response runs through the plugin chain (redaction last) and is
    appended to the rolling capture log. Stop with Ctrl-C.

    HTTPS in forward mode: clients must trust mitmproxy's CA, created on first run at
    ~/.mitmproxy/mitmproxy-ca-cert.pem (or under --confdir).

    \b
    Examples:
      restscope proxy --upstream https://api.flickr.com --listen 127.0.0.1:8080 \\
          --plugin flickr --log flickr.jsonl
      restscope proxy --listen 127.0.0.1:8080 --log capture.jsonl
      HTTPS_PROXY=http://127.0.0.1:8080 SSL_CERT_FILE=~/.mitmproxy/mitmproxy-ca-cert.pem \\
          python client.py
      restscope tail capture.jsonl
    """
    from observe.live.proxy import ProxySettings, parse_listen, run_proxy, validate_upstream

    host, port = parse_listen(listen)
    settings = ProxySettings(
        listen_host=host, listen_port=port,
        upstream=validate_upstream(upstream) if upstream else None,
        confdir=confdir, log=log, plugins=tuple(kwargs["plugins"]),
        plugin_config=kwargs.get("plugin_config"), redact=not kwargs.get("no_redact", False),
        max_bytes=parse_size(log_max), backups=log_backups, ssl_insecure=ssl_insecure,
        summary_dir=summary_dir, summary_every=parse_duration(summary_every),
    )
    addon = run_proxy(settings, _echo)
    _print_tally(addon.tally, f"proxy, log {log}")


def _print_tally(tally: Any, label: str) -> None:
    from observe.report import print_summary

    print_summary(tally, (label,))


@click.command("sniff")
@click.option("--iface", default="lo", show_default=True, help="Network interface to sniff.")
@click.option("--filter", "bpf", default="tcp", show_default=True, metavar="BPF",
              help="Kernel packet filter, e.g. \"tcp port 8080\".")
@click.option("--write-pcap", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also keep the raw packets in this pcap file.")
@click.option("--duration", type=float, default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--quiet", is_flag=True, help="Do not print one line per exchange.")
@_log_options
@plugin_options
def sniff_command(iface: str, bpf: str, write_pcap: Path | None, duration: float | None,
                  quiet: bool, log: str, log_max: str, log_backups: int,
                  summary_dir: str | None, summary_every: str, **kwargs: Any) -> None:
    """Sniff HTTP/1.x traffic on an interface (scapy) and log every exchange.

    Packets matching the BPF filter are reassembled by the same sans-I/O code as pcap files,
    run through the plugin chain (redaction last) and appended to the rolling capture log.
    Needs root (or CAP_NET_RAW). Kernel drops and reassembly problems are counted and shown.

    \b
    Examples:
      sudo restscope sniff --iface lo --filter "tcp port 8080" --log capture.jsonl
      sudo restscope sniff --iface eth0 --filter "tcp port 80" --write-pcap raw.pcap \\
          --plugin flickr
      restscope tail capture.jsonl
    """
    from observe.live.sniffer import SniffSettings, run_sniffer

    settings = SniffSettings(
        iface=iface, bpf=bpf, write_pcap=write_pcap, duration=duration, log=log,
        plugins=tuple(kwargs["plugins"]), plugin_config=kwargs.get("plugin_config"),
        redact=not kwargs.get("no_redact", False), strict=kwargs.get("strict", False),
        max_bytes=parse_size(log_max), backups=log_backups,
        summary_dir=summary_dir, summary_every=parse_duration(summary_every),
    )
    tally = run_sniffer(settings, None if quiet else _echo)
    _print_tally(tally, f"sniff {iface}, log {log}")


@click.command("tail")
@click.argument("log", type=click.Path(path_type=Path))
@click.option("--spec", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Check every exchange against this OpenAPI spec; findings "
                                 "show as drift events.")
@click.option("--follow", is_flag=True, help="Print one line per event instead of the "
                                             "dashboard (new operation, drift, error burst, "
                                             "summary).")
@click.option("--json", "as_json", is_flag=True, help="With --follow or --once: JSON output.")
@click.option("--once", is_flag=True, help="Print one snapshot of the whole log and exit.")
@click.option("--sort", default="count", show_default=True,
              type=click.Choice(["operation", "count", "rate", "errors", "p50", "p95", "p99",
                                 "first", "last"]),
              help="Column to sort the operations by.")
@click.option("--filter", "pattern", default=None, metavar="PATTERN",
              help="Only operations matching this (case-insensitive regular expression).")
@click.option("--summary-every", default=60.0, show_default=True, metavar="SECONDS",
              help="With --follow: print a summary event this often.")
@click.option("--duration", type=float, default=None, metavar="SECONDS",
              help="With --follow: stop after this many seconds.")
def tail_command(log: Path, spec: Path | None, follow: bool, as_json: bool, once: bool,
                 sort: str, pattern: str | None, summary_every: float,
                 duration: float | None) -> None:
    """Report on a capture log while it is written: per operation count, rate, errors, latency.

    Operations are named after the plugins (Flickr methods via meta operation_id), else method
    and path with id-like segments shown as {id}. Errors are status >= 400 (a Flickr
    stat="fail" after the flickr plugin) or no response.

    \b
    Examples:
      restscope tail capture.jsonl                    # dashboard; keys 1-9 sort, / filter, q quit
      restscope tail capture.jsonl --spec api.yaml    # drift events against the spec
      restscope tail capture.jsonl --follow --json | jq .
      restscope tail capture.jsonl --once --sort p99
    """
    from observe.errors import InputError
    from observe.live.snapshot import compile_filter
    from observe.live.tail import TailSession, follow_events, print_snapshot

    if once and follow:
        raise InputError("choose one of --once and --follow")
    if as_json and not (once or follow):
        raise InputError("--json goes with --follow or --once (the dashboard is for people)")
    compile_filter(pattern)
    check = None
    if spec is not None:
        from observe.live.checking import load_checker

        check = load_checker(spec)
    session = TailSession(log, check, summary_every, wait=not once)
    if not once and not log.exists():
        click.echo(f"restscope: waiting for {log} to be written", err=True)
    if once:
        print_snapshot(session, as_json, sort, pattern, _echo)
    elif follow:
        follow_events(session, as_json, pattern, _echo, duration=duration)
    else:
        from observe.live.dashboard import ViewState, run_dashboard

        session.poll()  # the backlog: what is already in the log is not "new"

        def poll() -> int:
            return len(session.poll())

        run_dashboard(session.monitor, poll, ViewState(sort=sort, pattern=pattern or ""),
                      str(log))
