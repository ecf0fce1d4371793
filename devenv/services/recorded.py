"""Servers found by the project's own records, whatever devenv.toml says now.

``devenv down`` must stop what runs even when the config no longer names it (a
service removed while it ran) or cannot be read at all. Each server started by
devenv has ``.devenv/state/<name>.pid.json`` (pid and create time). A record is
only acted on when its process is alive, is the one recorded, and works on this
project's data: its working folder or its command line is under this project's
``.devenv/state`` (servers work in their data folder; PostgreSQL's ``-D``), so
a copied project's records never reach the original's servers.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable

from devenv.project import pidrecord
from devenv.project.layout import Layout

STOP_WAIT = 30.0  # seconds a server gets to shut down cleanly; it is never SIGKILLed


def running(layout: Layout, skip: Iterable[str] = ()) -> dict[str, int]:
    """Recorded servers of this project that still run (name -> pid), except ``skip``."""
    skipped = set(skip)
    found: dict[str, int] = {}
    if not layout.state.is_dir():
        return found
    for path in sorted(layout.state.glob("*.pid.json")):
        name = path.name.removesuffix(".pid.json")
        if name in skipped:
            continue
        record = pidrecord.read(path)
        if record is None or not record.alive():
            continue
        if pidrecord.works_under(record.pid, layout.state):
            found[name] = record.pid
    return found


def stop(layout: Layout, skip: Iterable[str] = ()) -> list[str]:
    """Stop the recorded servers that still run (but ``skip``); return their names.

    PostgreSQL gets SIGINT (a fast shutdown), anything else SIGTERM, and each gets
    ``STOP_WAIT`` seconds; a server that is still up then is reported, never killed.
    """
    import psutil

    targets = running(layout, skip)
    procs = []
    for pid in targets.values():
        try:
            proc = psutil.Process(pid)
            sig = signal.SIGINT if "postgres" in proc.name() else signal.SIGTERM
            proc.send_signal(sig)
            procs.append(proc)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=STOP_WAIT)
    left = {proc.pid for proc in alive}
    stopped = []
    for name, pid in targets.items():
        if pid in left:
            continue
        (layout.state / f"{name}.pid.json").unlink(missing_ok=True)
        stopped.append(name)
    return stopped


__all__ = ["running", "stop"]
