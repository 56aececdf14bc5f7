"""Finding the spec operation of a concrete request: `/photos/123` -> `GET /photos/{id}`.

Each path template becomes a regular expression; among the templates that match, the one with
the most literal segments wins (`/photos/recent` before `/photos/{id}`), then the fewest
parameters. A request path is tried as it is and with each server's base path removed
(`/services/rest/photos/getInfo` under `https://api.flickr.com/services/rest`).

RPC-style templates (`/rest?method=flickr.photos.getInfo`, as in Flickr's own Swagger file)
match both the raw call (path `/rest` or `/services/rest` plus `method=...` in the query) and
the REST form the flickr plugin gives it (`/photos/getInfo`).

Invariant: matching is pure and depends only on the spec; the index is built once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from specs.diffing.engine import METHODS
from specs.diffing.findings import join_pointer

_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Template:
    """One path template of the spec, compiled."""

    path: str  # as written in the spec (the key under `paths`)
    regex: re.Pattern[str]
    names: tuple[str, ...]
    literals: int
    query: tuple[tuple[str, str], ...] = ()  # required query pairs (RPC-style templates)


@dataclass(frozen=True)
class Match:
    """A request's operation: the template, method, path parameters and where it lives."""

    template: str
    method: str
    operation: dict[str, Any]
    path_item: dict[str, Any]
    pointer: str
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.template}"


def _compile(path: str, pattern_path: str, query: tuple[tuple[str, str], ...]) -> Template:
    parts, names, literals, last = [], [], 0, 0
    for found in _PARAM.finditer(pattern_path):
        literal = pattern_path[last:found.start()]
        parts.append(re.escape(literal))
        literals += len([s for s in literal.split("/") if s])
        parts.append("([^/]+)")
        names.append(found.group(1))
        last = found.end()
    tail = pattern_path[last:].rstrip("/")
    parts.append(re.escape(tail))
    literals += len([s for s in tail.split("/") if s])
    regex = re.compile("^" + "".join(parts) + "/?$")
    return Template(path, regex, tuple(names), literals, query)


def _templates_for(path: str) -> list[Template]:
    if "?" not in path:
        return [_compile(path, path, ())]
    base, _, query_text = path.partition("?")
    query = tuple(parse_qsl(query_text, keep_blank_values=True))
    found = [_compile(path, base, query)]
    method = dict(query).get("method", "")
    if method:  # the REST form the flickr plugin produces
        found.append(_compile(path, "/" + method.removeprefix("flickr.").replace(".", "/"), ()))
    return found


class OperationIndex:
    """All operations of a spec, ready to match requests."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
        self.paths: dict[str, Any] = paths or {}
        self.templates = sorted(
            (t for p in self.paths if isinstance(p, str) for t in _templates_for(p)),
            key=lambda t: (-t.literals - len(t.query), len(t.names), t.path))
        self.query_keys = frozenset(k for t in self.templates for k, _ in t.query)
        servers = doc.get("servers") if isinstance(doc.get("servers"), list) else []
        self.base_paths = sorted(
            {urlsplit(str(s.get("url", ""))).path.rstrip("/")
             for s in servers if isinstance(s, dict)} - {""},
            key=len, reverse=True)

    def candidates(self, path: str) -> list[str]:
        tried = [path]
        for base in self.base_paths:
            if path == base or path.startswith(base + "/"):
                tried.append(path[len(base):] or "/")
        return tried

    def match(self, method: str, path: str, query: list[tuple[str, str]]) -> Match | None:
        """The operation for `method path?query`, or None (unknown path, or method not there)."""
        method = method.lower()
        pairs = set(query)
        for candidate in self.candidates(path):
            for template in self.templates:
                if template.query and not set(template.query) <= pairs:
                    continue
                found = template.regex.match(candidate)
                if found is None:
                    continue
                item = self.paths.get(template.path)
                if not isinstance(item, dict) or not isinstance(item.get(method), dict):
                    continue
                params = dict(zip(template.names, found.groups(), strict=True))
                return Match(template.path, method, item[method], item,
                             join_pointer("/paths", template.path, method), params)
        return None

    def knows_path(self, path: str, query: list[tuple[str, str]]) -> bool:
        pairs = set(query)
        return any(t.regex.match(c) and set(t.query) <= pairs
                   for c in self.candidates(path) for t in self.templates)

    @property
    def operation_count(self) -> int:
        return sum(1 for item in self.paths.values() if isinstance(item, dict)
                   for m in item if m in METHODS)
