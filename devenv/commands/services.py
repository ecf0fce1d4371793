"""``up``, ``down``, ``status``, ``env``, ``psql``, ``redis-cli``, ``logs`` for services."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from devenv.config import Config, load_project
from devenv.errors import DevenvError


def _stack(emit=None):
    from devenv.console import ConsolePrinter
    from devenv.stack import Stack

    config = load_project(Path.cwd())
    return Stack(config, emit if emit is not None else ConsolePrinter())


def _start(stack) -> None:
    """Start the services; a failure raises ServiceFailed, whose message holds the log tail."""
    from devenv.runlock import operation_lock

    with operation_lock(stack.layout):
        stack.start()


def up_detached(args: argparse.Namespace) -> int:
    """Start the services only; return 0 once all are ready."""
    stack = _stack()
    _start(stack)
    _print_urls(stack)
    return 0


def _print_urls(stack) -> None:
    env = stack.env()
    for key in ("DATABASE_URL", "REDIS_URL"):
        if key in env:
            stack.emit.line("system", f"{key}={env[key]}")


def down(args: argparse.Namespace) -> int:
    from devenv.runlock import operation_lock, stop_foreground

    stack = _stack()
    pid = stop_foreground(stack.layout)
    if pid is not None:
        stack.emit.line("system", f"stopped the running devenv (pid {pid})")
    from devenv import procstate

    leftovers = procstate.stop_leftovers(stack.layout)
    if leftovers:
        stack.emit.line("system", f"stopped what a killed devenv left: {', '.join(leftovers)}")
    with operation_lock(stack.layout):
        stopped = stack.stop()
    if not stopped and pid is None and not leftovers:
        stack.emit.line("system", "nothing was running")
    return 0


def status(args: argparse.Namespace) -> int:
    from devenv import procstate
    from devenv.events import ignore
    from devenv.runlock import foreground_pid

    stack = _stack(ignore)
    services = stack.status()
    running = foreground_pid(stack.layout)
    processes = _process_status(procstate.read(stack.layout), running)
    if args.json:
        payload = {"services": services, "processes": processes, "devenv": {"pid": running}}
        print(json.dumps(payload, indent=2))
        return 0
    print(f"{'NAME':<12} {'STATE':<9} {'PID':>7} {'PORT':>6}  VERSION / RESTARTS, UPTIME")
    for name, info in services.items():
        pid = info.get("pid") or "-"
        port = info.get("port") or "-"
        print(f"{name:<12} {info['state']:<9} {pid!s:>7} {port!s:>6}  {info.get('version') or '-'}")
        if info.get("error"):
            print(f"  {info['error']}")
    for name, info in processes.items():
        pid = info.get("pid") or "-"
        port = info.get("port") or "-"
        uptime = f"{info['uptime']:.0f}s" if info.get("uptime") is not None else "-"
        extra = f"{info.get('restarts', 0)} restarts, up {uptime}"
        if info.get("rss") is not None:
            extra += f", {info['cpu_percent']:.0f}% cpu, {info['rss'] / 2**20:.0f} MiB"
        print(f"{name:<12} {info['state']:<9} {pid!s:>7} {port!s:>6}  {extra}")
    return 0


def _process_status(recorded: dict[str, dict], devenv_pid: int | None) -> dict[str, dict]:
    """The processes as the running devenv last wrote them; all 'stopped' when none runs."""
    now = time.time()
    result = {}
    for name, info in recorded.items():
        entry = {k: v for k, v in info.items() if k != "create_time"}
        if devenv_pid is None:
            entry.update(state="stopped", pid=None)
        started = entry.get("started_at")
        running = entry.get("pid") and started
        entry["uptime"] = round(now - float(started), 1) if running else None
        result[name] = entry
    return result


def env(args: argparse.Namespace) -> int:
    from devenv.events import ignore
    from devenv.stack import export_lines

    for line in export_lines(_stack(ignore).env()):
        print(line)
    return 0


def client(service: str):
    def run(args: argparse.Namespace) -> int:
        from devenv.events import ignore
        from devenv.stack import client_command

        stack = _stack(ignore)
        if service not in stack.config.services:
            raise DevenvError(
                f"this project has no {service} service (see [services] in "
                f"{stack.config.source.name})"
            )
        argv = client_command(stack, service, list(args.args))
        os.execvpe(argv[0], argv, {**os.environ, **stack.env()})

    return run


def logs(args: argparse.Namespace) -> int:
    from devenv.layout import Layout

    config: Config = load_project(Path.cwd())
    layout = Layout(config.root)
    path = layout.log_file(args.name)
    if not path.exists() and layout.log_file(f"{args.name}.1").exists():
        path = layout.log_file(f"{args.name}.1")  # `devenv logs web` means web.1, as in honcho
    if not path.exists():
        known = sorted(p.stem for p in layout.logs.glob("*.log")) if layout.logs.is_dir() else []
        names = sorted({*config.services, *config.processes, *known})
        raise DevenvError(
            f"no log for '{args.name}' yet ({path}); logs exist for: "
            f"{', '.join(known) or 'nothing yet'}; names in this project: {', '.join(names)}"
        )
    _print_tail(path, args.lines)
    if args.follow:
        _follow(path)
    return 0


def _print_tail(path: Path, lines: int) -> None:
    from collections import deque

    with open(path, "rb") as f:
        for raw in deque(f, maxlen=max(lines, 0)):
            sys.stdout.write(raw.decode("utf-8", "replace"))
    sys.stdout.flush()


def _follow(path: Path) -> None:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        try:
            while True:
                chunk = f.read()
                if chunk:
                    sys.stdout.write(chunk.decode("utf-8", "replace"))
                    sys.stdout.flush()
                else:
                    time.sleep(0.1)
        except KeyboardInterrupt:
            return
