"""A small Swagger 2.0 -> OpenAPI 3.0.3 converter, so older specs (Flickr's) can be diffed.

Covers what real 2.0 documents use: host/basePath/schemes -> servers, `definitions` ->
`components/schemas` (with every `#/definitions/` ref rewritten), `parameters`/`responses`
sections, body and formData parameters -> `requestBody` (consumes), response schemas ->
`content` (produces), non-body parameter type fields -> `schema`, `securityDefinitions`.

Invariant: the input is never mutated; the output is a fresh document.
"""

from __future__ import annotations

import copy
from typing import Any

_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "pattern", "maximum", "minimum",
                "exclusiveMaximum", "exclusiveMinimum", "maxLength", "minLength", "maxItems",
                "minItems", "uniqueItems", "multipleOf")
_REF_MAP = {"#/definitions/": "#/components/schemas/",
            "#/parameters/": "#/components/parameters/",
            "#/responses/": "#/components/responses/"}


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                for old, new in _REF_MAP.items():
                    if item.startswith(old):
                        item = new + item[len(old):]
                out[key] = item
            else:
                out[key] = _rewrite_refs(item)
        return out
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in param:
        return dict(param)
    schema = {k: param[k] for k in _SCHEMA_KEYS if k in param}
    if schema.get("type") == "file":
        schema = {"type": "string", "format": "binary"}
    out = {k: v for k, v in param.items() if k not in _SCHEMA_KEYS and k != "collectionFormat"}
    out["schema"] = schema
    fmt = param.get("collectionFormat")
    if fmt == "multi":
        out["style"], out["explode"] = "form", True
    elif fmt in ("csv", None) and schema.get("type") == "array":
        out["style"], out["explode"] = "form", False
    return out


def _operation(op: dict[str, Any], consumes: list[str], produces: list[str]) -> dict[str, Any]:
    out = {k: v for k, v in op.items()
           if k not in ("parameters", "responses", "consumes", "produces", "schemes")}
    consumes = op.get("consumes", consumes) or ["application/json"]
    produces = op.get("produces", produces) or ["application/json"]
    params, form, body = [], {}, None
    form_required: list[str] = []
    for param in op.get("parameters", []):
        where = param.get("in")
        if where == "body":
            body = {"content": {m: {"schema": param.get("schema", {})} for m in consumes}}
            if param.get("required"):
                body["required"] = True
        elif where == "formData":
            form[param["name"]] = _parameter(param)["schema"]
            if param.get("required"):
                form_required.append(param["name"])
        else:
            params.append(_parameter(param))
    if form:
        schema: dict[str, Any] = {"type": "object", "properties": form}
        if form_required:
            schema["required"] = form_required
        media = [m for m in consumes if "form" in m] or ["application/x-www-form-urlencoded"]
        body = {"content": {m: {"schema": schema} for m in media}}
        if form_required:
            body["required"] = True
    if params:
        out["parameters"] = params
    if body is not None:
        out["requestBody"] = body
    out["responses"] = {str(code): _response(r, produces)
                        for code, r in (op.get("responses") or {}).items()}
    return out


def _response(response: dict[str, Any], produces: list[str]) -> dict[str, Any]:
    if "$ref" in response:
        return dict(response)
    out: dict[str, Any] = {"description": response.get("description", "")}
    if "schema" in response:
        out["content"] = {m: {"schema": response["schema"]} for m in produces}
    if "headers" in response:
        out["headers"] = {name: {"schema": {k: h[k] for k in _SCHEMA_KEYS if k in h}}
                          for name, h in response["headers"].items()}
    return out


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic"}
    if kind == "oauth2":
        flow_names = {"implicit": "implicit", "password": "password",
                      "application": "clientCredentials", "accessCode": "authorizationCode"}
        flow = {k: scheme[k] for k in ("authorizationUrl", "tokenUrl") if k in scheme}
        flow["scopes"] = scheme.get("scopes", {})
        return {"type": "oauth2", "flows": {flow_names.get(scheme.get("flow", ""), "implicit"):
                                            flow}}
    return {k: v for k, v in scheme.items() if k in ("type", "in", "name", "description")}


def convert_swagger2(source: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0.3 document equivalent to the Swagger 2.0 `source`."""
    doc = _rewrite_refs(copy.deepcopy(source))
    consumes, produces = doc.get("consumes", []), doc.get("produces", [])
    out: dict[str, Any] = {"openapi": "3.0.3", "info": doc.get("info", {})}
    if "host" in doc or "basePath" in doc:
        schemes = doc.get("schemes") or ["https"]
        out["servers"] = [{"url": f"{s}://{doc.get('host', '')}{doc.get('basePath', '')}"}
                          for s in schemes]
    paths: dict[str, Any] = {}
    for path, item in (doc.get("paths") or {}).items():
        new_item: dict[str, Any] = {}
        for key, value in item.items():
            if key == "parameters":
                new_item[key] = [_parameter(p) for p in value]
            elif isinstance(value, dict) and key in ("get", "put", "post", "delete", "options",
                                                     "head", "patch"):
                new_item[key] = _operation(value, consumes, produces)
            else:
                new_item[key] = value
        paths[path] = new_item
    out["paths"] = paths
    components: dict[str, Any] = {}
    if doc.get("definitions"):
        components["schemas"] = doc["definitions"]
    if doc.get("parameters"):
        components["parameters"] = {k: _parameter(v) for k, v in doc["parameters"].items()}
    if doc.get("responses"):
        components["responses"] = {k: _response(v, produces)
                                   for k, v in doc["responses"].items()}
    if doc.get("securityDefinitions"):
        components["securitySchemes"] = {k: _security_scheme(v)
                                         for k, v in doc["securityDefinitions"].items()}
    if components:
        out["components"] = components
    for key in ("security", "tags", "externalDocs"):
        if key in doc:
            out[key] = doc[key]
    return out
