"""`--update`: merge a freshly inferred document into an existing, possibly hand-edited spec.

The existing document wins wherever a human may have written something; traffic only adds and
widens:
1. Kept as they are: `info`, `openapi`, every description, summary, example and `x-` field
   (except our own `x-restscope-drift`, which is refreshed), schemas that are `$ref`s, existing
   components, and operations the traffic did not show.
2. Added: new paths, operations, parameters (by name and location), responses, media types,
   servers, security schemes and components.
3. Widened (inline schemas only): a type seen in traffic but missing is added to the type list,
   properties seen in traffic are added, and a property traffic showed missing is no longer
   `required`. Nothing is narrowed.
4. With `prune`, operations the traffic did not show are removed (and paths left empty).
The input documents are not changed.
"""

from __future__ import annotations

import copy
from typing import Any

from specs.schema import DRIFT_KEY

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _types(schema: dict[str, Any]) -> list[str] | None:
    value = schema.get("type")
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


def widen_schema(old: Any, new: Any) -> Any:
    """`old` widened so that whatever `new` accepts from traffic is accepted too."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(old)
    if "$ref" in old or not old:
        return copy.deepcopy(old)  # hand-written reference, or already "anything"
    out = copy.deepcopy(old)
    if "anyOf" in old or "anyOf" in new or "oneOf" in old:
        if DRIFT_KEY in new:
            out[DRIFT_KEY] = copy.deepcopy(new[DRIFT_KEY])
        if "anyOf" in new and "anyOf" in old:
            present = [a for a in old["anyOf"]]
            for alternative in new["anyOf"]:
                if alternative not in present:
                    present.append(copy.deepcopy(alternative))
            out["anyOf"] = present
        return out
    old_types, new_types = _types(old), _types(new)
    if old_types is not None and new_types is not None:
        merged = old_types + [t for t in new_types if t not in old_types
                              and not (t == "integer" and "number" in old_types)]
        if merged != old_types:
            out["type"] = merged if len(merged) > 1 else merged[0]
            if "enum" in out and "enum" in new:
                out["enum"] = sorted({*out["enum"], *new["enum"]}, key=repr)
            elif "enum" in out:
                del out["enum"]
    if "enum" in out and "enum" in new:
        extra = [v for v in new["enum"] if v not in out["enum"]]
        out["enum"] = out["enum"] + extra
    elif "enum" in out and "enum" not in new and new_types and "string" in new_types:
        del out["enum"]  # traffic showed values beyond the list
    if "properties" in new and ("properties" in old or old_types == ["object"]):
        properties = out.setdefault("properties", {})
        for name, schema in new["properties"].items():
            properties[name] = (widen_schema(properties[name], schema) if name in properties
                                else copy.deepcopy(schema))
        if "required" in out:
            seen_required = set(new.get("required", ()))
            kept = [n for n in out["required"] if n in seen_required or n not in new["properties"]]
            if kept:
                out["required"] = kept
            else:
                del out["required"]
    for key in ("items", "additionalProperties"):
        if isinstance(new.get(key), dict):
            out[key] = widen_schema(out[key], new[key]) if isinstance(out.get(key), dict) \
                else (out.get(key, copy.deepcopy(new[key])))
    if DRIFT_KEY in new:
        out[DRIFT_KEY] = copy.deepcopy(new[DRIFT_KEY])
    return out


def _merge_content(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(old)
    for mime, media in new.items():
        if mime not in out:
            out[mime] = copy.deepcopy(media)
        elif "schema" in media:
            out[mime]["schema"] = (widen_schema(out[mime]["schema"], media["schema"])
                                   if "schema" in out[mime] else copy.deepcopy(media["schema"]))
    return out


def _merge_operation(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(old)
    params = out.get("parameters", [])
    known = {(p.get("name"), p.get("in")): i for i, p in enumerate(params) if "name" in p}
    for param in new.get("parameters", []):
        index = known.get((param["name"], param["in"]))
        if index is None:
            added = copy.deepcopy(param)
            if param["in"] != "path":
                added.pop("required", None)  # new to this spec: older clients did not send it
            params.append(added)
        elif "schema" in params[index]:
            params[index]["schema"] = widen_schema(params[index]["schema"], param["schema"])
    if params:
        out["parameters"] = params
    if "requestBody" in new:
        if "requestBody" not in out:
            out["requestBody"] = copy.deepcopy(new["requestBody"])
            out["requestBody"].pop("required", None)
        elif "content" in out["requestBody"]:
            out["requestBody"]["content"] = _merge_content(out["requestBody"]["content"],
                                                           new["requestBody"]["content"])
    responses = out.setdefault("responses", {})
    for status, response in new.get("responses", {}).items():
        if status == "default" and responses:
            continue
        if status not in responses:
            responses[status] = copy.deepcopy(response)
        elif "content" in response:
            current = responses[status]
            current["content"] = _merge_content(current.get("content", {}), response["content"])
    if "security" in new:
        security = out.setdefault("security", [])
        for requirement in new["security"]:
            if requirement not in security:
                security.append(copy.deepcopy(requirement))
    return out


def update_document(existing: dict[str, Any], inferred: dict[str, Any],
                    prune: bool = False) -> dict[str, Any]:
    """The existing document with the inferred one merged in (see module docstring)."""
    out = copy.deepcopy(existing)
    servers = out.get("servers", [])
    urls = {s.get("url") for s in servers}
    for server in inferred.get("servers", []):
        if server["url"] not in urls:
            servers.append(copy.deepcopy(server))
    if servers:
        out["servers"] = servers
    paths = out.setdefault("paths", {})
    used_ids = {op.get("operationId") for item in paths.values() for m, op in item.items()
                if m in METHODS and isinstance(op, dict)}
    for path, item in inferred.get("paths", {}).items():
        target = paths.setdefault(path, {})
        for method, operation in item.items():
            if method in target:
                target[method] = _merge_operation(target[method], operation)
                continue
            added = copy.deepcopy(operation)
            base, n = added.get("operationId"), 2
            while base is not None and added["operationId"] in used_ids:
                added["operationId"], n = f"{base}{n}", n + 1
            used_ids.add(added.get("operationId"))
            target[method] = added
    if prune:
        for path in list(paths):
            seen = inferred.get("paths", {}).get(path, {})
            for method in [m for m in paths[path] if m in METHODS and m not in seen]:
                del paths[path][method]
            if not any(m in METHODS for m in paths[path]):
                del paths[path]
    new_components = inferred.get("components", {})
    if new_components:
        components = out.setdefault("components", {})
        for section, entries in new_components.items():
            target = components.setdefault(section, {})
            for name, value in entries.items():
                target.setdefault(name, copy.deepcopy(value))
    return out
