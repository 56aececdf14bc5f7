"""Move object schemas that repeat across operations into `components/schemas`.

A schema qualifies when it is an object with at least `MIN_PROPERTIES` properties and the very
same schema (canonical JSON) appears in at least two operations. Its name comes from the
property it appears under most often (`owner` -> `Owner`), made unique with a number. The
choice depends only on the document, never on traversal luck: candidates are visited in sorted
order of (name, canonical JSON).
"""

from __future__ import annotations

import json
import re
from typing import Any

MIN_PROPERTIES = 3
REF_PREFIX = "#/components/schemas/"


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def _walk(schema: Any, name: str, visit: Any) -> None:
    if not isinstance(schema, dict):
        return
    visit(schema, name)
    for key, child in schema.get("properties", {}).items():
        _walk(child, key, visit)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _walk(schema[key], name, visit)
    for child in schema.get("anyOf", []):
        _walk(child, name, visit)


def _schemas_of(operation: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    found = []
    for media in operation.get("requestBody", {}).get("content", {}).values():
        found.append((media["schema"], "RequestBody"))
    for response in operation.get("responses", {}).values():
        for media in response.get("content", {}).values():
            found.append((media["schema"], "Response"))
    return found


def _type_name(word: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", word) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Schema"
    return name if name[0].isalpha() else "Schema" + name


def extract_components(paths: dict[str, Any]) -> dict[str, Any]:
    """Replace repeated object schemas in `paths` (in place) by refs; returns the components."""
    seen: dict[str, set[str]] = {}
    names: dict[str, dict[str, int]] = {}
    for path, item in paths.items():
        for method, operation in item.items():
            where = f"{method} {path}"

            def visit(schema: dict[str, Any], name: str, where: str = where) -> None:
                if schema.get("type") != "object" or len(schema.get("properties", {})) < \
                        MIN_PROPERTIES:
                    return
                text = _canonical(schema)
                seen.setdefault(text, set()).add(where)
                counts = names.setdefault(text, {})
                counts[name] = counts.get(name, 0) + 1

            for schema, name in _schemas_of(operation):
                _walk(schema, name, visit)
    chosen = [text for text, wheres in seen.items() if len(wheres) >= 2]
    if not chosen:
        return {}
    ordered = sorted(chosen, key=lambda t: (min(names[t].items(), key=lambda i: (-i[1], i[0]))[0],
                                            t))
    refs: dict[str, str] = {}
    used: set[str] = set()
    for text in ordered:
        base = _type_name(min(names[text].items(), key=lambda i: (-i[1], i[0]))[0])
        name, n = base, 2
        while name in used:
            name, n = f"{base}{n}", n + 1
        used.add(name)
        refs[text] = name
    components: dict[str, Any] = {}

    def replace(schema: Any, root: bool = False) -> Any:
        if not isinstance(schema, dict):
            return schema
        if not root:
            text = _canonical(schema)
            if text in refs:
                return {"$ref": REF_PREFIX + refs[text]}
        out = dict(schema)
        if "properties" in out:
            out["properties"] = {k: replace(v) for k, v in out["properties"].items()}
        for key in ("items", "additionalProperties"):
            if isinstance(out.get(key), dict):
                out[key] = replace(out[key])
        if "anyOf" in out:
            out["anyOf"] = [replace(v) for v in out["anyOf"]]
        return out

    for text, name in refs.items():
        components[name] = replace(json.loads(text), root=True)
    for item in paths.values():
        for operation in item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                media["schema"] = replace(media["schema"])
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    media["schema"] = replace(media["schema"])
    return dict(sorted(components.items()))
