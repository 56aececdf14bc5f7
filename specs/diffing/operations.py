"""Comparing one operation in two versions: parameters, request body, responses, security.

Requests are judged from the client that sends them, responses from the client that reads
them (see `specs.diffing.schemadiff`). `$ref`s to components (parameters, request bodies,
responses, headers) are followed, bounded.

Invariant: a path parameter is matched by its position in the template, so renaming it is not a
removal plus an addition; its type changes are `path-parameter-type-changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specs.diffing.context import DiffContext
from specs.diffing.context import mapping_of as _mapping
from specs.diffing.findings import join_pointer
from specs.diffing.schemadiff import REQUEST, RESPONSE
from specs.diffing.schemaview import canonical, resolve_ref, text_of

_TYPE_KINDS = frozenset({"type-changed", "type-narrowed", "type-widened"})


@dataclass(frozen=True)
class OperationPair:
    method: str
    old_path: str
    new_path: str
    old_item: dict[str, Any]
    new_item: dict[str, Any]
    renames: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.new_path}"

    @property
    def pointer(self) -> str:
        return join_pointer("/paths", self.new_path, self.method)


def _deref(doc: dict[str, Any], value: Any, pointer: str) -> tuple[dict[str, Any], str]:
    target, target_pointer, _ = resolve_ref(doc, value, pointer)
    return (target if isinstance(target, dict) else {}), target_pointer


def _parameters(doc: dict[str, Any], item: dict[str, Any], method: str, item_pointer: str,
                renames: dict[str, str]) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    """(in, name) -> (parameter, pointer); operation parameters override path-level ones."""
    found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    sources = ((item.get("parameters"), join_pointer(item_pointer, "parameters")),
               (_mapping(item.get(method)).get("parameters"),
                join_pointer(item_pointer, method, "parameters")))
    for params, base_pointer in sources:
        for index, raw in enumerate(params if isinstance(params, list) else []):
            param, pointer = _deref(doc, raw, join_pointer(base_pointer, index))
            name, where = text_of(param.get("name", "")), text_of(param.get("in", ""))
            if where == "path":
                name = renames.get(name, name)
            if where == "header":
                name = name.lower()
            found[(where, name)] = (param, pointer)
    return found


def _param_schema(param: dict[str, Any], pointer: str) -> tuple[Any, str]:
    if "schema" in param:
        return param["schema"], join_pointer(pointer, "schema")
    for media, body in _mapping(param.get("content")).items():
        return _mapping(body).get("schema", {}), join_pointer(pointer, "content", media, "schema")
    return {}, pointer


def compare_operation(ctx: DiffContext, pair: OperationPair) -> None:
    old_op = _mapping(pair.old_item.get(pair.method))
    new_op = _mapping(pair.new_item.get(pair.method))
    label, pointer = pair.label, pair.pointer
    if new_op.get("deprecated") is True and old_op.get("deprecated") is not True:
        ctx.add("operation-deprecated", label, f"{label} is now deprecated", pointer)
    old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
    if old_id and new_id and old_id != new_id:
        ctx.add("operation-id-changed", label,
                f"operationId changed from {old_id!r} to {new_id!r} (generated clients rename)",
                join_pointer(pointer, "operationId"))
    if canonical(old_op.get("x-restscope-drift")) != canonical(new_op.get("x-restscope-drift")):
        ctx.add("drift-changed", label, "x-restscope-drift changed from "
                f"{canonical(old_op.get('x-restscope-drift'))} to "
                f"{canonical(new_op.get('x-restscope-drift'))}", pointer)
    _compare_parameters(ctx, pair)
    _compare_request_body(ctx, pair, old_op, new_op)
    _compare_responses(ctx, pair, old_op, new_op)
    _compare_security(ctx, pair, old_op, new_op)


def _compare_parameters(ctx: DiffContext, pair: OperationPair) -> None:
    old_params = _parameters(ctx.base.data, pair.old_item, pair.method,
                             join_pointer("/paths", pair.old_path), pair.renames)
    new_params = _parameters(ctx.new.data, pair.new_item, pair.method,
                             join_pointer("/paths", pair.new_path), {})
    for key in sorted(set(old_params) - set(new_params)):
        ctx.add("request-parameter-removed", f"{pair.label} parameter {key[0]}:{key[1]}",
                f"{key[0]} parameter {key[1]!r} removed", pair.pointer)
    for key in sorted(set(new_params) - set(old_params)):
        param, pointer = new_params[key]
        required = param.get("required") is True
        ctx.add("request-parameter-added-required" if required
                else "request-parameter-added-optional",
                f"{pair.label} parameter {key[0]}:{key[1]}",
                f"{'required' if required else 'optional'} {key[0]} parameter {key[1]!r} added",
                pointer)
    for key in sorted(set(old_params) & set(new_params)):
        (old, old_pointer), (new, new_pointer) = old_params[key], new_params[key]
        where = f"{pair.label} parameter {key[0]}:{key[1]}"
        was, now = old.get("required") is True, new.get("required") is True
        if now and not was:
            ctx.add("request-parameter-became-required", where,
                    f"{key[0]} parameter {key[1]!r} is now required", new_pointer)
        elif was and not now:
            ctx.add("request-parameter-became-optional", where,
                    f"{key[0]} parameter {key[1]!r} is no longer required", new_pointer)
        if (old.get("style"), old.get("explode")) != (new.get("style"), new.get("explode")):
            ctx.add("request-parameter-style-changed", where,
                    f"serialization changed from style={old.get('style')} "
                    f"explode={old.get('explode')} to style={new.get('style')} "
                    f"explode={new.get('explode')}", new_pointer)
        if new.get("deprecated") is True and old.get("deprecated") is not True:
            ctx.add("request-parameter-deprecated", where,
                    f"{key[0]} parameter {key[1]!r} is now deprecated", new_pointer)
        changes = ctx.comparer.compare(_param_schema(old, old_pointer),
                                       _param_schema(new, new_pointer), REQUEST)
        if key[0] == "path":
            for change in changes:
                if change.kind in _TYPE_KINDS and not change.path:
                    ctx.add("path-parameter-type-changed", where, change.message, change.pointer)
            ctx.add_changes(changes, REQUEST, where, skip_kinds=_TYPE_KINDS)
        else:
            ctx.add_changes(changes, REQUEST, where)


def _content(body: dict[str, Any]) -> dict[str, Any]:
    return _mapping(body.get("content"))


def _compare_media(ctx: DiffContext, old_body: dict[str, Any], old_pointer: str,
                   new_body: dict[str, Any], new_pointer: str, direction: str,
                   where: str) -> None:
    old_content, new_content = _content(old_body), _content(new_body)
    prefix = "request" if direction == REQUEST else "response"
    for media in sorted(set(old_content) - set(new_content)):
        ctx.add(f"{prefix}-media-type-removed", f"{where} {media}",
                f"media type {media} removed", new_pointer)
    for media in sorted(set(new_content) - set(old_content)):
        ctx.add(f"{prefix}-media-type-added", f"{where} {media}", f"media type {media} added",
                join_pointer(new_pointer, "content", media))
    for media in sorted(set(old_content) & set(new_content)):
        old_media, new_media = _mapping(old_content[media]), _mapping(new_content[media])
        if "schema" not in old_media and "schema" not in new_media:
            continue
        changes = ctx.comparer.compare(
            (old_media.get("schema", {}), join_pointer(old_pointer, "content", media, "schema")),
            (new_media.get("schema", {}), join_pointer(new_pointer, "content", media, "schema")),
            direction)
        ctx.add_changes(changes, direction, f"{where} {media}")


def _compare_request_body(ctx: DiffContext, pair: OperationPair, old_op: dict[str, Any],
                          new_op: dict[str, Any]) -> None:
    where = f"{pair.label} request"
    old_pointer = join_pointer("/paths", pair.old_path, pair.method, "requestBody")
    new_pointer = join_pointer(pair.pointer, "requestBody")
    has_old, has_new = "requestBody" in old_op, "requestBody" in new_op
    old_body, old_pointer = _deref(ctx.base.data, old_op.get("requestBody"), old_pointer)
    new_body, new_pointer = _deref(ctx.new.data, new_op.get("requestBody"), new_pointer)
    if has_old and not has_new:
        ctx.add("request-body-removed", where, "request body removed", pair.pointer)
        return
    required = new_body.get("required") is True
    if has_new and not has_old:
        ctx.add("request-body-added-required" if required else "request-body-added-optional",
                where, f"{'required' if required else 'optional'} request body added",
                new_pointer)
        return
    if not has_new:
        return
    was = old_body.get("required") is True
    if required and not was:
        ctx.add("request-body-became-required", where, "request body is now required",
                new_pointer)
    elif was and not required:
        ctx.add("request-body-became-optional", where, "request body is no longer required",
                new_pointer)
    _compare_media(ctx, old_body, old_pointer, new_body, new_pointer, REQUEST, where)


def _status_key(code: Any) -> str:
    return text_of(code).upper()


def _compare_responses(ctx: DiffContext, pair: OperationPair, old_op: dict[str, Any],
                       new_op: dict[str, Any]) -> None:
    old_responses = {_status_key(k): (k, v) for k, v in _mapping(old_op.get("responses")).items()}
    new_responses = {_status_key(k): (k, v) for k, v in _mapping(new_op.get("responses")).items()}
    responses_pointer = join_pointer(pair.pointer, "responses")
    for status in sorted(set(old_responses) - set(new_responses)):
        ctx.add("response-status-removed", f"{pair.label} response {status}",
                f"response {status} removed", responses_pointer)
    for status in sorted(set(new_responses) - set(old_responses)):
        ctx.add("response-status-added", f"{pair.label} response {status}",
                f"response {status} added",
                join_pointer(responses_pointer, new_responses[status][0]))
    for status in sorted(set(old_responses) & set(new_responses)):
        old_key, old_raw = old_responses[status]
        new_key, new_raw = new_responses[status]
        old, old_pointer = _deref(ctx.base.data, old_raw, join_pointer(
            "/paths", pair.old_path, pair.method, "responses", old_key))
        new, new_pointer = _deref(ctx.new.data, new_raw, join_pointer(responses_pointer, new_key))
        where = f"{pair.label} response {status}"
        _compare_media(ctx, old, old_pointer, new, new_pointer, RESPONSE, where)
        _compare_headers(ctx, old, old_pointer, new, new_pointer, where)


def _compare_headers(ctx: DiffContext, old: dict[str, Any], old_pointer: str,
                     new: dict[str, Any], new_pointer: str, where: str) -> None:
    old_headers = {k.lower(): (k, v) for k, v in _mapping(old.get("headers")).items()}
    new_headers = {k.lower(): (k, v) for k, v in _mapping(new.get("headers")).items()}
    for name in sorted(set(old_headers) - set(new_headers)):
        ctx.add("response-header-removed", f"{where} header {name}",
                f"response header {old_headers[name][0]} removed", new_pointer)
    for name in sorted(set(new_headers) - set(old_headers)):
        ctx.add("response-header-added", f"{where} header {name}",
                f"response header {new_headers[name][0]} added",
                join_pointer(new_pointer, "headers", new_headers[name][0]))
    for name in sorted(set(old_headers) & set(new_headers)):
        old_h, old_h_pointer = _deref(ctx.base.data, old_headers[name][1],
                                      join_pointer(old_pointer, "headers", old_headers[name][0]))
        new_h, new_h_pointer = _deref(ctx.new.data, new_headers[name][1],
                                      join_pointer(new_pointer, "headers", new_headers[name][0]))
        label = f"{where} header {name}"
        if old_h.get("required") is True and new_h.get("required") is not True:
            ctx.add("response-header-became-optional", label,
                    f"response header {new_headers[name][0]} is no longer always sent",
                    new_h_pointer)
        changes = ctx.comparer.compare(_param_schema(old_h, old_h_pointer),
                                       _param_schema(new_h, new_h_pointer), RESPONSE)
        ctx.add_changes(changes, RESPONSE, label)


def _alternatives(doc: dict[str, Any], op: dict[str, Any]) -> dict[frozenset[str], dict]:
    """Effective security: alternatives (sets of scheme names) -> {scheme: scopes}."""
    raw = op["security"] if "security" in op else doc.get("security")
    result: dict[frozenset[str], dict[str, set[str]]] = {}
    for requirement in raw if isinstance(raw, list) else []:
        if isinstance(requirement, dict):
            scopes = {str(k): {s if isinstance(s, str) else canonical(s) for s in v}
                      if isinstance(v, list) else set()
                      for k, v in requirement.items()}
            result[frozenset(scopes)] = scopes
    return result


def _compare_security(ctx: DiffContext, pair: OperationPair, old_op: dict[str, Any],
                      new_op: dict[str, Any]) -> None:
    old_alts = _alternatives(ctx.base.data, old_op)
    new_alts = _alternatives(ctx.new.data, new_op)
    if old_alts.keys() == new_alts.keys():
        for key in sorted(old_alts, key=sorted):
            for scheme in sorted(key):
                added = new_alts[key][scheme] - old_alts[key][scheme]
                if added:
                    ctx.add("security-scope-added", f"{pair.label} security {scheme}",
                            f"{scheme} now also needs scope(s) {', '.join(sorted(added))}",
                            pair.pointer)
        return
    anonymous_before = not old_alts or frozenset() in old_alts
    anonymous_now = not new_alts or frozenset() in new_alts

    def show(alts: dict[frozenset[str], Any]) -> str:
        return " or ".join("+".join(sorted(k)) or "none" for k in sorted(alts, key=sorted)) or \
            "none"

    message = f"security changed from {show(old_alts)} to {show(new_alts)}"
    if anonymous_before and not anonymous_now:
        ctx.add("operation-security-added", pair.label, message, pair.pointer)
    elif anonymous_now and not anonymous_before:
        ctx.add("operation-security-removed", pair.label, message, pair.pointer)
    elif set(old_alts) <= set(new_alts):
        ctx.add("operation-security-alternative-added", pair.label, message, pair.pointer)
    else:
        ctx.add("operation-security-changed", pair.label, message, pair.pointer)


def compare_security_schemes(ctx: DiffContext) -> None:
    def schemes(doc: dict[str, Any]) -> dict[str, Any]:
        return _mapping(_mapping(doc.get("components")).get("securitySchemes"))

    old_schemes, new_schemes = schemes(ctx.base.data), schemes(ctx.new.data)
    for name in sorted(set(old_schemes) - set(new_schemes)):
        ctx.add("security-scheme-removed", f"security scheme {name}",
                f"security scheme {name!r} removed", "/components/securitySchemes")
    for name in sorted(set(old_schemes) & set(new_schemes)):
        old, _ = _deref(ctx.base.data, old_schemes[name], "")
        new, pointer = _deref(ctx.new.data, new_schemes[name],
                              join_pointer("/components/securitySchemes", name))
        keys = ("type", "in", "name", "scheme", "bearerFormat", "openIdConnectUrl")
        changed = [k for k in keys if old.get(k) != new.get(k)]
        if changed:
            detail = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed)
            ctx.add("security-scheme-changed", f"security scheme {name}",
                    f"security scheme {name!r} changed ({detail})", pointer)
