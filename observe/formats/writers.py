"""Pick the writer for an output file: by the format name given, else by the file extension.

A writer is `write(exchanges, stream) -> int` (how many exchanges it wrote); it writes text to
an already open stream and never closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from observe.errors import InputError
from observe.exchange import Exchange
from observe.formats.cassette import write_cassette
from observe.formats.har import write_har
from observe.formats.jsonl import write_jsonl

Writer = Callable[[Iterable[Exchange], TextIO], int]

WRITERS: dict[str, Writer] = {"har": write_har, "jsonl": write_jsonl, "cassette": write_cassette}
EXTENSIONS = {".har": "har", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def writer_for(path: Path, format_name: str | None) -> Writer:
    """The writer for `format_name`, or for `path`'s extension (.har, .jsonl) when None."""
    if format_name is None:
        format_name = EXTENSIONS.get(path.suffix.lower())
        if format_name is None:
            raise InputError(
                f"{path}: cannot tell the output format from the extension "
                f"{path.suffix or '(none)'!r}; name the file .har or .jsonl, or add "
                "--format har / --format jsonl"
            )
    writer = WRITERS.get(format_name)
    if writer is None:
        known = ", ".join(sorted(WRITERS))
        raise InputError(f"unknown output format {format_name!r} (known: {known})")
    return writer
