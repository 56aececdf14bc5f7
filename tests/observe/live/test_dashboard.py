"""The dashboard driven in a real pseudo-terminal (tmux), reading the screen: rows per operation,
a new operation highlighted as it appears, keys that sort and filter, 'q' to quit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from observe.live.capture_log import CaptureLogWriter
from observe.live.dashboard import ViewState
from tests.observe.live.helpers import make_exchange

pytestmark = pytest.mark.timeout(60)
T0 = 1_700_000_000.0


class Tmux:
    """One detached tmux session on a private server socket."""

    def __init__(self, command: list[str], width: int = 150, height: int = 40) -> None:
        self.socket = f"restscope-test-{os.getpid()}-{time.monotonic_ns()}"
        shell = " ".join(_quote(part) for part in command)
        self._run("new-session", "-d", "-s", "dash", "-x", str(width), "-y", str(height),
                  f"env -u COLUMNS -u LINES {shell}; sleep 30")

    def _run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                                capture_output=True, text=True, timeout=10)
        return result.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "dash")

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", "dash", *keys)

    def wait_for(self, test: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        size = self._run("display", "-p", "-t", "dash", "#{pane_width}x#{pane_height}")
        raise AssertionError(f"screen ({size.strip()}) never matched:\n{screen}")

    def close(self) -> None:
        self._run("kill-server")


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "capture.jsonl"
    with CaptureLogWriter(path) as writer:
        for i in range(12):
            writer.write(make_exchange("GET", f"/users/{i}", 200, T0 + i, 0.005))
        for i in range(3):
            writer.write(make_exchange("DELETE", f"/users/{i}", 404, T0 + 20 + i, 0.300))
    return path


@pytest.fixture
def tmux() -> Iterator[Callable[[list[str]], Tmux]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    sessions: list[Tmux] = []

    def start(command: list[str]) -> Tmux:
        session = Tmux(command)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()


def _row_order(screen: str, *names: str) -> list[str]:
    found = [(screen.find(name), name) for name in names if name in screen]
    return [name for _, name in sorted(found)]


def test_dashboard_shows_rows_highlights_new_operations_sorts_filters_and_quits(
        log: Path, tmux: Callable[[list[str]], Tmux]) -> None:
    term = tmux([sys.executable, "-m", "observe", "tail", str(log)])
    screen = term.wait_for(lambda s: "GET /users/{id}" in s and "DELETE /users/{id}" in s)
    assert "15 exchanges, 2 operations" in screen
    get_line = next(line for line in screen.splitlines() if "GET /users/{id}" in line)
    assert " 12 " in get_line
    # sorted by count: GET (12) above DELETE (3)
    assert _row_order(screen, "GET /users", "DELETE /users") == ["GET /users", "DELETE /users"]

    with CaptureLogWriter(log) as writer:  # traffic goes on: a new operation appears
        writer.write(make_exchange("POST", "/orders", 201, T0 + 40, 0.050))
    screen = term.wait_for(lambda s: "POST /orders" in s)
    assert "NEW POST /orders" in screen
    assert "NEW GET /users" not in screen  # the backlog is not "new"

    term.keys("5")  # sort by p50: DELETE (300 ms) first
    screen = term.wait_for(lambda s: "p50ms ▼" in s)
    assert _row_order(screen, "GET /users", "DELETE /users", "POST /orders")[0] == \
        "DELETE /users"

    term.keys("/", "o", "r", "d", "Enter")  # filter
    screen = term.wait_for(lambda s: "filter: ord" in s and "GET /users" not in s)
    assert "POST /orders" in screen and "DELETE /users" not in screen
    term.keys("c")
    term.wait_for(lambda s: "GET /users" in s)

    term.keys("q")  # quits: the pane's command becomes the shell's trailing sleep
    deadline = time.monotonic() + 10
    command = ""
    while time.monotonic() < deadline:
        command = term._run("display", "-p", "-t", "dash", "#{pane_current_command}").strip()
        if command == "sleep":
            break
        time.sleep(0.1)
    assert command == "sleep"


def test_keys_change_the_view_state() -> None:
    state = ViewState()
    state.handle_key("3")
    assert state.sort == "rate" and state._descending()
    state.handle_key("3")
    assert not state._descending()
    state.handle_key("s")
    assert state.sort == "errors"
    for key in "/get\x7fT\r":
        state.handle_key(key)
    assert state.pattern == "geT" and state.typing is None
    state.handle_key("/")
    state.handle_key("x")
    state.handle_key("\x1b")
    assert state.pattern == "geT"
    state.handle_key("q")
    assert state.quit
