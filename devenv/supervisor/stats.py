"""What each supervised process costs: CPU, memory, listening ports, uptime.

``StatsSampler().sample({name: pid})`` returns ``{name: ProcessStats}``, each summed over
the pid's process tree (the pid and all its descendants: ``sh -c`` wrappers, workers).
Call it about once per second from one thread; it keeps ``psutil.Process`` objects between
calls so that CPU is the use since the previous sample.

Cost matters (it runs all the time, next to the user's stack), so a sample reads each
process's files once (``oneshot()``), builds the parent map of the system once, and looks
up sockets only for the processes in the trees. psutil is imported lazily: the CLI must
start fast and this module is imported by the core.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devenv.project import procfs
from devenv.supervisor.ppids import ppid_map

if TYPE_CHECKING:
    from typing import TypeAlias

    import psutil

    Kept: TypeAlias = "psutil.Process | _Reading"  # what a sample keeps for the next one

# A process's identity: its pid alone can be recycled by the kernel for a new process.
ProcKey = tuple[int, float]  # (pid, create_time)


@dataclass(frozen=True)
class ProcessStats:
    """One process tree (a pid and all its descendants) at one sample."""

    cpu_percent: float  # of one core (a busy loop is ~100, two are ~200)
    rss: int  # resident memory, bytes
    ports: tuple[int, ...]  # sorted TCP ports in LISTEN state held by any process of the tree
    uptime: float  # seconds since the root process started
    processes: int  # how many processes the tree holds


@dataclass
class _Measure:
    cpu: float
    rss: int


class StatsSampler:
    """Samples process trees; keep one instance alive so CPU is a delta between samples.

    Not thread-safe: call ``sample`` from one thread at a time.
    """

    # How listening ports are found. "per-process": ``Process.net_connections`` for each
    # process of the trees (on Linux it returns at once for a process without sockets).
    # "system": ONE ``psutil.net_connections()`` per sample, mapped pid -> ports; on Linux
    # that one call walks every fd of every process on the machine (measured ~13 ms with
    # 80 processes, see benchmarks/stats_cost.py), more than everything else together.
    # Either way, AccessDenied on the system-wide call (macOS, non-root) falls back to
    # per-process calls.
    ports_strategy: str = "per-process"

    def __init__(self) -> None:
        self._procs: dict[ProcKey, Kept] = {}
        self._system_ports_denied = False

    def sample(
        self, pids: Mapping[str, int], *, ports_of: Iterable[str] | None = None
    ) -> dict[str, ProcessStats]:
        """Stats of each named pid's tree. A pid that does not exist (any more) has no entry.

        The first sample of a process reports 0.0 CPU (there is nothing to compare with).
        Listening ports are the costly part (Linux reads the whole socket table per
        process): only the trees named in ``ports_of`` get them (all when None); the
        others report no ports.
        """
        now = time.time()
        previous = self._procs
        current: dict[ProcKey, Kept] = {}
        children = _children_by_ppid()

        trees: dict[str, list[ProcKey]] = {}
        for name, pid in pids.items():
            if pid <= 0:
                continue  # pid 0 is the kernel: its "tree" would be the whole machine
            root = self._lookup(pid, previous, current)
            if root is not None:
                trees[name] = self._tree(root, children, previous, current)

        # Measure each process once, even when it belongs to two trees (cpu_percent() is a
        # delta since its previous call: a second call would read ~0).
        measures: dict[ProcKey, _Measure] = {}
        for key in {key for keys in trees.values() for key in keys}:
            measure = _measure(current[key])
            if measure is not None:
                measures[key] = measure
        self._procs = {key: current[key] for key in measures}  # the vanished are forgotten

        wanted = set(trees) if ports_of is None else set(ports_of) & set(trees)
        with_ports = {key for name in wanted for key in trees[name]}
        ports = self._ports({key[0]: self._procs[key] for key in measures if key in with_ports})

        result: dict[str, ProcessStats] = {}
        for name, keys in trees.items():
            if keys[0] not in measures:
                continue  # the root exited (or is a zombie) while we looked
            live = [key for key in keys if key in measures]
            tree_ports = {port for key in live for port in ports.get(key[0], ())}
            result[name] = ProcessStats(
                cpu_percent=sum(measures[key].cpu for key in live),
                rss=sum(measures[key].rss for key in live),
                ports=tuple(sorted(tree_ports)),
                uptime=max(0.0, now - keys[0][1]),
                processes=len(live),
            )
        return result

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _lookup(
        pid: int,
        previous: Mapping[ProcKey, Kept],
        current: dict[ProcKey, Kept],
    ) -> ProcKey | None:
        """Key of the process now running as pid, reusing the Process kept from last time.

        A kept Process is reused only when pid AND create time match: a recycled pid is a
        new process (fresh CPU baseline), never the old one's continuation.
        """
        if procfs.HAS_PROC:  # one read of /proc/PID/stat, instead of psutil's three
            found = procfs.usage(pid)
            if found is None:
                return None
            key = (pid, found[0])
            if key not in current:
                kept = previous.get(key)
                current[key] = _Reading(found, kept if isinstance(kept, _Reading) else None)
            return key
        import psutil

        try:
            proc = psutil.Process(pid)
            key = (pid, proc.create_time())
        except (psutil.Error, ValueError):
            return None
        if key not in current:
            current[key] = previous.get(key, proc)
        return key

    def _tree(
        self,
        root: ProcKey,
        children: Mapping[int, list[int]] | _ChildrenFiles,
        previous: Mapping[ProcKey, Kept],
        current: dict[ProcKey, Kept],
    ) -> list[ProcKey]:
        """The root's key first, then its descendants' (walked in the sample's parent map)."""
        keys = [root]
        seen = {root[0]}
        stack = [root]
        while stack:
            parent_pid, parent_ctime = stack.pop()
            for pid in children.get(parent_pid, ()):
                if pid in seen:
                    continue  # a cycle, possible when pids are recycled while the map is read
                seen.add(pid)
                key = self._lookup(pid, previous, current)
                # A "child" older than its parent is a recycled pid that is not ours.
                if key is None or key[1] < parent_ctime:
                    continue
                keys.append(key)
                stack.append(key)
        return keys

    def _ports(self, procs: Mapping[int, Kept]) -> dict[int, set[int]]:
        """{pid: TCP ports it listens on}, for the given live processes."""
        import psutil

        if not procs:
            return {}
        if self.ports_strategy == "system" and not self._system_ports_denied:
            try:
                conns: Iterable = psutil.net_connections(kind="tcp")
            except psutil.AccessDenied:
                self._system_ports_denied = True  # macOS without root: don't ask again
            else:
                found: dict[int, set[int]] = {}
                for conn in conns:
                    if conn.pid in procs and conn.status == psutil.CONN_LISTEN and conn.laddr:
                        found.setdefault(conn.pid, set()).add(conn.laddr.port)
                return found
        found = {}
        for pid, kept in procs.items():
            try:
                proc = kept if isinstance(kept, psutil.Process) else psutil.Process(pid)
                conns = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue  # denied or gone: no ports for it
            listening = {
                conn.laddr.port
                for conn in conns
                if conn.status == psutil.CONN_LISTEN and conn.laddr
            }
            if listening:
                found[pid] = listening
        return found


_HAS_CHILDREN_FILES = procfs.HAS_PROC and procfs.children(os.getpid()) is not None


class _ChildrenFiles:
    """{ppid: [child pids]} as Linux's /proc/PID/task/TID/children files say it, read for the
    trees' processes only (a few files, where the whole process table is a read per process
    on the machine)."""

    def get(self, pid: int, default: list[int] | tuple[()] = ()) -> list[int] | tuple[()]:
        found = procfs.children(pid)
        return found if found else default


def _children_by_ppid() -> Mapping[int, list[int]] | _ChildrenFiles:
    """{ppid: [child pids]} for the whole system, read once per sample (or, where Linux has
    children files, read per process as the trees are walked).

    psutil's ``Process.children()`` rebuilds this map on every call (one read of every
    process on the machine per tree); building it once serves all trees.
    """
    if _HAS_CHILDREN_FILES:
        return _ChildrenFiles()
    children: dict[int, list[int]] = {}
    for pid, ppid in ppid_map().items():
        if pid != ppid:
            children.setdefault(ppid, []).append(pid)
    return children


class _Reading:
    """What /proc said of a process at one sample (devenv.project.procfs.usage), with the
    reading of the sample before, which makes its CPU a delta as psutil's cpu_percent is."""

    def __init__(self, found: tuple[float, str, float, int], before: _Reading | None) -> None:
        self.at = time.monotonic()
        self.state, self.cpu_seconds, self.rss = found[1], found[2], found[3]
        self.before = before

    def measure(self) -> _Measure | None:
        if self.state == "Z":
            return None  # exited, not yet reaped: nothing left to account
        before, self.before = self.before, None  # one step back is all a delta needs
        if before is None or self.at <= before.at:
            return _Measure(cpu=0.0, rss=self.rss)
        cpu = (self.cpu_seconds - before.cpu_seconds) / (self.at - before.at) * 100
        return _Measure(cpu=round(max(cpu, 0.0), 1), rss=self.rss)


def _measure(proc: psutil.Process | _Reading) -> _Measure | None:
    """CPU since the previous call and RSS, reading the process's files once; None if gone."""
    if isinstance(proc, _Reading):
        return proc.measure()
    import psutil

    try:
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None  # exited, not yet reaped: nothing left to account
            return _Measure(cpu=proc.cpu_percent(), rss=proc.memory_info().rss)
    except psutil.NoSuchProcess:  # ZombieProcess too
        return None
    except psutil.AccessDenied:
        return _Measure(cpu=0.0, rss=0)  # someone else's (a setuid helper): count it only
