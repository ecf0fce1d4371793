"""Pid records that survive devenv: a pid plus its process's create time.

A pid alone is not enough to find "our" process again after devenv was
SIGKILLed: the pid may have been recycled by an unrelated process. The create
time psutil reports pins it down; a record whose process has a different
create time is stale and is never signalled.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from devenv.files import write_atomic


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
        if HAS_PROC:  # as psutil reads it, without its ~10 ms import on every start and stop
            now = _from_proc(self.pid)
            if now is None or abs(now.create_time - self.create_time) >= 0.01:
                return False
            return proc_state(self.pid) not in (None, "Z")
        import psutil

        try:
            proc = psutil.Process(self.pid)
            same = abs(proc.create_time() - self.create_time) < 0.01
            return same and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


HAS_PROC = sys.platform == "linux" and os.path.isdir("/proc/self")


def proc_state(pid: int) -> str | None:
    """Linux (``HAS_PROC``): the state letter of ``pid`` in /proc (``Z`` for a zombie); None
    when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rfind(b")") + 2 :].split()[0].decode()
    except (OSError, IndexError):
        return None


def _from_proc(pid: int) -> PidRecord | None:
    """Linux: the record psutil would make, from /proc as psutil reads it (create time = the
    boot time plus the start time in clock ticks; argv[0] of the command line, split as
    psutil splits a rewritten process title). None without /proc or when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open("/proc/stat", "rb") as f:
            btime = next(float(line.split()[1]) for line in f if line.startswith(b"btime"))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read().decode(sys.getfilesystemencoding(), "surrogateescape")
        start_ticks = float(stat[stat.rfind(b")") + 2 :].split()[19])  # field 22, starttime
        create_time = start_ticks / os.sysconf("SC_CLK_TCK") + btime
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    argv0 = ""
    if data:
        sep = "\x00" if data.endswith("\x00") else " "
        argv = data.removesuffix(sep).split(sep)
        if sep == "\x00" and len(argv) == 1 and " " in argv[0]:
            argv = argv[0].split(" ")
        argv0 = argv[0]
    return PidRecord(pid, create_time, argv0)


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
    if HAS_PROC:
        try:
            places = [os.readlink(f"/proc/{pid}/cwd")]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                data = f.read().decode(sys.getfilesystemencoding(), "surrogateescape")
        except OSError:  # gone, a zombie, or another user's (psutil's AccessDenied)
            return False
        places += data.split("\x00" if "\x00" in data else " ")  # a rewritten title: spaces
        return any(_inside(place, top) for place in places)
    import psutil

    try:
        proc = psutil.Process(pid)
        places = [proc.cwd(), *proc.cmdline()]
    except psutil.Error:
        return False
    return any(_inside(place, top) for place in places)


def _inside(place: str, top: str) -> bool:
    if not place.startswith("/"):
        return False
    try:
        return os.path.commonpath([os.path.realpath(place), top]) == top
    except ValueError:
        return False
