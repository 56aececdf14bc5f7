"""Comparing decoded JSON values strictly: equal values of the same types all the way down."""

from __future__ import annotations

import math
from typing import Any


def same_json_value(a: Any, b: Any) -> bool:
    """Equal values of identical types, key order included (1 == 1.0 == True does not count;
    NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_json_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json_value(x, y)
                                        for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)
