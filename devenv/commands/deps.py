"""``sync`` and ``run``: the project's own environment, from the command line."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.config import load_project
from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.environment.project import ProjectEnv


class CommandNotFound(DevenvError):
    exit_code = 127  # as a shell says it


def sync(args: argparse.Namespace) -> int:
    """Install what the lockfiles say; 0 when the environment matches them afterwards."""
    from devenv.console import ConsolePrinter
    from devenv.environment.drift import check, summary
    from devenv.environment.installers import plan
    from devenv.environment.policy import drifted
    from devenv.environment.project import ProjectEnv
    from devenv.environment.sync import Sync
    from devenv.project.runlock import foreground_pid

    config = load_project(Path.cwd())
    env = ProjectEnv.from_config(config)
    printer = ConsolePrinter()
    if not env.lockfiles:
        printer.line("deps", "no lockfiles to install (see [lockfiles] watch in the README)")
        return 0
    drifts = check(env)
    for path, drift in drifts.items():
        printer.line("deps", summary(drift))
        if drift.state == "unknown":
            raise DevenvError(drift.error or f"{path.name}: cannot be read")
    wanted = drifted(drifts)
    if not wanted:
        printer.line("deps", "in sync: nothing to install")
        return 0
    steps = plan(config, env, wanted)
    if args.dry_run:
        for step in steps:
            printer.line("deps", f"would run: {step.display}")
        return 1
    Sync(config, env, steps, printer).run(f"devenv sync: {', '.join(p.name for p in wanted)}")
    after = check(env)
    left = drifted(after)
    for path in left:
        printer.line("deps", f"still drifted after the sync: {summary(after[path])}")
    running = foreground_pid(_layout(config))
    if running is not None and not left:
        printer.line(
            "deps", f"the running devenv (pid {running}) restarts the processes this affects"
        )
    return 1 if left else 0


def _layout(config):
    from devenv.project.layout import Layout

    return Layout(config.root)


def run(args: argparse.Namespace) -> int:
    """Run a command in the project's environment (like ``uv run``); never returns on success."""
    from devenv.console import ConsolePrinter
    from devenv.environment.project import ProjectEnv
    from devenv.environment.startup import prepare
    from devenv.services.stack import Stack

    argv = list(args.args)
    if not argv:
        raise DevenvError("devenv run needs a command, e.g. `devenv run pytest -q`")
    config = load_project(Path.cwd())
    printer = ConsolePrinter(output=sys.stderr)
    env = ProjectEnv.from_config(config)
    if env.lockfiles:
        prepare(config, printer, interactive=False)  # installs a missing environment first
    child_env = Stack(config, printer).child_env()
    program = shutil.which(argv[0], path=child_env.get("PATH"))
    if program is None:
        raise CommandNotFound(
            f"devenv run: `{argv[0]}` is not in the project's environment "
            f"({', '.join(_relative_bins(env))}) nor on PATH"
        )
    sys.stdout.flush()
    os.execve(program, argv, child_env)


def _relative_bins(env: ProjectEnv) -> list[str]:
    from devenv.environment.activation import path_prefix

    return [os.path.relpath(p, env.root) for p in path_prefix(env)] or ["no virtualenv"]
