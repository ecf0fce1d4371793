"""The supervised processes, as the running devenv last saw them, in ``.devenv/processes.json``.

The foreground devenv rewrites the file on every state change; ``devenv
status`` in another terminal reads it. Each entry keeps the process's pid,
process group and create time, so that a devenv killed with SIGKILL leaves
enough for the next ``devenv up`` to stop what it left behind — and never a
process that merely reuses one of those pids.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from devenv.files import write_atomic
from devenv.project.layout import Layout
from devenv.project.pidrecord import PidRecord
from devenv.state import Status
from devenv.supervisor.groups import living_members


def path(layout: Layout) -> Path:
    return layout.base / "processes.json"


class StateWriter:
    """Turns supervisor snapshots into processes.json: each ``Status.as_json()`` with the
    numbers last sampled of its pid, its create time and the writer's pid."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._create_times: dict[int, float] = {}
        # name -> cpu_percent, rss, ports (see devenv.supervisor.stats)
        self.stats: dict[str, dict] = {}

    def __call__(self, snapshot: Mapping[str, Status]) -> None:
        entries = {}
        for name, status in snapshot.items():
            entry = status.with_sample(self.stats.get(name)).as_json()
            if status.pid:
                entry["create_time"] = self._create_time(status.pid)
            entry["recorded_by"] = os.getpid()  # status trusts only the running devenv's record
            entries[name] = entry
        target = path(self.layout)
        write_atomic(target, json.dumps(entries, indent=2, default=str) + "\n", mode=0o644)

    def _create_time(self, pid: int) -> float | None:
        if pid not in self._create_times:
            try:
                self._create_times[pid] = PidRecord.of(pid).create_time
            except Exception:  # gone already: nothing to record
                return None
        return self._create_times[pid]

    def clear(self) -> None:
        path(self.layout).unlink(missing_ok=True)


def read(layout: Layout) -> dict[str, dict]:
    """The recorded processes by name, each a dict; {} when there is no readable record.

    The file is a cache any editor or crash may have damaged: an entry that is not an object
    is dropped, and a ``pid``, ``pgid`` or ``create_time`` that is not a number is read as None,
    so the entry is still listed but never leads to a process being signalled.
    """
    try:
        data = json.loads(path(layout).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {name: _checked(entry) for name, entry in data.items() if isinstance(entry, dict)}


def _checked(entry: dict) -> dict:
    entry = dict(entry)
    for key in ("pid", "pgid"):
        if key in entry and not _is_pid(entry[key]):
            entry[key] = None
    created = entry.get("create_time")
    if created is not None and not _is_time(created):
        entry["create_time"] = None
    return entry


def _is_pid(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _leftover_group(entry: Mapping) -> int | None:
    """The process group a killed devenv left for this entry, if any is still ours.

    devenv starts each process as the leader of its own group (pgid = pid). The
    group is ours while its leader is the recorded process (same create time),
    even as a zombie; when the leader is gone altogether but members remain
    (a shell's background child, say), it is still ours: the kernel never
    reuses a pid that is in use as a process group id. A leader with another
    create time is a stranger, never signalled.
    """
    pid, created = entry.get("pid"), entry.get("create_time")
    if not pid or created is None:
        return None
    import psutil

    pgid = int(entry.get("pgid") or pid)
    try:
        leader = psutil.Process(pgid)
        if pgid != int(pid) or abs(leader.create_time() - float(created)) >= 0.01:
            return None
    except psutil.NoSuchProcess:
        pass
    return pgid if living_members(pgid) else None


def leftovers(layout: Layout) -> dict[str, int]:
    """The process groups a killed devenv left running, by name; nothing is signalled."""
    groups = {}
    for name, entry in read(layout).items():
        pgid = _leftover_group(entry)
        if pgid is not None:
            groups[name] = pgid
    return groups


def stop_leftovers(layout: Layout, grace: float = 5.0) -> list[str]:
    """Stop the process groups a killed devenv left running; return their names.

    Each recorded group gets SIGTERM, then SIGKILL after ``grace`` seconds.
    A recycled pid is never signalled (see ``_leftover_group``).
    """
    groups = leftovers(layout)
    path(layout).unlink(missing_ok=True)  # status must not show them as ours meanwhile
    if not groups:
        return []  # the usual case (the last devenv stopped cleanly): psutil is not loaded
    import psutil

    procs = [proc for pgid in groups.values() for proc in living_members(pgid)]
    for pgid in groups.values():
        _signal_group(pgid, signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    if alive:
        for pgid in groups.values():
            _signal_group(pgid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=2)
    return sorted(groups)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, sig)
