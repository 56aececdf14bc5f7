"""Naming tapes for people, and explaining a miss: the request, the file looked for, the
nearest recorded tapes and the fields that differ.

Invariant: explanations show the matching key, which leaves secret parameters out, so a miss
message never prints a credential.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from observe.exchange import Exchange, Request
from observe.headers import Headers
from tapes.matching import RequestKey
from tapes.store import safe_component, tape_name

if TYPE_CHECKING:
    from tapes.proxy import Incoming, TapeProxy


def operation_id_of(exchange: Exchange) -> str | None:
    """A plugin's operation name for naming the tape (the flickr plugin when installed)."""
    try:
        from plugins.flickr import FlickrPlugin

        plugin = FlickrPlugin({})
        if plugin.applies_to(exchange):
            rewritten = plugin.rewrite(exchange)
            if rewritten is not None and rewritten.meta.get("operation_id"):
                return str(rewritten.meta["operation_id"])
    except Exception:  # absent or failing plugin: fall back to the method parameter
        pass
    for name, value in exchange.request.query:
        if name == "method" and value.startswith("flickr."):
            return value
    for name, value in _form_pairs(exchange.request):
        if name == "method" and value.startswith("flickr."):
            return value
    return None


def _form_pairs(request: Request) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    if request.mime_type != "application/x-www-form-urlencoded":
        return []
    try:
        return parse_qsl(request.decoded().decode("utf-8"), keep_blank_values=True)
    except Exception:
        return []


def tape_label_name(proxy: TapeProxy, request: Incoming, key: RequestKey) -> str:
    """The tape file (relative to the folder) a request would be recorded in."""
    probe = Exchange(Request(
        method=request.method, scheme=proxy.upstream.scheme, authority=proxy.upstream.authority,
        target=request.target, headers=Headers(request.headers), body=request.body,
    ))
    name = tape_name(request.method, key.path, key.digest, operation_id_of(probe), request.n)
    return f"{safe_component(proxy.upstream.host)}/{name}"


def miss_text(proxy: TapeProxy, request: Incoming, key: RequestKey, looked_for: Path) -> str:
    """The plain-text body of a 502 miss."""
    lines = [
        f"restscope tapes: no tape for this request (mode {proxy.mode})",
        f"  request:    {key.describe()}" + (f"  [#{request.n} in sequence]"
                                             if proxy.config.sequence else ""),
        f"  key:        {key.digest}",
        f"  looked for: {looked_for}",
    ]
    if key.body:
        lines.append(f"  body:       {key.body[:80]}")
    nearest = proxy.store.nearest(key)
    if nearest:
        lines.append("  nearest recorded tapes:")
        for path, diffs in nearest:
            lines.append(f"    {proxy.store.label(path)}")
            for diff in diffs[:6] or ["(same key: fewer recordings than requests in sequence)"]:
                lines.append(f"      - {diff}")
    else:
        lines.append(f"  the folder {proxy.folder} holds no tapes")
    if proxy.store.bad:
        path, error = sorted(proxy.store.bad.items())[0]
        lines.append(f"  {len(proxy.store.bad)} tape(s) could not be read, e.g. {error}")
    lines.append("  to record it: restscope tapes serve --mode record, "
                 "or pytest --tapes-mode record")
    return "\n".join(lines) + "\n"
