"""The derived Flickr method table (catalog.json) as typed lookups.

The table is made by `python -m plugins.flickr.derive_catalog` and shipped as package data.
It is read when a plugin is built (configuration time, cached per process since it never
changes), never while rewriting.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from observe.errors import InputError
from plugins.flickr.xmljson import ListRules, NumberRules

CATALOG_FILE = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class MethodInfo:
    """What the catalog knows about one method."""

    name: str
    args: tuple[tuple[str, bool], ...]
    error_status: dict[str, int]
    lists: frozenset[tuple[str, str]]
    needslogin: bool
    needssigning: bool


@dataclass(frozen=True)
class Catalog:
    methods: dict[str, MethodInfo]
    known_lists: frozenset[tuple[str, str]]
    json_paths: dict[str, dict[str, str]]
    number_names: frozenset[str]

    def method(self, name: str) -> MethodInfo | None:
        return self.methods.get(name)

    def list_rules(self, method: str) -> ListRules:
        info = self.methods.get(method)
        return ListRules(self.known_lists, info.lists if info else frozenset())

    def number_rules(self, method: str) -> NumberRules:
        return NumberRules(self.json_paths.get(method, {}), self.number_names)


def _pair(value: Any) -> tuple[str, str]:
    return (str(value[0]), str(value[1]))


@functools.lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """The catalog at `path`, read once per process (it is immutable package data)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read the Flickr catalog ({exc}); "
            "regenerate it with python -m plugins.flickr.derive_catalog"
        ) from exc
    methods = {
        name: MethodInfo(
            name=name,
            args=tuple((str(a), bool(r)) for a, r in entry["args"]),
            error_status={code: int(v[0]) for code, v in entry["errors"].items()},
            lists=frozenset(_pair(p) for p in entry["lists"]),
            needslogin=bool(entry["needslogin"]),
            needssigning=bool(entry["needssigning"]),
        )
        for name, entry in data["methods"].items()
    }
    types = data["json_types"]
    return Catalog(
        methods=methods,
        known_lists=frozenset(_pair(p) for p in data["list_elements"]),
        json_paths={m: dict(p) for m, p in types["methods"].items()},
        number_names=frozenset(types["names"]),
    )
