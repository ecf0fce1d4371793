"""``devenv up --no-tui`` spawns the Procfile's processes before devenv's own code is loaded.

Importing asyncio, the config code and the supervisor takes ~100 ms before the first
process could start. So a start of a project whose processes start at once (no services,
no hooks, no lockfiles, no ``depends_on``) records how it spawned them, its *plan*, in
``.devenv/processes.plan.json`` (``record``): each process's command, folder and
environment (as changes to devenv's own), the ports it found free, and what the processes
were built from: stamps of the config, Procfile, .env and remembered ports, the block's
claim in the user's port registry, whether the virtualenv and node_modules exist, no
lockfile in the project folder, a digest of the environment.

The next ``up --no-tui`` (``spawn_early``), while it knows little more than ``os``, spawns
from the plan when all of that holds, the project's foreground lock is free (taken here,
handed to the Session: ``hand_over_lock``), no killed devenv left processes recorded and
the planned ports are free; and it prints each "started (pid N)" line as the console
would. Then the ordinary start goes its way: ``Session`` builds the processes as always,
keeps an early one only when it is exactly what it would spawn itself (command, folder,
whole environment: ``keep_matching``; else it is stopped, with a notice) and its
supervisor takes it (``take``, devenv.supervisor.child.adopt) where it would have spawned
one. A stale plan costs time, never a process the ordinary path would not run: what
nobody took is stopped (``stop_pending``, ``abandon``: SIGTERM to its group, SIGKILL
after a grace period).

A plan is read only when this account wrote it and nobody else may write it (as
devenv.project.startplan's). Linux only (the port check is a bind, as
devenv.project.ports.is_free's is there). Only ``os``, ``sys``, ``json`` and ``contextlib``
are imported before the plan is found to hold; then ``subprocess``, ``signal`` and honcho's
printer.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

from devenv.project.ownfiles import read_own_json, try_lock
from devenv.project.stamps import environ_digest, stamp

TYPE_CHECKING = False  # typing costs ~4 ms to import, before the spawn
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from devenv.config import Config
    from devenv.events import Emit
    from devenv.project.layout import Layout
    from devenv.supervisor.spec import ProcessSpec

VERSION = 1
NAME = "processes.plan.json"  # in .devenv/
# What a damaged plan or the machine's state can raise on the way: the head start is dropped
# and the ordinary start decides and reports. Anything else is a bug and is let out.
NOT_NOW = (OSError, ValueError, LookupError, TypeError, AttributeError)
STOP_GRACE = 5.0  # seconds an early process nobody took gets between SIGTERM and SIGKILL


class Early:
    """A process spawned from the plan: its ``name`` ("web.1"), ``proc`` (a Popen: new
    session, stdout and stderr on one pipe), and what it was spawned with."""

    def __init__(
        self, name: str, command: str, cwd: str, env: dict[str, str], proc: subprocess.Popen
    ) -> None:
        self.name = name
        self.command = command
        self.cwd = cwd
        self.env = env
        self.proc = proc

    def matches(self, spec: ProcessSpec) -> bool:
        """Whether ``spec`` would spawn exactly this process."""
        return (
            spec.command == self.command
            and str(spec.cwd) == self.cwd
            and dict(spec.env) == self.env
        )


_early: dict[str, Early] = {}  # by name, not yet taken nor stopped
_printed: dict[str, int] = {}  # name -> pid whose "started" line was printed here, in order
_base_port: list[int | None] = []  # the plan's base PORT, once processes were spawned
_lock: int | None = None  # the fd of the foreground lock taken early, until handed over
_lock_path: str | None = None
_previous: dict[int, object] = {}  # signal -> the handler before ours


def plan_path(root: str | os.PathLike[str]) -> str:
    return os.path.join(root, ".devenv", NAME)


# ---------------------------------------------------------------- before devenv loads


def spawn_early(start: str) -> None:
    """Spawn the processes of the project around ``start`` from its plan, when it holds (see
    the module docstring), and print their "started" lines; else do nothing. From the first
    spawn on, SIGINT, SIGTERM and SIGHUP raise (KeyboardInterrupt, SystemExit(128 + signal))
    so that the caller's ``abandon`` stops them, until the caller installs its own handlers.
    Never raises but for those signals."""
    global _lock, _lock_path
    if sys.platform != "linux":
        return
    try:
        from devenv.project.startplan import project_root

        root = project_root(start)
        if root is None:
            return
        plan = _read(root)
        if plan is None or not _usable(plan, root):
            return
        _lock = try_lock(plan["lock"])  # as ForegroundLock takes it
        if _lock is None:
            return  # another devenv runs the project: the ordinary start says so
        _lock_path = plan["lock"]
        # Checked again while holding the lock (a devenv that just stopped wrote meanwhile).
        if not _usable(plan, root) or not all(_free(port) for port in plan["ports"]):
            abandon()
            return
        processes = [_entry(item) for item in plan["processes"]]
        base = plan["base_port"]
        if base is not None and (type(base) is not int or not 0 < base < 65536):
            raise ValueError("a plan's base_port is a port number or null")
    except NOT_NOW:
        abandon()
        return
    _spawn_all(processes)
    _base_port.append(base)
    _print_started()


def _read(root: str) -> dict | None:
    """The plan of ``root``, if this account wrote it, nobody else may write it, and it parses."""
    plan = read_own_json(plan_path(root))
    return plan if plan is not None and plan.get("version") == VERSION else None


def _usable(plan: dict, root: str) -> bool:
    from devenv import __version__

    if plan["root"] != root or plan["devenv"] != __version__ or not plan["processes"]:
        return False
    if any(stamp(path) != want for path, want in plan["stamps"].items()):
        return False
    if any(os.path.isdir(path) != want for path, want in plan["dirs"].items()):
        return False
    if any(os.path.lexists(path) for path in plan["leftovers"]):
        return False
    if plan["claim"] is not None and not _claimed(*plan["claim"]):
        return False
    if plan["absent"] or plan["absent_like"]:
        names = os.listdir(root)
        if any(name in plan["absent"] for name in names):
            return False
        if plan["absent_like"]:
            from fnmatch import fnmatchcase

            if any(fnmatchcase(n, pattern) for n in names for pattern in plan["absent_like"]):
                return False
    return plan["environ"] == environ_digest()


def _claimed(registry: str, base: str, owner: str) -> bool:
    """Whether the user's port registry (devenv.project.port_registry) gives the block at
    ``base`` to ``owner`` (the project's ports.json): then no other project holds it."""
    try:
        with open(registry, encoding="utf-8") as f:
            claims = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(claims, dict) and claims.get(base) == owner


def _entry(item: dict) -> tuple[str, str, str, dict[str, str]]:
    """(name, command, folder, the whole environment) of one planned process: its ``keys``
    in their order (the child sees them so), each with the value ``set`` gives, else ours."""
    changed = item["set"]
    env = {key: changed[key] if key in changed else os.environ[key] for key in item["keys"]}
    if not all(isinstance(v, str) for v in (item["name"], item["command"], item["cwd"])):
        raise TypeError("a planned process's name, command and folder are strings")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise TypeError("a planned process's environment maps strings to strings")
    return item["name"], item["command"], item["cwd"], env


def _free(port: int) -> bool:
    """Whether ``port`` can be listened on at 127.0.0.1 (devenv.project.ports.is_free, Linux)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _spawn_all(processes: Sequence[tuple[str, str, str, dict[str, str]]]) -> None:
    """Spawn each as devenv.supervisor.child.spawn_shell would; a signal that comes meanwhile
    is held until every spawned one is known (so ``abandon`` finds it), then raised."""
    import signal
    import subprocess

    caught: list[int] = []
    for name in SIGNALS:
        sig = getattr(signal, name)
        _previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        for name, command, cwd, env in processes:
            try:
                proc = subprocess.Popen(
                    command,
                    shell=True,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                )
            except (OSError, ValueError):
                continue  # the supervisor spawns it and reports what fails
            _early[name] = Early(name, command, cwd, env, proc)
    finally:
        for sig in _previous:
            signal.signal(sig, _raise)
    if caught:
        _raise(caught[0], None)


def _raise(signum: int, frame: object) -> None:
    import signal

    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _print_started() -> None:
    """Each early process's "started (pid N)" line, as devenv.console.ConsolePrinter prints
    a process's line (honcho's Printer: time, name padded to the widest yet, one colour per
    name in the order they first print, none with NO_COLOR or off a terminal)."""
    import datetime

    from honcho.colour import get_colours
    from honcho.printer import Message, Printer

    printer = Printer(sys.stdout, colour=not os.environ.get("NO_COLOR"), width=8)
    colours = get_colours()
    for name, early in _early.items():
        printer.width = max(printer.width, len(name))
        text = f"started (pid {early.proc.pid})"
        message = Message("line", text, datetime.datetime.now(), name, next(colours))
        try:
            printer.write(message)
        except (OSError, ValueError):
            return  # nobody reads: the console finds out and goes quiet
        _printed[name] = early.proc.pid


# ---------------------------------------------------------------- once devenv has loaded


def printed() -> dict[str, int]:
    """{name: pid} of the processes whose "started (pid N)" line was printed here, in the
    order they were: a console that prints after this one gives them the same colours and
    width by taking them in that order, and leaves out those lines when they come again."""
    return dict(_printed)


def pending() -> bool:
    """Whether processes were spawned early that nothing took or stopped yet."""
    return bool(_early)


def base_port() -> int | None:
    """The base PORT the early processes were spawned with: what
    devenv.project.ports.allocate_block gives now (its remembered block, registry unchanged,
    every port checked free before the spawn); None when the environment or .env sets PORT."""
    return _base_port[-1] if _base_port else None


def keep_matching(specs: Iterable[ProcessSpec], emit: Emit) -> None:
    """Keep the early processes that ``specs`` would spawn exactly (to be ``take``n); stop
    the others now, each said through ``emit`` (a Notice)."""
    from devenv.events import Notice

    wanted = {spec.name: spec for spec in specs}
    stale = [
        early
        for name, early in _early.items()
        if not (name in wanted and early.matches(wanted[name]))
    ]
    for early in stale:
        _early.pop(early.name, None)
    _stop(stale)
    for early in stale:
        emit(
            Notice(
                early.name,
                f"stopped pid {early.proc.pid}: its settings changed since the last start",
            )
        )


def take(name: str) -> subprocess.Popen | None:
    """The early process ``name``, once: the caller owns it from now on."""
    early = _early.pop(name, None)
    return early.proc if early is not None else None


def stop(proc: subprocess.Popen) -> None:
    """Stop one early process taken but not adopted (its adoption failed): its group SIGKILLed."""
    import signal

    _killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def stop_pending() -> None:
    """Stop the early processes nobody took (the start failed before them)."""
    left = []
    while _early:
        left.append(_early.popitem()[1])
    _stop(left)


def _stop(left: list[Early]) -> None:
    import signal
    import subprocess

    for early in left:
        _killpg(early.proc.pid, signal.SIGTERM)
    for early in left:
        with contextlib.suppress(subprocess.TimeoutExpired):
            early.proc.wait(STOP_GRACE)
        _killpg(early.proc.pid, signal.SIGKILL)  # what the group still holds, as ShellChild
        early.proc.wait()
        if early.proc.stdout is not None:
            early.proc.stdout.close()


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(OSError):  # gone already
        os.killpg(pgid, sig)


class HeldLock:
    """The foreground lock taken before devenv loaded, now the Session's (ForegroundLock's
    ``release``: the pid record goes, then the lock)."""

    def __init__(self, fd: int, stack_file: Path) -> None:
        self._fd: int | None = fd
        self.stack_file = stack_file

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        self.stack_file.unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def hand_over_lock(lock_file: Path, stack_file: Path) -> HeldLock | None:
    """The foreground lock on ``lock_file`` if ``spawn_early`` holds it, with this process's
    pid recorded in ``stack_file`` (as ForegroundLock.acquire records it); else None."""
    global _lock, _lock_path
    if _lock is None or _lock_path != str(lock_file):
        return None
    from devenv.project import pidrecord

    fd, _lock, _lock_path = _lock, None, None
    pidrecord.write(stack_file, pidrecord.PidRecord.of(os.getpid()))
    return HeldLock(fd, stack_file)


def abandon() -> None:
    """Stop the early processes nobody took, let go of the lock if not handed over, and put
    back the signal handlers from before ``spawn_early``'s (unless replaced since)."""
    global _lock, _lock_path
    import signal

    stop_pending()
    if _lock is not None:
        os.close(_lock)  # closing the only fd releases the flock
        _lock = _lock_path = None
    for sig, handler in _previous.items():
        if signal.getsignal(sig) is _raise:
            signal.signal(sig, handler)  # type: ignore[arg-type]
    _previous.clear()
    _printed.clear()
    _base_port.clear()


