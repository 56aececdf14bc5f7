"""Downgrade an inferred OpenAPI 3.1 document to 3.0.3 for older tools.

3.0 has no type lists, no `null` type and no `examples` array in schemas: `type: [T, null]`
becomes `type: T, nullable: true`, other type lists become `anyOf`, `{type: null}` inside
`anyOf` becomes `nullable` on the parent, `examples: [x]` becomes `example: x`, and
`contentMediaType` becomes `format: binary`. The input is not changed.
"""

from __future__ import annotations

from typing import Any

_SCHEMA_KEYS = ("properties", "items", "additionalProperties", "anyOf", "schema")


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {k: _schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _schema(value)
        elif key == "anyOf":
            alternatives = [_schema(v) for v in value]
            kept = [a for a in alternatives if a != {"type": "null"}]
            if len(kept) < len(alternatives):
                out["nullable"] = True
            out[key] = kept
        elif key == "examples" and isinstance(value, list) and value:
            out["example"] = value[0]
        elif key == "contentMediaType":
            out["format"] = "binary"
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) < len(value):
                out["nullable"] = True
            if len(types) == 1:
                out["type"] = types[0]
            else:
                out["anyOf"] = [{"type": t} for t in types]
        elif key == "type" and value == "null":
            out["nullable"] = True
        else:
            out[key] = value
    if "anyOf" in out and len(out["anyOf"]) == 1:
        only = out.pop("anyOf")[0]
        out = {**only, **out}
    return out


def _content(content: dict[str, Any]) -> dict[str, Any]:
    return {mime: {**media, "schema": _schema(media["schema"])} for mime, media in content.items()}


def _response(response: dict[str, Any]) -> dict[str, Any]:
    out = dict(response)
    if "content" in out:
        out["content"] = _content(out["content"])
    if "headers" in out:
        out["headers"] = {name: {**header, "schema": _schema(header["schema"])}
                          for name, header in out["headers"].items()}
    return out


def downgrade_to_30(doc: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    out["openapi"] = "3.0.3"
    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        new_item = {}
        for method, operation in item.items():
            op = dict(operation)
            if "parameters" in op:
                op["parameters"] = [{**p, "schema": _schema(p["schema"])} for p in op["parameters"]]
            if "requestBody" in op:
                op["requestBody"] = {**op["requestBody"],
                                     "content": _content(op["requestBody"]["content"])}
            op["responses"] = {status: _response(r) for status, r in op["responses"].items()}
            new_item[method] = op
        paths[path] = new_item
    out["paths"] = paths
    components = doc.get("components")
    if components and "schemas" in components:
        out["components"] = {**components,
                             "schemas": {k: _schema(v) for k, v in components["schemas"].items()}}
    return out
