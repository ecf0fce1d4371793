"""The real spawn: a shell command as the leader of its own process group.

``Child`` is the seam the supervisor sees; ``spawn_shell`` makes the real one
and ``ShellChild`` stops a whole tree, strays that left the group included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from devenv.supervisor.groups import living_members
from devenv.supervisor.spec import ProcessSpec

READ_CHUNK = 64 * 1024
KILL_WAIT = 2.0  # after SIGKILL, how long an exit may take before the supervisor gives up on it
GROUP_POLL = 0.05  # while a stopping group's members finish


class Child(Protocol):
    """A spawned process, leader of its own process group."""

    pid: int

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes of its output (stdout and stderr); b"" at the end."""

    async def wait(self) -> int:
        """Its exit code (negative: the signal that killed it) once it has exited."""

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to its whole process group; nothing once it is gone."""


Spawn = Callable[[ProcessSpec], Awaitable[Child]]


# -- the real spawn --------------------------------------------------------------------------


class _ExitProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """asyncio's own protocol, plus a future set when the process exits.

    ``Process.wait()`` also waits for the pipes to close, which a grandchild
    holding stdout can delay forever; the exit itself is what matters here.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


class ShellChild:
    """A command run by ``/bin/sh -c`` in a new session, so in its own process group.

    ``wait()`` returns once the leader has exited *and* its group is empty:
    after the leader exits on its own, what it left in its group is killed
    (there is nobody left to stop it gracefully, and a restart must not find
    the old port taken); after a SIGTERM the members get the rest of the
    ``stop_timeout`` grace period, then SIGKILL. Descendants that left the
    group (``setsid``) are found with psutil each time a signal is sent,
    while the leader still lives, and get the same signals; one that left the
    group of a leader that then exited on its own is not found.
    """

    def __init__(
        self,
        transport: asyncio.SubprocessTransport,
        protocol: _ExitProtocol,
        stop_timeout: float,
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self.pid: int = transport.get_pid()
        self.pgid = self.pid  # start_new_session: the child called setsid()
        self._stop_timeout = stop_timeout
        self._term_at: float | None = None
        self._killed = False
        self._gone = False
        self._strays: dict[int, Any] = {}  # pid -> psutil.Process that left the group

    async def read(self, n: int) -> bytes:
        stdout = self._protocol.stdout
        assert stdout is not None
        return await stdout.read(n)

    async def wait(self) -> int:
        await asyncio.shield(self._protocol.exited)
        await self._clear_group()
        returncode = self._transport.get_returncode()
        assert returncode is not None
        return returncode

    def close(self) -> None:
        """Let go of the pipe (a stray that left the group may still hold its other end)."""
        self._transport.close()

    def signal_group(self, sig: int) -> None:
        if self._gone:
            return
        if sig in (signal.SIGTERM, signal.SIGINT) and self._term_at is None:
            self._term_at = time.monotonic()
        if sig == signal.SIGKILL:
            self._killed = True
        self._find_strays()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)
        self._signal_strays(sig)

    def _find_strays(self) -> None:
        import psutil

        try:
            descendants = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return
        for proc in descendants:
            try:
                if os.getpgid(proc.pid) != self.pgid:
                    self._strays[proc.pid] = proc
            except OSError:
                continue

    def _signal_strays(self, sig: int) -> None:
        import psutil

        for proc in list(self._strays.values()):
            try:
                proc.send_signal(sig)  # psutil checks the pid was not reused
            except psutil.Error:
                self._strays.pop(proc.pid, None)

    def _alive(self) -> bool:
        import psutil

        try:
            os.killpg(self.pgid, 0)
            if living_members(self.pgid):
                return True
        except ProcessLookupError:
            pass
        except PermissionError:
            return True
        for proc in list(self._strays.values()):
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    return True
            except psutil.Error:
                pass
            self._strays.pop(proc.pid, None)
        return False

    async def _clear_group(self) -> None:
        killed_at: float | None = None
        try:
            while self._alive():
                now = time.monotonic()
                if not self._killed and (
                    self._term_at is None or now >= self._term_at + self._stop_timeout
                ):
                    self.signal_group(signal.SIGKILL)
                if self._killed:
                    # SIGKILL is delivered asynchronously: wait (briefly) until it has
                    # landed, so that "stopped" means nothing of the tree is left.
                    killed_at = killed_at or now
                    if now > killed_at + KILL_WAIT:
                        break
                await asyncio.sleep(GROUP_POLL)
        finally:
            self._gone = True


async def spawn_shell(spec: ProcessSpec) -> ShellChild:
    """Start ``spec.command`` with the shell; stdout and stderr come out of one pipe."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_shell(
        lambda: _ExitProtocol(READ_CHUNK, loop),
        spec.command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=dict(spec.env),
        cwd=spec.cwd,
        start_new_session=True,
    )
    return ShellChild(transport, protocol, spec.stop_timeout)
