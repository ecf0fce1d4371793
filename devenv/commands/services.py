"""``up``, ``down``, ``status``, ``env``, ``psql``, ``redis-cli``, ``logs`` for services."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.config import Config, load_project
from devenv.errors import UsageError

if TYPE_CHECKING:
    import argparse  # ~2 ms; the CLI answers `devenv status` without it

    from devenv.console import ConsolePrinter
    from devenv.events import Event
    from devenv.services.stack import Stack


def _stack(emit=None):
    from devenv.services.stack import Stack

    config = load_project(Path.cwd())
    if emit is None:
        from devenv.console import ConsolePrinter  # not for status: it prints no event

        emit = ConsolePrinter()
    return Stack(config, emit)


def up_detached(args: argparse.Namespace) -> int:
    """Start the services only; return 0 once all are ready. A plain start is recorded for
    the next warm one (devenv.services.warmstart)."""
    from devenv.console import ConsolePrinter
    from devenv.project.runlock import operation_lock
    from devenv.services import warmstart

    printer = ConsolePrinter()
    seen: list[Event] = []

    def emit(event: Event) -> None:
        seen.append(event)
        printer(event)

    stack = _stack(emit)
    with operation_lock(stack.layout):
        stack.start(alongside=lambda: _prepare_environment(stack))
        urls = _print_urls(stack, printer)
        warmstart.remember(stack, seen, urls)
    return 0


def _prepare_environment(stack: Stack) -> None:
    if not stack.config.lockfiles.watch:
        return  # what prepare() finds too, without importing the environment code (~5 ms)
    # Imported here, in the thread that runs alongside the servers' start-up, not before
    # the servers are spawned.
    from devenv.environment.startup import prepare

    prepare(stack.config, stack.emit, interactive=False)


def _print_urls(stack: Stack, printer: ConsolePrinter) -> list[tuple[str, str]]:
    """Print the services' URLs, with the password masked (this output ends up in CI logs and
    on shared screens; `devenv env` prints them whole); return them as printed."""
    from devenv.services.password import mask_url

    env = stack.env()
    names = ("DATABASE_URL", "REDIS_URL")
    urls: list[tuple[str, str]] = [(key, mask_url(env[key])) for key in names if key in env]
    for key, masked in urls:
        printer.line("system", f"{key}={masked}")
    return urls


def down(args: argparse.Namespace) -> int:
    """Stop everything the project runs: what devenv.toml names, and what the project's
    records say runs (a service removed from the config, or a config that cannot be read)."""
    from devenv.console import ConsolePrinter
    from devenv.errors import ConfigError
    from devenv.project.layout import Layout
    from devenv.project.runlock import operation_lock, stop_foreground
    from devenv.services import recorded
    from devenv.supervisor import procstate

    printer = ConsolePrinter()
    try:
        stack = _stack(printer)
    except ConfigError as err:
        from devenv.config import find_config

        stack = None
        layout = Layout(find_config(Path.cwd()).parent)
        printer.line("system", f"{err}; stopping what this project's records say runs")
    else:
        layout = stack.layout
    pid = stop_foreground(layout)
    if pid is not None:
        printer.line("system", f"stopped the running devenv (pid {pid})")
    leftovers = procstate.stop_leftovers(layout)
    if leftovers:
        printer.line("system", f"stopped what a killed devenv left: {', '.join(leftovers)}")
    with operation_lock(layout):
        stopped = stack.stop() if stack is not None else []
        configured = stack.names if stack is not None else []
        others = recorded.stop(layout, skip=configured)
    for name in others:
        why = "not in the config any more" if stack is not None else "from the records"
        printer.line(name, f"stopped ({why})")
    if not stopped and not others and pid is None and not leftovers:
        printer.line("system", "nothing was running")
    return 0


def status(args: argparse.Namespace) -> int:
    from devenv.commands import status_view

    report = status_report()
    print(status_view.render_json(report) if args.json else status_view.render_text(report))
    return 0


def status_report() -> dict:
    """``devenv status``'s report for the project around the working folder, gathered in full
    (see devenv.commands.status_view); also recorded for the fast path when the project has
    a state folder (devenv.commands.status_record)."""
    from devenv.commands.status_record import record_report
    from devenv.events import ignore
    from devenv.project.runlock import foreground_pid
    from devenv.supervisor import procstate

    began_ns = time.time_ns()
    stack = _stack(ignore)
    # One look at each server that loads no client library: this command is typed by hand,
    # and psycopg2's import alone would double its time.
    services = {name: status.as_json() for name, status in stack.status(quick=True).items()}
    running = foreground_pid(stack.layout)
    processes = process_status(procstate.read(stack.layout), running)
    deps = _deps_status(stack.config)
    parity = _parity_status(stack)
    if deps:
        from devenv.environment.drift import summary
    report = {
        "services": services,
        "processes": processes,
        "deps": {name: drift.as_json() for name, drift in deps.items()},
        "parity": {name: p.as_json() for name, p in parity.items()},
        "devenv": {"pid": running},
        "lines": {
            "deps": [summary(drift) for drift in deps.values()],
            "parity": [p.message for p in parity.values()],
        },
    }
    record_report(stack, report, deps, parity, began_ns)
    return report


def _parity_status(stack: Stack) -> dict:
    """[prod] against this machine (the running servers, else the binaries; the venv; node)."""
    if not stack.config.prod:
        return {}
    from devenv.environment.parity import check_parity
    from devenv.environment.project import ProjectEnv

    return check_parity(stack, ProjectEnv.from_config(stack.config).venv)


def _deps_status(config: Config) -> dict:
    """Each lockfile's drift, keyed by its path relative to the project root."""
    from devenv.environment.project import ProjectEnv

    env = ProjectEnv.from_config(config)
    if not env.lockfiles:
        return {}
    from devenv.environment.drift import check

    return {path.relative_to(config.root).as_posix(): drift for path, drift in check(env).items()}


