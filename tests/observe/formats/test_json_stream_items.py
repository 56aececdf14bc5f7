"""`JsonStream.items` decodes array items with orjson when it can find where one ends; the values
must be exactly what `json.loads` of the whole document gives, for any layout and chunk size."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from observe.formats.jsonstream import JsonStream
from tests.observe.json_values import same_json_value

scalars = (
    st.none() | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
    | st.sampled_from(['{"startedDateTime":', "},{", '"a": [1,', "\\u00e9"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=4),
    max_leaves=20,
)
# items that start alike (as HAR entries do), sometimes nesting an object that starts alike too
items = st.lists(
    st.fixed_dictionaries({"startedDateTime": st.text(max_size=4), "v": values},
                          optional={"inner": st.fixed_dictionaries(
                              {"startedDateTime": st.text(max_size=4)})}),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(items, st.sampled_from([None, 0, 1, 2]), st.booleans(), st.integers(1, 300))
def test_items_equal_json_loads(entries: list[dict[str, Any]], indent: int | None,
                                ascii_only: bool, chunk: int) -> None:
    text = json.dumps({"log": {"entries": entries}}, indent=indent, ensure_ascii=ascii_only)
    stream = JsonStream(io.BytesIO(text.encode("utf-8", "surrogatepass")), "x", "HAR",
                        chunk_size=chunk)
    got = list(stream.array_at(("log", "entries")))
    assert same_json_value(got, json.loads(text)["log"]["entries"])
