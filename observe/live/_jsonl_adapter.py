"""The capture log's codec: `observe.formats.jsonl` lines (no header line; versioned records)."""

from __future__ import annotations

from observe.live.capture_log import LineCodec


def codec() -> LineCodec:
    from observe.formats.jsonl import dumps_exchange, loads_exchange

    return LineCodec(header=lambda: None, encode=dumps_exchange, decode=loads_exchange)
