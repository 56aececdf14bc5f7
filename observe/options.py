"""Command-line options shared by every command that reads traffic."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from observe.encoding import DEFAULT_DECODED_LIMIT
from observe.errors import InputError
from observe.sources import ReadOptions

F = TypeVar("F", bound=Callable[..., Any])


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it): what
    `-j` defaults to."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def parse_size(text: str) -> int:
    """'10MB', '512k', '2000' -> bytes."""
    units = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3,
             "gb": 1024**3}
    stripped = text.strip().lower()
    number = stripped.rstrip("kmgb")
    unit = stripped[len(number):]
    if not number.isdigit() or unit not in units:
        raise InputError(f"not a size: {text!r} (try 10MB, 512k or 2000)")
    return int(number) * units[unit]


def parse_filters(values: tuple[str, ...]) -> tuple[frozenset[str], frozenset[int]]:
    """`--filter` values: 'host', ':port', 'host:port' (hosts and ports each OR-ed)."""
    hosts: set[str] = set()
    ports: set[int] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            host, sep, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
            if sep and not port.isdigit():
                raise InputError(f"--filter {item!r}: the port must be a number")
            if host:
                hosts.add(host.lower())
            if port:
                ports.add(int(port))
    return frozenset(hosts), frozenset(ports)


def traffic_reading_options(func: F) -> F:
    func = click.option(
        "--filter", "filters", multiple=True, metavar="HOST[:PORT]",
        help="Keep only exchanges with this server host and/or port (':8080' for a port alone). "
             "Repeatable.",
    )(func)
    func = click.option(
        "--max-body-size", default=str(DEFAULT_DECODED_LIMIT), show_default=True,
        metavar="SIZE",
        help="Cap on a decompressed body (zip-bomb guard), e.g. 10MB. Hits are counted.",
    )(func)
    func = click.option(
        "--allow-truncated", is_flag=True,
        help="Accept inputs that end in the middle of a record (a capture still being written). "
             "What comes before the cut is read either way; without this flag such an input "
             "ends the command with exit code 2 once its output is written.",
    )(func)
    return func


def plugin_options(func: F) -> F:
    func = click.option(
        "--plugin", "plugins", multiple=True, metavar="NAME",
        help="Rewrite traffic with this plugin (e.g. flickr, rpc); repeatable, applied in order.",
    )(func)
    func = click.option(
        "--plugin-config", type=click.Path(exists=True, dir_okay=False), default=None,
        help="YAML configuration for the plugins (a section per plugin name, or the whole file "
             "for a single plugin).",
    )(func)
    func = click.option(
        "--strict", is_flag=True,
        help="Stop at the first plugin failure (for CI) instead of reporting and skipping it.",
    )(func)
    func = click.option(
        "--no-redact", is_flag=True,
        help="Keep credentials (API keys, tokens, cookies) in the output. Off by default.",
    )(func)
    return func


def read_options_from(kwargs: dict[str, Any]) -> ReadOptions:
    hosts, ports = parse_filters(tuple(kwargs.get("filters", ())))
    limit = parse_size(str(kwargs.get("max_body_size", DEFAULT_DECODED_LIMIT)))
    return ReadOptions(decoded_limit=limit, hosts=hosts, ports=ports)
