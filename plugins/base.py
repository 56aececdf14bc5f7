"""The plugin contract: a named, scoped, explicitly configured, pure Exchange rewriter.

A plugin is built once from its configuration, `Factory(config: dict)`, and then asked, for
each exchange, `applies_to(exchange)` and `rewrite(exchange) -> Exchange | None`. Third-party
plugins register the factory in their own package metadata:

    [project.entry-points."restscope.plugins"]
    myapi = "myapi_restscope:MyApiPlugin"

and are then used as `--plugin myapi --plugin-config myapi.yaml` by every traffic command.

Invariants (every plugin in this package keeps them; third-party plugins should):
1. Scope is declared: a set of host names and, optionally, path prefixes or regular
   expressions. `applies_to` looks at nothing else.
2. Configuration is explicit: everything a plugin needs comes in through `config` at build time;
   an unknown or malformed setting raises `PluginConfigError` (an InputError: exit code 2).
3. `rewrite` is a pure function of its input: no global state, no I/O, no clock. The same
   exchange always gives the same result.
4. None drops the exchange; the chain counts the drop under the plugin's static `drop_reason`.
5. Every change is recorded with `exchange.with_note(Note(plugin, field, old, new))`, where `old`
   has its secrets redacted (`plugins.redaction.Redactor`), so reports can show the original call.
6. Meta conventions a rewriter may set: `operation_id`, `tag`, `server`, `path_fixed` (a path a
   plugin made: never template it), `format_hints` ({JSON pointer into the response body,
   array items as `-`: format}), `param_format_hints` ({parameter name: format}),
   `param_required` ({parameter name: required?} from a catalog), `security` (sorted scheme
   names) and `security_schemes` ({name: OpenAPI security scheme object}).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from observe.errors import InputError, RestscopeError
from observe.exchange import Exchange


class PluginError(RestscopeError):
    """Base of the errors plugins raise on purpose."""


class PluginConfigError(PluginError, InputError):
    """A plugin configuration that cannot be used (unknown key, wrong type, bad pattern)."""


@dataclass(frozen=True)
class Scope:
    """Which exchanges a plugin looks at: host names, and optionally path prefixes/patterns.

    Hosts compare case-insensitively without the port; an empty host set means every host.
    A path matches when it starts with one of `path_prefixes` or matches one of
    `path_patterns` (regular expressions, `re.search`); with neither, every path matches.
    """

    hosts: frozenset[str] = frozenset()
    path_prefixes: tuple[str, ...] = ()
    path_patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def of(
        cls,
        hosts: Iterable[str] = (),
        path_prefixes: Iterable[str] = (),
        path_patterns: Iterable[str] = (),
    ) -> Scope:
        compiled = []
        for pattern in path_patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise PluginConfigError(f"path pattern {pattern!r} is not a regex: {exc}") from exc
        return cls(
            frozenset(h.lower() for h in hosts), tuple(path_prefixes), tuple(compiled)
        )

    def matches(self, host: str, path: str) -> bool:
        if self.hosts and host.lower() not in self.hosts:
            return False
        if not self.path_prefixes and not self.path_patterns:
            return True
        return any(path.startswith(p) for p in self.path_prefixes) or any(
            p.search(path) for p in self.path_patterns
        )


class Plugin:
    """Base class for rewriters: a name, a scope, a drop reason, and `rewrite`.

    Subclasses set `name` and `drop_reason`, build `self.scope` from their config in
    `__init__`, and implement `rewrite`.
    """

    name: ClassVar[str] = "plugin"
    drop_reason: ClassVar[str] = "dropped by plugin"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.scope = Scope()

    def applies_to(self, exchange: Exchange) -> bool:
        return self.scope.matches(exchange.request.host, exchange.request.path)

    def rewrite(self, exchange: Exchange) -> Exchange | None:  # pragma: no cover - abstract
        raise NotImplementedError


def check_keys(config: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise PluginConfigError naming any key of `config` not in `allowed`."""
    known = set(allowed)
    unknown = sorted(str(k) for k in config if k not in known)
    if unknown:
        raise PluginConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def string_list(config: Mapping[str, Any], key: str, where: str) -> list[str]:
    """A setting that must be a list of strings (a single string is taken as a list of one)."""
    value = config.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PluginConfigError(f"{where}: {key!r} must be a list of strings, got {value!r}")
    return list(value)