# ---------------------------------------------------------------- recording


def eligible(config: Config, specs: Sequence[ProcessSpec]) -> bool:
    """Whether a start of ``config`` spawns its processes at once, so could from a plan: no
    services, no hooks, no lockfiles to check, no process waiting on another."""
    from devenv.environment.project import ProjectEnv

    return bool(
        specs
        and not config.services
        and not config.hooks.after_ready
        and not ProjectEnv.from_config(config).lockfiles
        and not any(spec.depends_on for spec in specs)
    )


def record(
    config: Config,
    layout: Layout,
    specs: Sequence[ProcessSpec],
    base_port: int | None,
    ports: Sequence[int],
    environ: Mapping[str, str] | None = None,
) -> None:
    """Remember how ``specs`` were just spawned, for the next start (see the module
    docstring); ``base_port`` and ``ports`` as the allocation gave them without a notice
    (None and [] when the environment or .env set PORT). The caller checked ``eligible``."""
    from devenv import __version__
    from devenv.config import CONFIG_FILE, LOCKFILE_NAMES, LOCKFILE_PATTERNS, PYPROJECT_FILE
    from devenv.environment.project import ProjectEnv
    from devenv.files import write_atomic
    from devenv.project.port_registry import BlockRegistry
    from devenv.supervisor import procstate

    environ = os.environ if environ is None else environ
    root = config.root
    claim = None
    if base_port is not None:  # allocate_block's: another project's claim would move it
        me = str(layout.ports_file.absolute().resolve())  # as allocate_block names it
        claim = [str(BlockRegistry().path), str(base_port), me]
        if not _claimed(*claim):  # no registry, or not ours: the next start allocates anew
            forget(root)
            return
    env = ProjectEnv.from_config(config)
    reads = [
        root / CONFIG_FILE,  # either may be the config, or come to be
        root / PYPROJECT_FILE,  # (its [project] name may be the project's)
        config.project.procfile,
        config.project.env_file,
        layout.ports_file,
    ]
    processes = [
        {
            "name": spec.name,
            "command": spec.command,
            "cwd": str(spec.cwd),
            "keys": list(spec.env),
            "set": {k: v for k, v in spec.env.items() if environ.get(k) != v},
        }
        for spec in specs
    ]
    plan = {
        "version": VERSION,
        "devenv": __version__,
        "root": str(root),
        "environ": environ_digest(environ),
        "stamps": {str(path): stamp(path) for path in reads},
        "dirs": {str(path): path.is_dir() for path in (env.venv, env.node_modules)},
        "absent": list(LOCKFILE_NAMES),
        "absent_like": list(LOCKFILE_PATTERNS),
        "leftovers": [str(procstate.path(layout))],
        "claim": claim,
        "lock": str(layout.lock_file),
        "ports": list(ports),
        "base_port": base_port,
        "processes": processes,
    }
    write_atomic(plan_path(root), json.dumps(plan), mode=0o600)


def forget(root: str | os.PathLike[str]) -> None:
    """Drop the project's plan (its processes are not started that way any more)."""
    with contextlib.suppress(OSError):
        os.unlink(plan_path(root))
