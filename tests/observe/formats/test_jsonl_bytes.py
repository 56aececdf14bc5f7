"""JSONL lines are written with orjson but must stay byte for byte what `json.dumps` wrote.

The reference is the writer as it was: `json.dumps(record, separators=(",", ":"),
ensure_ascii=True)`. orjson differs on raw DEL and non-ASCII characters (escaped afterwards),
on floats outside 1e-4..1e16 and non-finite ones, lone surrogates and huge integers (those
records go through `json`), so each of those corners is drawn here on purpose.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from observe.exchange import Exchange, Note, Request, Response, Timing
from observe.formats import jsonl
from observe.headers import Headers
from tests.observe.formats.strategies import exchanges

# every character class the two writers could treat differently
awkward_text = st.text(
    alphabet=st.sampled_from(
        ["a", '"', "\\", "/", "\x00", "\x1f", "\n", "\t", "\x7f", "\x80", "é", "\u2028",
         "\uffff", "😀", "\U0010ffff", "\ud800", "\udfff"]
    ),
    max_size=12,
)
awkward_floats = st.sampled_from(
    [0.0, -0.0, 1e-5, 1e-4, 0.5, 1_700_000_000.123456, 9.999999999999998e15, 1e16, 1e300,
     5e-324, math.inf, -math.inf, math.nan]
) | st.floats()
meta_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | awkward_floats | awkward_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(awkward_text, inner, max_size=3),
    max_leaves=6,
)


def reference(exchange: Exchange) -> str:
    record = jsonl.exchange_to_record(exchange)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True)


@st.composite
def awkward_exchanges(draw: Any) -> Exchange:
    headers = Headers(draw(st.lists(st.tuples(awkward_text, awkward_text), max_size=3)))
    times = [draw(st.none() | awkward_floats) for _ in range(4)]
    return Exchange(
        request=Request(method=draw(awkward_text), target=draw(awkward_text), headers=headers,
                        body=draw(st.binary(max_size=8) | awkward_text.map(
                            lambda t: t.encode("utf-8", "surrogatepass")))),
        response=draw(st.none() | st.builds(Response, status=st.integers(0, 2**70),
                                            reason=awkward_text, trailers=st.just(headers))),
        timing=Timing(*times),
        incomplete=draw(st.none() | awkward_text),
        notes=tuple(draw(st.lists(st.builds(Note, awkward_text, awkward_text, awkward_text),
                                  max_size=2))),
        meta=draw(st.dictionaries(awkward_text, meta_values, max_size=3)),
    )


@settings(max_examples=300)
@given(awkward_exchanges())
def test_awkward_values_are_written_as_json_dumps_wrote_them(exchange: Exchange) -> None:
    assert jsonl.dumps_exchange(exchange) == reference(exchange)
    assert jsonl.dumps_exchange_bytes(exchange) == reference(exchange).encode("ascii")


@settings(max_examples=100)
@given(exchanges())
def test_every_exchange_shape_is_written_as_json_dumps_wrote_it(exchange: Exchange) -> None:
    assert jsonl.dumps_exchange(exchange) == reference(exchange)


def test_non_ascii_is_escaped_like_json_does() -> None:
    exchange = Exchange(Request(target="/é\x7f😀", body="ünï\u2028".encode()))
    line = jsonl.dumps_exchange(exchange)
    assert line.isascii()
    assert '"target":"/\\u00e9\\u007f\\ud83d\\ude00"' in line
    assert '{"text":"\\u00fcn\\u00ef\\u2028"}' in line
    assert jsonl.loads_exchange(line) == exchange


def test_a_text_file_and_a_string_stream_get_the_same_lines(tmp_path: Any) -> None:
    items = [Exchange(Request(target=f"/{n}é")) for n in range(3)]
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("")  # text written first must stay first
        assert jsonl.write_jsonl(items, handle) == 3
    stream = io.StringIO()
    jsonl.write_jsonl(items, stream)
    assert path.read_text(encoding="ascii") == stream.getvalue()
    assert stream.getvalue() == "".join(reference(x) + "\n" for x in items)


def test_a_file_in_an_encoding_beyond_ascii_is_written_through_its_text_layer(
    tmp_path: Any,
) -> None:
    items = [Exchange(Request(target="/é"))]
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-16", newline="\n") as handle:
        jsonl.write_jsonl(items, handle)
    assert path.read_text(encoding="utf-16") == reference(items[0]) + "\n"
