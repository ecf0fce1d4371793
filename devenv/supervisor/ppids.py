"""The parent of every process on the machine, read in one pass.

psutil's public ``process_iter(["ppid"])`` builds a Process object per process
(~12 ms for 100 processes here); its private ``psutil._ppid_map()`` (Linux and
Windows: one pass over /proc/*/stat) takes ~2 ms, and the stats sampler reads
this every second. This module is the one place devenv uses it, falling back to
the public call where it is missing; tests/test_ppids.py fails when a psutil
upgrade removes or changes it.
"""

from __future__ import annotations


def ppid_map() -> dict[int, int]:
    """{pid: parent pid} for every process this user can see; empty only if none can be read."""
    import psutil

    fast = getattr(psutil, "_ppid_map", None)
    if fast is not None:
        try:
            found = fast()
        except psutil.Error:
            found = None
        if found:
            return dict(found)
    parents: dict[int, int] = {}
    for proc in psutil.process_iter(["ppid"]):
        ppid = proc.info.get("ppid")
        if ppid is not None:
            parents[proc.pid] = ppid
    return parents
