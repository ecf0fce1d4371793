"""What every native service shares: spawning, readiness polling, adoption, stopping.

A subclass says how to prepare its data, which argv runs the server, how to
probe readiness once, and how to ask the server to stop. This class does the
rest the same way for all of them: the server runs in its own session (so a
Ctrl-C in the terminal does not reach it and it outlives ``devenv up -d``),
its output is appended to ``.devenv/logs/<name>.log``, its pid and create
time are recorded so the next devenv can adopt it, and readiness is polled
every few milliseconds, never with a sleep of a fixed length. A subclass that
names its files (``early_start_files``) also gets its spawn recorded as a plan,
from which the next ``devenv up -d`` spawns it before loading devenv
(devenv.project.startplan); ``start`` keeps that server only when the plan is
still exactly what it would spawn.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devenv.config import ServiceConfig
from devenv.errors import DevenvError
from devenv.events import Emit, ServiceReady, ServiceStarting, ServiceStopped, ignore
from devenv.project import pidrecord, procfs, stamps, startplan
from devenv.project.layout import Layout
from devenv.project.privileges import ServiceUser
from devenv.services import readiness
from devenv.services.installations import Installation
from devenv.services.recipes import Recipe
from devenv.state import State, Status

READY_POLL_SECONDS = 0.005
DEFAULT_START_TIMEOUT = 30.0  # seconds, unless the recipe says readiness.timeout


class ServiceStartError(DevenvError):
    """A service did not start; ``log_tail`` holds the last lines of its log. (What it says is
    also the ``devenv.events.ServiceFailed`` event a Stack emits for it.)"""

    def __init__(self, name: str, message: str, log_tail: Sequence[str] = ()) -> None:
        self.name = name
        self.message = message  # without the name and the log tail
        self.log_tail = tuple(log_tail)
        text = f"{name}: {message}"
        if self.log_tail:
            text += "\n  last lines of its log:\n" + "\n".join(f"    {x}" for x in self.log_tail)
        super().__init__(text)


@dataclass(frozen=True)
class ServiceContext:
    """Everything a service needs to know, decided before it starts."""

    project: str
    config: ServiceConfig
    recipe: Recipe
    installation: Installation
    layout: Layout
    port: int
    user: ServiceUser  # who the server runs as (see devenv.project.privileges)
    emit: Emit = ignore


class Service(ABC):
    """One native server owned by the project."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.name = ctx.config.name
        # The server this object spawned, kept so that its exit status can be read (and it is
        # reaped: pid 1 may reap no zombies); None when it runs adopted, or not at all.
        self.process: subprocess.Popen | None = None
        self.early: startplan.Early | None = None  # the server it took from an early start

    # -- paths -------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.ctx.layout.data_dir(self.name)

    @property
    def log_file(self) -> Path:
        return self.ctx.layout.log_file(self.name)

    @property
    def pid_file(self) -> Path:
        return self.ctx.layout.state / f"{self.name}.pid.json"

    @property
    def port(self) -> int:
        return self.ctx.port

    @property
    def version(self) -> str:
        return str(self.ctx.installation.version)

    def binary(self, role: str) -> Path:
        try:
            return self.ctx.installation.binaries[role]
        except KeyError:
            raise DevenvError(
                f"{self.name}: '{self.ctx.recipe.binaries.get(role, role)}' was not found in "
                f"{self.ctx.installation.bindir}; {self.ctx.recipe.name}'s installation looks "
                "incomplete"
            ) from None

    # -- what a subclass says ----------------------------------------------

    @abstractmethod
    def prepare(self) -> None:
        """Create the data and render the config; idempotent, called before every spawn."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The server's command line."""

    @abstractmethod
    def is_ready(self) -> bool:
        """Probe once, quickly; False, or an error ``not_yet`` accepts, means not yet."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """The variables a process uses to reach this service (DATABASE_URL, ...)."""

    def provision(self) -> None:  # noqa: B027 - optional hook, most services need nothing
        """Create what the config declares inside the running server; idempotent."""

    def not_yet(self, error: BaseException) -> bool:
        """Whether ``error`` from ``is_ready`` means "not ready yet" (devenv.services.readiness
        says which do); anything else is raised at once, by ``start`` and by ``status``."""
        return readiness.not_yet(error)

    # The signal that asks the server to shut down cleanly, for ``devenv down``'s early stop
    # (devenv.project.startplan.stop_early), which cannot talk to it as request_stop may.
    stop_signal: int = signal.SIGTERM

    def request_stop(self, pid: int) -> None:
        """Ask the server to shut down cleanly."""
        os.kill(pid, signal.SIGTERM)

    def while_starting(self) -> None:  # noqa: B027 - optional hook
        """Work to overlap with the server's own start-up (say, importing a client library)."""

    def find_running(self) -> int | None:
        """The pid of this project's server if it runs (perhaps started by a killed devenv)."""
        record = pidrecord.read_alive(self.pid_file, works_in=self.ctx.layout.root)
        return record.pid if record else None

    def clean_stale(self) -> None:  # noqa: B027 - optional hook
        """Remove what a dead server left behind (lock files, sockets); it is not running."""

    @staticmethod
    def remove_stale_socket(path: Path) -> None:
        """Remove the unix socket a dead server left at ``path`` (nothing else is touched)."""
        try:
            st = path.lstat()
        except OSError:
            return
        if stat.S_ISSOCK(st.st_mode):
            path.unlink(missing_ok=True)

    def client_argv(self, args: Sequence[str]) -> list[str]:
        raise DevenvError(f"{self.name} has no client to open")

    # -- what every service does the same way -------------------------------

    def start(self, timeout: float | None = None) -> ServiceReady:
        """Start the server (or adopt the running one) and return once it is ready; the
        timeout defaults to the recipe's ``readiness.timeout``, else 30 seconds."""
        if timeout is None:
            timeout = float(self.ctx.recipe.readiness.get("timeout", DEFAULT_START_TIMEOUT))
        started = time.monotonic()
        early = self._take_early()
        if early is not None:
            proc, started = early.proc, early.spawned_at
            self.early = early  # its probe's session, if any, is for is_ready
            self.ctx.emit(ServiceStarting(self.name, f"version {self.version}, port {self.port}"))
        else:
            pid = self.find_running()
            if pid is not None:
                self._wait_ready(None, started, timeout)
                event = ServiceReady(self.name, pid, self.port, time.monotonic() - started, True)
                self.ctx.emit(event)
                return event
            self.ctx.emit(ServiceStarting(self.name, f"version {self.version}, port {self.port}"))
            self.clean_stale()
            self.prepare()
            proc = self._spawn()
        try:
            self.while_starting()
            self._wait_ready(proc, started, timeout)
        except BaseException:
            # Whatever went wrong (a broken client library, Ctrl-C), leave no server behind.
            if proc.poll() is None:
                self._kill(proc.pid)
            self.pid_file.unlink(missing_ok=True)
            raise
        self.process = proc
        event = ServiceReady(self.name, proc.pid, self.port, time.monotonic() - started)
        self.ctx.emit(event)
        return event

    def _spawn(self) -> subprocess.Popen:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # the server's log is the owner's alone, as its data is
        with os.fdopen(fd, "ab") as log:
            try:
                proc = subprocess.Popen(
                    self.argv(),
                    # In its data folder: that is how its project is told from a copy's
                    # (pidrecord.works_under), and it leans on no folder of devenv's.
                    cwd=self.data_dir if self.data_dir.is_dir() else None,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    **self.ctx.user.popen_kwargs(),
                )
            except OSError as err:
                why = f"could not run {self.argv()[0]}: {err}"
                raise ServiceStartError(self.name, why) from err
        pidrecord.write(self.pid_file, pidrecord.PidRecord.of(proc.pid))
        plan = self.spawn_plan()
        if plan is not None:
            with contextlib.suppress(OSError):  # without it the next start is only slower
                startplan.record(self.ctx.layout.state, plan)
        return proc

    def _take_early(self) -> startplan.Early | None:
        """The server ``devenv up -d`` spawned from this service's plan before loading devenv
        (devenv.project.startplan), when it is exactly the one this object would spawn now:
        same plan after ``prepare()``. One spawned from a stale plan is stopped: None."""
        early = startplan.take(self.pid_file)
        if early is None:
            return None
        try:
            self.prepare()  # as before any spawn; with nothing changed it writes nothing
            same = _as_json(self.spawn_plan()) == early.plan
        except BaseException:
            early.drop_connection()
            self._stop_early(early.proc)
            raise
        if not same:
            early.drop_connection()
            self._stop_early(early.proc)
            startplan.forget(self.ctx.layout.state, self.name)
            return None
        return early

    def _stop_early(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            with contextlib.suppress(OSError, DevenvError):
                self.request_stop(proc.pid)
            if not wait_gone(proc.pid, 10.0):
                self._kill(proc.pid)
        proc.poll()
        self.pid_file.unlink(missing_ok=True)
        self.clean_stale()

    def spawn_plan(self) -> dict | None:
        """How this server is spawned now, as devenv.project.startplan records and compares it;
        None for a service that ``early_start_files`` keeps out of early starts."""
        files = self.early_start_files()
        if files is None:
            return None
        reads, leftovers = files
        layout, user = self.ctx.layout, self.ctx.user
        return {
            "name": self.name,
            "argv": self.argv(),
            "cwd": str(self.data_dir) if self.data_dir.is_dir() else None,
            "popen": user.popen_kwargs(),
            "log": str(self.log_file),
            "pid_file": str(self.pid_file),
            "port": self.port,
            "reads": {str(path): stamps.stamp(path) for path in reads},
            "leftovers": [str(path) for path in leftovers],
            "runtime": [str(layout.runtime), user.uid],
            "lock": str(layout.ops_lock),
            "config": stamps.stamp(startplan.config_file(layout.root)),
            "stop_signal": int(self.stop_signal),
            # what runs alongside the servers and must stop first (devenv.project.runlock,
            # devenv.supervisor.procstate): while one is there, `down` stops nothing early
            "quiet": [str(layout.stack_file), str(layout.base / "processes.json")],
            "probe": self.early_probe(),
        }

    def early_probe(self) -> dict | None:
        """For an early start: what the plan's ``probe`` says startplan.Early may do while
        devenv loads (see there); None, the default, nothing."""
        return None

    def warm_finish(self) -> dict | None:
        """For the next warm ``up -d`` (devenv.services.warmstart), asked once this server is
        ready and provisioned: ``{"ready": how to tell the next one is ready, "checks": the
        server's answers that mean nothing is left to provision, "reads": files besides the
        common ones whose change may change the start}``. None, the default: this service
        always starts the ordinary way."""
        return None

    def early_start_files(self) -> tuple[list[Path], list[Path]] | None:
        """For an early start (devenv.project.startplan): the files the server reads (the plan
        is used only while they are unchanged) and those whose existence means a server of
        this service may run or left something behind (then the plan waits). None, the
        default, keeps the service out of early starts."""
        return None

    def _wait_ready(self, proc: subprocess.Popen | None, started: float, timeout: float) -> None:
        deadline = started + timeout
        while True:
            if proc is not None and proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServiceStartError(
                    self.name, f"the server exited with code {proc.returncode}", self.log_tail()
                )
            if self._probe():
                return
            if time.monotonic() > deadline:
                why = f"did not become ready in time ({timeout:g} s)"
                raise ServiceStartError(self.name, why, self.log_tail())
            time.sleep(READY_POLL_SECONDS)

    def _probe(self) -> bool:
        """``is_ready()``, with the errors that mean "not yet" taken as False."""
        try:
            return self.is_ready()
        except Exception as err:
            if self.not_yet(err):
                return False
            where = f"{type(self).__name__}.is_ready"
            err.add_note(f"raised by the readiness probe of {self.name} ({where})")
            raise

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the server if it runs; True when it was running. Never deletes data."""
        asked = startplan.stopped(self.pid_file)  # signalled before devenv loaded, or None
        pid = self.find_running()
        if pid is None and asked is not None:  # gone already: stopped by that signal
            self.pid_file.unlink(missing_ok=True)
            self.clean_stale()
            self.ctx.emit(ServiceStopped(self.name, asked))
            return True
        if pid is None:
            self.clean_stale()
            return False
        try:
            if pid != asked:
                self.request_stop(pid)
        except (OSError, DevenvError):
            os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, timeout):
            self._kill(pid)
        if self.process is not None and self.process.pid == pid:
            self.process.poll()  # reaped already by wait_gone, or now
            self.process = None
        self.pid_file.unlink(missing_ok=True)
        self.clean_stale()
        self.ctx.emit(ServiceStopped(self.name, pid))
        return True

    def _kill(self, pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                return
        wait_gone(pid, 5.0)

    def log_tail(self, lines: int = 15) -> list[str]:
        try:
            with open(self.log_file, "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 64 * 1024))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        return list(deque(text.splitlines(), maxlen=lines))

    def status(self, *, quick: bool = False) -> Status:
        """Its status now: "stopped" when no server of the project runs, else the server is
        asked (``is_ready``): "ready" or "starting". With ``quick`` (``devenv status`` in
        another terminal), a server that accepts connections on its port (``listening``: no
        client library, no protocol) is taken as ready; only one that does not is asked."""
        pid = self.find_running()
        if pid is None:
            return self.status_of(State.STOPPED, None)
        ready = (quick and bool(self.port) and self.listening()) or self._probe()
        return self.status_of(State.READY if ready else State.STARTING, pid)

    def listening(self, timeout: float = 0.5) -> bool:
        """Whether something accepts a TCP connection on the service's port (127.0.0.1);
        the connection is closed at once, nothing is sent (PostgreSQL logs nothing of it)."""
        import socket

        # A socket of its own, not create_connection: no name lookup for a literal address.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0
            except OSError:
                return False

    def status_of(self, state: State, pid: int | None, restarts: int | None = None) -> Status:
        """The record of this service in ``state`` with ``pid``, as found by the caller."""
        return Status(
            self.name,
            "service",
            state,
            pid=pid,
            port=self.port,
            restarts=restarts,
            version=self.version,
            data_dir=str(self.data_dir),
            log=str(self.log_file),
        )


def _as_json(value: object) -> object:
    """``value`` as it reads back from JSON (tuples become lists), to compare it with a plan."""
    import json

    return json.loads(json.dumps(value))


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit (reaping it if it is our zombie);
    True when it is gone."""
    if procfs.HAS_PROC:  # /proc says it as psutil would, without its ~10 ms import
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = procfs.state(pid)
            if state is None:
                return True
            if state == "Z" and _threads(pid) <= 1:  # see below: all its threads are gone
                _reap(pid)
                return True
            time.sleep(READY_POLL_SECONDS)
        return procfs.state(pid) is None
    import psutil

    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # A zombie is gone, but only once all its threads are: the leader of a threaded
            # server (memcached) turns zombie while its other threads still hold the sockets.
            if proc.status() == psutil.STATUS_ZOMBIE and _threads(pid) <= 1:
                _reap(pid)
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(READY_POLL_SECONDS)
    return not proc.is_running()


def _threads(pid: int) -> int:
    """How many threads of ``pid`` still exist (Linux: entries of /proc/PID/task)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 1  # no /proc (macOS), or gone: nothing more to wait for


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
