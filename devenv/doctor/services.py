"""Checks of the project's native servers: the account they run as, binaries, ports, stale locks.

Ids: ``service-user`` (as root only), ``binaries.<service>``, ``ports.<service>``,
``stale-pid.<service>`` (PostgreSQL's postmaster.pid).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from devenv.doctor import fixes
from devenv.doctor.checks import Check, Context, fail, guarded, ok, warn
from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.project.ports import Holder


def service_user(context: Context) -> Iterator[Check]:
    """As root, the unprivileged account the servers run as, and whether it reaches the project."""
    from devenv.project import privileges

    if not privileges.is_root():
        return
    if context.config is not None and not context.config.services:
        return
    check_id = "service-user"
    try:
        user = privileges.service_user()
    except DevenvError as err:  # no unprivileged account to run the servers as
        yield fail(check_id, str(err), "create that account or set DEVENV_SERVICE_USER")
        return
    base = context.layout.base
    folder = privileges.blocking_folder(base, user)
    if folder is not None:
        mode = folder.stat().st_mode & 0o7777
        yield fail(
            check_id,
            f"devenv runs as root, so the servers run as '{user.name}', who cannot enter "
            f"{folder} (mode {mode:04o}) to reach {base}",
            f"move the project to a folder '{user.name}' can enter (under /srv or /tmp), "
            f"or `chmod o+x {folder}`, or run devenv as a normal user",
        )
        return
    yield ok(
        check_id, f"devenv runs as root: the servers run as '{user.name}', who can reach {base}"
    )


def binaries(context: Context) -> Iterator[Check | None]:
    assert context.config is not None
    for name in context.config.services:
        yield guarded(f"binaries.{name}", _binary, context, name)


def _binary(context: Context, name: str) -> Check:
    from devenv.services.installations import MissingBinary, find_installation, install_hint
    from devenv.services.recipes import recipe_for

    assert context.config is not None
    config = context.config.services[name]
    recipe = recipe_for(config)
    check_id = f"binaries.{name}"
    try:
        found = find_installation(recipe, config.version)
    except MissingBinary as err:
        fix = f"install {recipe.title} with {install_hint(recipe)}"
        if config.version is not None:
            fix += (
                f" (a version matching '{config.version}'), or change services.{name}.version "
                f"in {context.config.source.name}"
            )
        return fail(check_id, str(err), fix)
    return ok(check_id, f"{recipe.title} {found.version} ({found.server})")


# ---------------------------------------------------------------- ports


def ports(context: Context) -> Iterator[Check | None]:
    assert context.config is not None
    for name in context.config.services:
        yield guarded(f"ports.{name}", _port, context, name)


def _running_pid(context: Context, name: str) -> int | None:
    """The pid of this project's server ``name`` when it runs (even without its binaries)."""
    from devenv.project import pidrecord

    service = context.service(name)
    if service is not None:
        return service.find_running()
    record = pidrecord.read(context.layout.state / f"{name}.pid.json")
    return record.pid if record is not None and record.alive() else None


def _tree(pid: int) -> set[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        return {pid, *(child.pid for child in root.children(recursive=True))}
    except psutil.Error:
        return {pid}


def describe_holder(holder: Holder) -> str:
    """``nginx (pid 12)``, naming the devenv project when it is another project's server."""
    import psutil

    text = str(holder)
    if holder.pid is None:
        return text
    marker = f"{os.sep}.devenv{os.sep}state{os.sep}"
    try:
        cwd = psutil.Process(holder.pid).cwd() + os.sep
    except psutil.Error:
        return text
    if marker in cwd:
        return f"{text}, a server of the devenv project in {cwd.split(marker)[0]}"
    return text


def _port(context: Context, name: str) -> Check:
    from devenv.project.ports import port_holder
    from devenv.services.recipes import recipe_for

    assert context.config is not None
    check_id = f"ports.{name}"
    config = context.config.services[name]
    source = context.config.source.name
    port = config.port or context.stack.ports.remembered(name)
    if port is None:
        default = recipe_for(config).default_port
        return ok(check_id, f"no port chosen yet: devenv up takes {default} if free, else another")
    where = (
        f"services.{name}.port in {source}" if config.port else "remembered in .devenv/ports.json"
    )
    running = _running_pid(context, name)
    holder = port_holder(port)
    if holder is None:
        if running is not None:
            return warn(
                check_id,
                f"{name} runs (pid {running}) but nothing listens on its port {port} ({where})",
                f"restart it: `devenv down && devenv up -d` (see `devenv logs {name}`)",
            )
        return ok(check_id, f"port {port} ({where}) is free")
    if running is not None and (holder.pid is None or holder.pid in _tree(running)):
        return ok(check_id, f"{name} (pid {running}) listens on port {port} ({where})")
    who = describe_holder(holder)
    ours = f"; this project's {name} runs as pid {running}" if running is not None else ""
    if config.port:
        return fail(
            check_id,
            f"port {port} ({where}) is taken by {who}{ours}",
            f"stop {holder}, or set services.{name}.port in {source} to a free port",
        )
    return warn(
        check_id,
        f"port {port} ({where}) is taken by {who}{ours}",
        f"nothing to do: devenv up gives {name} another free port and remembers it "
        f"(stop {holder} to keep {port})",
    )


# ---------------------------------------------------------------- stale lock files


def stale_pids(context: Context) -> Iterator[Check | None]:
    """PostgreSQL's postmaster.pid left by a server that is gone (``devenv up`` removes it too)."""
    from devenv.services.recipes import recipe_for

    assert context.config is not None
    for name, config in context.config.services.items():
        if recipe_for(config).driver == "postgres":
            yield guarded(f"stale-pid.{name}", _stale_pid, context, name)


def _stale_pid(context: Context, name: str) -> Check | None:
    check_id = f"stale-pid.{name}"
    service = context.service(name)
    if service is None:
        return None  # binaries.<name> says why
    lock = service.data_dir / fixes.POSTMASTER_PID
    running = service.find_running()
    if running is not None:
        return ok(check_id, f"{context.shown(lock)} is the running server's (pid {running})")
    if not lock.exists():
        return ok(check_id, f"no {fixes.POSTMASTER_PID} left behind")
    why = fixes.why_not_running(fixes.first_line_pid(lock), "this project's PostgreSQL")
    return warn(
        check_id,
        f"{context.shown(lock)} {why}: a {name} that was killed left it",
        "`devenv doctor --fix` removes it and the server's stale socket (so does `devenv up`)",
        partial(fixes.clean_stale_service, context.layout, service),
    )
