"""Importing tapes from vcrpy cassettes, HAR files and yakbak folders; exporting tape folders
to vcrpy cassettes and HAR.

Invariants:
1. Every imported exchange is redacted before it is written (tapes.redact), like a recording.
2. Importing is idempotent: the same sources give the same file names and contents. The n-th
   exchange with the same key in one import is written as recording n (for `--sequence`).
3. Nothing is dropped silently: exchanges without a response, unreadable files and bodies kept
   raw (a corrupt compressed body) are counted in the tally by reason and listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from observe.errors import BodyError, InputError
from observe.exchange import Exchange
from observe.formats.tape import dump_tape
from observe.tally import Tally
from tapes.explain import operation_id_of
from tapes.matching import MatchConfig, load_folder_config, request_key
from tapes.redact import redact
from tapes.store import TapeStore, tape_name
from tapes.yakbak import YakbakError, is_yakbak_source, parse_yakbak, yakbak_files


@dataclass
class ImportResult:
    written: list[Path] = field(default_factory=list)
    raw_bodies: list[tuple[Path, str]] = field(default_factory=list)


def read_any(path: Path, tally: Tally) -> Iterator[Exchange]:
    """Exchanges from a yakbak folder/file, or any format restscope's sources read."""
    if is_yakbak_source(path):
        for file in yakbak_files(path):
            try:
                text = file.read_text(encoding="utf-8")
                exchange = parse_yakbak(text, str(file))
            except (OSError, UnicodeDecodeError, YakbakError) as exc:
                tally.skip("record", f"not a yakbak tape: {type(exc).__name__}")
                continue
            yield exchange
        return
    try:
        from observe.sources import read_source
    except ImportError as exc:
        raise InputError(f"{path}: the traffic readers are not installed ({exc})") from exc
    try:
        yield from read_source(path, tally=tally)
    except ImportError as exc:
        raise InputError(
            f"{path}: cannot read this format yet: a reader module is missing ({exc})"
        ) from exc


def import_sources(
    sources: list[Path], folder: Path, tally: Tally, config: MatchConfig | None = None
) -> ImportResult:
    """Write one tape per exchange read from `sources` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config = config or load_folder_config(folder)
    store = TapeStore(folder.resolve(), config)
    seen: Counter[str] = Counter()
    result = ImportResult()
    for source in sources:
        if not source.exists():
            raise InputError(f"{source}: no such file or folder")
        for exchange in read_any(source, tally):
            if exchange.response is None:
                tally.skip("exchange", "no response")
                continue
            request = exchange.request
            try:
                body = request.decoded()
            except Exception:
                body = request.body
            key = request_key(request.method, request.target, request.headers, body, config)
            seen[key.digest] += 1
            saved = redact(exchange)
            operation = operation_id_of(saved)
            if operation:
                saved = saved.with_meta(operation_id=operation)
            name = tape_name(request.method, key.path, key.digest, operation, seen[key.digest])
            path = store.path_for(request.host or "unknown-host", name)
            text = dump_tape(saved)
            store.write(path, text)
            result.written.append(path)
            tally.count("tapes written")
            note = _raw_note(saved)
            if note:
                result.raw_bodies.append((path, note))
                tally.count("bodies kept raw (cannot be decoded)")
    return result


def _raw_note(exchange: Exchange) -> str:
    """Why a response body is stored as sent (it cannot be decoded), or ''."""
    response = exchange.response
    if response is None or not response.content_encoding:
        return ""
    try:
        response.decoded()
    except BodyError as exc:
        return f"body kept as sent: {exc}"
    return ""


def folder_exchanges(folder: Path, tally: Tally) -> Iterator[Exchange]:
    """The tapes of a folder as exchanges (the reader counts skips, the caller exchanges)."""
    from observe.formats.tapefolder import read_tape_folder
    from observe.sources import ReadOptions

    return read_tape_folder(folder, ReadOptions(), tally)


def export_folder(folder: Path, output: Path, fmt: str, tally: Tally) -> None:
    """Write every tape of `folder` as one vcrpy cassette or one HAR file."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such tape folder")
    exchanges = list(folder_exchanges(folder, tally))
    for exchange in exchanges:
        tally.exchange(exchange.incomplete)
    with open(output, "w", encoding="utf-8", newline="\n") as handle:
        if fmt == "cassette":
            _write_cassette(exchanges, handle)
        else:
            _write_har(exchanges, handle, output)


def _write_cassette(exchanges: list[Exchange], handle: TextIO) -> None:
    try:
        from observe.formats.cassette import write_cassette
    except ImportError as exc:
        raise InputError(
            f"exporting cassettes needs observe.formats.cassette, not installed yet ({exc})"
        ) from exc
    write_cassette(exchanges, handle)


def _write_har(exchanges: list[Exchange], handle: TextIO, output: Path) -> None:
    try:
        from observe.formats.writers import writer_for
    except ImportError as exc:
        raise InputError(
            f"exporting HAR needs observe.formats.writers, not installed yet ({exc})"
        ) from exc
    writer_for(output, "har")(iter(exchanges), handle)
