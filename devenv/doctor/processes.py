"""Processes a killed devenv left running (id ``leftovers``).

``.devenv/processes.json`` records every supervised process with its pid,
process group and create time (``devenv.supervisor.procstate``). When no foreground
devenv runs the project (``devenv.project.runlock``) and a recorded group is still
alive, a devenv was killed and left it: the next ``devenv up`` or ``down``
would stop it, and ``devenv doctor --fix`` does so now.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from devenv.doctor import fixes
from devenv.doctor.checks import Check, Context, ok, warn

COMMAND_WIDTH = 60


def _command(pid: int) -> str:
    import psutil

    try:
        text = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""
    return text if len(text) <= COMMAND_WIDTH else text[: COMMAND_WIDTH - 1] + "…"


def leftovers(context: Context) -> Iterator[Check]:
    from devenv.project.runlock import foreground_pid
    from devenv.supervisor import procstate

    layout = context.layout
    running = foreground_pid(layout)
    if running is not None:
        yield ok("leftovers", f"devenv (pid {running}) is running this project")
        return
    found = []
    # procstate decides what is still ours (a recycled pid never is).
    for name, pgid in procstate.leftovers(layout).items():
        command = _command(pgid)
        found.append(f"{name} (pid {pgid}{', `' + command + '`' if command else ''})")
    if not found:
        yield ok("leftovers", "no process left running by an earlier devenv")
        return
    yield warn(
        "leftovers",
        f"{'; '.join(found)} still running, left by a devenv of project "
        f"'{context.project_name}' ({context.root}) that was killed",
        "`devenv doctor --fix` stops them (so do `devenv up` and `devenv down`)",
        partial(fixes.stop_leftovers, layout),
    )
