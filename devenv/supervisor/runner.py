"""The supervisor on its own thread, with plain blocking methods for a UI.

A UI (Textual) owns the main thread and its event loop; the supervisor gets
another thread with an asyncio loop of its own. Every control call is handed
to that loop with ``run_coroutine_threadsafe`` and waits for its result, so
the caller (a Textual worker) never touches the supervisor's state directly.
Events still reach whoever ``emit``s them, from the supervisor's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devenv.state import Status


class SupervisorRunner:
    """Runs ``make_supervisor()`` (called on the new loop) until ``stop()``."""

    def __init__(
        self, make_supervisor: Callable[[], Any], on_exit: Callable[[], object] | None = None
    ) -> None:
        self._make = make_supervisor
        self._on_exit = on_exit
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="devenv-supervisor", daemon=True)
        self.supervisor: Any = None
        self.exit_code: int | None = None
        self.error: BaseException | None = None

    def start(self) -> SupervisorRunner:
        self._thread.start()
        self._ready.wait()
        if self.error is not None:
            raise self.error
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.supervisor = self._make()
        except BaseException as err:  # handed to start()'s caller
            self.error = err
            self._ready.set()
            return
        self._ready.set()
        try:
            self.exit_code = self._loop.run_until_complete(self.supervisor.run())
        finally:
            self._loop.close()
            if self._on_exit is not None:
                self._on_exit()

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start_process(self, name: str, timeout: float | None = 30) -> bool:
        return self._call(self.supervisor.start_process(name), timeout)

    def stop_process(self, name: str, timeout: float | None = 60) -> None:
        self._call(self.supervisor.stop_process(name), timeout)

    def restart_process(self, name: str, timeout: float | None = 60) -> None:
        self._call(self.supervisor.restart_process(name), timeout)

    def restart_all(self, timeout: float | None = 120) -> None:
        self._call(self.supervisor.restart_all(), timeout)

    def send_signal(self, name: str, sig: int, timeout: float | None = 10) -> bool:
        return self._call(self.supervisor.send_signal(name, sig), timeout)

    def service_down(self, name: str, text: str) -> None:
        """Tell the supervisor that the service ``name`` is down (see Supervisor.service_down);
        returns at once."""
        self._soon(self.supervisor.service_down, name, text)

    def service_ready(self, name: str, text: str = "") -> None:
        """Tell the supervisor that the service ``name`` is ready again; returns at once."""
        self._soon(self.supervisor.mark_service_ready, name, text)

    def _soon(self, callback: Callable[..., object], *args: object) -> None:
        # RuntimeError: the loop has closed, nothing is supervised any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def snapshot(self) -> dict[str, Status]:
        """Every process's status, taken on the supervisor's loop (blocks until it answers)."""

        async def take() -> dict[str, Status]:
            return self.supervisor.snapshot()

        return self._call(take(), 10)

    def stop(self, timeout: float | None = 120) -> int | None:
        """Stop every process and wait for the thread; returns the supervisor's exit code."""
        if self._thread.is_alive():
            # RuntimeError: the loop finished on its own meanwhile, nothing left to stop.
            with contextlib.suppress(RuntimeError):
                self._call(self.supervisor.stop(), timeout)
            self._thread.join(timeout)
        return self.exit_code
