"""`--ignore FILE`: findings a team has accepted, by rule id and location.

The file is a YAML list of mappings, e.g.

    - rule: response-property-removed
      location: "GET /photos/{id} response 200 application/json owner"
      reason: owner moved to /people (optional, for people)
    - rule: operation-deprecated          # no location: every location

`location` may use shell-style wildcards (`GET /photos/*`). Unknown keys are allowed (`reason`).

Invariant: a malformed file is unusable input (InputError, exit 2), never silently ignored.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from observe.errors import InputError
from specs.diffing.findings import Finding


@dataclass(frozen=True)
class IgnoreEntry:
    rule: str
    location: str | None

    def matches(self, finding: Finding) -> bool:
        if self.rule not in (finding.rule, "*"):
            return False
        if self.location is None:
            return True
        return self.location == finding.location or fnmatch.fnmatchcase(
            finding.location, self.location)


def load_ignore_file(path: str) -> list[IgnoreEntry]:
    try:
        raw = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ignore file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: ignore file is not valid YAML") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError(f"{path}: ignore file must be a YAML list of {{rule, location}}")
    entries = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("rule"), str):
            raise InputError(f"{path}: entry {index + 1} needs a 'rule' (and may have 'location')")
        location = item.get("location")
        if location is not None and not isinstance(location, str):
            raise InputError(f"{path}: entry {index + 1}: 'location' must be a string")
        entries.append(IgnoreEntry(item["rule"], location))
    return entries


def apply_ignores(findings: Sequence[Finding], entries: Sequence[IgnoreEntry]) -> list[Finding]:
    return [f for f in findings if not any(e.matches(f) for e in entries)]
