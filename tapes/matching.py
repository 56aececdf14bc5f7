"""Request matching: the key that decides which tape answers a request, and the folder config.

A key is built from the method, the path, the query parameters sorted by name (repeated keys
kept in their order), the body in canonical form (JSON with sorted keys, form bodies sorted,
anything else as its SHA-256), and only the headers the configuration lists. Volatile and secret
parameters (`api_key`, `api_sig`, `auth_token`, `oauth_*`, nonces, timestamps) are left out by
default. The host is never part of the key, so tapes survive a port change.

Invariants:
1. The same request always gives the same key and digest (stable across processes and runs).
2. `MatchConfig` values are immutable; a folder's `tapes.yaml` and per-test overrides make
   new ones with `merged`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from observe.encoding import is_json_type, mime_type_of
from observe.errors import InputError
from observe.headers import Headers

CONFIG_NAMES = ("tapes.yaml", "tapes.yml")
DEFAULT_IGNORED = (
    "api_key", "api_sig", "auth_token", "access_token", "oauth_*", "*nonce*", "*timestamp*",
    "_",
)


@dataclass(frozen=True)
class MatchConfig:
    """How requests are matched to tapes."""

    ignore_params: tuple[str, ...] = DEFAULT_IGNORED  # fnmatch patterns, case-insensitive
    headers: tuple[str, ...] = ()  # header names that are part of the key (lower-case)
    sequence: bool = False  # the n-th identical request plays the n-th recording
    latency: str = "none"  # none | recorded | <milliseconds>

    def ignores(self, name: str) -> bool:
        lower = name.lower()
        return any(fnmatchcase(lower, pattern) for pattern in self.ignore_params)

    def merged(self, **changes: Any) -> MatchConfig:
        """A copy with `changes` (lists accepted; extra ignored params are added)."""
        values: dict[str, Any] = {}
        extra = changes.pop("ignore_params_extra", None) or ()
        for name, value in changes.items():
            if value is None:
                continue
            if name in ("ignore_params", "headers"):
                value = tuple(str(v).lower() for v in value)
            values[name] = value
        if extra:
            base = values.get("ignore_params", self.ignore_params)
            values["ignore_params"] = tuple(base) + tuple(str(v).lower() for v in extra)
        return replace(self, **values)

    @property
    def latency_seconds(self) -> float | None:
        """A fixed delay in seconds, or None (no delay or the recorded one)."""
        try:
            return max(0.0, float(self.latency) / 1000.0)
        except ValueError:
            return None


def load_folder_config(folder: Path, base: MatchConfig | None = None) -> MatchConfig:
    """The folder's matching config (`tapes.yaml`), on top of `base` or the defaults."""
    import yaml

    config = base or MatchConfig()
    for name in CONFIG_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{path}: cannot read tape folder config ({exc})") from exc
        match = doc.get("match", doc) if isinstance(doc, dict) else None
        if not isinstance(match, dict):
            raise InputError(f"{path}: expected a mapping with 'match:'")
        known = {"ignore_params", "ignore_params_extra", "headers", "sequence", "latency"}
        unknown = set(match) - known
        if unknown:
            raise InputError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        if "latency" in match:
            match = {**match, "latency": str(match["latency"])}
        return config.merged(**match)
    return config


@dataclass(frozen=True)
class RequestKey:
    """The parts of a request that matching compares, and their digest."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: str
    headers: tuple[tuple[str, str], ...] = field(default=())

    @cached_property
    def digest(self) -> str:
        text = json.dumps(
            [self.method, self.path, self.query, self.body, self.headers],
            separators=(",", ":"), ensure_ascii=False,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")

    def differences(self, other: RequestKey) -> list[str]:
        """Human-readable fields where `other` (a recorded tape) differs from this request."""
        out: list[str] = []
        if self.method != other.method:
            out.append(f"method: recorded {other.method}, requested {self.method}")
        if self.path != other.path:
            out.append(f"path: recorded {other.path}, requested {self.path}")
        mine, theirs = dict(self.query), dict(other.query)
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                out.append(
                    f"query {name}: recorded {_show(theirs.get(name))}, "
                    f"requested {_show(mine.get(name))}"
                )
        if mine == theirs and self.query != other.query:
            out.append("query: same parameters, repeated keys in another order")
        if self.body != other.body:
            out.append(f"body: recorded {_short(other.body)}, requested {_short(self.body)}")
        if self.headers != other.headers:
            out.append(f"headers: recorded {list(other.headers)}, requested {list(self.headers)}")
        return out

    def distance(self, other: RequestKey) -> int:
        score = 0 if self.method == other.method else 100
        score += 0 if self.path == other.path else 50
        score += len(self.differences(other))
        return score


def _show(value: str | None) -> str:
    return "(absent)" if value is None else repr(value)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def canonical_body(body: bytes, content_type: str | None, config: MatchConfig) -> str:
    """A body in canonical text form for the key."""
    if not body:
        return ""
    mime = mime_type_of(content_type)
    if is_json_type(mime):
        try:
            value = json.loads(body)
            return "json:" + json.dumps(value, sort_keys=True, separators=(",", ":"))
        except ValueError:
            pass
    if mime == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            pairs = None
        if pairs is not None:
            kept = sorted((k, v) for k, v in pairs if not config.ignores(k))
            return "form:" + "&".join(f"{k}={v}" for k, v in kept)
    return "sha256:" + hashlib.sha256(body).hexdigest()


def request_key(
    method: str, target: str, headers: Headers, body: bytes, config: MatchConfig
) -> RequestKey:
    """The matching key of a request given by its parts (`target` is path and query)."""
    path, _, query_string = target.partition("?")
    pairs = parse_qsl(query_string, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not config.ignores(k)]
    kept.sort(key=lambda pair: pair[0])  # stable: repeated keys keep their order
    selected = tuple(
        (name, value)
        for name in config.headers
        for value in headers.get_all(name)
    )
    return RequestKey(
        method=method.upper(),
        path=path or "/",
        query=tuple(kept),
        body=canonical_body(body, headers.get("content-type"), config),
        headers=selected,
    )
