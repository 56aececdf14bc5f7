"""The `restscope.checkers` entry point `openapi`: a spec checker for the live tail.

`build_checker(spec_path)` loads the spec once (a file or `git:REF:path`) and returns a
`Checker` whose `check(exchange) -> list[Finding]` the live report calls on each exchange as
it arrives. Each Finding has the rule id, severity, location, message and a redacted example.
Invariant: unusable specs raise `observe.errors.InputError` here, before traffic flows.
"""

from __future__ import annotations

import os

from specs.checking.checker import Checker
from specs.diffing.loading import load_spec


def build_checker(spec_path: str | os.PathLike[str]) -> Checker:
    """A checker for one spec file (a str, a Path, or `git:REF:path`)."""
    return Checker(load_spec(os.fspath(spec_path)))
