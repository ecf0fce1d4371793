"""The supervisor: runs the Procfile's processes on asyncio, restarts them, stops every tree.

Unlike honcho's Manager, one exit never stops the others: a crashed process is
restarted with backoff (see ``policy``), a one-off task that exits 0 is
"completed" and the rest keep running. The supervisor installs no signal
handlers and never prints: every state change is an event (``events``) passed
to ``emit``, and ``on_change(snapshot)`` follows each one.

Seams, so the policy is tested without processes or sleeping:

- ``clock``: ``now()`` (monotonic seconds) and ``await sleep(seconds)``;
  ``RealClock`` by default. Backoff, probe timeouts and stop grace periods
  are measured with it.
- ``spawn``: ``await spawn(spec) -> Child``; ``spawn_shell`` by default.

States, as ``snapshot()`` and ``devenv status`` show them: "waiting" (for its
dependencies), "starting", "running", "ready" (its probe passed), "backoff"
(waiting to restart), "completed" (exit 0, not restarted), "exited" (non-zero
exit with restart "never"), "crashed" (too many restarts, or a dependency
failed), "stopped" (on request).

Dependencies (``ProcessSpec.depends_on``) are checked before each start:

- a service holds, whatever the condition, once its name is in
  ``services_ready`` (see ``mark_service_ready``). A service that goes down
  (``service_down``) leaves it: the processes that use it are told in their
  logs and keep running; one that exits meanwhile is respawned only once the
  service is ready again;
- a process dependency names a Procfile type ("web": every instance) or one
  instance ("web.1"). "started": every instance has been spawned; "ready":
  every instance is "ready", or "running" when it has no probe; "completed":
  every instance exited 0. A "completed" instance satisfies every condition.
  An instance that is "crashed" or "exited" fails its dependants
  (``ProcessDependencyFailed``, state "crashed"); they never start.
- A process waiting on one that is "stopped", or whose probe timed out, keeps
  waiting: the user may start or restart it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from devenv.events import Emit, Event, Notice
from devenv.state import FINISHED, PROCESS_FAILED, State, Status
from devenv.supervisor import policy, probes
from devenv.supervisor.child import KILL_WAIT, READ_CHUNK, Child, Spawn, spawn_shell
from devenv.supervisor.events import (
    ProcessCompleted,
    ProcessCrashed,
    ProcessDependencyFailed,
    ProcessExited,
    ProcessProbeTimedOut,
    ProcessReady,
    ProcessRestarting,
    ProcessSignalled,
    ProcessStarted,
    ProcessStarting,
    ProcessStopped,
    ProcessWaiting,
)
from devenv.supervisor.spec import ProcessSpec

EOF_WAIT = 0.5  # after an exit, how long its output may keep coming (a stray holding the pipe)
SPAWN_FAILED = 127  # the exit code recorded when the command could not be spawned at all


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ProcessLogLike(Protocol):
    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def system(self, text: str) -> None: ...

    def subscribe(self, callback: Callable[[list], object]) -> Any: ...


# -- the supervisor ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Process:
    spec: ProcessSpec
    log: ProcessLogLike
    state: State = State.WAITING
    child: Child | None = None
    pid: int | None = None
    pgid: int | None = None
    restarts: int = 0  # respawns since the user (or devenv) last started it
    recent: int = 0  # restarts in the current window, for the policy
    started_at: float | None = None  # epoch
    exit_code: int | None = None
    ever_started: bool = False
    stop_requested: bool = False
    task: asyncio.Task | None = None
    spawned: asyncio.Event | None = None  # set while a spawn is in progress
    halting: asyncio.Future | None = None

    @property
    def name(self) -> str:
        return self.spec.name


class Supervisor:
    """Runs ``specs``; see the module docstring for states and dependencies.

    ``log_for(name)`` gives each process's log (``feed``, ``close``,
    ``system``, ``subscribe``), called once per process here. ``emit``
    receives every event; ``on_change(snapshot)`` is called after every
    state change, synchronously, from the loop. Use one event loop; the
    control methods are coroutines to be run on it.
    """

    def __init__(
        self,
        specs: Iterable[ProcessSpec],
        *,
        emit: Emit,
        log_for: Callable[[str], ProcessLogLike],
        services_ready: Iterable[str] = frozenset(),
        clock: Clock | None = None,
        spawn: Spawn | None = None,
        on_change: Callable[[dict[str, Status]], object] | None = None,
    ) -> None:
        specs = list(specs)
        self._procs = {spec.name: _Process(spec, log_for(spec.name)) for spec in specs}
        self._emit = emit
        self._clock: Clock = clock or RealClock()
        self._spawn: Spawn = spawn or spawn_shell
        self._on_change = on_change
        self.services_ready: set[str] = set(services_ready)
        # What something needs *completed* is a one-off task: exit 0 ends it, whatever its policy.
        self._one_off = {
            dep.name
            for spec in specs
            for dep in spec.depends_on
            if dep.kind == "process" and dep.condition == "completed"
        }
        self._stop_order = _stop_order(specs)
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._stopping = False
        self._stop_task: asyncio.Future | None = None
        self._restarting: asyncio.Future | None = None

    # -- what callers may read -----------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._procs)

    def state(self, name: str) -> State:
        return self._get(name).state

    def snapshot(self) -> dict[str, Status]:
        """Every process's status, by name: a new dict of frozen records, safe to hand to
        another thread."""
        return {
            p.name: Status(
                p.name,
                "process",
                p.state,
                pid=p.pid,
                port=p.spec.port,
                restarts=p.restarts,
                process_type=p.spec.kind,
                command=p.spec.command,
                pgid=p.pgid,
                started_at=p.started_at,
                exit_code=p.exit_code,
            )
            for p in self._procs.values()
        }

    def exit_code(self) -> int:
        """1 when a process is "crashed" (a dependency failed, too) or "exited"; else 0."""
        return 1 if any(p.state in PROCESS_FAILED for p in self._procs.values()) else 0

    # -- running and stopping ------------------------------------------------------------

    async def run(self) -> int:
        """Start every process as its dependencies allow and supervise them.

        Returns when ``stop()`` has completed, or when every process is
        "completed", "exited" or "crashed" (nothing can run any more; a
        process the user stopped may be started again, so it keeps this
        waiting). The result is ``exit_code()``. Cancelling ``run()`` stops
        everything first.
        """
        if self._running:
            raise RuntimeError("the supervisor is already running")
        self._running = True
        if not self._stopping:
            for p in self._procs.values():
                self._launch(p)
        self._check_finished()
        try:
            await self._finished.wait()
            if self._stop_task is not None:
                await asyncio.shield(self._stop_task)
        except asyncio.CancelledError:
            await self.stop()
            raise
        tasks = [p.task for p in self._procs.values() if p.task is not None]
        if tasks:
            await asyncio.wait(tasks)
        return self.exit_code()

    async def stop(self) -> None:
        """Stop every process, dependants before their dependencies; idempotent.

        Each process group gets SIGTERM, then SIGKILL after the process's
        ``stop_timeout``; the call returns when every tree is gone. Nothing is
        started or restarted afterwards.
        """
        if self._stop_task is None:
            self._stopping = True
            self._stop_task = asyncio.ensure_future(self._stop_all())
        await asyncio.shield(self._stop_task)

    def mark_service_ready(self, name: str, text: str = "") -> None:
        """The service ``name`` is ready now: processes waiting on it may start; ``text``, if
        any, goes into the log of every running process that uses it."""
        self.services_ready.add(name)
        if text:
            self._tell_users(name, text)
        self._pulse()

    def service_down(self, name: str, text: str) -> None:
        """The service ``name`` is down (it died and is being restarted, or was stopped).

        The processes that use it are told, not stopped: ``text`` goes into the
        log of each running one. A process that starts, or restarts after an
        exit, waits for it to be ready again (``mark_service_ready``).
        """
        self.services_ready.discard(name)
        self._tell_users(name, text)
        self._pulse()

    def _tell_users(self, service: str, text: str) -> None:
        """``text`` in the log of every running process that uses ``service``: those that
        depend on it, and those that name no service (they get every service's variables)."""
        for p in self._procs.values():
            services = [dep.name for dep in p.spec.depends_on if dep.kind == "service"]
            if p.child is not None and (service in services or not services):
                p.log.system(text)

    # -- control, for the UI ------------------------------------------------------------------

    async def start_process(self, name: str) -> bool:
        """Start ``name`` (after its dependencies) if it is not active; False if it was."""
        p = self._get(name)
        if p.halting is not None:
            await asyncio.shield(p.halting)
        if self._stopping or (p.task is not None and not p.task.done()):
            return False
        self._launch(p)
        return True

    async def stop_process(self, name: str) -> None:
        """Stop ``name`` (SIGTERM, grace, SIGKILL); "stopped", it is not restarted."""
        await self._halt(self._get(name))

    async def restart_process(self, name: str) -> None:
        """Stop ``name`` if it is active, then start it again, whatever its state was."""
        p = self._get(name)
        await self._halt(p)
        if not self._stopping:
            self._launch(p)

    async def restart_all(self) -> None:
        """Stop everything (dependants first), then start everything as on ``run()``."""
        if self._restarting is None or self._restarting.done():
            self._restarting = asyncio.ensure_future(self._restart_all())
        await asyncio.shield(self._restarting)

    async def send_signal(self, name: str, sig: int) -> bool:
        """Send ``sig`` to the process group of ``name``; False when it is not running.

        This is not a stop: if the process exits, its restart policy applies.
        """
        p = self._get(name)
        child = p.child
        if child is None:
            return False
        signame = signal.Signals(sig).name
        child.signal_group(sig)
        p.log.system(f"sent {signame}")
        self._emit(ProcessSignalled(p.name, child.pid, signame))
        return True

    # -- one process's life ------------------------------------------------------------------

    def _get(self, name: str) -> _Process:
        try:
            return self._procs[name]
        except KeyError:
            raise KeyError(f"no process named {name!r}") from None

    def _launch(self, p: _Process) -> None:
        if p.task is not None and not p.task.done():
            return  # two restarts raced: one run is enough
        p.stop_requested = False
        p.recent = 0
        p.restarts = 0
        p.ever_started = False
        p.task = asyncio.ensure_future(self._lifecycle(p))

    async def _lifecycle(self, p: _Process) -> None:
        try:
            if not await self._await_dependencies(p):
                return
            first = True
            while True:
                if not first:
                    # A crash because its database went away should not use up its restarts.
                    await self._await_services(p)
                if p.stop_requested or self._stopping:
                    self._set(p, State.STOPPED, ProcessStopped(p.name))
                    return
                if not first:
                    p.restarts += 1
                first = False
                pid, returncode, uptime = await self._run_once(p)
                if await self._after_exit(p, pid, returncode, uptime):
                    return
        except asyncio.CancelledError:
            if not p.stop_requested:
                raise
            self._set(p, State.STOPPED, ProcessStopped(p.name))

    async def _after_exit(
        self, p: _Process, pid: int | None, returncode: int, uptime: float
    ) -> bool:
        """Handle an exit; True when the process's life is over, False to spawn it again."""
        exited = ProcessExited(p.name, pid, returncode)
        if p.stop_requested or self._stopping:
            self._note(p, policy.exit_text(returncode))
            self._set(p, State.STOPPED, exited, ProcessStopped(p.name, pid))
            return True
        if returncode == SPAWN_FAILED:
            hint = _not_found_hint(p.spec.command, p.spec.env.get("PATH"))
            if hint:
                p.log.system(hint)
        decision = policy.after_exit(
            policy=p.spec.restart,
            returncode=returncode,
            restarts=p.recent,
            max_restarts=p.spec.max_restarts,
            uptime=uptime,
            one_off=p.spec.kind in self._one_off or p.name in self._one_off,
        )
        p.recent = decision.restarts
        if decision.outcome == "completed":
            self._note(p, policy.exit_text(returncode))
            self._set(p, State.COMPLETED, exited, ProcessCompleted(p.name))
            return True
        if decision.outcome == "exited":
            self._note(p, policy.exit_text(returncode))
            self._set(p, State.EXITED, exited)
            return True
        if decision.outcome == "crashed":
            self._note(
                p,
                policy.exit_text(returncode),
                f"crashed: {decision.restarts} restarts without staying up; not restarted",
            )
            self._set(p, State.CRASHED, exited, ProcessCrashed(p.name, decision.restarts))
            return True
        self._note(
            p,
            policy.exit_text(returncode),
            f"restarting in {decision.delay:g} s (attempt {decision.restarts})",
        )
        self._set(
            p, State.BACKOFF, exited, ProcessRestarting(p.name, decision.restarts, decision.delay)
        )
        await self._clock.sleep(decision.delay)
        return False

    def _note(self, p: _Process, *lines: str) -> None:
        """Lines of devenv's own in a process's log, between runs: the file is closed after."""
        for line in lines:
            p.log.system(line)
        p.log.close()

    async def _run_once(self, p: _Process) -> tuple[int | None, int, float]:
        """Spawn, read and probe one run; (pid, exit code, seconds it ran)."""
        p.exit_code = None
        self._set(p, State.STARTING, ProcessStarting(p.name, p.spec.command))
        p.spawned = asyncio.Event()
        try:
            child = await self._spawn(p.spec)
        except (OSError, ValueError) as err:
            self._note(p, f"could not start: {err}")
            p.exit_code = SPAWN_FAILED
            return None, SPAWN_FAILED, 0.0
        finally:
            p.spawned.set()
            p.spawned = None
        start = self._clock.now()
        p.child, p.pid, p.pgid = child, child.pid, getattr(child, "pgid", child.pid)
        p.started_at = time.time()
        p.ever_started = True
        # The probe subscribes to the log before the first byte is read.
        watch = None
        if p.spec.ready is not None:
            watch = probes.Watch(p.spec.ready, p.log, owner=child.pid, note=p.log.system)
        reader = asyncio.ensure_future(self._pump(p, child))
        p.log.system(f"started (pid {child.pid})")
        self._set(p, State.RUNNING, ProcessStarted(p.name, child.pid))
        prober = asyncio.ensure_future(self._probe(p, child, watch, start)) if watch else None
        try:
            returncode = await child.wait()
        except asyncio.CancelledError:
            reader.cancel()
            if prober is not None:
                prober.cancel()
            _close(child)
            p.log.close()
            p.child = p.pid = p.pgid = p.started_at = None
            raise
        uptime = self._clock.now() - start
        if prober is not None:
            prober.cancel()
        _done, pending = await asyncio.wait({reader}, timeout=EOF_WAIT)
        for task in pending:
            task.cancel()
        _close(child)
        p.log.close()
        p.child = p.pid = p.pgid = p.started_at = None
        p.exit_code = returncode
        return child.pid, returncode, uptime

    async def _pump(self, p: _Process, child: Child) -> None:
        broken = False
        while chunk := await child.read(READ_CHUNK):
            if not broken:
                try:
                    p.log.feed(chunk)
                except Exception as err:
                    # Keep draining the pipe all the same: a child must never block on it.
                    broken = True
                    self._emit(Notice(p.name, f"its log failed, output dropped: {err!r}"))
            await asyncio.sleep(0)  # one chunk at a time, so a flood cannot starve the others

    async def _probe(self, p: _Process, child: Child, watch: probes.Watch, start: float) -> None:
        ready = await watch.wait(self._clock)
        if p.child is not child or p.state != State.RUNNING:
            return
        probe = watch.probe
        if ready:
            seconds = self._clock.now() - start
            p.log.system(f"ready ({probes.describe(probe)})")
            self._set(p, State.READY, ProcessReady(p.name, child.pid, round(seconds, 3)))
        else:
            p.log.system(
                f"readiness probe ({probes.describe(probe)}) timed out after {probe.timeout:g} s"
            )
            self._emit(ProcessProbeTimedOut(p.name, probes.describe(probe), probe.timeout))

    # -- dependencies -----------------------------------------------------------------------

    async def _await_dependencies(self, p: _Process) -> bool:
        announced = False
        while True:
            changed = self._changed
            unmet, failure = self._dependencies(p)
            if failure is not None:
                dependency, reason = failure
                self._note(p, f"not started: {reason}")
                self._set(p, State.CRASHED, ProcessDependencyFailed(p.name, dependency, reason))
                return False
            if not unmet:
                return True
            if not announced:
                self._note(p, f"waiting for {', '.join(unmet)}")
                self._set(p, State.WAITING, ProcessWaiting(p.name, tuple(unmet)))
                announced = True
            await changed.wait()

    async def _await_services(self, p: _Process) -> None:
        """Before a respawn: wait while a service it depends on is down (being restarted)."""
        announced = False
        while not (p.stop_requested or self._stopping):
            changed = self._changed
            down = [
                f"{dep.name} {dep.condition}"
                for dep in p.spec.depends_on
                if dep.kind == "service" and dep.name not in self.services_ready
            ]
            if not down:
                return
            if not announced:
                self._note(p, f"waiting for {', '.join(down)}")
                self._set(p, State.WAITING, ProcessWaiting(p.name, tuple(down)))
                announced = True
            await changed.wait()

    def _dependencies(self, p: _Process) -> tuple[list[str], tuple[str, str] | None]:
        """(what is not there yet, (dependency, reason) when one failed)."""
        unmet = []
        for dep in p.spec.depends_on:
            label = f"{dep.name} {dep.condition}"
            if dep.kind == "service":
                if dep.name not in self.services_ready:
                    unmet.append(label)
                continue
            instances = self._instances(dep.name)
            if not instances:
                return unmet, (dep.name, f"no process named {dep.name}")
            for q in instances:
                if q.state in PROCESS_FAILED:
                    return unmet, (dep.name, f"{q.name} {_failed_text(q)}")
            if not all(_holds(q, dep.condition) for q in instances):
                unmet.append(label)
        return unmet, None

    def _instances(self, name: str) -> list[_Process]:
        of_kind = [q for q in self._procs.values() if q.spec.kind == name]
        return of_kind or [q for q in self._procs.values() if q.name == name]

    # -- stopping ---------------------------------------------------------------------------

    async def _stop_all(self) -> None:
        try:
            await self._halt_all()
        finally:
            self._finished.set()
            self._pulse()

    async def _restart_all(self) -> None:
        await self._halt_all()
        if self._stopping:
            return
        for p in self._procs.values():
            self._launch(p)

    async def _halt_all(self) -> None:
        procs = list(self._procs.values())
        # Nothing new starts while the running ones stop in order.
        for p in procs:
            p.stop_requested = True
        await asyncio.gather(*(self._halt(p) for p in procs if p.child is None))
        for level in self._stop_order:
            await asyncio.gather(*(self._halt(self._procs[name]) for name in level))

    async def _halt(self, p: _Process) -> None:
        if p.halting is None or p.halting.done():
            p.halting = asyncio.ensure_future(self._halt_now(p))
        await asyncio.shield(p.halting)

    async def _halt_now(self, p: _Process) -> None:
        p.stop_requested = True
        task = p.task
        if task is None or task.done():
            if p.child is not None:  # its task died without reaping it: no orphans all the same
                p.child.signal_group(signal.SIGKILL)
            return
        if p.spawned is not None:
            await p.spawned.wait()
        child = p.child
        if child is None:
            task.cancel()
            await asyncio.wait({task})
            return
        p.log.system(f"stopping: SIGTERM to process group {p.pgid}")
        child.signal_group(signal.SIGTERM)
        if await self._within(task, p.spec.stop_timeout):
            return
        p.log.system(f"still running {p.spec.stop_timeout:g} s after SIGTERM: SIGKILL")
        child.signal_group(signal.SIGKILL)
        if await self._within(task, KILL_WAIT):
            return
        task.cancel()
        await asyncio.wait({task})

    async def _within(self, task: asyncio.Future, seconds: float) -> bool:
        """Wait up to ``seconds`` (of the clock) for ``task``; whether it is done."""
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        return task.done()

    # -- bookkeeping --------------------------------------------------------------------------

    def _set(self, p: _Process, state: State, *events: Event) -> None:
        p.state = state
        for event in events:
            self._emit(event)
        self._pulse()
        if self._on_change is not None:
            self._on_change(self.snapshot())
        self._check_finished()

    def _pulse(self) -> None:
        """Wake whoever waits on a dependency."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _check_finished(self) -> None:
        if not self._running or self._finished.is_set():
            return
        if all(p.state in FINISHED for p in self._procs.values()):
            self._finished.set()


def _close(child: Child) -> None:
    close = getattr(child, "close", None)  # optional: the real child lets go of its pipe
    if close is not None:
        close()


def _holds(q: _Process, condition: str) -> bool:
    if q.state == State.COMPLETED:
        return True
    if condition == "completed":
        return False
    if condition == "ready":
        return q.state == State.READY or (q.state == State.RUNNING and q.spec.ready is None)
    return q.ever_started  # "started"


def _failed_text(q: _Process) -> str:
    if q.state == State.EXITED:
        return f"exited with code {q.exit_code}"
    if q.exit_code is None:
        return "crashed"
    return f"crashed (last exit code {q.exit_code})"


def _not_found_hint(command: str, path: str | None) -> str | None:
    """For a shell's exit 127: the program that is on no folder of PATH, and where it looked first.

    None when the program is there (the 127 came from something else).
    """
    import shutil

    from devenv.environment.policy import command_word

    word = command_word(command)
    if not word or "/" in word or shutil.which(word, path=path) is not None:
        return None
    first = (path or "").split(os.pathsep)[0]
    return (
        f"`{word}` is not installed: it is in no folder of PATH (the project's environment, "
        f"{first}, comes first). Is it in the lockfile? `devenv sync` installs what it pins"
    )


def _stop_order(specs: list[ProcessSpec]) -> list[list[str]]:
    """Names grouped so that every dependant comes in a group before its dependencies."""
    by_name = {spec.name: spec for spec in specs}
    kinds: dict[str, list[str]] = {}
    for spec in specs:
        kinds.setdefault(spec.kind, []).append(spec.name)
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        if name in seen:  # a cycle (the config refuses them): give up on ordering it
            return 0
        below = [
            depth_of(target, seen | {name})
            for dep in by_name[name].depends_on
            if dep.kind == "process"
            for target in kinds.get(dep.name) or ([dep.name] if dep.name in by_name else [])
        ]
        depth[name] = 1 + max(below) if below else 0
        return depth[name]

    levels: dict[int, list[str]] = {}
    for spec in specs:
        levels.setdefault(depth_of(spec.name, frozenset()), []).append(spec.name)
    return [levels[d] for d in sorted(levels, reverse=True)]
