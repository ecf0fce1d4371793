"""One running ``devenv up``: services, then the Procfile's processes, until stopped.

Both faces of ``devenv up`` drive this: the plain ``--no-tui`` output and
the TUI. It holds the project lock, starts the services and keeps them up
(devenv.services.watch: a server that dies is reported, its processes told,
and it is restarted with backoff), runs the supervisor on its own thread
(devenv.supervisor.runner), keeps ``.devenv/processes.json`` up to date (with
CPU, memory and ports sampled once a second) for ``devenv status`` in another
terminal, and stops everything it started. Its methods block; a UI calls them
from worker threads. Callbacks come from other threads.

No thread but the supervisor's own touches the supervisor: the session keeps the
snapshot it hands over after every change (``on_change``: a new dict of frozen
``Status`` records) and controls it through SupervisorRunner's loop-safe calls.
``rows()``, read by a dashboard once a second, asks no server anything: a
service's liveness is its pid's, its readiness what its events said.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from devenv.config import Config
from devenv.errors import DevenvError
from devenv.events import (
    Emit,
    Event,
    Notice,
    ServiceExited,
    ServiceFailed,
    ServiceReady,
    ServiceStarting,
    ServiceStopped,
)
from devenv.project.layout import Layout
from devenv.records import Record
from devenv.state import State, Status
from devenv.supervisor import procstate

if TYPE_CHECKING:
    from devenv.environment.sync import Sync
    from devenv.environment.watch import DriftWatcher
    from devenv.project.procplan import HeldLock
    from devenv.project.runlock import ForegroundLock
    from devenv.services.insight import Figures, Launch
    from devenv.services.stack import Stack
    from devenv.services.watch import ServiceWatcher
    from devenv.supervisor.child import Child
    from devenv.supervisor.proclog import ProcessLog
    from devenv.supervisor.runner import SupervisorRunner
    from devenv.supervisor.spec import ProcessSpec
    from devenv.supervisor.stats import StatsSampler

LinesCallback = Callable[[str, list], object]
PORTS_EVERY = 5  # sampling rounds between two looks at the processes' listening ports
_LONGEST_LINE = 64 * 1024  # bytes of a followed log line shown before its newline came


# What each service event says of its state; the dashboard reads a service's readiness from
# them (and its liveness from its pid) while no watcher runs, instead of asking the server.
def _service_state(event: Event) -> State | None:
    match event:
        case ServiceStarting():
            return State.STARTING
        case ServiceReady():
            return State.READY
        case ServiceExited(restart_in=None):
            return State.CRASHED
        case ServiceExited():
            return State.BACKOFF
        case ServiceFailed():
            return State.FAILED
        case ServiceStopped():
            return State.STOPPED
    return None


@dataclass(frozen=True, eq=False, repr=False)  # Record: a frozen dataclass's, cheaper
class StopStep(Record):
    """A stage ``Session.stop`` reached: "processes" (it stops them all), "services" (it stops
    ``names``), "stopped" (all done). ``str()`` says it for people."""

    stage: Literal["processes", "services", "stopped"]
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.stage == "processes":
            return "stopping the processes"
        if self.stage == "services":
            return f"stopping {', '.join(self.names)}"
        return "stopped"


@dataclass(frozen=True, eq=False, repr=False)
class StopSummary(Record):
    """What ``Session.stop`` did, for the person who quit: the processes and the services it
    stopped, the services it left running (``devenv up -d`` had started them), where the logs
    are. ``lines()`` says it in a few lines for the terminal."""

    project: str
    processes: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    left_running: tuple[str, ...] = ()
    logs: str = ""

    def lines(self) -> list[str]:
        said = [f"devenv stopped {self.project}:"]
        if self.processes:
            said.append(f"  stopped the processes: {', '.join(self.processes)}")
        if self.services:
            said.append(f"  stopped the services: {', '.join(self.services)}")
        if self.left_running:
            names = ", ".join(self.left_running)
            said.append(f"  left running, as `devenv up -d` started them: {names}")
            said.append("    (`devenv down` stops them)")
        if len(said) == 1:
            said.append("  nothing was running")
        if self.logs:
            said.append(f"  logs: {self.logs}")
        return said


async def _spawn_early_first(spec: ProcessSpec) -> Child:
    """The supervisor's spawn while processes spawned before devenv loaded wait to be taken
    (devenv.project.procplan): such a one is adopted, the others are spawned as always."""
    from devenv.project import procplan
    from devenv.supervisor.child import adopt, spawn_shell

    proc = procplan.take(spec.name)
    if proc is None:
        return await spawn_shell(spec)
    try:
        return await adopt(proc, spec.stop_timeout)
    except BaseException:
        procplan.stop(proc)  # no orphan: it is nobody's now
        raise


class Session:
    def __init__(
        self,
        config: Config,
        *,
        on_event: Emit,
        on_lines: LinesCallback,
        log_ring: int = 5000,
        sample_every: float = 1.0,
        interactive: bool = False,
    ) -> None:
        self.config = config
        self.project_name = config.project.name
        self.on_event = on_event
        self.on_lines = on_lines
        self.log_ring = log_ring
        self.sample_every = sample_every
        # The services' Stack is built when first needed: a project without services (or
        # hooks) starts its processes without loading devenv.services at all.
        self._stack: Stack | None = None
        self._stack_lock = threading.Lock()
        self.layout = Layout(config.root)
        self.runner: SupervisorRunner | None = None
        self.logs: dict[str, ProcessLog] = {}
        self.stats: dict[str, dict] = {}
        self._lock: ForegroundLock | HeldLock | None = None
        self._writer = procstate.StateWriter(self.layout)
        self._write_lock = threading.Lock()
        self._service_status: dict[str, Status] = {}
        self._service_states: dict[str, State] = {}  # as the services' events last said
        # The processes as the supervisor last handed them over (on_change, on its loop): a
        # new dict of frozen records each time, so any thread may read the one it finds here.
        self._processes: dict[str, Status] = {}
        self._process_names: list[str] = []
        self._specs: dict[str, ProcessSpec] = {}  # what each process runs, for launch()
        self._sampling = threading.Event()
        self._sampler_thread: threading.Thread | None = None
        self.finished = threading.Event()  # set when the supervisor has nothing left to run
        self.interactive = interactive  # a person can be asked (the TUI): on_drift "ask"
        self.drifts: dict = {}  # lockfile -> Drift, as last computed
        self._watcher: DriftWatcher | None = None
        self._sync: Sync | None = None  # the Sync running now, to cancel it on stop
        self._sync_lock = threading.Lock()
        self.services: ServiceWatcher | None = None  # while the services are kept up
        self._services_lock = threading.Lock()  # the supervisor hears every change, none lost

    @property
    def stack(self) -> Stack:
        """The project's services (devenv.services.stack.Stack), built on first use."""
        with self._stack_lock:
            if self._stack is None:
                from devenv.services.stack import Stack

                self._stack = Stack(self.config, self._heard)
            return self._stack

    def _service_names(self) -> list[str]:
        """The services' names, as ``stack.names`` says them, without building the Stack."""
        return list(self.config.services)

    def _services_env(self) -> dict[str, str]:
        """``stack.env()``: every service's variables ({} without services, Stack not built)."""
        return self.stack.env() if self.config.services else {}

    # -- starting --------------------------------------------------------------------

    def start(self) -> None:
        from devenv.project import procplan
        from devenv.project.runlock import ForegroundLock, operation_lock

        # Held already when processes were spawned before devenv loaded (procplan).
        held = procplan.hand_over_lock(self.layout.lock_file, self.layout.stack_file)
        self._lock = held or ForegroundLock(self.layout).acquire()
        try:
            left = procstate.stop_leftovers(self.layout)
            if left:
                message = f"stopped what a killed devenv left running: {', '.join(left)}"
                self.on_event(Notice("devenv", message))
            with operation_lock(self.layout):
                if self.config.services or self.config.hooks.after_ready:
                    self.stack.start(alongside=self._prepare_environment)
                else:  # what Stack.start does then, without loading the services
                    self._prepare_environment()
            self._service_status = self._services_now()
            self._watch_services()
            self._watch_drift()
            self._start_processes()
        except BaseException:
            self.stop()
            raise

    def _watch_services(self) -> None:
        if self._service_names():
            from devenv.services.watch import ServiceWatcher

            self.services = ServiceWatcher(
                self.stack, on_down=self._service_down, on_up=self._service_up
            ).watch()

    def _heard(self, event: Event) -> None:
        """Every event of the services (and hooks): noted, then passed on to ``on_event``."""
        state = _service_state(event)
        if state is not None and event.name in self.config.services:
            self._service_states[event.name] = state
        self.on_event(event)

    def _service_down(self, name: str, text: str) -> None:
        with self._services_lock:
            if self.runner is not None:
                self.runner.service_down(name, text)

    def _service_up(self, name: str, text: str) -> None:
        with self._services_lock:
            if self.runner is not None:
                self.runner.service_ready(name, text)

    def _prepare_environment(self) -> None:
        if not self.project_env.lockfiles:
            self.drifts = {}  # what prepare says then, without loading it
            return
        from devenv.environment.startup import prepare

        self.drifts = prepare(
            self.config, self.on_event, interactive=self.interactive, track=self._track_sync
        )

    def _track_sync(self, sync: Sync) -> None:
        self._sync = sync

    def interrupt(self) -> None:
        """Cancel an install that is running (a first Ctrl-C while starting)."""
        sync = self._sync
        if sync is not None:
            sync.cancel()

    # -- the project's environment -------------------------------------------------

    @property
    def project_env(self):
        from devenv.environment.project import ProjectEnv

        return ProjectEnv.from_config(self.config)

    @property
    def drift_action(self) -> str:
        from devenv.environment.policy import drift_action

        return drift_action(self.config.environment.on_drift, interactive=self.interactive)

    def parity(self) -> dict:
        """[prod] against this machine (blocking: asks the running servers, may run uv)."""
        from devenv.environment.parity import check_parity

        return check_parity(self.stack, self.project_env.venv)

    def _watch_drift(self) -> None:
        env = self.project_env
        if env.lockfiles:
            from devenv.environment.watch import DriftWatcher

            self._watcher = DriftWatcher(env, self._on_drift).start()
            self._watcher.changed()  # a change between the first check and the watch is not lost

    def _on_drift(self, drifts: dict) -> None:
        """The watcher recomputed: say what changed; sync at once under on_drift = "sync"."""
        from devenv.environment.policy import drifted
        from devenv.environment.startup import report_drift
        from devenv.events import DriftCleared

        before = set(drifted(self.drifts))
        previous, self.drifts = self.drifts, drifts
        now = set(drifted(drifts))
        if now and (now != before or any(drifts[p] != previous.get(p) for p in now)):
            report_drift(self.config, drifts, self.on_event)
            if self.drift_action == "sync":
                threading.Thread(target=self._sync_quietly, name="devenv-sync", daemon=True).start()
        elif before and not now:
            self.on_event(DriftCleared("deps"))
            self._restart_affected(tuple(before))  # someone synced (`devenv sync` elsewhere)

    def _sync_quietly(self) -> None:
        from devenv.environment.sync import SyncFailed

        try:
            self.sync()
        except SyncFailed:
            pass  # reported through SyncFinished
        except DevenvError as err:  # before anything ran: a tool missing, a lockfile unreadable
            self.on_event(Notice("deps", f"cannot sync: {err}"))

    def sync(self) -> bool:
        """Install what drifted, then restart the processes it affects; True when in sync after.

        Blocking (a UI calls it from a worker). A failed install raises
        SyncFailed and leaves the environment, and the processes, as they were.
        """
        from devenv.environment.drift import check
        from devenv.environment.installers import plan
        from devenv.environment.policy import drifted
        from devenv.environment.startup import report_drift
        from devenv.environment.sync import Sync
        from devenv.events import DriftCleared

        env = self.project_env
        with self._sync_lock:
            if self._watcher is not None:
                self._watcher.pause()
            try:
                wanted = drifted(check(env))
                if wanted:
                    steps = plan(self.config, env, wanted)
                    self._sync = Sync(self.config, env, steps, self.on_event)
                    self._sync.run(f"sync: {', '.join(p.name for p in wanted)}")
                    self._restart_affected(wanted)
                self.drifts = check(env)
            finally:
                self._sync = None
                if self._watcher is not None:
                    self._watcher.resume()
        if drifted(self.drifts):
            report_drift(self.config, self.drifts, self.on_event)
            return False
        self.on_event(DriftCleared("deps"))
        return True

    def _restart_affected(self, lockfiles: tuple) -> None:
        from devenv.environment.policy import affected

        runner = self.runner
        if runner is None or not self._process_names:
            return
        kinds = set(affected(self.config.processes, lockfiles, self.project_env))
        if not kinds:
            return
        snapshot = self._processes
        names = [n for n, status in snapshot.items() if status.process_type in kinds]
        running = [n for n in names if snapshot[n].state not in (State.STOPPED, State.COMPLETED)]
        if running:
            self.on_event(Notice("deps", f"restarting after the sync: {', '.join(running)}"))
        for name in running:
            runner.restart_process(name)

    def _start_processes(self) -> None:
        from devenv.project import procplan
        from devenv.project.ports import PortBook, allocate_block
        from devenv.supervisor.core import Supervisor
        from devenv.supervisor.proclog import ProcessLog
        from devenv.supervisor.runner import SupervisorRunner
        from devenv.supervisor.spec import build_specs, explicit_base_port, port_offsets

        base_port = None
        plain = True  # the ports are the remembered ones, as the last start had them
        early = procplan.pending()
        if early:
            # Their ports are taken by them now; they were checked free before the spawn and
            # are the block allocate_block gives (procplan.base_port).
            base_port = procplan.base_port()
        elif self.config.processes and not explicit_base_port(self.config):
            # PortBook holds only its file's path: the Stack's, or one of its own.
            book = (
                self._stack.ports if self._stack is not None else PortBook(self.layout.ports_file)
            )
            allocation = allocate_block(book, port_offsets(self.config))
            if allocation.notice:
                self.on_event(Notice("devenv", allocation.notice))
                plain = False
            base_port = allocation.port
        specs = build_specs(
            self.config, self._services_env(), self._activated_environ(), base_port=base_port
        )
        if early:
            procplan.keep_matching(specs, self.on_event)
        if not specs:
            procplan.forget(self.config.root)
            return
        self._process_names = [spec.name for spec in specs]
        self._specs = {spec.name: spec for spec in specs}
        # Stack.start makes .devenv's folders (Layout.ensure) only when there are services;
        # the processes' logs need theirs, private like the rest (but not the sockets' runtime
        # folder, which nothing here uses). Whatever is in the way is reported by the first
        # log's open(), with the path and what to do.
        with contextlib.suppress(OSError):
            self.layout.logs.mkdir(mode=0o700, exist_ok=True)

        def log_for(name: str) -> ProcessLog:
            log = ProcessLog(name, self.layout.log_file(name), ring=self.log_ring)
            log.open()  # a log that cannot be written fails the start, before any process runs
            log.subscribe(lambda batch: self.on_lines(name, batch))
            self.logs[name] = log
            return log

        def make() -> Supervisor:
            loop = asyncio.get_event_loop()  # the runner's loop, set on its thread
            pending: list[bool] = []

            def on_change(snapshot: dict[str, Status]) -> None:
                self._processes = snapshot
                # Ten processes starting in one pass of the loop make one write, not ten.
                if not pending:
                    pending.append(True)
                    loop.call_soon(flush)

            def flush() -> None:
                pending.clear()
                self._write_state()

            ready = self.services.ready() if self.services is not None else set()
            supervisor = Supervisor(
                specs,
                emit=self.on_event,
                log_for=log_for,
                services_ready=frozenset(ready),
                on_change=on_change,
                spawn=_spawn_early_first if procplan.pending() else None,
            )
            self._processes = supervisor.snapshot()  # before its first change
            return supervisor

        # Held until the runner is known: a service that goes down meanwhile is not missed.
        with self._services_lock:
            self.runner = SupervisorRunner(make, on_exit=self.finished.set).start()
        self._sampler_thread = threading.Thread(
            target=self._sample_loop, name="devenv-stats", daemon=True
        )
        self._sampler_thread.start()
        if plain and procplan.eligible(self.config, specs):
            offsets = port_offsets(self.config)
            ports = [] if base_port is None else [base_port + offset for offset in offsets]
            procplan.record(self.config, self.layout, specs, base_port, ports)
        else:
            procplan.forget(self.config.root)

    def _activated_environ(self) -> dict[str, str]:
        from devenv.environment.activation import activate
        from devenv.environment.project import ProjectEnv

        return activate(ProjectEnv.from_config(self.config), os.environ)

    def _write_state(self) -> None:
        if not self._processes:
            return
        with self._write_lock:
            if self._sampling.is_set():
                return  # stopping: the file is being removed
            self._writer.stats = self.stats
            self._writer(self._processes)

    def _sample_loop(self) -> None:
        sampler: StatsSampler | None = None
        ports: dict[str, list[int]] = {}
        rounds = 0
        while not self._sampling.wait(self.sample_every):
            if sampler is None:  # loaded after the first wait, not while the processes spawn
                from devenv.supervisor.stats import StatsSampler

                sampler = StatsSampler()
            snapshot = self._processes
            pids = {name: status.pid for name, status in snapshot.items() if status.pid}
            watcher = self.services
            services = watcher.snapshot() if watcher is not None else self._service_status
            for name, status in services.items():
                if status.pid:
                    pids[name] = status.pid
            # Ports cost the most to find (the whole socket table, per process): only the
            # processes' (the services' are known), and every fifth round.
            ports_of = list(snapshot) if rounds % PORTS_EVERY == 0 else []
            rounds += 1
            sampled = sampler.sample(pids, ports_of=ports_of)
            for name in ports_of:
                if name in sampled:
                    ports[name] = list(sampled[name].ports)
            self.stats = {
                name: {
                    "pid": pids[name],
                    "cpu_percent": round(s.cpu_percent, 1),
                    "rss": s.rss,
                    "ports": ports.get(name, []),
                    "uptime": s.uptime,
                }
                for name, s in sampled.items()
            }
            self._write_state()

    # -- stopping --------------------------------------------------------------------

    def stop(self, on_progress: Callable[[StopStep], object] | None = None) -> StopSummary:
        """Stop the processes, then the services this session started; release the lock;
        return what was done.

        Services that were already running when it started (``devenv up -d``)
        are left running, as they were found.
        """
        from devenv.project.runlock import operation_lock

        progress = on_progress or (lambda step: None)
        if self.services is not None:
            self.services.close()  # from now on a server that stops is not started again
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        sync = self._sync
        if sync is not None:
            sync.cancel()
        with self._write_lock:
            self._sampling.set()
        if self.runner is not None:
            progress(StopStep("processes", tuple(self._process_names)))
            self.runner.stop()
        from devenv.project import procplan

        procplan.stop_pending()  # spawned before devenv loaded, and never taken
        self._writer.clear()
        # Without services (and a Stack never built for hooks) there is nothing to stop here.
        stack = self.stack if self.config.services or self._stack is not None else None
        ours = [n for n in stack.names if n not in stack.adopted] if stack is not None else []
        if stack is not None and ours:
            progress(StopStep("services", tuple(ours)))
            with operation_lock(self.layout):
                stack.stop(ours)
        adopted = stack.adopted if stack is not None else set()
        left = [n for n in sorted(adopted) if self._still_running(n)]
        if left:
            self.on_event(
                Notice(
                    "devenv",
                    f"left running, as before: {', '.join(left)} (`devenv down` stops them)",
                )
            )
        self.services = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        progress(StopStep("stopped"))
        return StopSummary(
            self.config.project.name,
            processes=tuple(self._process_names) if self.runner is not None else (),
            services=tuple(ours),
            left_running=tuple(left),
            logs=str(self.layout.logs),
        )

    def _still_running(self, name: str) -> bool:
        """Whether the service ``name`` runs (one the person stopped from the TUI does not)."""
        try:
            return self.stack.service(name).find_running() is not None
        except DevenvError:
            return False

    def force_stop(self) -> None:
        """SIGKILL every process group now (a second Ctrl-C)."""
        for status in self._processes.values():
            pgid = status.pgid or status.pid
            if pgid:
                with contextlib.suppress(OSError):
                    os.killpg(pgid, signal.SIGKILL)

    @property
    def exit_code(self) -> int:
        if self.runner is None or self.runner.exit_code is None:
            return 0
        return self.runner.exit_code

    # -- looking -----------------------------------------------------------------

    def names(self) -> list[str]:
        processes = self._process_names if self._has_processes() else []
        return [*self._service_names(), *processes]

    def _has_processes(self) -> bool:
        return self.runner is not None and bool(self._process_names)

    def rows(self) -> list[Status]:
        """Every service, then every process, as it is now, with the numbers last sampled of
        its pid (cpu_percent, rss, uptime). Cheap: no server is asked anything."""
        now = time.time()
        services = self._services_now()
        self._service_status = services
        rows = [status.with_sample(self.stats.get(name)) for name, status in services.items()]
        if self._has_processes():
            for name, status in self._processes.items():
                sampled = status.with_sample(self.stats.get(name))
                started = status.started_at
                # Uptime from its start time: exact, and there before the first sample.
                uptime = (now - started) if started and status.pid else None
                rows.append(replace(sampled, uptime=uptime))
        return rows

    def _services_now(self) -> dict[str, Status]:
        """Each service's status, without a connection to any server.

        While the watcher runs, its states (from the pids) are the truth; before and
        after, liveness is the pid's (a server of the project runs, or none does) and
        readiness what the services' events last said (a server found running before
        any event is "starting" until its start says more).
        """
        watcher = self.services
        if watcher is not None:
            watched = watcher.snapshot()
            return {
                name: watched.get(name) or self.stack.service(name).status_of(State.STOPPED, None)
                for name in self._service_names()
            }
        result: dict[str, Status] = {}
        for name in self._service_names():
            try:
                service = self.stack.service(name)
                pid = service.find_running()
            except DevenvError as err:  # its binaries are gone, say: as Stack.status says
                result[name] = Status(name, "service", State.FAILED, error=str(err))
                continue
            said = self._service_states.get(name)
            state: State
            if pid is None:
                # Bootstrapping (initdb, a template copy) before its server runs: starting,
                # as its events say; else stopped, or failed as they said.
                state = said if said in (State.STARTING, State.FAILED) else State.STOPPED
            else:
                state = said if said in (State.READY, State.STARTING) else State.STARTING
            status = service.status_of(state, pid)
            # Its port is the one its server listens on: before a start allocates one, the
            # default shown here may not be it (another program may hold it).
            result[name] = status if pid is not None else replace(status, port=None)
        return result

    def urls(self) -> dict[str, str]:
        env = self._services_env()
        return {key: env[key] for key in ("DATABASE_URL", "REDIS_URL") if key in env}

    def client_argv(self, service: str) -> tuple[list[str], dict[str, str]]:
        from devenv.services.stack import client_command

        if service not in self.config.services:
            raise DevenvError(f"this project has no {service} service")
        return client_command(self.stack, service, []), {**os.environ, **self.stack.env()}

    def log_path(self, name: str) -> Path:
        return self.layout.log_file(name)

    def tail(self, name: str, n: int = 500) -> list[str]:
        if name in self.logs:
            return [line.text for line in self.logs[name].tail(n)]
        if name in self.config.services:
            return self.stack.service(name).log_tail(n)
        return []

    def follow_log(
        self, name: str, stop: threading.Event, *, last: int = 500, poll: float = 0.25
    ) -> Iterator[list[str]]:
        """``name``'s log file as it grows, like ``tail -F``: the last ``last`` lines, then the
        new ones as they are written, in batches of whole lines (a line still being written
        waits for its newline). Follows rotation and truncation; a file not there yet is
        waited for. Ends once ``stop`` is set (checked at least every ``poll`` seconds)."""
        from devenv.supervisor.logfollow import follow

        pending = b""
        for chunk in follow(self.log_path(name), last=last, poll=poll, stop=stop):
            *whole, pending = (pending + chunk).split(b"\n")
            if len(pending) > _LONGEST_LINE:  # a line with no end in sight is shown cut
                whole.append(pending)
                pending = b""
            if whole:
                yield [line.decode("utf-8", "replace").rstrip("\r") for line in whole]

    def launch(self, name: str) -> Launch:
        """What ``name`` runs, for people (devenv.services.insight.Launch): a process's command
        and the variables devenv gives it beyond its own environment; a service's server
        command line and the variables it gives the processes. Secrets masked. A
        DevenvError for a name this session does not run."""
        import shlex

        from devenv.services.insight import Launch, mask_env
        from devenv.services.password import read_password

        secrets = tuple(filter(None, [read_password(self.layout)]))
        if name in self.config.services:
            service = self.stack.service(name)
            return Launch(shlex.join(service.argv()), mask_env(service.env(), secrets))
        spec = self._specs.get(name)
        if spec is None:
            raise DevenvError(f"no process or service named {name}")
        given = {key: value for key, value in spec.env.items() if os.environ.get(key) != value}
        return Launch(spec.command, mask_env(given, secrets))

    def insight(self, name: str) -> Figures | None:
        """What the server of the service ``name`` says of itself now
        (devenv.services.insight.figures_of); None for a process, or a service devenv has no
        figures of. Blocking: one connection to its server."""
        if name not in self.config.services:
            return None
        from devenv.services.insight import figures_of

        return figures_of(self.stack.service(name))

    # -- control: a process or a service, by name ---------------------------------------

    def _runner_of(self, name: str) -> SupervisorRunner:
        """The runner of the process ``name``; a DevenvError when there is no such process."""
        if self.runner is None or name not in self._process_names:
            raise DevenvError(f"no process named {name}")
        return self.runner

    def _watcher_of(self, name: str) -> ServiceWatcher | None:
        """The ServiceWatcher when ``name`` is a service (None for a process)."""
        if name not in self.config.services:
            return None
        if self.services is None:
            raise DevenvError(f"{name} is not running under this devenv up")
        return self.services

    def restart(self, name: str) -> None:
        """Restart the process or service ``name`` (a service's processes are told)."""
        if watcher := self._watcher_of(name):
            watcher.restart(name)
        else:
            self._runner_of(name).restart_process(name)

    def stop_process(self, name: str) -> None:
        """Stop the process or service ``name``; it stays stopped until started."""
        if watcher := self._watcher_of(name):
            watcher.stop(name)
        else:
            self._runner_of(name).stop_process(name)

    def start_process(self, name: str) -> bool:
        """Start the process or service ``name`` if it is not running; False when it was."""
        if watcher := self._watcher_of(name):
            return watcher.start(name)
        return self._runner_of(name).start_process(name)

    def restart_all(self) -> None:
        if self.runner is not None and self._process_names:
            self.runner.restart_all()
