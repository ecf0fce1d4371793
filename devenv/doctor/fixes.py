"""The safe repairs ``devenv doctor --fix`` runs, and the finders they share with the checks.

Each repair looks again before it acts (time passed since the check) and
returns a sentence saying what it did. None deletes data: only lock files
and sockets a dead server left, and processes a killed devenv left running.
The same cleaning ``devenv up`` does on start is reused (``Service.clean_stale``,
``procstate.stop_leftovers``), under the same locks.
"""

from __future__ import annotations

import contextlib
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.project.layout import Layout

if TYPE_CHECKING:
    from devenv.services.base import Service

POSTMASTER_PID = "postmaster.pid"
CONNECT_TIMEOUT = 0.5  # seconds; a listening local socket answers at once


# ---------------------------------------------------------------- finders


def first_line_pid(path: Path) -> int | None:
    """The pid on the first line of a lock file (postmaster.pid), or None."""
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def why_not_running(pid: int | None, what: str) -> str:
    """Why ``pid`` (from a lock file) is not ``what`` any more, for a message."""
    import psutil

    if pid is None:
        return "names no process"
    try:
        proc = psutil.Process(pid)
        name = proc.name()
        if proc.status() == psutil.STATUS_ZOMBIE:  # dead, not yet reaped by its parent
            return f"names pid {pid}, which is not running"
    except psutil.NoSuchProcess:
        return f"names pid {pid}, which is not running"
    except psutil.Error:
        return f"names pid {pid}, which is not {what}"
    return f"names pid {pid}, which is now '{name}', not {what}"


def is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.lstat().st_mode)
    except OSError:
        return False


def nobody_listens(path: Path) -> bool:
    """Whether the unix socket at ``path`` refuses connections (its server is gone).

    Anything else (it answers, it is gone, we may not connect) is not proof
    of a stale socket, so the answer is False.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def stale_sockets(runtime: Path) -> list[Path]:
    """The sockets in the runtime folder with nothing listening, by name."""
    try:
        entries = sorted(runtime.iterdir())
    except OSError:
        return []
    return [path for path in entries if is_socket(path) and nobody_listens(path)]


# ---------------------------------------------------------------- repairs


def clean_stale_service(layout: Layout, service: Service) -> str:
    """Remove what a dead server left (``service.clean_stale()``, as ``devenv up`` does)."""
    from devenv.project.runlock import operation_lock

    lock = service.data_dir / POSTMASTER_PID
    with operation_lock(layout):
        pid = service.find_running()
        if pid is not None:
            return f"nothing to do: {service.name} is running (pid {pid})"
        existed = lock.exists()
        service.clean_stale()
    if existed and not lock.exists():
        return f"removed the stale {POSTMASTER_PID} of {service.name} and its socket"
    return f"nothing was left to remove for {service.name}"


def remove_stale_sockets(layout: Layout) -> str:
    """Remove the runtime folder's sockets nothing listens on (and a PostgreSQL socket's lock)."""
    from devenv.project.runlock import operation_lock

    removed = []
    with operation_lock(layout):
        for path in stale_sockets(layout.runtime):
            path.unlink(missing_ok=True)
            removed.append(path.name)
            lock = path.with_name(path.name + ".lock")  # PostgreSQL's .s.PGSQL.N.lock
            if path.name.startswith(".s.PGSQL."):
                with contextlib.suppress(OSError):
                    lock.unlink()
    if not removed:
        return "nothing was left to remove"
    return f"removed {', '.join(removed)} from {layout.runtime}"


def stop_leftovers(layout: Layout) -> str:
    """Stop the processes a killed devenv left (``procstate.stop_leftovers``)."""
    from devenv.project.runlock import foreground_pid
    from devenv.supervisor import procstate

    running = foreground_pid(layout)
    if running is not None:
        return f"nothing to do: devenv (pid {running}) is running this project and owns them"
    stopped = procstate.stop_leftovers(layout)
    if not stopped:
        return "nothing was left running"
    return f"stopped {', '.join(stopped)} (SIGTERM, then SIGKILL to what did not stop)"
