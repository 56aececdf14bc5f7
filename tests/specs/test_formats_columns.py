"""Column format detection (`detect_column_formats`) against `detect_string_formats`.

Every column pattern must be a sufficient condition: any string it matches has exactly the
pattern's formats. And a whole column must get the per-value answers, whatever mix it holds.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.formats import COLUMN_PATTERNS, detect_column_formats, detect_string_formats

# strings that mostly match each column pattern (lookaheads and huge bounds left out)
GENERATORS: dict[tuple[str, ...], st.SearchStrategy[str]] = {
    ("integer-string",): st.from_regex(r"-?[0-9]{1,16}", fullmatch=True),
    ("unix-time", "integer-string"): st.from_regex(r"[0-9]{10}", fullmatch=True),
    ("unix-time-ms", "integer-string"): st.from_regex(r"[0-9]{13}", fullmatch=True),
    ("flickr-nsid",): st.from_regex(r"[0-9]{1,16}@N[0-9]{2}", fullmatch=True),
    ("hex",): st.from_regex(r"[0-9a-f]{8,20}|[0-9A-F]{8,20}", fullmatch=True),
    ("uri",): st.from_regex(r"[A-Za-z][A-Za-z0-9+.-]{0,6}://\S{1,12}", fullmatch=True),
    ("date",): st.from_regex(r"[0-9]{4}-[01][0-9]-[0-3][0-9]", fullmatch=True),
    ("sql-datetime",): st.from_regex(r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:"
                                     r"[0-5][0-9](\.[0-9]{1,4})?", fullmatch=True),
    ("date-time",): st.from_regex(r"[0-9]{4}-[01][0-9]-[0-3][0-9][Tt][0-2][0-9]:[0-5][0-9]:"
                                  r"[0-6][0-9](\.[0-9]{1,4})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])",
                                  fullmatch=True),
    (): st.builds(lambda a, b: a + " " + b, st.text(min_size=1, max_size=12),
                  st.text(min_size=1, max_size=12)),
}


def test_every_column_pattern_has_a_generator() -> None:
    assert set(GENERATORS) == set(COLUMN_PATTERNS)


@pytest.mark.parametrize("formats", list(COLUMN_PATTERNS), ids=lambda f: "/".join(f) or "text")
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_column_pattern_matches_have_its_formats(formats: tuple[str, ...],
                                                 data: st.DataObject) -> None:
    value = data.draw(GENERATORS[formats])
    if re.fullmatch(COLUMN_PATTERNS[formats], value):
        assert detect_string_formats(value) == formats


KNOWN = {
    ("integer-string",): ["-0", "-7", "2", "42", "123456789", "12345678901", "12345678901234"],
    ("unix-time", "integer-string"): ["1399380000", "9999999999"],
    ("unix-time-ms", "integer-string"): ["1399380000123"],
    ("flickr-nsid",): ["12345678@N01", "0@N00"],
    ("hex",): ["deadbeef12", "0a1b2c3d", "DEADBEEF1"],
    ("uri",): ["https://x.example/p", "ftp://a.b"],
    ("date",): ["2014-05-06"],
    ("sql-datetime",): ["2014-05-06 12:34:56", "2014-05-06 12:34:56.5"],
    ("date-time",): ["2024-01-02T03:04:05Z", "2024-01-02t03:04:05.1+01:00"],
    (): ["sunset beach", "Photo not found", "x       "],
}


@pytest.mark.parametrize("formats", list(COLUMN_PATTERNS), ids=lambda f: "/".join(f) or "text")
def test_column_patterns_match_known_values(formats: tuple[str, ...]) -> None:
    column = KNOWN[formats]
    assert all(re.fullmatch(COLUMN_PATTERNS[formats], value) for value in column)
    assert [detect_string_formats(value) for value in column] == [formats] * len(column)
    assert detect_column_formats(column * 2 + [v + "" for v in column]) == (formats, [])


samples = st.one_of(
    st.sampled_from(["", "0", "1", "true", "1399380000", "1399380000123", "12@N01", "en",
                     "2014-05-06 12:34:56", "2014-05-06", "2024-01-02T03:04:05Z",
                     "https://x.example/a b", "https://x.example/ab", "deadbeef", "DEADBEEF1",
                     "abcdefab", "free text here", "free\x1ftext here", "007", "-0", "x\x1f1"]),
    st.text(max_size=12),
    st.integers(-10**15, 10**15).map(str),
    *GENERATORS.values(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(samples, min_size=1, max_size=12, unique=True))
def test_column_detection_equals_per_value_detection(column: list[str]) -> None:
    shared, each = detect_column_formats(column)
    expected = [detect_string_formats(value) for value in column]
    if shared is None:
        assert each == expected
    else:
        assert each == []
        assert expected == [shared] * len(column)


def test_separator_inside_a_value_is_not_trusted() -> None:
    column = ["1399380000", "1399380001", "1399380002\x1f1399380003", "1399380004"]
    shared, each = detect_column_formats(column)
    assert shared is None
    assert each[2] == ()
