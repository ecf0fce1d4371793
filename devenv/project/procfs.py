"""What Linux's /proc says of a process, as psutil would say it, read with nothing but ``os``
and ``sys`` imported (psutil costs ~10 ms to import, on every start, stop and status).

pid records (devenv.project.pidrecord) and the status fast path
(devenv.commands.status_fast) both read processes this way. Where there is no /proc
(``HAS_PROC`` false: macOS), callers use psutil instead.
"""

from __future__ import annotations

import os
import sys

HAS_PROC = sys.platform == "linux" and os.path.isdir("/proc/self")


def state(pid: int) -> str | None:
    """The state letter of ``pid`` (``Z`` for a zombie); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rfind(b")") + 2 :].split()[0].decode()
    except (OSError, IndexError):
        return None


def started(pid: int) -> tuple[float, str, str] | None:
    """(create time, argv[0], state letter) of ``pid`` as psutil reads them: the create time
    is the boot time plus the start time in clock ticks, argv[0] is split as psutil splits a
    rewritten process title. None when it cannot be read (gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open("/proc/stat", "rb") as f:
            btime = next(float(line.split()[1]) for line in f if line.startswith(b"btime"))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read().decode(sys.getfilesystemencoding(), "surrogateescape")
        fields = stat[stat.rfind(b")") + 2 :].split()
        create_time = float(fields[19]) / os.sysconf("SC_CLK_TCK") + btime  # field 22
        letter = fields[0].decode()
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    argv0 = ""
    if data:
        sep = "\x00" if data.endswith("\x00") else " "
        argv = data.removesuffix(sep).split(sep)
        if sep == "\x00" and len(argv) == 1 and " " in argv[0]:
            argv = argv[0].split(" ")
        argv0 = argv[0]
    return create_time, argv0, letter


def works_under(pid: int, top: str) -> bool:
    """Whether ``pid``'s working folder, or an absolute path on its command line
    (PostgreSQL's ``-D``), is inside ``top`` (a real path)."""
    try:
        places = [os.readlink(f"/proc/{pid}/cwd")]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read().decode(sys.getfilesystemencoding(), "surrogateescape")
    except OSError:  # gone, a zombie, or another user's (psutil's AccessDenied)
        return False
    places += data.split("\x00" if "\x00" in data else " ")  # a rewritten title: spaces
    return any(inside(place, top) for place in places)


def inside(place: str, top: str) -> bool:
    """Whether the absolute path ``place`` is ``top`` (a real path) or inside it."""
    if not place.startswith("/"):
        return False
    try:
        return os.path.commonpath([os.path.realpath(place), top]) == top
    except ValueError:
        return False


_btime: list[float] = []  # the boot time, read once: it does not change


def usage(pid: int) -> tuple[float, str, float, int] | None:
    """(create time, state letter, CPU seconds used (user + system), resident bytes) of
    ``pid`` from one read of its stat file, as psutil's create_time, status, cpu_times and
    memory_info().rss say them; None when it cannot be read (gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        if not _btime:
            with open("/proc/stat", "rb") as f:
                _btime.append(next(float(ln.split()[1]) for ln in f if ln.startswith(b"btime")))
        fields = stat[stat.rfind(b")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        create_time = float(fields[19]) / ticks + _btime[0]  # field 22, starttime
        cpu = (float(fields[11]) + float(fields[12])) / ticks  # fields 14 and 15
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24, in pages
        return create_time, fields[0].decode(), cpu, rss
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def children(pid: int) -> list[int] | None:
    """The pids of ``pid``'s children, from each of its threads' ``children`` file (a child
    belongs to the thread that forked it); [] when it is gone; None when this kernel has
    no such files (CONFIG_PROC_CHILDREN), and the whole process table must be read."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found += [int(child) for child in f.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{task}"):
                continue  # the thread ended meanwhile
            return None
        except OSError:
            continue  # gone meanwhile, or another account's
    return found
