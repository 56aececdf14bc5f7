"""Builders shared by the live tests: exchanges with fixed timing, a simple line codec."""

from __future__ import annotations

import json

from observe.exchange import Exchange, Request, Response, Timing
from observe.live.capture_log import LineCodec


def make_exchange(method: str = "GET", target: str = "/users/1", status: int = 200,
                  start: float = 1_700_000_000.0, duration: float = 0.010,
                  operation_id: str | None = None) -> Exchange:
    meta = {"operation_id": operation_id} if operation_id else {}
    return Exchange(
        request=Request(method=method, authority="api.example.com", target=target),
        response=Response(status=status, body=b"{}"),
        timing=Timing(request_start=start, request_end=start,
                      response_start=start + duration, response_end=start + duration),
        meta=meta,
    )


def _encode(exchange: Exchange) -> str:
    response = exchange.response
    return json.dumps({
        "method": exchange.request.method, "target": exchange.request.target,
        "status": response.status if response else None,
        "start": exchange.timing.request_start, "end": exchange.timing.response_end,
    })


def _decode(line: str) -> Exchange | None:
    data = json.loads(line)
    if "version" in data:
        return None
    return make_exchange(data["method"], data["target"], data["status"], data["start"],
                         data["end"] - data["start"])


# a stand-in for the JSONL format in tests of the file mechanics (rotation, partial lines)
SIMPLE_CODEC = LineCodec(header=lambda: json.dumps({"version": 1}), encode=_encode,
                         decode=_decode)
