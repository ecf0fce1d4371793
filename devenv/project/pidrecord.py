"""Pid records that survive devenv: a pid plus its process's create time.

A pid alone is not enough to find "our" process again after devenv was
SIGKILLed: the pid may have been recycled by an unrelated process. The create
time psutil reports pins it down; a record whose process has a different
create time is stale and is never signalled.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from devenv.files import write_atomic
from devenv.project import procfs


@dataclass(frozen=True)
class PidRecord:
    pid: int
    create_time: float
    argv0: str = ""

    @classmethod
    def of(cls, pid: int) -> PidRecord:
        # Read from /proc where there is one: importing psutil (~15 ms, more under load) sat
        # between spawning a server and probing it on every `devenv up -d`.
        found = _from_proc(pid)
        if found is not None:
            return found
        import psutil

        proc = psutil.Process(pid)
        try:
            argv0 = (proc.cmdline() or [""])[0]
        except psutil.Error:
            argv0 = ""
        return cls(pid, proc.create_time(), argv0)

    def alive(self) -> bool:
        """True when the process is still the one recorded (same pid, same create time)."""
        if procfs.HAS_PROC:  # as psutil reads it, without its ~10 ms import
            now = procfs.started(self.pid)
            return now is not None and abs(now[0] - self.create_time) < 0.01 and now[2] != "Z"
        import psutil

        try:
            proc = psutil.Process(self.pid)
            same = abs(proc.create_time() - self.create_time) < 0.01
            return same and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


def _from_proc(pid: int) -> PidRecord | None:
    found = procfs.started(pid) if procfs.HAS_PROC else None
    return PidRecord(pid, found[0], found[1]) if found is not None else None


def write(path: Path, record: PidRecord) -> None:
    write_atomic(path, json.dumps(asdict(record)), mode=0o644)


def read(path: Path) -> PidRecord | None:
    try:
        data = json.loads(path.read_text())
        return PidRecord(int(data["pid"]), float(data["create_time"]), str(data.get("argv0", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_alive(path: Path, works_in: Path | None = None) -> PidRecord | None:
    """The record at ``path`` if its process is still running; a stale record is removed.

    With ``works_in``, the process must also work in that folder (its working
    folder or a path on its command line is inside it): a record copied with a
    project (``cp -a``) names the original's server, which is not this project's.
    """
    record = read(path)
    if record is None:
        return None
    if record.alive() and (works_in is None or works_under(record.pid, works_in)):
        return record
    path.unlink(missing_ok=True)
    return None


def works_under(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` works inside ``folder``: its working folder, or an absolute
    path on its command line (PostgreSQL's ``-D``), is in it. Servers work in their data
    folder, so this tells a project's server from a copied project's."""
    top = os.path.realpath(folder)
    if procfs.HAS_PROC:
        return procfs.works_under(pid, top)
    import psutil

    try:
        proc = psutil.Process(pid)
        places = [proc.cwd(), *proc.cmdline()]
    except psutil.Error:
        return False
    return any(procfs.inside(place, top) for place in places)
