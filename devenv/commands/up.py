"""``devenv up`` in the foreground without the TUI: output like ``honcho start``.

Ctrl-C, SIGTERM, SIGHUP or ``devenv down`` in another terminal stop
everything cleanly (processes, then the services this run started); a second
Ctrl-C kills the processes at once. After SIGTERM or SIGHUP, whatever still runs
devenv.supervisor.hangup.GRACE seconds later is killed and devenv exits: nobody may be
there to press Ctrl-C again (devenv.supervisor.hangup.grace_for: longer when a process's
stop_timeout asks for more). The work itself is devenv.session's.

When processes were spawned before devenv loaded (devenv.project.procplan), their "started"
lines are printed already: the console takes their names first (the same colours and width)
and does not print those lines again.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from devenv.config import load_project


def up_foreground(args: argparse.Namespace) -> int:
    from devenv.console import ConsolePrinter
    from devenv.project import procplan
    from devenv.session import Session
    from devenv.supervisor.hangup import Deadline, TerminalOutput, grace_for

    config = load_project(Path.cwd())
    printer = ConsolePrinter(TerminalOutput(sys.stdout))  # a closed terminal fails no print
    deadline = Deadline()
    printed = procplan.printed()
    for name in printed:
        printer.line(name, "")  # prints nothing: the name's colour and width, in their order
    said = {name: f"started (pid {pid})" for name, pid in printed.items()}

    def on_lines(name: str, batch: list) -> None:  # proclog lines, each with its .text
        for line in batch:
            if said.get(name) == line.text:
                del said[name]  # printed before devenv loaded
                continue
            printer.line(name, line.text)

    session = Session(config, on_event=printer, on_lines=on_lines)
    stop = threading.Event()
    seen: list[str] = []
    grace = grace_for(process.stop_timeout for process in config.processes.values())

    def on_signal(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        seen.append(name)
        if signum != signal.SIGINT:
            deadline.arm(grace)  # nobody may be there to force a stop that hangs
        if len(seen) == 1:
            printer.line("system", f"{name} received, stopping (again to force)")
            stop.set()
            session.interrupt()  # an install still running at start-up stops too
        else:
            printer.line("system", f"{name} received again: killing the processes")
            session.force_stop()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    session.start()
    try:
        urls = session.urls()
        if urls:  # services only: without them devenv.services is not loaded
            from devenv.services.password import mask_url

            for key, value in urls.items():  # `devenv env` prints them whole
                printer.line("system", f"{key}={mask_url(value)}")
        if session.runner is None and not config.services:
            printer.line(
                "system",
                "nothing to supervise: no services in "
                f"{config.source.name} and no processes in the Procfile",
            )
            return session.exit_code  # `finally` stops what the start made (the lock)
        if session.runner is None:
            printer.line("system", "no processes in the Procfile; Ctrl-C stops the services")
        while not stop.wait(0.1):
            if session.runner is not None and session.finished.is_set():
                break  # every process completed, exited or crashed: nothing left to supervise
    finally:
        session.stop()
    return session.exit_code
