"""A warm ``devenv up -d`` spawns its servers before devenv's own code is loaded.

Importing devenv and reading the config takes ~100 ms, longer than PostgreSQL
takes to start. So a start that spawned a server records how it did (its
*plan*: argv, working folder, user, log, port, the stamps of the files the
server reads and of the config) in ``.devenv/state/<name>.plan.json``, and the
next ``up -d`` spawns from the plans first thing (``spawn_early``), while it
still knows nothing but ``os``. Then it goes its ordinary way, and each
``Service.start`` takes its early server (``take``) and keeps it only when the
plan equals what it would spawn itself now, after ``prepare()``; otherwise it
stops it and spawns its own. A plan is used only when nothing of the project
runs or was left behind (no pid record, no lock or socket file the plan names),
the config file is unchanged, and no other devenv works on the project (the
early spawn takes the project's operation lock, which ``operation_lock`` then
takes over). A stale plan costs time, never a server the ordinary path would
not run: the early servers nobody took are stopped (``abandon``).

``devenv down`` uses the same plans the other way (``stop_early``): it signals the
recorded servers to stop before loading devenv, and ``Service.stop`` finishes the job.

Only ``os``, ``json``, ``contextlib`` and ``subprocess`` are imported before the spawn.
"""

from __future__ import annotations

import contextlib
import json
import os

from devenv.project.ownfiles import read_own_json, try_lock
from devenv.project.stamps import stamp

TYPE_CHECKING = False  # typing costs ~4 ms to import, before the spawn
if TYPE_CHECKING:
    import subprocess
    import threading

    from devenv.services import pgwire

    Where = str | os.PathLike[str]  # a path, as os.* takes it

# What a plan (a file anything may have damaged) or the machine's state (a server gone, a
# folder moved) can raise on the way: the head start is dropped and the ordinary path decides
# and reports. Anything else is a bug in this module and is let out.
NOT_NOW = (OSError, ValueError, LookupError, TypeError, AttributeError)
SUFFIX = ".plan.json"
CONFIG_NAMES = ("devenv.toml", "pyproject.toml")
_STATE = os.path.join(".devenv", "state")


class Early:
    """A server spawned from a plan, waiting for its Service to take it.

    A plan with a ``probe`` (``{"kind": "pgwire", "ready_file", "socket", "user", "dbname"}``,
    PostgreSQL's) also gets a thread that waits for the server to say it is ready (line 8 of
    ``ready_file`` is ``ready``, as pg_ctl reads postmaster.pid) and then logs in once over
    the socket, while devenv loads: the server's backend start is off the critical path.
    ``connection`` hands that session to the Service's readiness probe."""

    def __init__(self, plan: dict, proc: subprocess.Popen[bytes], spawned_at: float) -> None:
        self.plan = plan
        self.proc = proc
        self.spawned_at = spawned_at  # time.monotonic()
        self._conn: pgwire.Connection | None = None
        self._claimed = False
        self._guard: threading.Lock | None = None
        self.probed: threading.Event | None = None  # set once the probe's thread is done

    def probe_early(self) -> None:
        """Start the thread of the plan's ``probe``, if it has one of a kind known here."""
        probe = self.plan.get("probe")
        if not isinstance(probe, dict) or probe.get("kind") != "pgwire":
            return
        import threading

        self._guard, self.probed = threading.Lock(), threading.Event()
        threading.Thread(target=self._login, args=(probe,), daemon=True).start()

    def _login(self, probe: dict) -> None:
        import time

        from devenv.services import pgwire

        deadline = time.monotonic() + PROBE_SECONDS
        try:
            while not self._claimed and time.monotonic() < deadline:
                try:
                    with open(probe["ready_file"], encoding="utf-8") as f:
                        lines = f.read().splitlines()
                except OSError:
                    lines = []
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    from pathlib import Path

                    conn = pgwire.Connection(Path(probe["socket"]), probe["user"], probe["dbname"])
                    assert self._guard is not None
                    with self._guard:
                        kept = not self._claimed
                        if kept:
                            self._conn = conn
                    if not kept:  # is_ready connected on its own meanwhile
                        conn.close()
                    return
                time.sleep(PROBE_POLL_SECONDS)
        except (*NOT_NOW, pgwire.Error, pgwire.NeedsPassword):  # a head start only: the
            # Service's own probe decides and reports
            return
        finally:
            assert self.probed is not None
            self.probed.set()

    def connection(self) -> pgwire.Connection | None:
        """The session the early probe opened, once (the caller owns it); None when it has
        none (no probe, not ready yet, failed). From now on the probe opens none."""
        if self._guard is None:
            return None
        with self._guard:
            self._claimed = True
            conn, self._conn = self._conn, None
        return conn

    def drop_connection(self) -> None:
        """Close the early probe's session, if any, and let it open none."""
        conn = self.connection()
        if conn is not None:
            with contextlib.suppress(OSError):  # the server went away: nothing to close
                conn.close()


