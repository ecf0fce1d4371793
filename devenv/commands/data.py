"""``snapshot``, ``restore`` and ``reset``: the commands that touch data. They ask first."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from devenv.config import load_project
from devenv.errors import DevenvError, UsageError


def _confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise DevenvError(f"{question} Not confirmed: pass --yes to do it without asking.")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise DevenvError("cancelled; nothing was changed")


def _snapshots():
    from devenv.events import ignore
    from devenv.services.postgres import PostgresService
    from devenv.services.snapshots import Snapshots
    from devenv.services.stack import Stack

    stack = Stack(load_project(Path.cwd()), ignore)
    if "postgres" not in stack.config.services:
        # A usage mistake (exit 2), like `devenv psql` in the same project: nothing is wrong
        # with the machine, the command does not apply here.
        services = ", ".join(stack.config.services) or "none"
        raise UsageError(
            "this project has no postgres service: there is nothing to snapshot or restore "
            f"(its services: {services}; see [services] in {stack.config.source.name})"
        )
    service = stack.service("postgres")
    # The config refuses a recipe of its own for 'postgres': it is always devenv's PostgreSQL.
    assert isinstance(service, PostgresService), type(service)
    if service.find_running() is None:
        raise DevenvError("postgres is not running; start it with `devenv up -d`")
    databases = {db.name: db.owner for db in stack.config.services["postgres"].databases}
    if not databases:
        raise DevenvError("services.postgres declares no databases: there is nothing to snapshot")
    return Snapshots(stack.layout.snapshots / "postgres", service.superuser_connect, databases)


def snapshot(args: argparse.Namespace) -> int:
    from devenv.services.snapshots import default_name

    snaps = _snapshots()
    if args.list:
        for snap in snaps.list():
            print(f"{snap.name:<32} {snap.created}  {', '.join(snap.databases)}")
        return 0
    snap = snaps.take(args.name or default_name())
    print(f"snapshot '{snap.name}' taken of {', '.join(snap.databases)}")
    print(f"restore it with: devenv restore {snap.name}")
    return 0


def restore(args: argparse.Namespace) -> int:
    snaps = _snapshots()
    snap = snaps.get(args.name)
    _confirm(
        f"Replace {', '.join(snap.databases)} with snapshot '{snap.name}' ({snap.created})? "
        "The current data is snapshotted first.",
        args.yes,
    )
    safety = snaps.restore(snap.name)
    print(f"restored '{snap.name}'; the data before it is in snapshot '{safety.name}'")
    return 0


def reset(args: argparse.Namespace) -> int:
    """Start a service over with empty data; the old data is moved aside, never deleted."""
    from devenv.events import ignore
    from devenv.project.runlock import operation_lock
    from devenv.services.stack import Stack

    stack = Stack(load_project(Path.cwd()), ignore)
    names = [args.service] if args.service else stack.names
    for name in names:
        stack.service(name)  # an unknown name fails here, before anything is asked
    _confirm(
        f"Reset {', '.join(names)}: stop, move the data aside into .devenv/snapshots/, and "
        "start over empty?",
        args.yes,
    )
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with operation_lock(stack.layout):
        was_running = [n for n in names if stack.service(n).find_running() is not None]
        for name in names:
            service = stack.service(name)
            service.stop()
            if service.data_dir.exists():
                target = stack.layout.snapshots / f"reset-{name}-{stamp}"
                target.parent.mkdir(parents=True, exist_ok=True)
                service.data_dir.rename(target)
                rel = target.relative_to(stack.config.root)
                print(f"{name}: old data kept in {rel}")
                print(
                    f"  to bring it back: devenv down && rm -rf .devenv/state/{name} "
                    f"&& mv {rel} .devenv/state/{name}"
                )
        if was_running:
            stack.start(was_running)
            print(f"started again: {', '.join(was_running)}")
    return 0
