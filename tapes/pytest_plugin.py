"""pytest plugin for record/replay tapes (entry point `pytest11: restscope_tapes`).

Fixtures: `tapes_proxy` (a proxy running for one test in a background thread with its own
event loop; `.url` is its base URL) configured by overriding `tapes_config` (a dict: upstream,
folder, ignore_params, match_headers, sequence, latency) and per test by the marker
`@pytest.mark.tapes("folder-or-name", upstream=..., sequence=..., ignore_params=[...])`.
Flags: `--tapes-mode replay|record|overwrite|passthrough`, `--tapes-force` (record under CI),
`--tapes-report` (tapes no test used), `--tapes-prune` (delete them).

Invariants:
1. Importing this module is cheap: only pytest and the standard library load at import time;
   the proxy loads when a test first asks for `tapes_proxy`.
2. Replay is the default and `record` is refused when the CI variable is set, unless forced.
3. A miss in replay fails the test with the proxy's explanation, even when the client code
   swallowed the 502.
4. Under pytest-xdist, workers send the tapes they used to the controller, which reports and
   prunes once for the whole run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MODES = ("replay", "record", "overwrite", "passthrough")
_STATE = pytest.StashKey["TapesSession"]()
_HANDLE = pytest.StashKey["RunningTapes"]()
_OUTPUT_KEY = "restscope_tapes"


class TapesSession:
    """What the run learnt: folders served and tapes used (merged from xdist workers)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.folders: set[str] = set()
        self.used: set[str] = set()

    def unused(self) -> list[Path]:
        from observe.formats.tapefolder import tape_files

        found: list[Path] = []
        for folder in sorted(self.folders):
            if Path(folder).is_dir():
                found += [p for p in tape_files(Path(folder)) if str(p.resolve()) not in self.used]
        return found


class RunningTapes:
    """The proxy a test talks to: `url` is its base URL."""

    def __init__(self, background: Any, folder: Path, mode: str) -> None:
        self._background = background
        self.url: str = background.url
        self.folder = folder
        self.mode = mode

    @property
    def stats(self) -> Any:
        return self._background.proxy.stats

    def __str__(self) -> str:
        return self.url


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("restscope-tapes", "record/replay HTTP tapes (restscope)")
    group.addoption("--tapes-mode", choices=MODES, default=None,
                    help="replay (default): never touch the network; record: record misses; "
                         "overwrite: re-record; passthrough: forward without recording.")
    group.addoption("--tapes-force", action="store_true", default=False,
                    help="allow --tapes-mode record/overwrite when CI is set.")
    group.addoption("--tapes-report", action="store_true", default=False,
                    help="list tapes that no test of this run used.")
    group.addoption("--tapes-prune", action="store_true", default=False,
                    help="delete tapes that no test of this run used (full, passing runs only).")


def _in_ci() -> bool:
    value = os.environ.get("CI", "")
    return bool(value) and value.lower() not in ("0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tapes(name=None, upstream=None, **match): replay this test's HTTP calls from the tape "
        "folder `name` (restscope tapes)",
    )
    mode = config.getoption("--tapes-mode", None) or "replay"
    if mode in ("record", "overwrite") and _in_ci() and not config.getoption("--tapes-force"):
        raise pytest.UsageError(
            f"--tapes-mode {mode} is refused because CI is set (tapes are recorded on a "
            "developer machine and committed); add --tapes-force to record anyway"
        )
    config.stash[_STATE] = TapesSession(mode)


@pytest.fixture
def tapes_config() -> dict[str, Any]:
    """Override to configure tapes: upstream, folder, ignore_params, match_headers, sequence,
    latency ('recorded' or milliseconds)."""
    return {}


def _settings(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    merged = dict(config)
    marker = request.node.get_closest_marker("tapes")
    base = Path(request.node.path).parent
    name = None
    if marker is not None:
        name = marker.args[0] if marker.args else marker.kwargs.get("name")
        merged.update({k: v for k, v in marker.kwargs.items() if k != "name"})
    folder = merged.get("folder")
    if folder is None:
        folder = base / "tapes"
        if name:
            folder = folder / str(name)
    elif not Path(folder).is_absolute():
        folder = base / str(folder)
    merged["folder"] = Path(folder)
    return merged


@pytest.fixture
def tapes_proxy(request: pytest.FixtureRequest, tapes_config: dict[str, Any]) -> Iterator[Any]:
    """A record/replay proxy for this test; point the client at `tapes_proxy.url`."""
    from tapes.matching import MatchConfig, load_folder_config
    from tapes.proxy import ProxySettings
    from tapes.runner import BackgroundProxy

    session: TapesSession = request.config.stash[_STATE]
    settings = _settings(request, tapes_config)
    upstream = settings.get("upstream")
    if not upstream:
        pytest.fail("tapes_proxy needs an upstream: @pytest.mark.tapes(upstream=...) or "
                    "override the tapes_config fixture", pytrace=False)
    folder: Path = settings["folder"]
    if session.mode in ("record", "overwrite"):
        folder.mkdir(parents=True, exist_ok=True)
    match: MatchConfig = load_folder_config(folder) if folder.is_dir() else MatchConfig()
    match = match.merged(
        ignore_params=settings.get("ignore_params"),
        ignore_params_extra=settings.get("ignore_params_extra"),
        headers=settings.get("match_headers"),
        sequence=settings.get("sequence"),
        latency=str(settings["latency"]) if settings.get("latency") is not None else None,
    )
    background = BackgroundProxy(ProxySettings(
        upstream=str(upstream), folder=folder, mode=session.mode, match=match,
        ca=settings.get("ca"),
    )).start()
    handle = RunningTapes(background, folder, session.mode)
    request.node.stash[_HANDLE] = handle
    session.folders.add(str(folder.resolve()))
    try:
        yield handle
    finally:
        background.stop()
        session.used.update(str(p.resolve()) for p in background.proxy.store.used)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.when != "call":
        return
    handle = item.stash.get(_HANDLE, None)
    if handle is None or not handle.stats.miss_messages:
        return
    report.outcome = "failed"
    report.longrepr = "restscope tapes: the test made requests with no tape\n\n" + "\n".join(
        handle.stats.miss_messages[:5]
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state: TapesSession = session.config.stash[_STATE]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the data to the controller
        workeroutput[_OUTPUT_KEY] = {"folders": sorted(state.folders), "used": sorted(state.used)}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get(_OUTPUT_KEY)
    if data:
        state: TapesSession = node.config.stash[_STATE]
        state.folders.update(data["folders"])
        state.used.update(data["used"])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if getattr(config, "workeroutput", None) is not None:
        return
    report, prune = config.getoption("--tapes-report"), config.getoption("--tapes-prune")
    if not (report or prune):
        return
    state: TapesSession = config.stash[_STATE]
    unused = state.unused()
    terminalreporter.section("restscope tapes")
    terminalreporter.write_line(
        f"{len(unused)} tape(s) not used by this run in {len(state.folders)} folder(s)"
    )
    for path in unused:
        terminalreporter.write_line(f"  unused: {path}")
    if not prune:
        return
    narrowed = config.getoption("keyword", "") or config.getoption("markexpr", "")
    if exitstatus != 0 or narrowed:
        terminalreporter.write_line("  not pruning: only a full, passing run may prune tapes")
        return
    for path in unused:
        path.unlink(missing_ok=True)
    terminalreporter.write_line(f"  pruned {len(unused)} tape(s)")
