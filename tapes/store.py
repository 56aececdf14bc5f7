"""The tape folder: file naming, the in-memory index of keys, cached replies, atomic writes.

Layout: `<folder>/<host>/<METHOD>_<name>_<hash12>[_<n>].yaml`, where `name` is a plugin's
operation name (`photos.search` for `flickr.photos.search`) or the last path segments, and `n`
numbers the recordings of one key in `--sequence` mode.

Invariants:
1. Every path this module writes is inside the folder: names are sanitised to [A-Za-z0-9._-],
   never start with a dot, are length-capped, and the final path is checked to be under the
   folder after resolving.
2. Writes are atomic (hidden temporary file in the same directory, fsync, `os.replace`), so a
   reader or a killed writer never leaves a half-written tape; hidden files are never indexed.
3. A reply is rebuilt when the tape's (mtime_ns, size) changes, so hand edits apply at once.
4. A tape is indexed under the key computed from its content and under the hash in its name
   (the key it was recorded with, before redaction changed the request).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from observe.encoding import encode_content
from observe.errors import BodyError
from observe.formats.tape import Tape, TapeFormatError, load_tape
from observe.formats.tapefolder import tape_files
from tapes.errors import TapeError
from tapes.index_cache import IndexCache, ensure_gitignore
from tapes.matching import MatchConfig, RequestKey, request_key

MAX_NAME = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_HASH = re.compile(r"_([0-9a-f]{12})(?:_(\d+))?\.ya?ml$")
HOP_HEADERS = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length",
    "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization",
})


def safe_component(text: str, fallback: str = "_") -> str:
    """A file-name component made only of safe characters, never `.`/`..`, length-capped."""
    cleaned = _UNSAFE.sub("-", text).strip("-.")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:MAX_NAME].strip("-.")
    return cleaned or fallback


def tape_name(method: str, path: str, digest: str, operation_id: str | None, n: int = 1) -> str:
    """The file name of a tape: `GET_photos.search_<hash12>.yaml`."""
    if operation_id:
        label = operation_id.removeprefix("flickr.")
    else:
        segments = [s for s in path.split("/") if s]
        label = "_".join(segments[-2:]) if segments else "root"
    suffix = f"_{n}" if n > 1 else ""
    verb = safe_component(method.upper(), "GET")
    return f"{verb}_{safe_component(label, 'root')}_{digest}{suffix}.yaml"


def inside(folder: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


@dataclass
class Reply:
    """A tape ready to send: headers without framing, the decoded body, its original encoding."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    encoding: str
    duration: float | None
    tape_label: str
    _wire: dict[bool, bytes] = field(default_factory=dict)

    def wire(self, accepts_encoding: bool) -> bytes:
        """The full HTTP/1.1 response bytes, encoded only for a client that accepts it."""
        encode = bool(self.encoding) and accepts_encoding
        cached = self._wire.get(encode)
        if cached is not None:
            return cached
        body = self.body
        headers = self.headers
        if self.encoding:
            if encode:
                try:
                    body = encode_content(body, self.encoding)
                except BodyError:
                    encode = False
            if not encode:
                headers = [(n, v) for n, v in headers if n.lower() != "content-encoding"]
        lines = [f"HTTP/1.1 {self.status} {self.reason or _reason(self.status)}"]
        lines += [f"{n}: {v}" for n, v in headers]
        if bodyless(self.status):
            body = b""
        else:
            lines.append(f"Content-Length: {len(body)}")
        lines.append(f"X-Restscope-Tape: {self.tape_label}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self._wire[encode] = head + body
        return self._wire[encode]


def bodyless(status: int) -> bool:
    """Statuses that never carry a body or Content-Length framing (1xx, 204, 304)."""
    return status < 200 or status in (204, 304)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Entry:
    key: RequestKey
    paths: list[Path]


class TapeStore:
    """The index of one tape folder and the cache of replies built from its files."""

    def __init__(self, folder: Path, config: MatchConfig) -> None:
        self.folder = folder
        self.config = config
        self.entries: dict[str, Entry] = {}
        self.used: set[Path] = set()
        self.bad: dict[Path, str] = {}
        self._replies: dict[Path, tuple[int, int, Reply]] = {}

    # -- index ---------------------------------------------------------------------------
    def scan(self) -> None:
        """Index every tape in the folder (bad tapes are remembered, not fatal).

        Keys of unchanged tapes come from the folder's index cache; others are parsed.
        """
        self.entries.clear()
        if not self.folder.is_dir():
            return
        cache = IndexCache(self.folder, self.config)
        for path in tape_files(self.folder):
            try:
                stat = os.stat(path)
            except OSError:
                continue
            name = self.label(path)
            key = cache.get(name, stat)
            if key is None:
                key = self._parse(path, stat)
                if key is None:
                    continue
                cache.put(name, stat, key)
            self._index(path, key)
        cache.save()

    def add(self, path: Path) -> RequestKey | None:
        """Index one tape file (a new recording, or one another process wrote)."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = self._parse(path, stat)
        if key is not None:
            self._index(path, key)
        return key

    def _parse(self, path: Path, stat: os.stat_result) -> RequestKey | None:
        """Load a tape: its key, and its reply cached for the file's (mtime, size)."""
        try:
            tape = load_tape(path)
        except (TapeFormatError, OSError) as exc:
            self.bad[path] = str(exc)
            return None
        req = tape.exchange.request
        try:
            body = req.decoded()
        except BodyError:
            body = req.body
        reply = self._reply_of(path, tape)
        if reply is not None:
            self._replies[path] = (stat.st_mtime_ns, stat.st_size, reply)
        return request_key(req.method, req.target, req.headers, body, self.config)

    def _index(self, path: Path, key: RequestKey) -> None:
        digests = {key.digest}
        named = _NAME_HASH.search(path.name)
        if named:
            digests.add(named.group(1))
        for digest in digests:
            entry = self.entries.setdefault(digest, Entry(key, []))
            if path not in entry.paths:
                entry.paths.append(path)
                entry.paths.sort(key=_sequence_number)

    def lookup(self, digest: str, n: int = 1) -> Path | None:
        entry = self.entries.get(digest)
        if entry is None or len(entry.paths) < n:
            return None
        return entry.paths[n - 1]

    def all_tapes(self) -> set[Path]:
        return {p for e in self.entries.values() for p in e.paths}

    def nearest(self, key: RequestKey, limit: int = 3) -> list[tuple[Path, list[str]]]:
        seen: set[Path] = set()
        ranked: list[tuple[int, str, Path, list[str]]] = []
        for entry in self.entries.values():
            path = entry.paths[0]
            if path in seen:
                continue
            seen.add(path)
            ranked.append((key.distance(entry.key), str(path), path, key.differences(entry.key)))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [(path, diffs) for _, _, path, diffs in ranked[:limit]]

    # -- replies -------------------------------------------------------------------------
    def reply(self, path: Path) -> Reply | None:
        """The reply for a tape file, rebuilt when the file changed; None when it is gone."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        cached = self._replies.get(path)
        if cached is not None and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
            return cached[2]
        try:
            tape = load_tape(path)
        except (TapeFormatError, OSError) as exc:
            self.bad[path] = str(exc)
            return None
        reply = self._reply_of(path, tape)
        if reply is not None:
            self._replies[path] = (stat.st_mtime_ns, stat.st_size, reply)
        return reply

    def _reply_of(self, path: Path, tape: Tape) -> Reply | None:
        response = tape.exchange.response
        if response is None:
            return None
        return Reply(
            status=response.status,
            reason=response.reason,
            headers=[(n, v) for n, v in response.headers if n.lower() not in HOP_HEADERS],
            body=tape.response_body,
            encoding=tape.response_encoding,
            duration=tape.duration,
            tape_label=self.label(path),
        )

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return path.name

    # -- writing -------------------------------------------------------------------------
    def path_for(self, host: str, name: str) -> Path:
        path = self.folder / safe_component(host.lower()) / name
        if not inside(self.folder, path):
            raise TapeError(f"refusing to write outside the tape folder: {path}")
        return path

    def write(self, path: Path, text: str) -> None:
        """Write a tape atomically (temporary file + fsync + rename)."""
        if not inside(self.folder, path):
            raise TapeError(f"refusing to write outside the tape folder: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        self._replies.pop(path, None)

    def try_lock(self, digest: str) -> int | None:
        """Take the cross-process lock of one key without waiting: a descriptor, or None.

        The lock is `flock` on `.locks/<digest[:2]>.lock`; the kernel drops it when the holder dies.
        """
        lock_dir = self.folder / ".locks"
        if not lock_dir.is_dir():
            lock_dir.mkdir(parents=True, exist_ok=True)
            ensure_gitignore(self.folder)
        # 256 lock files at most: keys sharing a prefix only wait for each other
        fd = os.open(lock_dir / f"{digest[:2]}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        os.close(fd)


def _sequence_number(path: Path) -> int:
    named = _NAME_HASH.search(path.name)
    return int(named.group(2)) if named and named.group(2) else 1
