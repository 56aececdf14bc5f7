"""A folder as a traffic source: every tape file under it read as one Exchange, and every other
traffic file in it (a vcrpy cassette, a HAR, a capture...) read with its own reader.

Registered as format "tapes" (detect_format returns it for directories). Files are read in
sorted path order so a run is deterministic; a file that is neither a tape nor another traffic
file, or a tape that cannot be read, is counted in the tally (record, reason) and skipped, never
fatal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from observe.errors import InputError
from observe.exchange import Exchange
from observe.formats.common import wanted
from observe.sources import ReadOptions, register
from observe.tally import Tally

TAPE_SUFFIXES = (".yaml", ".yml")


def _sniff(head: bytes, path: Path) -> bool:
    return path.is_dir()


def tape_files(folder: Path) -> list[Path]:
    """Every tape file under `folder`, sorted, skipping hidden files and the folder config."""
    return [path for path in _visible_files(folder) if path.suffix in TAPE_SUFFIXES]


def _visible_files(folder: Path) -> list[Path]:
    """Every regular file under `folder`, sorted, skipping hidden ones and the folder config."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name not in ("tapes.yaml", "tapes.yml"):
            found.append(path)
    return sorted(found)


def _other_format(file: Path) -> str | None:
    """The format of a file in the folder that is not a tape (a cassette, a HAR...), or None."""
    from observe.sources import detect_format

    try:
        name = detect_format(file)
    except InputError:
        return None
    return None if name == "tapes" else name


@register("tapes", _sniff, "a folder: restscope tapes (one YAML file per interaction) and any "
          "other traffic files in it")
def read_tape_folder(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Tapes and other traffic files (cassettes, HARs, captures...) under a folder, in sorted
    path order; a file that is neither is counted ("not a traffic file"), never fatal."""
    from observe.formats.tape import TapeFormatError, load_tape
    from observe.sources import formats

    if not path.is_dir():
        raise InputError(f"{path}: not a tape folder")
    index = -1
    for file in _visible_files(path):
        reason = "not a traffic file"
        if file.suffix in TAPE_SUFFIXES:
            try:
                exchange = load_tape(file).exchange
            except TapeFormatError as exc:
                reason = f"bad tape: {exc.reason}"
            except OSError:
                tally.skip("record", "unreadable tape")
                continue
            else:
                index += 1
                if not wanted(options, exchange.request, tally):
                    continue
                yield exchange.evolve(origin=exchange.origin.__class__("tapes", str(file), index))
                continue
        other = _other_format(file)
        if other is None:
            tally.skip("record", reason)
            continue
        yield from formats()[other].read(file, options, tally)
