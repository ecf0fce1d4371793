"""``OnboardingDriver``: one ``Onboarding`` (devenv.onboarding.flow) run for a face, on a thread of
its own, one command at a time.

A face sends commands (``survey``, ``run``, ``skip``, ``stop``) and hears back
through callbacks called on the driver's thread (a Textual face posts them to
its loop): ``on_ready`` once the core is built, ``on_event`` for each of the
core's events, ``on_idle`` when no command is left (with the ``Result`` of the
last run, if it ran one) and ``on_error`` when a command raised. A caller may
rely on:

- the core is built (``make(emit)``) on the driver's thread at the first
  command, never on the caller's;
- commands run in the order they were sent, and a new command ends a run or
  a wait for the person first (``Onboarding.cancel``): a key is never queued
  behind a wait for an edit;
- after ``run()`` (or ``skip`` once a run was asked for) the run goes on until
  every step is done, a step failed, or the next command;
- ``close()`` ends what runs (a running command gets SIGTERM), and waits for
  the thread; the progress stays as the core saved it, so the onboarding
  resumes where it was.

Why one thread with a queue rather than a Textual worker per key: an exclusive
worker group drops the command it replaces (a skip would be lost), and the
core's ``run()`` clears a cancel that came before it began; here every command
runs, in order, and a run that begins while another command waits cancels
itself at its first event.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from devenv.events import Emit, Event
from devenv.onboarding.flow import Onboarding
from devenv.onboarding.model import Result

Make = Callable[[Emit], Onboarding]
# Seconds close() waits for a stopped run: a test command ends at its SIGTERM; an action that
# cannot be cancelled (an install) is left to finish on the (daemon) thread.
STOP_WAIT = 5.0


class OnboardingDriver:
    def __init__(
        self,
        make: Make,
        *,
        on_event: Emit,
        on_ready: Callable[[Onboarding], None] = lambda onboarding: None,
        on_idle: Callable[[Result | None], object] = lambda result: None,
        on_error: Callable[[BaseException], object] = lambda error: None,
    ) -> None:
        self._make = make
        self._on_event = on_event
        self._on_ready = on_ready
        self._on_idle = on_idle
        self._on_error = on_error
        self._commands: queue.SimpleQueue[tuple[str, str | None] | None] = queue.SimpleQueue()
        self._pending = 0  # commands sent and not taken yet
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running = False  # the thread is doing a command
        self._closed = False
        self.onboarding: Onboarding | None = None
        """The core, once the first command built it (its ``views`` are safe to read)."""
        self.started = False
        """A run was asked for: a skip goes on with the run, and a face reopened resumes it."""
        self.result: Result | None = None
        """How the last run ended (None before one ended)."""
        self.error: BaseException | None = None
        """What the last command raised, if it raised."""

    # -- commands (from the face's thread) ---------------------------------------------

    def survey(self) -> None:
        """Check every step, change nothing."""
        self._send("survey")

    def run(self) -> None:
        """Go through the steps from the first one not done, waiting for the person."""
        self.started = True
        self._send("run")

    def skip(self, step_id: str) -> None:
        """Skip ``step_id``; then go on with the run if one was asked for."""
        self._send("skip", step_id)

    def stop(self) -> None:
        """End what runs now; nothing runs after it until the next command."""
        self._send("stop")

    def close(self, timeout: float = STOP_WAIT) -> None:
        """Stop, and wait (blocking, up to ``timeout``) for the driver's thread to end."""
        with self._lock:
            if self._closed:
                thread = self._thread
            else:
                self._closed = True
                self._pending += 1
                self._commands.put(None)
                thread = self._thread
        self._cancel()
        if thread is not None:
            thread.join(timeout)

    @property
    def busy(self) -> bool:
        """A command runs or waits to run."""
        with self._lock:
            return self._pending > 0 or self._running

    def _send(self, kind: str, step_id: str | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending += 1
            self._commands.put((kind, step_id))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="devenv-onboarding", daemon=True
                )
                self._thread.start()
        self._cancel()

    def _cancel(self) -> None:
        onboarding = self.onboarding
        if onboarding is not None:
            onboarding.cancel()

    # -- the driver's thread -----------------------------------------------------------

    def _emit(self, event: Event) -> None:
        # A run that began after a command was sent (its cancel came too early, and run()
        # cleared it) ends here, at its first event.
        if self._waiting() and self.onboarding is not None:
            self.onboarding.cancel()
        self._on_event(event)

    def _waiting(self) -> bool:
        with self._lock:
            return self._pending > 0

    def _loop(self) -> None:
        while True:
            command = self._commands.get()
            with self._lock:
                self._pending -= 1
                self._running = command is not None
            if command is None:
                return
            ran: Result | None = None
            try:
                ran = self._do(*command)
                self.error = None
            except Exception as error:  # shown by the face; the driver takes the next command
                self.error = error
                self._on_error(error)
            with self._lock:
                self._running = False
                idle = self._pending == 0
            if idle:
                self._on_idle(ran)

    def _do(self, kind: str, step_id: str | None) -> Result | None:
        if self.onboarding is None:
            self.onboarding = self._make(self._emit)
            self._on_ready(self.onboarding)
        onboarding = self.onboarding
        # A survey or a run with a command behind it would only be cancelled by it.
        if kind == "survey" and not self._waiting():
            onboarding.survey()
        elif kind == "skip":
            assert step_id is not None
            onboarding.skip(step_id)
            if self.started and not self._waiting():
                return self._run(onboarding)
        elif kind == "run" and not self._waiting():
            return self._run(onboarding)
        return None  # "stop": the cancel did it

    def _run(self, onboarding: Onboarding) -> Result:
        self.result = onboarding.run(wait=True)
        return self.result
