"""Builders for in-memory exchanges used by the specs tests (fixed, deterministic values)."""

from __future__ import annotations

import json
from typing import Any

from observe.exchange import Exchange, Origin, Request, Response, Timing
from observe.headers import Headers


def json_exchange(method: str, url: str, status: int, body: Any, index: int = 0,
                  request_body: Any = None, meta: dict[str, Any] | None = None) -> Exchange:
    """One JSON request/response pair."""
    request_headers = [("Accept", "application/json")]
    raw_request = b""
    if request_body is not None:
        request_headers.append(("Content-Type", "application/json"))
        raw_request = json.dumps(request_body).encode()
    request = Request.from_url(method, url, headers=Headers(request_headers), body=raw_request)
    response = Response(status=status, headers=Headers([("Content-Type", "application/json")]),
                        body=json.dumps(body).encode())
    return Exchange(request=request, response=response, timing=Timing(),
                    origin=Origin("test", "memory", index), meta=meta or {})