def process_status(recorded: dict[str, dict], devenv_pid: int | None) -> dict[str, dict]:
    """The processes as the running devenv last wrote them; all 'stopped' when none runs, or
    when the record is a killed devenv's that the running one has not replaced yet."""
    from dataclasses import replace

    from devenv.commands.status_view import number
    from devenv.state import State, Status

    now = time.time()
    result = {}
    for name, info in recorded.items():
        if not isinstance(info, dict):
            continue  # a damaged record (processes.json is rewritten by the next `up`)
        status = Status.of_process_record(name, info)
        writer = info.get("recorded_by")
        if devenv_pid is None or (isinstance(writer, int) and writer != devenv_pid):
            status = replace(status, state=State.STOPPED, pid=None)
        started = number(status.started_at)
        uptime = round(now - started, 1) if status.pid and started is not None else None
        result[name] = {**status.as_json(), "uptime": uptime}
    return result


def env(args: argparse.Namespace) -> int:
    from devenv.config.dotenv import export_lines
    from devenv.environment import activation
    from devenv.environment.project import ProjectEnv
    from devenv.events import ignore

    stack = _stack(ignore)
    # What `devenv run` and the hooks get: .env, then the services' variables over it.
    for line in export_lines(stack.project_env(os.environ)):
        print(line)
    for line in activation.export_lines(ProjectEnv.from_config(stack.config)):
        print(line)
    return 0


def client(service: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from devenv.events import ignore
        from devenv.services.stack import client_command

        stack = _stack(ignore)
        if service not in stack.config.services:
            raise UsageError(
                f"this project has no {service} service (see [services] in "
                f"{stack.config.source.name})"
            )
        argv = client_command(stack, service, list(args.args))
        os.execvpe(argv[0], argv, {**os.environ, **stack.env()})

    return run


def logs(args: argparse.Namespace) -> int:
    from devenv.project.layout import Layout

    config: Config = load_project(Path.cwd())
    layout = Layout(config.root)
    known = sorted(p.stem for p in layout.logs.glob("*.log")) if layout.logs.is_dir() else []
    names = sorted({*config.services, *config.processes, *known})
    listing = (
        f"logs exist for: {', '.join(known) or 'nothing yet'}; names in this project: "
        f"{', '.join(names) or 'none'}"
    )
    if not args.name or "/" in args.name or args.name.startswith("."):
        raise UsageError(f"'{args.name}' is not a process or service name; {listing}")
    path = layout.log_file(args.name)
    if not path.exists() and layout.log_file(f"{args.name}.1").exists():
        path = layout.log_file(f"{args.name}.1")  # `devenv logs web` means web.1, as in honcho
    if not path.exists():
        if args.name in names or args.name.rsplit(".", 1)[0] in config.processes:
            raise UsageError(f"no log for '{args.name}' yet ({path}); {listing}")
        raise UsageError(f"no log for '{args.name}': not a name in this project; {listing}")
    if args.follow:
        _follow(path, args.lines)
    else:
        _print_tail(path, args.lines)
    return 0


def _print_tail(path: Path, lines: int) -> None:
    from collections import deque

    with open(path, "rb") as f:
        for raw in deque(f, maxlen=max(lines, 0)):
            sys.stdout.write(raw.decode("utf-8", "replace"))
    sys.stdout.flush()


def _follow(path: Path, lines: int) -> None:
    """The last ``lines`` lines, then what is written, across rotations.

    See devenv.supervisor.logfollow.
    """
    import codecs

    from devenv.supervisor.logfollow import follow

    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a chunk may end mid-character
    try:
        for chunk in follow(path, last=lines):
            sys.stdout.write(decoder.decode(chunk))
            sys.stdout.flush()
    except (KeyboardInterrupt, BrokenPipeError):
        return
