"""One devenv at a time per project.

A foreground ``devenv up`` holds an exclusive ``flock`` on ``.devenv/devenv.lock``
for as long as it runs and records its pid (with create time) in
``.devenv/stack.json``, so a second ``up`` can say who is running the project
and ``devenv down`` in another terminal can ask it to stop. The kernel drops
the lock when the process dies, even by SIGKILL, so a stale lock never blocks.
"""

from __future__ import annotations

import fcntl
import os
import time

from devenv.errors import DevenvError
from devenv.project import pidrecord, startplan
from devenv.project.layout import Layout


class AlreadyRunning(DevenvError):
    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"devenv is already running this project ({who}); use that one, "
            "or stop it with `devenv down`"
        )


class ForegroundLock:
    """Held by a foreground ``devenv up`` for its lifetime."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._fd: int | None = None

    def acquire(self) -> ForegroundLock:
        self.layout.base.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.layout.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            record = pidrecord.read(self.layout.stack_file)
            raise AlreadyRunning(record.pid if record else None) from None
        self._fd = fd
        pidrecord.write(self.layout.stack_file, pidrecord.PidRecord.of(os.getpid()))
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        self.layout.stack_file.unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> ForegroundLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def foreground_pid(layout: Layout) -> int | None:
    """The pid of the foreground devenv running this project, if any."""
    record = pidrecord.read(layout.stack_file)
    if record is None or not record.alive():
        return None
    return record.pid


def stop_foreground(layout: Layout, timeout: float = 30.0) -> int | None:
    """Ask a foreground devenv to stop (SIGTERM) and wait for it; return its pid."""
    import signal

    pid = foreground_pid(layout)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and foreground_pid(layout) == pid:
        time.sleep(0.01)
    return pid


class operation_lock:
    """Serialises start/stop between devenv commands of one project (blocking flock)."""

    def __init__(self, layout: Layout) -> None:
        self.path = layout.ops_lock
        self._fd: int | None = None
        self._early: int | None = None

    def __enter__(self) -> operation_lock:
        self._early = startplan.hand_over_lock(self.path)  # held since the early spawn
        if self._early is not None:
            self._fd = self._early
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._early is not None:
            startplan.abandon()  # early servers the start did not take: before the lock goes
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
