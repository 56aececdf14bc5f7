"""Render an `ApiSummary` as an OpenAPI 3.1.0 document (or 3.0.3), deterministically.

Steps: template the path keys (`specs.templating`), merge operations that share a template,
then build paths, parameters, bodies, responses, servers, tags, operation ids and security
schemes. Repeated object shapes move to `components/schemas`. Every mapping is built in sorted
order, so the same summary always gives the same document (byte-identical once dumped).
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from specs.components import extract_components
from specs.openapi30 import downgrade_to_30
from specs.paths import split_path
from specs.schema import DRIFT_KEY, SchemaOptions, shape_schema
from specs.shape import Shape
from specs.summary import ApiSummary, OperationSummary
from specs.templating import Templating, template_paths

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class RenderOptions:
    title: str = "Inferred API"
    version: str = "0.0.0"
    openapi: str = "3.1"
    examples: bool = True
    components: bool = True


@dataclass
class Grouped:
    """Operations merged by (template, method), with their parameter value shapes."""

    operations: dict[tuple[str, str], OperationSummary]
    names: dict[tuple[str, str], tuple[tuple[int, str], ...]]
    templating: Templating


def _top(counts: Mapping[str, int]) -> str | None:
    if not counts:
        return None
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]


def _template_per_server(hits: dict[str, int], fixed: frozenset[str],
                         servers: dict[str, dict[str, int]]) -> Templating:
    """Template each server's paths on their own (different hosts are different APIs); a path
    seen on several servers belongs to the one that saw it most."""
    groups: dict[str, dict[str, int]] = {}
    for key, n in hits.items():
        groups.setdefault(_top(servers.get(key, {})) or "", {})[key] = n
    templates, explanations, words = {}, [], {}
    for server in sorted(groups):
        result = template_paths(groups[server], fixed)
        templates.update(result.templates)
        words.update(result.words)
        prefix = f"{server} " if len(groups) > 1 else ""
        explanations.extend(prefix + line for line in result.explanations)
    return Templating(templates, explanations, words)


def group_operations(summary: ApiSummary) -> Grouped:
    """Template the paths and merge the operations that share a template and method."""
    hits: dict[str, int] = {}
    fixed: set[str] = set()
    servers: dict[str, dict[str, int]] = {}  # path key -> server -> hits
    for op_key, operation in summary.operations.items():
        _, _, key = op_key.partition(" ")
        hits[key] = hits.get(key, 0) + operation.count
        if operation.fixed:
            fixed.add(key)
        per_server = servers.setdefault(key, {})
        for server, n in operation.servers.items():
            per_server[server] = per_server.get(server, 0) + n
    templating = _template_per_server(hits, frozenset(fixed), servers)
    operations: dict[tuple[str, str], OperationSummary] = {}
    names: dict[tuple[str, str], tuple[tuple[int, str], ...]] = {}
    for op_key in sorted(summary.operations):
        method, _, key = op_key.partition(" ")
        operation = summary.operations[op_key]
        words = templating.words.get(key)
        if words:
            operation = operation.merge(OperationSummary())
            for position, word in words.items():
                shape = Shape()
                shape.add(word)
                current = operation.path_values.get(str(position))
                operation.path_values[str(position)] = shape if current is None else \
                    current.merge(shape)
        template = templating.templates[key]
        group = (template.path, method)
        mine = operations.get(group)
        operations[group] = operation if mine is None else mine.merge(operation)
        names[group] = template.names
    return Grouped(operations, names, templating)


def parameter_schema(shape: Shape, options: SchemaOptions) -> dict[str, Any]:
    """Schema of a parameter sent as text: numbers and booleans typed as such."""
    strings = shape.types.get("string", 0)
    formats = shape.formats
    if strings and strings == shape.count - shape.nulls:
        if formats.get("integer-string", 0) >= strings:
            schema: dict[str, Any] = {"type": "integer"}
            if formats.get("unix-time", 0) >= strings:
                schema["format"] = "unix-time"
            return schema
        if formats.get("integer-string", 0) + formats.get("decimal-string", 0) >= strings:
            return {"type": "number"}
        if set(shape.values) <= {"s:true", "s:false"} and not shape.overflow:
            return {"type": "boolean"}
    return shape_schema(shape, options)


def _header_schema(shape: Shape, options: SchemaOptions) -> dict[str, Any]:
    """Response headers are opaque text to clients: no drift flags on them (request-id noise)."""
    schema = parameter_schema(shape, options)
    return {"type": "string"} if DRIFT_KEY in schema else schema


_WORD = re.compile(r"[A-Za-z0-9]+")


def _operation_id(template: str, method: str, operation: OperationSummary) -> str:
    given = _top(operation.operation_ids)
    if given:
        return given
    words = []
    for segment in split_path(template):
        if segment.startswith("{"):
            name = segment[1:segment.index("}")]
            words.append("By" + name[0].upper() + name[1:])
        else:
            words.extend(w[0].upper() + w[1:] for w in _WORD.findall(segment))
    return method.lower() + "".join(words)


def _tag(template: str, operation: OperationSummary) -> str:
    given = _top(operation.tags)
    if given:
        return given
    for segment in split_path(template):
        if segment and not segment.startswith("{") and segment.lower() not in ("api", "rest") \
                and not re.fullmatch(r"v[0-9].*|[0-9.\-]+", segment):
            return segment.split(".")[0]
    return "default"


def _security_name(key: str) -> tuple[str, dict[str, Any]]:
    kind, _, rest = key.partition(":")
    if kind == "http":
        scheme = rest or "unknown"
        if scheme == "oauth":
            return "oauth1", {"type": "apiKey", "in": "header", "name": "Authorization",
                              "description": "OAuth 1.0a signature in the Authorization header"}
        if scheme in ("bearer", "basic", "digest"):
            return f"{scheme}Auth", {"type": "http", "scheme": scheme}
        return f"{re.sub(r'[^A-Za-z0-9]', '', scheme)}Auth", {
            "type": "apiKey", "in": "header", "name": "Authorization"}
    if kind == "apiKey":
        where, _, name = rest.partition(":")
        safe = re.sub(r"[^A-Za-z0-9_]", "_", name)
        return f"{safe}_{where}", {"type": "apiKey", "in": where, "name": name}
    return rest, {"type": "apiKey", "in": "query", "name": rest}


def _parameters(template: str, names: tuple[tuple[int, str], ...], op: OperationSummary,
                options: SchemaOptions) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for position, name in names:
        shape = op.path_values.get(str(position))
        schema = parameter_schema(shape, options) if shape is not None else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for where, shapes in (("query", op.query), ("header", op.headers), ("cookie", op.cookies)):
        for name in sorted(shapes):
            shape = shapes[name]
            param: dict[str, Any] = {"name": name, "in": where}
            seen = op.present.get(name, shape.count) if where == "query" else shape.count
            if seen >= op.count:
                param["required"] = True
            param["schema"] = parameter_schema(shape, options) if where != "cookie" else {
                "type": "string"}
            params.append(param)
    return params


def _content(bodies: Mapping[str, Shape], options: SchemaOptions) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for mime in sorted(bodies):
        shape = bodies[mime]
        if shape.types:
            schema = shape_schema(shape, options)
        elif mime.startswith("text/") or mime.endswith(("xml", "javascript")):
            schema = {"type": "string"}
        else:
            schema = {"type": "string", "contentMediaType": mime}
        content[mime] = {"schema": schema}
    return content


def _apply_hints(responses: dict[str, Any], hints: Mapping[str, int]) -> None:
    for entry in sorted(hints):
        status, pointer, fmt = ([*entry.split("\t"), "", "", ""])[:3]
        response = responses.get(status)
        if status == "query" or not isinstance(response, dict):
            continue
        for media in response.get("content", {}).values():
            node = media.get("schema")
            for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
                if not isinstance(node, dict):
                    break
                if part.isdigit() or part == "-":
                    node = node.get("items")
                else:
                    node = node.get("properties", {}).get(part.replace("~1", "/")
                                                           .replace("~0", "~"))
            if isinstance(node, dict) and "anyOf" not in node and DRIFT_KEY not in node:
                node["format"] = fmt


def _operation(template: str, method: str, op: OperationSummary,
               names: tuple[tuple[int, str], ...], options: SchemaOptions,
               schemes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": _operation_id(template, method, op),
                           "tags": [_tag(template, op)]}
    params = _parameters(template, names, op, options)
    for hint in sorted(op.hints):
        where, name, fmt = ([*hint.split("\t"), "", "", ""])[:3]
        for param in params:
            if where == "query" and param["in"] == "query" and param["name"] == name:
                param["schema"] = {**param["schema"], "format": fmt}
    if params:
        out["parameters"] = params
    if op.bodies:
        body: dict[str, Any] = {"content": _content(op.bodies, options)}
        if sum(s.count for s in op.bodies.values()) >= op.count:
            body["required"] = True
        out["requestBody"] = body
    responses: dict[str, Any] = {}
    for status in sorted(op.responses):
        response = op.responses[status]
        reason = _top(response.reasons)
        try:
            phrase = http.HTTPStatus(int(status)).phrase
        except ValueError:
            phrase = reason or "Response"
        entry: dict[str, Any] = {"description": phrase or reason or "Response"}
        if response.headers:
            entry["headers"] = {
                name: {"schema": _header_schema(shape, options),
                       **({"required": True} if shape.count >= response.count else {})}
                for name, shape in sorted(response.headers.items())
            }
        if response.bodies:
            entry["content"] = _content(response.bodies, options)
        responses[status] = entry
    if not responses:
        responses["default"] = {"description": "No response was observed"}
    _apply_hints(responses, op.hints)
    out["responses"] = responses
    requirements = []
    for key in sorted(op.security):
        if key.startswith("plugin:"):
            name = key[len("plugin:"):]
            scheme = json.loads(op.security_schemes[name]) if name in op.security_schemes else \
                {"type": "apiKey", "in": "query", "name": name}
        else:
            name, scheme = _security_name(key)
        schemes.setdefault(name, scheme)
        requirements.append({name: []})
    if requirements:
        out["security"] = requirements
    return out


def render_openapi(summary: ApiSummary, options: RenderOptions | None = None,
                   grouped: Grouped | None = None) -> dict[str, Any]:
    """The OpenAPI document for a summary (a plain dict, deterministic)."""
    options = options or RenderOptions()
    grouped = grouped or group_operations(summary)
    schema_options = SchemaOptions(examples=options.examples)
    servers: dict[str, int] = {}
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for template, method in sorted(grouped.operations):
        op = grouped.operations[(template, method)]
        for server, n in op.servers.items():
            servers[server] = servers.get(server, 0) + n
        lower = method.lower()
        if lower not in METHODS:
            continue
        operation = _operation(template, method, op, grouped.names[(template, method)],
                               schema_options, schemes)
        base, n = operation["operationId"], 2
        while operation["operationId"] in used_ids:
            operation["operationId"], n = f"{base}{n}", n + 1
        used_ids.add(operation["operationId"])
        paths.setdefault(template, {})[lower] = operation
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": options.title, "version": options.version},
    }
    if servers:
        ordered = sorted(servers.items(), key=lambda item: (-item[1], item[0]))
        doc["servers"] = [{"url": url} for url, _ in ordered]
    doc["paths"] = {path: paths[path] for path in sorted(paths)}
    components: dict[str, Any] = {}
    if options.components:
        extracted = extract_components(doc["paths"])
        if extracted:
            components["schemas"] = extracted
    if schemes:
        components["securitySchemes"] = dict(sorted(schemes.items()))
    if components:
        doc["components"] = components
    if options.openapi.startswith("3.0"):
        doc = downgrade_to_30(doc)
    return doc
