"""Ordered HTTP header fields with original casing and case-insensitive lookup.

Invariants:
1. Field order and name casing are exactly what the source gave; nothing is merged or folded.
2. Lookups compare names case-insensitively (RFC 9110 §5.1).
3. A `Headers` value is immutable; `with_*` methods return a new value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class Headers:
    """An immutable, ordered list of (name, value) header fields."""

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: tuple[tuple[str, str], ...] = tuple((str(n), str(v)) for n, v in fields)
        self._index: dict[str, str] | None = None

    def _lookup(self) -> dict[str, str]:
        """Lower-cased name -> first value, built on the first lookup (values are immutable)."""
        index: dict[str, str] = {}
        for name, value in reversed(self._fields):
            index[name.lower()] = value
        self._index = index
        return index

    @classmethod
    def from_str_pairs(cls, pairs: tuple[tuple[str, str], ...]) -> Headers:
        """Headers from a tuple of pairs that are already `str` (no copying; the hot path of
        packet capture). The caller guarantees the types."""
        headers = cls.__new__(cls)
        headers._fields = pairs
        headers._index = None
        return headers

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        return self._fields

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        index = self._index if self._index is not None else self._lookup()
        return index.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        lower = name.lower()
        return [value for field_name, value in self._fields if field_name.lower() == lower]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        index = self._index if self._index is not None else self._lookup()
        return name.lower() in index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._fields == other._fields

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"

    def without(self, *names: str) -> Headers:
        """A copy with every field named in `names` removed."""
        drop = {n.lower() for n in names}
        return Headers(f for f in self._fields if f[0].lower() not in drop)

    def with_set(self, name: str, value: str) -> Headers:
        """A copy where `name` has exactly one value: replaced in place, or appended."""
        lower = name.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for field_name, old in self._fields:
            if field_name.lower() == lower:
                if not placed:
                    out.append((field_name, value))
                    placed = True
            else:
                out.append((field_name, old))
        if not placed:
            out.append((name, value))
        return Headers(out)

    def with_added(self, name: str, value: str) -> Headers:
        return Headers((*self._fields, (name, value)))

    def replace_values(self, name: str, value: str) -> Headers:
        """A copy where every value of `name` is `value` (used by redaction)."""
        lower = name.lower()
        return Headers((n, value if n.lower() == lower else v) for n, v in self._fields)


EMPTY_HEADERS = Headers()
