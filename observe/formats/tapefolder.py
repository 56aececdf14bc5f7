"""A tape folder as a traffic source: every tape file under it read as one Exchange.

Registered as format "tapes" (detect_format returns it for directories). Tapes are read in
sorted path order so a run is deterministic; a tape that cannot be read is counted in the
tally (record, reason) and skipped, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from observe.errors import InputError
from observe.exchange import Exchange
from observe.sources import ReadOptions, register
from observe.tally import Tally

TAPE_SUFFIXES = (".yaml", ".yml")


def _sniff(head: bytes, path: Path) -> bool:
    return path.is_dir()


def tape_files(folder: Path) -> list[Path]:
    """Every tape file under `folder`, sorted, skipping hidden files and the folder config."""
    found: list[Path] = []
    for path in folder.rglob("*"):
        if path.suffix not in TAPE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.name in ("tapes.yaml", "tapes.yml"):
            continue
        found.append(path)
    return sorted(found)


@register("tapes", _sniff, "restscope tape folder (one YAML file per interaction)")
def read_tape_folder(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    from observe.formats.tape import TapeFormatError, load_tape

    if not path.is_dir():
        raise InputError(f"{path}: not a tape folder")
    for index, file in enumerate(tape_files(path)):
        try:
            exchange = load_tape(file).exchange
        except TapeFormatError as exc:
            tally.skip("record", f"bad tape: {exc.reason}")
            continue
        except OSError:
            tally.skip("record", "unreadable tape")
            continue
        if not options.wants(exchange.request.host, exchange.request.port):
            tally.skip("exchange", "filtered out")
            continue
        yield exchange.evolve(origin=exchange.origin.__class__("tapes", str(file), index))