PROBE_SECONDS = 10.0  # how long an early probe waits for its server to say it is ready
PROBE_POLL_SECONDS = 0.002  # between two reads of its ready file: the read costs ~20 us

_early: dict[str, Early] = {}  # by pid file, not yet taken
_stopped: dict[str, int] = {}  # pids stop_early signalled, by pid file, not yet seen by stop()
_lock: tuple[str, int] | None = None  # (path, fd) of the operation lock taken early


def config_file(root: Where) -> str:
    """The project's config file in ``root`` (devenv.toml, else pyproject.toml)."""
    for name in CONFIG_NAMES:
        path = os.path.join(root, name)
        if os.path.exists(path):
            return path
    return os.path.join(root, CONFIG_NAMES[0])


def plan_path(state_dir: Where, name: str) -> str:
    return os.path.join(state_dir, name + SUFFIX)


def record(state_dir: Where, plan: dict) -> None:
    """Remember how the server ``plan["name"]`` was just spawned, for the next warm start."""
    from devenv.files import write_atomic

    write_atomic(plan_path(state_dir, plan["name"]), json.dumps(plan), mode=0o600)


def forget(state_dir: Where, name: str) -> None:
    """Drop ``name``'s plan (its server is not started that way any more)."""
    with contextlib.suppress(OSError):
        os.unlink(plan_path(state_dir, name))


def project_root(start: str) -> str | None:
    """The nearest folder up from ``start`` with a config file, as devenv.config finds it."""
    folder = os.path.realpath(start)
    while True:
        if any(os.path.exists(os.path.join(folder, name)) for name in CONFIG_NAMES):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _plans(root: str) -> list[dict]:
    state = os.path.join(root, _STATE)
    try:
        names = sorted(n for n in os.listdir(state) if n.endswith(SUFFIX))
    except OSError:
        return []
    plans = []
    for name in names:
        # A plan says what to run, and as whom: only one this account wrote.
        plan = read_own_json(os.path.join(state, name))
        if plan is None:
            return []
        plans.append(plan)
    return plans


def _found(start: str) -> tuple[str, list[dict], list[int] | None] | None:
    """The project around ``start``: its root, its trusted plans and its config's stamp."""
    root = project_root(start)
    if root is None:
        return None
    return root, _plans(root), stamp(config_file(root))


def _usable(plan: dict, config: list[int] | None) -> bool:
    """Whether ``plan`` may be spawned now: the same config and files, nothing left running."""
    try:
        if plan["config"] != config or config is None:
            return False
        if any(stamp(path) != want for path, want in plan["reads"].items()):
            return False
        leftovers = [plan["pid_file"], *plan["leftovers"]]
        return not any(os.path.lexists(path) for path in leftovers)
    except (KeyError, TypeError, AttributeError):
        return False


def spawn_early(start: str) -> None:
    """Spawn the servers of the project around ``start`` from their plans, when every plan
    is usable (else spawn nothing: the ordinary start does it all). Never raises."""
    global _lock
    try:
        found = _found(start)
        if found is None:
            return
        _, plans, config = found
        if not plans or not all(_usable(plan, config) for plan in plans):
            return
        locks = {plan["lock"] for plan in plans}
        if len(locks) != 1:
            return
        _lock = _take_lock(locks.pop())
        if _lock is None:
            return  # another devenv works on the project: leave it to the ordinary start
        if not all(_usable(plan, config) for plan in plans):  # changed before we held the lock
            abandon()
            return
        for plan in plans:
            _spawn(plan)
        for early in _early.values():  # after every spawn: a probe's thread slows the next
            early.probe_early()
        from devenv.project import pidrecord

        for early in _early.values():
            pidrecord.write(early.plan["pid_file"], pidrecord.PidRecord.of(early.proc.pid))
    except NOT_NOW:  # a plan is only a head start: the ordinary start decides and reports
        abandon()


