"""The per-exchange fast paths of `specs.summary`: query parsing, header roles, queue bounds."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import specs.summary as summary_module
from observe.exchange import Exchange, Origin, Request, Response, Timing
from observe.headers import Headers
from specs.shape import BATCH
from specs.summary import (
    STANDARD_HEADERS,
    ApiSummary,
    _request_header_role,
    _response_header_param,
    is_secret_name,
    query_pairs,
)
from tests.specs.helpers import json_exchange

query_text = st.text(alphabet="ab=&%+2F0x;?é ", max_size=24)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="/p", max_size=3), query_text, st.booleans())
def test_query_pairs_equal_parse_qsl(path: str, query: str, with_mark: bool) -> None:
    target = path + ("?" + query if with_mark else "")
    expected = parse_qsl(target.split("?", 1)[1], keep_blank_values=True) \
        if "?" in target else []
    assert query_pairs(target) == expected


@pytest.mark.parametrize("name", ["Cookie", "Authorization", "Accept", "Sec-Fetch-Mode",
                                  "X-Api-Key", "X-Tenant", "If-None-Match", "Priority"])
def test_request_header_roles(name: str) -> None:
    role, lower = _request_header_role(name)
    assert lower == name.lower()
    if lower == "cookie":
        assert role == summary_module._COOKIE
    elif lower == "authorization":
        assert role == summary_module._AUTHORIZATION
    elif lower in STANDARD_HEADERS or lower.startswith(summary_module.BROWSER_HEADER_PREFIXES):
        assert role == summary_module._SKIP
    elif is_secret_name(lower):
        assert role == summary_module._SECRET
    else:
        assert role == summary_module._PARAMETER


def test_response_header_params() -> None:
    assert _response_header_param("ETag") == "etag"
    assert _response_header_param("X-RateLimit-Remaining") == "x-ratelimit-remaining"
    assert _response_header_param("X-Auth-Token") is None
    assert _response_header_param("Content-Type") is None


def _exchange(i: int, authorization: list[str]) -> Exchange:
    headers = [("Host", "h.example"), ("X-Trace", f"t{i % 3}")]
    headers += [("Authorization", value) for value in authorization]
    request = Request.from_url("GET", f"http://h.example/items?id={i}&q=a%20b&flag",
                               headers=Headers(headers))
    response = Response(status=200, headers=Headers([("Content-Type", "application/json"),
                                                     ("ETag", f'"{i}"')]),
                        body=b'{"id": %d, "name": "n%d"}' % (i, i % 5))
    return Exchange(request=request, response=response, timing=Timing(),
                    origin=Origin("test", "memory", i), meta={})


def test_first_authorization_header_names_the_scheme() -> None:
    summary = ApiSummary()
    summary.add(_exchange(0, ["", "Bearer x"]), "f#0")
    summary.add(_exchange(1, ["Basic x", "Bearer y"]), "f#1")
    summary.add(_exchange(2, ["  Token  z"]), "f#2")
    operation = summary.operations["GET /items"]
    assert operation.security == {"http:basic": 1, "http:token": 1}
    assert operation.headers["x-trace"].count == 3
    assert operation.query["q"].values == {"s:a b": 3}
    assert operation.query["flag"].values == {"s:": 3}


def _summaries(docs: list[Any]) -> dict[str, Any]:
    summary = ApiSummary()
    for i, doc in enumerate(docs):
        summary.add(json_exchange("GET", f"http://h.example/p/{i % 3}", 200, doc, i),
                    f"f#{i:09d}")
    return summary.to_dict()


def test_queued_bodies_are_bounded_and_flushing_does_not_change_the_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"id": i, "tags": [f"t{i % 7}"] * (i % 4), "when": "2014-05-06 12:34:56"}
            for i in range(BATCH + 40)]
    whole = _summaries(docs)
    monkeypatch.setattr(summary_module, "QUEUED_BYTES", 300)
    summary = ApiSummary()
    for i, doc in enumerate(docs):
        summary.add(json_exchange("GET", f"http://h.example/p/{i % 3}", 200, doc, i),
                    f"f#{i:09d}")
        queued = sum(len(shape._pending or ()) for operation in summary.operations.values()
                     for shape in operation.responses["200"].bodies.values())
        assert queued <= 300 // 40 + 1  # each body is 40 bytes or more
    assert summary.to_dict() == whole


def test_batch_boundaries_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"id": i % 30, "v": [i, str(i)], "m": {str(1000 + i): None}} for i in range(70)]
    whole = _summaries(docs)
    monkeypatch.setattr("specs.shape.BATCH", 5)
    assert _summaries(docs) == whole
