"""Pick the writer for an output file: by the format name given, else by the file extension.

A writer is `write(exchanges, stream) -> int` (how many exchanges it wrote); it writes text to
an already open stream and never closes it.

Importing a format module registers its reader with `observe.sources`, and `formats()` loads
the built-in readers only while the registry is empty; so the writer modules are imported only
after `formats()` has loaded every reader (otherwise `capture` would stop detecting pcaps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from observe.errors import InputError
from observe.exchange import Exchange
from observe.sources import formats

Writer = Callable[[Iterable[Exchange], TextIO], int]

EXTENSIONS = {".har": "har", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def writers() -> dict[str, Writer]:
    """Every output format by name."""
    formats()
    from observe.formats.cassette import write_cassette
    from observe.formats.har import write_har
    from observe.formats.jsonl import write_jsonl

    return {"har": write_har, "jsonl": write_jsonl, "cassette": write_cassette}


def writer_for(path: Path, format_name: str | None) -> Writer:
    """The writer for `format_name`, or for `path`'s extension (.har, .jsonl) when None."""
    format_name = format_for(path, format_name)
    known = writers()
    writer = known.get(format_name)
    if writer is None:
        raise InputError(
            f"unknown output format {format_name!r} (known: {', '.join(sorted(known))})"
        )
    return writer


def item_writer(format_name: str) -> Callable[[Iterable[Any], TextIO], int]:
    """For "jsonl" and "har": the writer of items already serialised for that format (JSONL
    lines from `jsonl_line`, HAR entries from `entry_text`)."""
    formats()
    from observe.formats.har import write_har_entries
    from observe.formats.jsonl import write_jsonl_lines

    found: dict[str, Callable[[Iterable[Any], TextIO], int]] = {
        "har": write_har_entries, "jsonl": write_jsonl_lines,
    }
    if format_name not in found:
        raise InputError(f"cannot write {format_name!r} here (har or jsonl)")
    return found[format_name]


def format_for(path: Path, format_name: str | None) -> str:
    """`format_name`, or the format `path`'s extension names (InputError if none)."""
    if format_name is None:
        format_name = EXTENSIONS.get(path.suffix.lower())
        if format_name is None:
            raise InputError(
                f"{path}: cannot tell the output format from the extension "
                f"{path.suffix or '(none)'!r}; name the file .har or .jsonl, or add "
                "--format har / --format jsonl"
            )
    return format_name
