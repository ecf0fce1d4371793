"""Checks of the machine around the project: stale sockets, socket path length, free disk.

Ids: ``stale-sockets``, ``socket-path``, ``disk``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import partial

from devenv.doctor import fixes
from devenv.doctor.checks import Check, Context, State, fail, ok, warn

GiB = 1024**3
MiB = 1024**2
DISK_WARN = 1 * GiB  # below this, warn
DISK_FAIL = 100 * MiB  # below this, fail: PostgreSQL and Redis stop writing at a full disk
WIDEST_PG_SOCKET = ".s.PGSQL.65535"


def stale_sockets(context: Context) -> Iterator[Check]:
    runtime = context.layout.runtime
    stale = fixes.stale_sockets(runtime)
    if not stale:
        yield ok("stale-sockets", f"no stale socket in {runtime}")
        return
    names = ", ".join(path.name for path in stale)
    yield warn(
        "stale-sockets",
        f"nothing listens on {names} in {runtime}: left by a server that was killed",
        "`devenv doctor --fix` removes them (so does `devenv up`)",
        partial(fixes.remove_stale_sockets, context.layout),
    )


def _socket_names(context: Context) -> list[str]:
    """The names of the sockets the project's servers make in the runtime folder."""
    if context.config is None:
        return [WIDEST_PG_SOCKET]
    from devenv.services.recipes import recipe_for

    names = []
    for name, config in context.config.services.items():
        try:
            driver = recipe_for(config).driver
        except Exception:  # a broken recipe: binaries.<name> reports it
            continue
        if driver == "postgres":
            port = config.port or context.stack.ports.remembered(name)
            names.append(f".s.PGSQL.{port}" if port else WIDEST_PG_SOCKET)
        elif driver == "redis":
            from devenv.services.redis import SOCKET_NAME

            names.append(SOCKET_NAME)
        else:
            names.append(f"{name}.sock")  # devenv.services.generic
    return names


def socket_path(context: Context) -> Iterator[Check]:
    from devenv.errors import DevenvError
    from devenv.project.layout import SOCKET_PATH_LIMIT

    layout = context.layout
    names = _socket_names(context)
    if not names:
        return
    longest = max(names, key=lambda name: len(os.fsencode(layout.socket(name))))
    try:
        path = layout.check_socket_path(longest)
    except DevenvError as err:
        yield fail(
            "socket-path",
            str(err),
            "set XDG_RUNTIME_DIR to a short folder of your own (at most 40 characters)",
        )
        return
    size = len(os.fsencode(path))
    yield ok("socket-path", f"{path} is {size} bytes (the limit is {SOCKET_PATH_LIMIT})")


def disk_state(free: int) -> State:
    """ "fail" under 100 MiB free, "warn" under 1 GiB, else "ok"."""
    if free < DISK_FAIL:
        return "fail"
    if free < DISK_WARN:
        return "warn"
    return "ok"


def _size(n: int) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / MiB:.0f} MiB"


def disk(context: Context) -> Iterator[Check]:
    where = context.root or context.start
    free = shutil.disk_usage(where).free
    state = disk_state(free)
    message = f"{_size(free)} free on the filesystem of {where}"
    if state == "ok":
        yield ok("disk", message)
        return
    fix = (
        "free some space: PostgreSQL and Redis stop writing when the disk is full "
        "(old snapshots are in .devenv/snapshots)"
    )
    yield (fail if state == "fail" else warn)("disk", message, fix)
