"""Plain terminal output for ``--no-tui``, ``up -d`` and scripts, in honcho's format.

``HH:MM:SS name | line``, one colour per name, colour only on a terminal and
never when NO_COLOR is set. Safe to call from several threads.
"""

from __future__ import annotations

import datetime
import os
import sys
import threading
from typing import Protocol

from devenv.events import (
    Event,
    HookFinished,
    HookOutput,
    HookStarted,
    Notice,
    ServiceFailed,
    ServiceReady,
    ServiceStarting,
    ServiceStopped,
    StepDone,
)

SYSTEM = "system"


class Output(Protocol):
    """What a ConsolePrinter writes to: a text stream (``sys.stdout``), or one that outlives
    its terminal (``devenv.supervisor.hangup.TerminalOutput``)."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...
    def isatty(self) -> bool: ...
    def fileno(self) -> int: ...


def describe(event: Event) -> str | None:
    """One line for an event, or None for events that print nothing."""
    match event:
        case ServiceStarting(detail=detail):
            return f"starting ({detail})" if detail else "starting"
        case StepDone(step=step, seconds=seconds):
            return f"{step} ({seconds * 1000:.0f} ms)"
        case ServiceReady(pid=pid, port=port, seconds=seconds, adopted=adopted):
            how = "already running" if adopted else f"ready in {seconds * 1000:.0f} ms"
            return f"{how} (pid {pid}, port {port})"
        case ServiceFailed(message=message):
            return f"failed: {message}"
        case ServiceStopped(pid=pid):
            return f"stopped (pid {pid})" if pid else "stopped"
        case Notice(message=message):
            return message
        case HookStarted(command=command):
            return f"running `{command}`"
        case HookOutput(line=line):
            return line
        case HookFinished(command=command, returncode=code, seconds=seconds):
            return f"`{command}` exited with {code} ({seconds * 1000:.0f} ms)"
    if type(event).__module__ == "devenv.environment.events":
        return _describe_environment(event)
    # Process events print nothing here: the supervisor writes each one into the
    # process's own log, and those lines reach the console with the process's output.
    return None


def _describe_environment(event: Event) -> str | None:
    """The environment's events (installs, drift): their classes load only when one comes
    (a project without lockfiles never has one)."""
    from devenv.environment.events import (
        DriftCleared,
        DriftFound,
        SyncFinished,
        SyncOutput,
        SyncStarted,
        SyncStepStarted,
    )

    match event:
        case SyncStarted(steps=steps, reason=reason):
            why = f" ({reason})" if reason else ""
            return f"installing the project's packages{why}: {len(steps)} step(s)"
        case SyncStepStarted(index=index, total=total, command=command):
            return f"[{index + 1}/{total}] {command}"
        case SyncOutput(line=line):
            return line
        case SyncFinished(ok=True, seconds=seconds):
            return f"packages installed ({seconds:.1f} s)"
        case SyncFinished(ok=False, message=message):
            return f"install failed: {message}"
        case DriftFound(summaries=summaries):
            return f"dependencies drifted: {'; '.join(summaries)}. `devenv sync` installs them"
        case DriftCleared():
            return "dependencies in sync with the lockfiles again"
    return None


class ConsolePrinter:
    """An ``Emit`` that prints events (and raw lines) through honcho's Printer."""

    def __init__(self, output: Output = sys.stdout, colour: bool | None = None) -> None:
        from honcho.colour import get_colours
        from honcho.printer import Message, Printer

        if colour is None:
            colour = not os.environ.get("NO_COLOR")
        self._message = Message
        self._printer = Printer(output, colour=colour, width=8)
        self._colours = get_colours()
        self._by_name: dict[str, str] = {}
        self._lock = threading.Lock()
        self._output = output
        self.closed = False  # the reader went away (`devenv up -d | head -1`)

    def line(self, name: str, text: str) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                self._write(name, text)
            except BrokenPipeError:
                # Nobody reads any more: the work goes on (services still start), quietly.
                self.closed = True
                _silence(self._output)

    def _write(self, name: str, text: str) -> None:
        colour = self._by_name.get(name)
        if colour is None:
            colour = self._by_name[name] = next(self._colours)
        self._printer.width = max(self._printer.width, len(name))
        now = datetime.datetime.now()
        self._printer.write(self._message("line", text, now, name, colour))

    def __call__(self, event: Event) -> None:
        text = describe(event)
        if text is not None:
            self.line(event.name if event.name != "devenv" else SYSTEM, text)


def _silence(output: Output) -> None:
    """Point ``output``'s file descriptor at /dev/null, so that flushing it at exit is quiet."""
    try:
        fd = output.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
