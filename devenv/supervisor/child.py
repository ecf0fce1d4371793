"""The real spawn: a shell command as the leader of its own process group.

``Child`` is the seam the supervisor sees; ``spawn_shell`` makes the real one
and ``ShellChild`` stops a whole tree, strays that left the group included.
``adopt`` makes one of a process spawned before the loop ran (devenv.project.procplan's
head start): an ``AdoptedChild`` is read, awaited and stopped as a ShellChild is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from devenv.supervisor.groups import living_members
from devenv.supervisor.spec import ProcessSpec

if TYPE_CHECKING:
    import subprocess

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


class GroupChild:
    """A command run by ``/bin/sh -c`` in a new session, so in its own process group; how it
    was spawned, and how its output and exit come, are a subclass's (ShellChild, AdoptedChild).

    ``wait()`` returns once the leader has exited *and* its group is empty:
    after the leader exits on its own, what it left in its group is killed
    (there is nobody left to stop it gracefully, and a restart must not find
    the old port taken); after a SIGTERM the members get the rest of the
    ``stop_timeout`` grace period, then SIGKILL. Descendants that left the
    group (``setsid``) are found with psutil each time a signal is sent,
    while the leader still lives, and get the same signals; one that left the
    group of a leader that then exited on its own is not found.
    """

    def __init__(self, pid: int, stop_timeout: float) -> None:
        self.pid = pid
        self.pgid = self.pid  # start_new_session: the child called setsid()
        self._stop_timeout = stop_timeout
        self._term_at: float | None = None
        self._killed = False
        self._gone = False
        self._strays: dict[int, Any] = {}  # pid -> psutil.Process that left the group

    async def read(self, n: int) -> bytes:
        raise NotImplementedError

    async def _exited(self) -> int:
        """The leader's exit code, once it has exited."""
        raise NotImplementedError

    async def wait(self) -> int:
        returncode = await self._exited()
        await self._clear_group()
        return returncode

    def close(self) -> None:
        """Let go of the pipe (a stray that left the group may still hold its other end)."""

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


class ShellChild(GroupChild):
    """A GroupChild spawned through asyncio (``spawn_shell``)."""

    def __init__(
        self,
        transport: asyncio.SubprocessTransport,
        protocol: _ExitProtocol,
        stop_timeout: float,
    ) -> None:
        super().__init__(transport.get_pid(), stop_timeout)
        self._transport = transport
        self._protocol = protocol

    async def read(self, n: int) -> bytes:
        stdout = self._protocol.stdout
        assert stdout is not None
        return await stdout.read(n)

    async def _exited(self) -> int:
        await asyncio.shield(self._protocol.exited)
        returncode = self._transport.get_returncode()
        assert returncode is not None
        return returncode

    def close(self) -> None:
        self._transport.close()


class AdoptedChild(GroupChild):
    """A GroupChild spawned before the loop ran, by ``subprocess.Popen`` with
    ``start_new_session=True`` and its output (stdout and stderr) on ``proc.stdout``, a pipe.
    Made by ``adopt``."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        stop_timeout: float,
        reader: asyncio.StreamReader,
        transport: asyncio.BaseTransport,
        exited: asyncio.Future[int],
    ) -> None:
        super().__init__(proc.pid, stop_timeout)
        self._reader = reader
        self._transport = transport
        self._exit = exited

    async def read(self, n: int) -> bytes:
        return await self._reader.read(n)

    async def _exited(self) -> int:
        return await asyncio.shield(self._exit)

    def close(self) -> None:
        self._transport.close()


async def adopt(proc: subprocess.Popen[bytes], stop_timeout: float) -> AdoptedChild:
    """``proc`` as a Child of the running loop: its pipe read on the loop, its exit awaited
    from a thread of its own (``Popen.wait`` reaps it, as asyncio's child watcher would)."""
    import threading

    loop = asyncio.get_running_loop()
    assert proc.stdout is not None
    reader = asyncio.StreamReader(limit=READ_CHUNK, loop=loop)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), proc.stdout
    )
    exited: asyncio.Future[int] = loop.create_future()

    def settle(code: int) -> None:
        if not exited.done():
            exited.set_result(code)

    def reap() -> None:
        code = proc.wait()
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, code)

    threading.Thread(target=reap, name=f"devenv-wait-{proc.pid}", daemon=True).start()
    return AdoptedChild(proc, stop_timeout, reader, transport, exited)


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
