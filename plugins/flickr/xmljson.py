"""Flickr's XML answers (`<rsp stat="ok">...</rsp>`) in the shape of Flickr's own JSON format.

Flickr's JSON format is a mechanical image of its XML, and this module applies the same rules
so that a method called in XML and in JSON infers the same schema:
- `<rsp stat="ok"><photo .../></rsp>` -> `{"photo": {...}, "stat": "ok"}`;
  `<rsp stat="fail"><err code="1" msg="..."/></rsp>` -> `{"stat": "fail", "code": 1,
  "message": "..."}`;
- attributes become keys; the text of an element without children becomes `_content`
  (an element with neither attributes nor children gives `{"_content": ""}`);
- a child element that repeats, or that is a known list element (`ListRules`), becomes an
  array; a method's known list elements are present as `[]` when the XML has none (as the JSON
  format does, e.g. `"notes": {"note": []}`);
- values are strings, except where Flickr's JSON has numbers (`NumberRules`): paths observed
  as numbers in real JSON answers of the same method, else names that are numbers everywhere.

Paths are '/'-joined keys from the answer's root, with '*' for array items
(`/photos/photo/*/farm`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_INT = re.compile(r"^-?(?:0|[1-9]\d{0,17})$")
_FLOAT = re.compile(r"^-?\d+\.\d+$")


class NotFlickrXml(ValueError):
    """The text is not an XML document with an `<rsp>` root."""


@dataclass(frozen=True)
class ListRules:
    """(parent, child) element pairs that are lists: always, and for this method (also empty)."""

    known: frozenset[tuple[str, str]] = frozenset()
    method: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class NumberRules:
    """Which values Flickr's JSON gives as numbers: by path for this method, else by name."""

    paths: Mapping[str, str] = field(default_factory=dict)  # path -> "number" | "string"
    names: frozenset[str] = frozenset()

    def is_number(self, path: str, name: str) -> bool:
        kind = self.paths.get(path)
        if kind is not None:
            return kind == "number"
        return name in self.names


def _coerce(value: str, path: str, name: str, numbers: NumberRules) -> Any:
    if not numbers.is_number(path, name):
        return value
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


def _convert(
    element: ET.Element, path: str, lists: ListRules, numbers: NumberRules
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in element.attrib.items():
        out[key] = _coerce(value, f"{path}/{key}", key, numbers)
    children = list(element)
    groups: dict[str, list[ET.Element]] = {}
    for child in children:
        groups.setdefault(str(child.tag), []).append(child)
    for tag, items in groups.items():
        pair = (str(element.tag), tag)
        if len(items) > 1 or pair in lists.known or pair in lists.method:
            out[tag] = [_convert(c, f"{path}/{tag}/*", lists, numbers) for c in items]
        else:
            out[tag] = _convert(items[0], f"{path}/{tag}", lists, numbers)
    empty_lists = False
    for parent, child_tag in sorted(lists.method):
        if parent == element.tag and child_tag not in out:
            out[child_tag] = []
            empty_lists = True
    if not children and not empty_lists:
        text = element.text or ""
        if text.strip() or not element.attrib:
            out["_content"] = _coerce(text, f"{path}/_content", "_content", numbers)
    return out


def parse_rsp(text: str | bytes) -> ET.Element:
    """The `<rsp>` root of a Flickr XML answer (raises NotFlickrXml)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise NotFlickrXml(f"not well-formed XML: {exc}") from exc
    if root.tag != "rsp":
        raise NotFlickrXml(f"root element is <{root.tag}>, not <rsp>")
    return root


def xml_to_json(
    text: str | bytes, lists: ListRules | None = None, numbers: NumberRules | None = None
) -> dict[str, Any]:
    """A Flickr XML answer as the JSON value Flickr's JSON format gives for the same call."""
    root = parse_rsp(text)
    lists = lists or ListRules()
    numbers = numbers or NumberRules()
    stat = root.get("stat", "")
    if stat == "fail":
        err = root.find("err")
        code_text = err.get("code", "") if err is not None else ""
        message = err.get("msg", "") if err is not None else ""
        code: Any = int(code_text) if _INT.match(code_text) else code_text
        return {"stat": "fail", "code": code, "message": message}
    body = _convert(root, "", lists, numbers)
    body.pop("stat", None)
    body.pop("_content", None)
    body["stat"] = stat
    return body


def list_pairs(example: str) -> set[tuple[str, str]]:
    """List element pairs in a response example: repeated children, or plural parents
    (`tags`/`tag`, `galleries`/`gallery`, `people`/`person`) of a single child kind."""
    text = example.strip()
    if not text.startswith("<rsp"):
        text = f"<rsp>{text}</rsp>"
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return set()
    pairs: set[tuple[str, str]] = set()
    for element in root.iter():
        tags = [str(child.tag) for child in element]
        for tag in set(tags):
            parent = str(element.tag)
            plural = parent in (tag + "s", tag + "es", tag[:-1] + "ies") or (
                parent, tag) == ("people", "person")
            if tags.count(tag) > 1 or (plural and len(set(tags)) == 1):
                pairs.add((parent, tag))
    return pairs
