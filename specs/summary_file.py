"""The versioned summary file: an `ApiSummary` as canonical JSON (gzip when named *.gz).

    {"format": "restscope-summary", "version": 1, "operations": {...}}

Invariants: writing is canonical (sorted keys, no timestamps), so equal summaries give equal
bytes; a file of another format or version is refused with a message saying what to do.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from observe.errors import InputError
from specs.summary import ApiSummary

FORMAT = "restscope-summary"
VERSION = 1


def dump_summary(summary: ApiSummary) -> str:
    data = {"format": FORMAT, "version": VERSION, "operations": summary.to_dict()}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def write_summary(summary: ApiSummary, path: Path) -> None:
    text = dump_summary(summary)
    if path.suffix == ".gz":
        with gzip.GzipFile(path, "wb", mtime=0) as handle:
            handle.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")


def load_summary(path: Path) -> ApiSummary:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data: Any = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read summary ({exc.strerror or exc})") from exc
    except (ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a restscope summary file (not JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a restscope summary file "
                         "(write one with `restscope specs summarize SOURCES -o x.summary`)")
    if data.get("version") != VERSION:
        raise InputError(
            f"{path}: summary format version {data.get('version')!r} is not supported "
            f"(this restscope reads version {VERSION}); re-create it with "
            "`restscope specs summarize` from the original traffic"
        )
    try:
        return ApiSummary.from_dict(data["operations"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: corrupt summary file ({type(exc).__name__}: {exc})") from exc