def _take_lock(path: str) -> tuple[str, int] | None:
    fd = try_lock(path)
    return None if fd is None else (path, fd)


def _spawn(plan: dict) -> None:
    import subprocess
    import time

    runtime, owner = plan["runtime"]
    if not os.path.isdir(runtime):  # `devenv down` removes it once its sockets are gone
        os.mkdir(runtime, 0o700)
        if owner != os.geteuid():
            os.chown(runtime, owner, -1)
    fd = os.open(plan["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "ab") as log:
        proc = subprocess.Popen(
            plan["argv"],
            cwd=plan["cwd"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **plan["popen"],
        )
    _early[plan["pid_file"]] = Early(plan, proc, time.monotonic())


def stop_early(start: str) -> None:
    """``devenv down``: signal the servers the plans name to stop (as their Service would:
    ``stop_signal``), before devenv loads, so that their shutdown overlaps its imports.
    Only when every plan is trusted and the config unchanged, and nothing else of the
    project runs (no foreground devenv, no process records: those stop first, in order);
    the operation lock is taken as for an early start. ``Service.stop`` then finishes the
    job (``stopped``). Never raises."""
    global _lock
    try:
        found = _found(start)
        if found is None:
            return
        root, plans, config = found
        if not plans or any(plan["config"] != config or config is None for plan in plans):
            return
        if any(os.path.lexists(path) for plan in plans for path in plan["quiet"]):
            return
        locks = {plan["lock"] for plan in plans}
        if len(locks) != 1 or (_lock := _take_lock(locks.pop())) is None:
            return
        from pathlib import Path  # loaded already by the CLI (devenv.errors)

        from devenv.project import pidrecord

        for plan in plans:
            record = pidrecord.read_alive(Path(plan["pid_file"]), works_in=Path(root))
            if record is not None:
                os.kill(record.pid, plan["stop_signal"])
                _stopped[plan["pid_file"]] = record.pid
    except NOT_NOW:  # only a head start: `down` itself decides and reports
        pass


def signalled() -> dict[str, int]:
    """{pid file: pid} of the servers ``stop_early`` asked to stop, not yet seen by a stop."""
    return dict(_stopped)


def stopped(pid_file: Where) -> int | None:
    """The pid ``stop_early`` asked to stop whose pid file is ``pid_file``, once."""
    return _stopped.pop(str(pid_file), None)


def take(pid_file: Where) -> Early | None:
    """The server spawned early whose pid file is ``pid_file``, once: its Service owns it now."""
    return _early.pop(str(pid_file), None)


def spawned() -> dict[str, Early]:
    """The servers spawned early that no Service has taken yet, by service name."""
    return {early.plan["name"]: early for early in _early.values()}


def keep_all() -> None:
    """The servers spawned early are ready and stay (a finished warm start,
    devenv.services.warmstart): nothing here stops them any more. The operation lock is
    still held: ``abandon`` lets go of it."""
    _early.clear()


def pending() -> dict[str, int]:
    """{service: pid} of the servers spawned early that no Service has taken yet."""
    return {early.plan["name"]: early.proc.pid for early in _early.values()}


def holds(name: str, port: int) -> bool:
    """Whether an early server of service ``name``, not yet taken, was spawned for ``port``
    (so the port being busy is that server's doing, not another program's)."""
    return any(e.plan.get("name") == name and e.plan.get("port") == port for e in _early.values())


def hand_over_lock(path: Where) -> int | None:
    """The fd of the operation lock on ``path`` if ``spawn_early`` holds it (the caller owns it
    from now on), else None."""
    global _lock
    if _lock is None or _lock[0] != str(path):
        return None
    fd = _lock[1]
    _lock = None
    return fd


def abandon(timeout: float = 10.0) -> None:
    """Stop the early servers nobody took (the start failed before reaching them), then let go
    of the operation lock if it is still held here."""
    global _lock
    import signal

    left = list(_early.values())
    _early.clear()
    for early in left:
        early.drop_connection()
        if early.proc.poll() is None:
            early.proc.send_signal(signal.SIGTERM)
    for early in left:
        import subprocess

        try:
            early.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(early.proc.pid, signal.SIGKILL)
            early.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(early.plan["pid_file"])
    if _lock is not None:
        os.close(_lock[1])  # closing the last fd releases the flock
        _lock = None
