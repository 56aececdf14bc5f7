"""The plugin chain every traffic-reading command runs, found through entry points.

`observe` must not import `plugins`; it only knows the structural `Rewriter` protocol and loads
implementations from the `restscope.plugins` entry-point group. Redaction (entry point `redact`)
runs last by default, so nothing reaches disk or a terminal unredacted.

Invariants:
1. A plugin only sees exchanges in its declared scope (`applies_to`).
2. A plugin returning None drops the exchange; the drop is counted with the plugin's reason.
3. A plugin that raises (in `applies_to` or `rewrite`) is reported with the exchange it failed
   on and the exchange is skipped (counted); under `strict` the run stops with
   `PluginFailedError` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from observe.errors import InputError, RestscopeError
from observe.exchange import Exchange
from observe.tally import Tally

PLUGIN_GROUP = "restscope.plugins"
REDACT = "redact"
# all the capture listing shows of an exchange (observe.report.exchange_line)
LISTING_PARTS = frozenset({"method", "url", "status", "incomplete"})


@runtime_checkable
class Rewriter(Protocol):
    """What the chain needs from a plugin (see `plugins.base.Plugin` for the full contract)."""

    @property
    def name(self) -> str: ...

    def applies_to(self, exchange: Exchange) -> bool: ...

    def rewrite(self, exchange: Exchange) -> Exchange | None: ...


class PluginFailedError(RestscopeError):
    """A plugin raised while rewriting an exchange and the run is strict."""


def available_plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


def load_plugin(name: str, config: Mapping[str, Any] | None = None) -> Rewriter:
    """Instantiate the plugin registered as `name` with its configuration."""
    known = available_plugins()
    if name not in known:
        listing = ", ".join(sorted(known)) or "none installed"
        raise InputError(f"unknown plugin {name!r} (available: {listing})")
    factory = known[name].load()
    plugin = factory(dict(config or {}))
    if not isinstance(plugin, Rewriter):
        raise InputError(f"plugin {name!r} does not provide name, applies_to and rewrite")
    return plugin


def read_plugin_config(path: str | Path | None, names: list[str]) -> dict[str, dict[str, Any]]:
    """Split a `--plugin-config` YAML file into one configuration per plugin.

    A file whose top-level keys name plugins gives each its section; otherwise the whole file
    configures the one plugin asked for (besides redaction).
    """
    if path is None:
        return {}
    import yaml  # only when a plugin config is given: capture need not load it

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InputError(f"{path}: cannot read plugin config ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: plugin config is not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: plugin config must be a YAML mapping")
    if any(name in data for name in names):
        return {name: dict(data.get(name) or {}) for name in names}
    chosen = [n for n in names if n != REDACT]
    if len(chosen) != 1:
        raise InputError(
            f"{path}: with several plugins, put each one's settings under its name "
            f"({', '.join(chosen)})"
        )
    return {chosen[0]: data}


ErrorReporter = Callable[[str], None]


def exchange_place(exchange: Exchange) -> str:
    """The method and URL of an exchange for an error message, without the query and the
    user info, which may hold credentials (the message is printed before redaction runs)."""
    request = exchange.request
    authority = request.authority or request.headers.get("host") or ""
    return f"{request.method} {request.scheme}://{authority.rpartition('@')[2]}{request.path}"


class PluginChain:
    """Plugins applied in order to each exchange, with counting and error isolation."""

    def __init__(
        self,
        plugins: Iterable[Rewriter],
        tally: Tally,
        strict: bool = False,
        report_error: ErrorReporter | None = None,
    ) -> None:
        self.plugins = list(plugins)
        self.tally = tally
        self.strict = strict
        self.report_error = report_error

    @classmethod
    def build(
        cls,
        names: Iterable[str],
        tally: Tally,
        config_path: str | Path | None = None,
        redact: bool = True,
        strict: bool = False,
        report_error: ErrorReporter | None = None,
    ) -> PluginChain:
        ordered = [n for n in names if n != REDACT]
        if redact:
            ordered.append(REDACT)
        configs = read_plugin_config(config_path, ordered)
        available = available_plugins()
        plugins = [
            load_plugin(name, configs.get(name))
            for name in ordered
            if name != REDACT or REDACT in available
        ]
        return cls(plugins, tally, strict, report_error)

    def output_shows(self, parts: frozenset[str]) -> None:
        """Tell the plugins that the output shows only `parts` of each exchange (say
        `LISTING_PARTS`): a plugin that changes exchanges only for the output's sake
        (redaction) may then leave the rest as it is. Plugins without `output_shows` are not
        told."""
        for plugin in self.plugins:
            told = getattr(plugin, "output_shows", None)
            if told is not None:
                told(parts)

    def _scrubbed(self, text: str, exchange: Exchange) -> str:
        """`text` (a message about `exchange`, printed before redaction has run on it) with
        the exchange's secret values replaced by the plugins that know them (`scrub_text`:
        redaction, unless --no-redact)."""
        for plugin in self.plugins:
            scrub = getattr(plugin, "scrub_text", None)
            if scrub is not None:
                text = scrub(text, exchange)
        return text

    def apply(self, exchange: Exchange) -> Exchange | None:
        for plugin in self.plugins:
            try:
                if not plugin.applies_to(exchange):
                    continue
                result = plugin.rewrite(exchange)
            except Exception as exc:
                where = exchange_place(exchange)
                message = self._scrubbed(
                    f"plugin {plugin.name} failed on {where}: {type(exc).__name__}: {exc}",
                    exchange)
                if self.strict:
                    raise PluginFailedError(message) from exc
                self.tally.skip("exchange", f"plugin {plugin.name} failed")
                if self.report_error:
                    self.report_error(message)
                return None
            if result is None:
                reason = getattr(plugin, "drop_reason", None) or "dropped"
                self.tally.skip("exchange", f"{plugin.name}: {reason}")
                return None
            exchange = result
        return exchange

    def run(self, exchanges: Iterable[Exchange]) -> Iterator[Exchange]:
        for exchange in exchanges:
            result = self.apply(exchange)
            if result is not None:
                yield result
