"""Rolling shape-summary files from live agents (`--summary-dir DIR --summary-every 60s`).

The summary model lives in `specs`, which `observe` must not import; the writer is found
through the `restscope.summarizers` entry point (name `openapi`). A sink has `add(exchange)`
and `close()`; files it writes merge with `restscope specs merge DIR/*.summary`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

from observe.errors import InputError
from observe.exchange import Exchange

GROUP = "restscope.summarizers"


class SummarySink(Protocol):
    def add(self, exchange: Exchange) -> Any: ...

    def close(self) -> Any: ...


def parse_duration(text: str) -> float:
    """'60s', '5m', '1h', '90' -> seconds."""
    stripped = text.strip().lower()
    factor = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(stripped[-1:])
    number = stripped[:-1] if factor else stripped
    try:
        value = float(number) * (factor or 1.0)
    except ValueError as exc:
        raise InputError(f"not a duration: {text!r} (try 60s, 5m or 1h)") from exc
    if value <= 0:
        raise InputError(f"--summary-every must be positive, not {text!r}")
    return value


def open_summary_sink(directory: str | None, every: str | float) -> SummarySink | None:
    """The rolling summary writer for `directory`, or None when no directory was asked for."""
    if not directory:
        return None
    seconds = every if isinstance(every, float) else parse_duration(str(every))
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if "openapi" not in found:
        raise InputError("--summary-dir needs the specs package (pip install restscope)")
    factory = found["openapi"].load()
    sink: SummarySink = factory(directory, every=seconds)
    return sink
