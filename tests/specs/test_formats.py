"""Format detection: each format on real-looking values, and the near misses that must stay
free text (the cost of a wrong format is a false drift flag)."""

from __future__ import annotations

import pytest

from specs.formats import best_covering_format, detect_integer_formats, detect_string_formats


@pytest.mark.parametrize(("value", "expected"), [
    ("2014-05-06T12:34:56Z", "date-time"),
    ("2014-05-06T12:34:56.123+02:00", "date-time"),
    ("2014-05-06 12:34:56", "sql-datetime"),
    ("2014-05-06", "date"),
    ("12:34:56", "time"),
    ("1399380000", "unix-time"),
    ("1399380000123", "unix-time-ms"),
    ("0", "boolean-string"),
    ("1", "boolean-string"),
    ("true", "boolean-string"),
    ("42", "integer-string"),
    ("-7", "integer-string"),
    ("3.25", "decimal-string"),
    ("9f2c1e2a-6d1b-4c7e-9a55-0d8a6f1b2c3d", "uuid"),
    ("someone@example.org", "email"),
    ("https://www.flickr.com/photos/199246608@N02/", "uri"),
    ("192.168.10.1", "ipv4"),
    ("2001:db8::ff00:42:8329", "ipv6"),
    ("api.flickr.com", "hostname"),
    ("7304ec23d42e12e43d7b2f682708333b5dac5533", "hex"),
    ("SGVsbG8gV29ybGQhIDEyMw==", "base64"),
    ("USD", "currency-code"),
    ("DE", "country-code"),
    ("en", "language-code"),
    ("en-US", "language-code"),
    ("199246608@N02", "flickr-nsid"),
])
def test_each_format_is_recognised(value: str, expected: str) -> None:
    assert detect_string_formats(value)[0] == expected


@pytest.mark.parametrize("value", [
    "", "last summer", "hello", "deadbeef", "2014-13-40", "007", "Paris", "ok", "photo",
    "12:34", "not an@email", "a sentence with 1399380000 inside",
])
def test_near_misses_are_free_text(value: str) -> None:
    assert detect_string_formats(value) == ()


def test_unix_time_strings_are_also_integer_strings() -> None:
    assert detect_string_formats("1399380000") == ("unix-time", "integer-string")


def test_integer_formats() -> None:
    assert detect_integer_formats(1_399_380_000) == ("unix-time",)
    assert detect_integer_formats(1_399_380_000_000) == ("unix-time-ms",)
    assert detect_integer_formats(42) == ()


def test_best_covering_format_is_the_most_specific_on_every_value() -> None:
    counts = {"unix-time": 3, "integer-string": 5}
    assert best_covering_format(counts, 5) == "integer-string"
    assert best_covering_format(counts, 3) == "unix-time"
    assert best_covering_format({}, 4) is None
