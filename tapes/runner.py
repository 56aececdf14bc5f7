"""Running a proxy: in the foreground (the `serve` command) or in a background thread with
its own event loop (tests and the pytest plugin).

Invariant: `BackgroundProxy.stop()` closes the server and the upstream client and joins the
thread; nothing keeps running after it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from tapes.proxy import ProxySettings, TapeProxy


class BackgroundProxy:
    """A TapeProxy serving on 127.0.0.1 from a daemon thread."""

    def __init__(self, settings: ProxySettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.proxy = TapeProxy(settings)
        self._host, self._port = host, port
        self._loop = asyncio.new_event_loop()
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
                  announce: Callable[[str], None]) -> None:
    """Run the proxy until interrupted, announcing the address it listens on."""

    async def main() -> None:
        proxy = TapeProxy(settings)
        bound = await proxy.start(host, port)
        announce(f"http://{bound[0]}:{bound[1]}")
        try:
            await asyncio.Event().wait()
        finally:
            await proxy.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
