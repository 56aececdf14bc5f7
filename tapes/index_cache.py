"""A small on-disk cache of a tape folder's index, so a proxy starts without parsing every tape.

`.restscope-index.json` in the folder maps each tape (relative path) to its (mtime_ns, size)
and matching key. An entry is used only when the file's mtime and size are unchanged and the
matching configuration is the same (a fingerprint); anything else is parsed again.

Invariants:
1. The cache is an optimisation only: a missing, stale or corrupt cache gives the same index.
2. It is written atomically (temporary file + rename); concurrent writers just race to a
   complete file. It holds no bodies and no secrets (keys leave secret parameters out).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from tapes.matching import MatchConfig, RequestKey

CACHE_NAME = ".restscope-index.json"
VERSION = 1


GITIGNORE = (
    "# written by restscope tapes: local state, not tapes\n"
    ".locks/\n.restscope-index.json\n.*.tmp\n"
)


def ensure_gitignore(folder: Path) -> None:
    """Keep the folder's lock files, index cache and temporary files out of git."""
    path = folder / ".gitignore"
    if path.exists():
        return
    with contextlib.suppress(OSError):
        path.write_text(GITIGNORE, encoding="utf-8")


def fingerprint(config: MatchConfig) -> str:
    text = json.dumps([VERSION, sorted(config.ignore_params), list(config.headers)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class IndexCache:
    """Cached keys of one folder for one matching configuration."""

    def __init__(self, folder: Path, config: MatchConfig) -> None:
        self.path = folder / CACHE_NAME
        self.fingerprint = fingerprint(config)
        self.entries: dict[str, list[Any]] = {}
        self.fresh: dict[str, list[Any]] = {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(doc, dict) and doc.get("fingerprint") == self.fingerprint:
            entries = doc.get("entries")
            if isinstance(entries, dict):
                self.entries = entries

    def get(self, name: str, stat: os.stat_result) -> RequestKey | None:
        item = self.entries.get(name)
        if not isinstance(item, list) or len(item) != 7:
            return None
        if item[0] != stat.st_mtime_ns or item[1] != stat.st_size:
            return None
        try:
            key = RequestKey(
                method=str(item[2]), path=str(item[3]),
                query=tuple((str(k), str(v)) for k, v in item[4]),
                body=str(item[5]), headers=tuple((str(k), str(v)) for k, v in item[6]),
            )
        except (TypeError, ValueError):
            return None
        self.fresh[name] = item
        return key

    def put(self, name: str, stat: os.stat_result, key: RequestKey) -> None:
        self.fresh[name] = [stat.st_mtime_ns, stat.st_size, key.method, key.path,
                            [list(p) for p in key.query], key.body,
                            [list(h) for h in key.headers]]

    def save(self) -> None:
        """Write the cache when it changed (atomically); errors are ignored."""
        if self.fresh == self.entries:
            return
        doc = {"version": VERSION, "fingerprint": self.fingerprint, "entries": self.fresh}
        ensure_gitignore(self.path.parent)
        temporary = self.path.with_name(f".{CACHE_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            temporary.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
