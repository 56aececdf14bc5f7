"""The spec check of the live pipeline, loaded through the `restscope.checkers` entry points.

`observe` must not import `specs`: `load_checker(spec_path)` looks up the entry point named
`openapi` in the group `restscope.checkers` (registered by `specs`), calls it with the spec path
and gets an object with `check(exchange) -> list[finding]`. Findings are read by duck typing
(`rule` or `rule_id`, `severity`, `location`, `message`) into `Drift` values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from observe.errors import InputError, RestscopeError
from observe.exchange import Exchange

CHECKER_GROUP = "restscope.checkers"
DEFAULT_CHECKER = "openapi"


class Checker(Protocol):
    def check(self, exchange: Exchange) -> list[Any]: ...


@dataclass(frozen=True)
class Drift:
    """One finding of the spec check, as the live reports show it."""

    rule: str
    severity: str
    location: str
    message: str


def to_drift(finding: Any) -> Drift:
    rule = getattr(finding, "rule_id", None) or getattr(finding, "rule", None) or "drift"
    severity = getattr(finding, "severity", None) or "warning"
    return Drift(
        rule=str(rule),
        severity=str(getattr(severity, "value", severity)),
        location=str(getattr(finding, "location", "") or ""),
        message=str(getattr(finding, "message", "") or finding),
    )


def load_checker(spec_path: str | Path, name: str = DEFAULT_CHECKER) -> Callable[
        [Exchange], list[Drift]]:
    """A function checking one exchange against the spec at `spec_path`, returning drifts."""
    if not Path(spec_path).is_file():
        raise InputError(f"{spec_path}: no such spec file")
    found = {ep.name: ep for ep in entry_points(group=CHECKER_GROUP)}
    if name not in found:
        raise InputError(
            f"--spec needs the spec checker ({CHECKER_GROUP}:{name}), which is not installed; "
            "install restscope with its specs package"
        )
    try:
        build = found[name].load()
    except ImportError as exc:
        raise InputError(f"the spec checker cannot load: {exc}") from exc
    try:
        checker: Checker = build(str(spec_path))
    except RestscopeError:
        raise
    except Exception as exc:
        raise InputError(f"{spec_path}: cannot use this spec ({exc})") from exc

    def check(exchange: Exchange) -> list[Drift]:
        return [to_drift(finding) for finding in checker.check(exchange)]

    return check
