"""Services kept up while ``devenv up`` runs: a server that dies is seen, said and started again.

``ServiceWatcher`` looks at each watched server every ``interval`` seconds
(0.5) from its pid alone, with no connection and no SQL: a server devenv
spawned is its child, so its exit status is read (which also reaps it; pid 1
may reap no zombies); a server it adopted (started by an earlier ``up -d``)
is alive while its pid is the same process (same create time) and not a
zombie. A server that died without being asked to is reported as
``ServiceExited`` (how it ended, its log tail), ``on_down`` is called (the
session tells the processes that use it), and it is started again after the
processes' backoff (``supervisor.policy.after_exit`` with restart "always":
0.5 s, 1 s, 2 s, ... 30 s). A start cleans what the dead server left
(``clean_stale``: postmaster.pid, sockets); PostgreSQL replays its WAL, Redis
its append-only file. One that keeps dying (``MAX_RESTARTS`` restarts, none
lasting ``policy.STABLE_AFTER`` seconds) is "crashed" and left down. Once it
is ready again, ``on_up`` is called.

``stop``, ``start`` and ``restart`` are the person's (the TUI's keys): a stop
is never undone by the watcher. Every start and stop holds the project's
operation lock, so a restart here and ``devenv reset`` in another terminal
take turns.

States: "ready", "backoff" (down, started again after the delay),
"starting", "crashed" (kept dying: not restarted), "failed" (a start that was
asked for failed), "stopped" (on request). The methods block and may be
called from any thread; events and callbacks come from the watcher's threads.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devenv.errors import DevenvError
from devenv.events import Emit, ServiceExited, ServiceFailed
from devenv.project import pidrecord
from devenv.state import State, Status
from devenv.supervisor import policy

if TYPE_CHECKING:
    from devenv.services.stack import Stack

POLL_SECONDS = 0.5
MAX_RESTARTS = 5  # in a row, none lasting policy.STABLE_AFTER seconds; as a process's default
JOIN_SECONDS = 60.0  # how long ``close`` waits for a start under way

Callback = Callable[[str, str], object]  # (service, a line for the processes that use it)


@dataclass(eq=False)
class _Watched:
    name: str
    state: State = State.READY
    pid: int | None = None
    record: pidrecord.PidRecord | None = None  # tells the adopted server from a recycled pid
    up_since: float = 0.0  # monotonic, when it was last ready
    recent: int = 0  # restarts in the current window, for the policy
    restarts: int = 0  # automatic restarts since devenv up, or a person, started it (Rst column)
    due: float = 0.0  # monotonic, when a "backoff" ends
    busy: threading.Lock = field(default_factory=threading.Lock)  # one start or stop at a time
    thread: threading.Thread | None = None


class ServiceWatcher:
    """Watches the running services of ``stack``; see the module docstring."""

    def __init__(
        self,
        stack: Stack,
        *,
        emit: Emit | None = None,
        on_down: Callback | None = None,
        on_up: Callback | None = None,
        interval: float = POLL_SECONDS,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        self.stack = stack
        self.interval = interval
        self.max_restarts = max_restarts
        self._emit = emit if emit is not None else stack.emit
        self._on_down = on_down
        self._on_up = on_up
        self._watched: dict[str, _Watched] = {}
        self._cond = threading.Condition()
        self._closed = False

    # -- watching --------------------------------------------------------------

    def watch(self, names: Iterable[str] | None = None) -> ServiceWatcher:
        """Watch ``names`` (every service by default), taken to be running now."""
        for name in self.stack.names if names is None else names:
            w = _Watched(name)
            service = self.stack.service(name)
            pid = service.find_running()
            if pid is None and service.process is not None:
                pid = service.process.pid  # dead already: the first look reads how it ended
            self._follow(w, pid)
            self._watched[name] = w
            w.thread = threading.Thread(
                target=self._watch, args=(w,), name=f"devenv-watch-{name}", daemon=True
            )
            w.thread.start()
        return self

    def close(self) -> None:
        """Stop watching (the services are left as they are); waits for a start under way."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for w in self._watched.values():
            if w.thread is not None and w.thread is not threading.current_thread():
                w.thread.join(JOIN_SECONDS)

    def snapshot(self) -> dict[str, Status]:
        """Every watched service's status (from its pid: no connection), by name."""
        with self._cond:
            now = [(name, w.state, w.pid, w.restarts) for name, w in self._watched.items()]
        return {
            name: self.stack.service(name).status_of(state, pid, restarts)
            for name, state, pid, restarts in now
        }

    def ready(self) -> set[str]:
        """The services that are ready now."""
        with self._cond:
            return {name for name, w in self._watched.items() if w.state == State.READY}

    def _follow(self, w: _Watched, pid: int | None) -> None:
        import psutil

        w.pid, w.record, w.up_since = pid, None, time.monotonic()
        if pid is not None:
            # Gone already (or not ours to see): no record, and the next look says it is down.
            with contextlib.suppress(psutil.Error):
                w.record = pidrecord.PidRecord.of(pid)

    def _watch(self, w: _Watched) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                if w.state == State.READY:
                    self._cond.wait(self.interval)
                elif w.state == State.BACKOFF:
                    self._cond.wait(max(0.0, w.due - time.monotonic()))
                else:
                    self._cond.wait()  # nothing to do until someone starts it
                if self._closed:
                    return
                state = w.state
                due = state == State.BACKOFF and time.monotonic() >= w.due
            if state == State.READY:
                self._look(w)
            elif due:
                self._restart(w)

    def _look(self, w: _Watched) -> None:
        with w.busy:
            if w.state != State.READY:
                return  # stopped on request meanwhile
            gone, code = self._gone(w)
            if gone:
                how = "its process is gone" if code is None else policy.exit_text(code)
                self._went_down(w, how, code, time.monotonic() - w.up_since)

    def _gone(self, w: _Watched) -> tuple[bool, int | None]:
        """(whether the server is gone, its exit status when devenv is its parent)."""
        process = self.stack.service(w.name).process
        if process is not None and process.pid == w.pid:
            code = process.poll()
            return code is not None, code
        return w.record is None or not w.record.alive(), None

    def _went_down(
        self,
        w: _Watched,
        how: str,
        code: int | None,
        uptime: float,
        log_tail: tuple[str, ...] | None = None,
    ) -> None:
        """It died (or could not be started again): schedule the next start, or give up.

        ``how`` says it for people: "killed by SIGKILL", "could not start again: ...".
        """
        decision = policy.after_exit(
            # With "always" the code decides nothing: a server that ends on its own is down,
            # whatever it says.
            policy="always",
            returncode=1 if code is None else code,
            restarts=w.recent,
            max_restarts=self.max_restarts,
            uptime=uptime,
        )
        if log_tail is None:
            log_tail = tuple(self.stack.service(w.name).log_tail())
        pid = w.pid
        with self._cond:
            if w.state not in (State.READY, State.STARTING) or self._closed:
                return  # stopped on request meanwhile: not a death
            w.recent = decision.restarts
            w.pid = w.record = None
            said = how if pid is None else f"{how} (pid {pid})"
            if decision.outcome == "backoff":
                w.state, w.due = State.BACKOFF, time.monotonic() + decision.delay
                delay = decision.delay
                message = f"{said}; restarting in {delay:g} s (attempt {decision.restarts})"
                told = f"{w.name} went down: {how}; restarting it"
            else:
                w.state, delay = State.CRASHED, None
                message = (
                    f"{said}; {decision.restarts} restarts without staying up, so it is not "
                    "started again: fix it, then start it (`t` on its row, or devenv up again)"
                )
                told = f"{w.name} went down: {how}; it keeps failing and is not restarted"
            self._cond.notify_all()
        self._emit(
            ServiceExited(
                w.name,
                message,
                log_tail,
                pid=pid,
                returncode=code,
                restart_in=delay,
                attempt=decision.restarts if delay is not None else 0,
            )
        )
        if self._on_down is not None:
            self._on_down(w.name, told)

    def _restart(self, w: _Watched) -> None:
        with w.busy:
            with self._cond:
                if w.state != State.BACKOFF or self._closed:
                    return
                w.state = State.STARTING
                w.restarts += 1
            self._bring_up(w, asked=False)

    def _bring_up(self, w: _Watched, *, asked: bool) -> None:
        """Start the server (``w.busy`` held, state "starting"); ``asked``: a person did, so a
        failure is raised to them, not retried."""
        from devenv.project.runlock import operation_lock

        service = self.stack.service(w.name)
        try:
            with operation_lock(self.stack.layout):
                ready = service.start()
                service.provision()
        except DevenvError as err:
            if asked:
                self._set(w, State.FAILED)
                raise
            message = getattr(err, "message", str(err))
            self._went_down(w, f"could not start again: {message}", None, 0.0, _tail_of(err))
            return
        except Exception as err:
            # A bug, which waiting will not fix: said, never retried in a loop.
            self._set(w, State.FAILED if asked else State.CRASHED)
            if asked:
                raise
            text = f"could not start again: {type(err).__name__}: {err} (a bug: please report it)"
            self._emit(ServiceFailed(w.name, text))
            return
        with self._cond:
            if w.state != State.STARTING:
                return  # stopped meanwhile: the stop, waiting for w.busy, follows
            self._follow(w, ready.pid)
            w.state = State.READY
            self._cond.notify_all()
        if self._on_up is not None:
            self._on_up(w.name, f"{w.name} is ready again (pid {ready.pid})")

    def _set(self, w: _Watched, state: State) -> None:
        with self._cond:
            w.state = state
            self._cond.notify_all()

    # -- what a person asks ------------------------------------------------------

    def stop(self, name: str) -> bool:
        """Stop ``name`` and keep it stopped; True when it was running."""
        w = self._get(name)
        self._set(w, State.STOPPED)  # first: a pending restart is called off, a death is not one
        from devenv.project.runlock import operation_lock

        with w.busy:
            with operation_lock(self.stack.layout):
                was_running = self.stack.service(name).stop()
            w.pid = w.record = None
        if self._on_down is not None:
            self._on_down(name, f"{name} was stopped")
        return was_running

    def start(self, name: str) -> bool:
        """Start ``name`` unless it is ready; False when it was. Raises what the start raised."""
        w = self._get(name)
        with w.busy:
            with self._cond:
                if w.state == State.READY:
                    return False
                w.state = State.STARTING  # a restart due later is called off
                w.recent = w.restarts = 0
            self._bring_up(w, asked=True)
        return True

    def restart(self, name: str) -> None:
        """Stop ``name`` if it runs, then start it."""
        self.stop(name)
        self.start(name)

    def _get(self, name: str) -> _Watched:
        try:
            return self._watched[name]
        except KeyError:
            raise DevenvError(f"no service named {name} is supervised here") from None


def _tail_of(err: BaseException) -> tuple[str, ...]:
    return tuple(getattr(err, "log_tail", ()))
