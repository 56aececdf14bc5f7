"""Running a proxy: in the foreground (the `serve` command) or in a background thread with
its own event loop (tests and the pytest plugin).

Invariant: `BackgroundProxy.stop()` closes the server and the upstream client and joins the
thread; nothing keeps running after it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable

from tapes.proxy import ProxySettings, TapeProxy


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (about twice the throughput), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class BackgroundProxy:
    """A TapeProxy serving on 127.0.0.1 from a daemon thread."""

    def __init__(self, settings: ProxySettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.proxy = TapeProxy(settings)
        self._host, self._port = host, port
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name="restscope-tapes", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.address: tuple[str, int] = ("", 0)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.address = self._loop.run_until_complete(self.proxy.start(self._host, self._port))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.proxy.close())
        self._loop.close()

    def start(self) -> BackgroundProxy:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    def call(self, function: Callable[[], object]) -> None:
        self._loop.call_soon_threadsafe(function)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> BackgroundProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(settings: ProxySettings, host: str, port: int,
                  announce: Callable[[str], None], workers: int = 1) -> None:
    """Run the proxy until interrupted, announcing the address it listens on.

    With `workers` > 1 the listening socket is bound once and shared by that many forked
    processes, each with its own event loop and index (recording stays safe across them
    through the per-key file locks).
    """
    listener = socket.create_server((host, port), backlog=1024)
    bound = listener.getsockname()
    children: list[int] = []
    for _ in range(max(1, workers) - 1):
        pid = os.fork()
        if pid == 0:
            try:
                _serve(settings, listener, None)
            finally:
                os._exit(0)
        children.append(pid)
    try:
        _serve(settings, listener, lambda: announce(f"http://{bound[0]}:{bound[1]}"))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _serve(settings: ProxySettings, listener: socket.socket,
           ready: Callable[[], None] | None) -> None:
    async def main() -> None:
        proxy = TapeProxy(settings)
        await proxy.start(sock=listener)
        if ready is not None:
            ready()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await proxy.close()

    with contextlib.suppress(KeyboardInterrupt), \
            asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
