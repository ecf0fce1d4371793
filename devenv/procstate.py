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
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from devenv.layout import Layout
from devenv.pidrecord import PidRecord


def path(layout: Layout) -> Path:
    return layout.base / "processes.json"


class StateWriter:
    """Turns supervisor snapshots into processes.json (adding each pid's create time)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._create_times: dict[int, float] = {}

    def __call__(self, snapshot: Mapping[str, Mapping]) -> None:
        entries = {}
        for name, info in snapshot.items():
            entry = dict(info)
            pid = entry.get("pid")
            if pid:
                entry["create_time"] = self._create_time(pid)
            entries[name] = entry
        target = path(self.layout)
        tmp = target.with_name(f".processes-{os.getpid()}.json")
        tmp.write_text(json.dumps(entries, indent=2, default=str) + "\n")
        os.replace(tmp, target)

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
    try:
        data = json.loads(path(layout).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(entry: Mapping) -> PidRecord | None:
    pid, created = entry.get("pid"), entry.get("create_time")
    if not pid or created is None:
        return None
    record = PidRecord(int(pid), float(created))
    return record if record.alive() else None


def stop_leftovers(layout: Layout, grace: float = 5.0) -> list[str]:
    """Stop the process trees a killed devenv left running; return their names.

    Only a process whose pid *and* create time match the record is signalled
    (with its whole process group): a recycled pid belongs to someone else.
    """
    import psutil

    leftovers: dict[str, tuple[PidRecord, int]] = {}
    for name, entry in read(layout).items():
        record = _alive(entry)
        if record is not None:
            leftovers[name] = (record, int(entry.get("pgid") or record.pid))
    procs = []
    for record, pgid in leftovers.values():
        try:
            tree = psutil.Process(record.pid)
            procs += [tree, *tree.children(recursive=True)]
        except psutil.Error:
            continue
        _signal_group(pgid, record.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for record, pgid in leftovers.values():
        if record.alive():
            _signal_group(pgid, record.pid, signal.SIGKILL)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(r.alive() for r, _ in leftovers.values()):
        time.sleep(0.01)
    path(layout).unlink(missing_ok=True)
    return sorted(leftovers)


def _signal_group(pgid: int, pid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
