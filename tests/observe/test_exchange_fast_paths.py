"""The model's fast paths give exactly what the slow ones gave.

- `loads_json` (orjson when it can) returns the same values, of the same types, as `json.loads`;
- `evolve` keeps derived values (decoded, text, JSON) only while the body, its encoding and its
  content type are unchanged;
- the lower-cased header index answers like a linear scan.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Request, Response
from observe.fastjson import loads_json
from observe.headers import Headers
from tests.observe.json_values import same_json_value

scalars = (
    st.none() | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.booleans())
def test_loads_json_equals_json_loads(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same_json_value(loads_json(text), json.loads(text))


@pytest.mark.parametrize("text", [
    "123456789012345678901234567890",    # orjson would give a float
    '[18446744073709551616, -9223372036854775809]',
    '{"id": 1234567890123456789}',
    "NaN", "[Infinity, -Infinity]", "[1e400]",
    '"\\ud800"',                          # a lone surrogate
    '{"a": 1, "a": 2}',                   # the last duplicate wins, at the first one's place
    '{"b": {"x": 1, "y": 2, "x": 3}}',
    ' \n{"spaced": [1, 2.5, -0, -0.0]}\t',
])
def test_loads_json_edge_cases(text: str) -> None:
    assert same_json_value(loads_json(text), json.loads(text))


@pytest.mark.parametrize("text", ['{"a":', "[1,]", "{'a': 1}", ""])
def test_loads_json_rejects_what_json_rejects(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_json(text)


def _response(body: bytes, content_type: str = "application/json") -> Response:
    return Response(headers=Headers([("Content-Type", content_type)]), body=body)


def test_evolve_keeps_derived_values_while_the_body_is_thesame_json_value() -> None:
    response = _response(b'{"a": [1, 2]}')
    parsed = response.json()
    same_body = response.evolve(status=404, headers=response.headers.with_added("X-A", "1"))
    assert same_body.json() is parsed
    assert same_body.status == 404 and response.status == 200


def test_evolve_drops_derived_values_when_the_body_changes() -> None:
    response = _response(b'{"a": 1}')
    assert response.json() == {"a": 1}
    changed = response.evolve(body=b'{"a": 2}')
    assert changed.json() == {"a": 2}
    assert response.json() == {"a": 1}


def test_evolve_drops_derived_text_when_the_charset_changes() -> None:
    response = _response("é".encode("latin-1"), "text/plain; charset=latin-1")
    assert response.text() == "é"
    relabelled = response.evolve(headers=Headers([("Content-Type", "text/plain; charset=utf-8")]))
    with pytest.raises(Exception, match="utf-8"):
        relabelled.text()


def test_evolve_checks_field_names_and_keeps_meta_read_only() -> None:
    exchange = Exchange(request=Request(target="/a"))
    with pytest.raises(TypeError):
        exchange.evolve(no_such_field=1)
    with pytest.raises(TypeError):
        exchange.request.evolve(status=200)
    changed = exchange.evolve(meta={"k": "v"})
    assert changed.meta["k"] == "v" and not exchange.meta
    with pytest.raises(TypeError):
        changed.meta["k"] = "w"  # type: ignore[index]
    assert changed == Exchange(request=Request(target="/a"), meta={"k": "v"})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Host", "host", "X-A", "x-a", "Accept", "ACCEPT"]),
                          st.text(max_size=5)), max_size=8),
       st.sampled_from(["host", "HOST", "x-a", "accept", "missing"]))
def test_header_index_answers_like_a_scan(fields: list[tuple[str, str]], name: str) -> None:
    headers = Headers(fields)
    first = next((v for n, v in fields if n.lower() == name.lower()), None)
    assert headers.get(name) == first
    assert (name in headers) == (first is not None)
    assert headers.get_all(name) == [v for n, v in fields if n.lower() == name.lower()]
