"""``devenv up`` in the foreground: services, then the Procfile's processes, until stopped.

Output reads like ``honcho start``. Ctrl-C, SIGTERM, SIGHUP or ``devenv down``
in another terminal stop everything cleanly: processes first (SIGTERM to each
process group, then SIGKILL after its ``stop_timeout``), then the services. A
second Ctrl-C kills the processes at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

from devenv.config import load_project


def up_foreground(args: argparse.Namespace) -> int:
    from devenv import procstate
    from devenv.console import ConsolePrinter
    from devenv.runlock import ForegroundLock, operation_lock
    from devenv.stack import Stack

    config = load_project(Path.cwd())
    printer = ConsolePrinter()
    stack = Stack(config, printer)
    # Until the event loop takes over, a stop request is noted and honoured once the
    # services are up (a start takes well under a second), instead of killing devenv.
    early: list[str] = []

    def note(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        early.append(name)
        printer.line("system", f"{name} received, stopping once the services are up")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, note)
    with ForegroundLock(stack.layout):
        leftovers = procstate.stop_leftovers(stack.layout)
        if leftovers:
            printer.line(
                "system", f"stopped what a killed devenv left running: {', '.join(leftovers)}"
            )
        try:
            with operation_lock(stack.layout):
                stack.start()
            for key in ("DATABASE_URL", "REDIS_URL"):
                value = stack.env().get(key)
                if value:
                    printer.line("system", f"{key}={value}")
            code = 0 if early else asyncio.run(_supervise(stack, printer))
        finally:
            # Leave as found: services that were running before this `up` (say, from
            # `devenv up -d`) keep running; `devenv down` stops them.
            ours = [name for name in stack.names if name not in stack.adopted]
            with operation_lock(stack.layout):
                stack.stop(ours)
            if stack.adopted:
                printer.line(
                    "system",
                    f"left running, as before: {', '.join(sorted(stack.adopted))}"
                    " (`devenv down` stops them)",
                )
    return code


async def _supervise(stack, printer) -> int:
    from devenv import procstate
    from devenv.proclog import ProcessLog
    from devenv.supervisor.core import Supervisor
    from devenv.supervisor.spec import build_specs

    specs = build_specs(stack.config, stack.env())
    if not specs:
        printer.line("system", "no processes in the Procfile; services are up. Ctrl-C stops them")

    def log_for(name: str) -> ProcessLog:
        log = ProcessLog(name, stack.layout.log_file(name))
        log.subscribe(lambda batch: [printer.line(name, line.text) for line in batch])
        return log

    writer = procstate.StateWriter(stack.layout)
    loop = asyncio.get_running_loop()
    pending: list[bool] = []

    def on_change(snapshot: dict) -> None:
        # Several changes in one pass of the loop (ten processes starting) make one write.
        if not pending:
            pending.append(True)
            loop.call_soon(flush)

    def flush() -> None:
        if pending != ["closed"]:
            pending.clear()
            writer(supervisor.snapshot())

    supervisor = Supervisor(
        specs,
        emit=printer,
        log_for=log_for,
        services_ready=frozenset(stack.names),
        on_change=on_change,
    )
    stopped = asyncio.Event()
    signals_seen: list[str] = []
    stopping: list[asyncio.Task] = []  # keep a reference, or the task may be collected

    def on_signal(sig: signal.Signals) -> None:
        signals_seen.append(sig.name)
        if len(signals_seen) == 1:
            printer.line("system", f"{sig.name} received, stopping (again to force)")
            stopped.set()
            stopping.append(loop.create_task(supervisor.stop()))
        else:
            printer.line("system", f"{sig.name} received again: killing the processes")
            _kill_all(supervisor.snapshot())

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    sampling = loop.create_task(_sample_stats(supervisor, writer))
    try:
        if not specs:
            await stopped.wait()
            return 0
        return await supervisor.run()
    finally:
        sampling.cancel()
        await supervisor.stop()
        pending[:] = ["closed"]  # a write still scheduled must not bring the file back
        writer.clear()


async def _sample_stats(supervisor, writer, every: float = 1.0) -> None:
    """CPU, memory and ports of each process tree, once a second, for `devenv status`."""
    from devenv.stats import StatsSampler

    sampler = StatsSampler()
    while True:
        await asyncio.sleep(every)
        snapshot = supervisor.snapshot()
        pids = {name: info["pid"] for name, info in snapshot.items() if info.get("pid")}
        writer.stats = {
            name: {"cpu_percent": round(s.cpu_percent, 1), "rss": s.rss, "ports": list(s.ports)}
            for name, s in sampler.sample(pids).items()
        }
        writer(snapshot)


def _kill_all(snapshot: dict[str, dict]) -> None:
    for info in snapshot.values():
        pgid = info.get("pgid") or info.get("pid")
        if pgid:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
