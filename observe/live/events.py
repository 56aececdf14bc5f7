"""Events the live pipeline reports: a new operation, a drift finding, an error burst, a summary.

`tail --follow` prints one line per event (`Event.line()`), `--json` one JSON object per line
(`Event.to_json()`, keys sorted). Events carry the traffic's own time (the exchange timestamp),
not the wall clock, so the same log gives the same events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

NEW_OPERATION = "new_operation"
DRIFT = "drift"
ERROR_BURST = "error_burst"
SUMMARY = "summary"


def format_time(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Event:
    """One thing worth a line: `kind` is one of the constants above."""

    kind: str
    time: float | None
    operation: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind, "time": format_time(self.time)}
        if self.operation:
            data["operation"] = self.operation
        if self.message:
            data["message"] = self.message
        data.update(self.details)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, default=str)

    def line(self) -> str:
        parts = [format_time(self.time), self.kind.upper().replace("_", "-")]
        if self.operation:
            parts.append(self.operation)
        if self.message:
            parts.append(self.message)
        return " ".join(parts)
