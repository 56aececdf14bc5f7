"""`diff_specs(base, new)`: every change between two OpenAPI documents, classified by rule.

Paths are matched by their template with parameter names blanked (`/photos/{id}` and
`/photos/{photo_id}` are one endpoint; the rename is reported as info). Parameters are matched
by (location, name), path parameters by position. Operation-level comparison lives in
`specs.diffing.operations`; schema comparison in `specs.diffing.schemadiff`.

Invariants:
1. The result is sorted (`Finding.sort_key`) and depends only on the two documents' content,
   never on key order.
2. Every finding's rule is in the catalog; line numbers are in the NEW file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from specs.diffing.context import DiffContext
from specs.diffing.context import mapping_of as _mapping
from specs.diffing.findings import Finding, join_pointer
from specs.diffing.loading import SpecDocument
from specs.diffing.operations import (
    OperationPair,
    compare_operation,
    compare_security_schemes,
)
from specs.diffing.schemaview import canonical, text_of

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]*\}")


def template_key(path: str) -> str:
    """`/photos/{photo_id}` -> `/photos/{}`: the identity of an endpoint."""
    return _PARAM.sub("{}", text_of(path))


def path_parameter_names(path: str) -> list[str]:
    return [m.group(0)[1:-1] for m in _PARAM.finditer(text_of(path))]


def diff_specs(base: SpecDocument, new: SpecDocument) -> list[Finding]:
    """All classified changes from `base` to `new`, sorted, with lines in `new`."""
    ctx = DiffContext(base, new)
    old_doc, new_doc = base.data, new.data
    if canonical(old_doc.get("openapi")) != canonical(new_doc.get("openapi")):
        ctx.add("openapi-version-changed", "openapi",
                f"openapi version changed from {old_doc.get('openapi')} to "
                f"{new_doc.get('openapi')}", "/openapi")
    _compare_servers(ctx)
    compare_security_schemes(ctx)
    old_paths = {template_key(p): p for p in _mapping(old_doc.get("paths"))}
    new_paths = {template_key(p): p for p in _mapping(new_doc.get("paths"))}
    for key in sorted(set(old_paths) - set(new_paths)):
        path = old_paths[key]
        count = sum(1 for m in _mapping(old_doc["paths"][path]) if m in METHODS)
        ctx.add("path-removed", path, f"path {path} removed ({count} operation(s))", "/paths")
    for key in sorted(set(new_paths) - set(old_paths)):
        path = new_paths[key]
        ctx.add("path-added", path, f"path {path} added", join_pointer("/paths", path))
    for key in sorted(set(old_paths) & set(new_paths)):
        _compare_path(ctx, old_paths[key], new_paths[key])
    ctx.findings = [_with_line(new, f) for f in ctx.findings]
    return sorted(ctx.findings, key=Finding.sort_key)


def _with_line(new: SpecDocument, finding: Finding) -> Finding:
    return replace(finding, line=new.line_of(finding.pointer)) if finding.pointer else finding


def _compare_servers(ctx: DiffContext) -> None:
    def urls(doc: dict[str, Any]) -> set[str]:
        servers = doc.get("servers")
        items = servers if isinstance(servers, list) else []
        return {text_of(s.get("url", "")).rstrip("/") for s in items if isinstance(s, dict)}

    old_urls, new_urls = urls(ctx.base.data), urls(ctx.new.data)
    for url in sorted(old_urls - new_urls):
        ctx.add("server-removed", "servers", f"server {url or '/'} removed", "/servers")
    for url in sorted(new_urls - old_urls):
        ctx.add("server-added", "servers", f"server {url or '/'} added", "/servers")


def _compare_path(ctx: DiffContext, old_path: str, new_path: str) -> None:
    old_item = _mapping(_mapping(ctx.base.data.get("paths")).get(old_path))
    new_item = _mapping(_mapping(ctx.new.data.get("paths")).get(new_path))
    item_pointer = join_pointer("/paths", new_path)
    old_names, new_names = path_parameter_names(old_path), path_parameter_names(new_path)
    renames = {o: n for o, n in zip(old_names, new_names, strict=True) if o != n}
    if renames:
        listing = ", ".join(f"{{{o}}} -> {{{n}}}" for o, n in renames.items())
        ctx.add("path-parameter-renamed", new_path,
                f"path parameter renamed ({listing}); same endpoint", item_pointer)
    for method in METHODS:
        if method in old_item and method not in new_item:
            ctx.add("operation-removed", f"{method.upper()} {new_path}",
                    f"operation {method.upper()} {old_path} removed", item_pointer)
        elif method in new_item and method not in old_item:
            ctx.add("operation-added", f"{method.upper()} {new_path}",
                    f"operation {method.upper()} {new_path} added",
                    join_pointer(item_pointer, method))
        elif method in new_item:
            compare_operation(ctx, OperationPair(
                method=method, old_path=old_path, new_path=new_path,
                old_item=old_item, new_item=new_item, renames=renames))
    old_drift, new_drift = old_item.get("x-restscope-drift"), new_item.get("x-restscope-drift")
    if canonical(old_drift) != canonical(new_drift):
        ctx.add("drift-changed", new_path, f"x-restscope-drift changed from "
                f"{canonical(old_drift)} to {canonical(new_drift)}", item_pointer)
