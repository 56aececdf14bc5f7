"""JSON parsing with orjson where it gives exactly the values `json.loads` gives.

orjson reads integers of 19 or more digits as floats (json as ints) and rejects NaN, Infinity
and lone surrogates (json accepts them). `exact_orjson(raw)` returns orjson's value only when
none of those can be in the text, else `NOT_EXACT`; `loads_json(text)` falls back to json there.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

NOT_EXACT = object()
_DIGITS_TO_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
_LONG_RUN = b"0" * 19


def exact_orjson(raw: bytes) -> Any:
    """orjson's value of the UTF-8 JSON text `raw`, or NOT_EXACT when orjson rejects it or
    could read it differently from json (a run of 19 digits anywhere)."""
    if _LONG_RUN in raw.translate(_DIGITS_TO_ZERO):
        return NOT_EXACT
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return NOT_EXACT


def loads_json(data: str) -> Any:
    """JSON text to a value, exactly as `json.loads` gives it (and raising as it does)."""
    value = exact_orjson(data.encode("utf-8", "surrogatepass"))
    return json.loads(data) if value is NOT_EXACT else value
