"""A warm ``devenv up -d`` that finishes before devenv's own code loads.

devenv.project.startplan spawns the servers from their plans first thing; the
ordinary start then loads the config, finds the installations, takes the early
servers, waits for them, checks there is nothing to provision and prints
their URLs. When nothing changed since the last start, all of that comes to
what it printed last time, and loading it costs more than PostgreSQL's whole
start. So an ordinary ``up -d`` whose output was only that (the servers
started, nothing made, no port lent, no hooks, no lockfiles to look at: a
*plain* start) records it (``remember``: ``.devenv/state/up.warm.json``), and
the next one finishes from the record (``finish``) when everything the
ordinary start depends on is as it was:

- the config file, the plans (``startplan``), the environment
  (``stamps.environ_digest``: PATH, the service account, every ``$VAR``),
  the recipes, templates and server binaries, the folders the binaries are
  looked for in, devenv's own version, the project's password and its record
  of the passwords given: each stamped;
- each server answers as the ordinary probe would ask it (PostgreSQL's early
  login, Redis's PING after AUTH) and the answers that say nothing is left to
  provision (the roles, databases and extensions) are the recorded ones.

Anything else (a missing or damaged record, one another account wrote, a
server that exits or is slow, a different answer) and ``finish`` returns
False, having changed nothing: the ordinary start goes on with the early
servers as before and decides, reports and records anew.

Only ``os``, ``json`` and ``time`` are imported before the record is found current.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from devenv.project import stamps, startplan
from devenv.project.ownfiles import read_own_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from devenv.events import Event
    from devenv.services.base import Service
    from devenv.services.stack import Stack

RECORD = "up.warm.json"
WAIT_SECONDS = 5.0  # for the servers to be ready; then the ordinary start waits on its terms
POLL_SECONDS = 0.002
_VERSION_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "__init__.py")


def record_path(root: str | os.PathLike[str]) -> str:
    return os.path.join(root, ".devenv", "state", RECORD)


# -- the finish ---------------------------------------------------------------


def finish(start: str) -> bool:
    """Finish the warm ``up -d`` of the project around ``start`` from its record, when every
    server ``startplan.spawn_early`` spawned is ready and everything is as recorded: print
    what the ordinary start would, keep the servers, True. Else False, nothing changed (the
    early servers wait for the ordinary start). Never raises for a record or a server."""
    early = startplan.spawned()
    root = startplan.project_root(start) if early else None
    if root is None:
        return False
    record = read_own_json(record_path(root))
    from devenv.services import pgwire, resp  # a probe's errors: the ordinary start reports

    not_ready = (pgwire.Error, pgwire.NeedsPassword, resp.RespError, resp.ConnectionClosed)
    try:
        if record is None or not _current(record, early, root):
            return False
        import devenv.console  # noqa: F401 - for _print, loaded while the servers start

        ready = _wait_ready(record["services"], early)
    except (*startplan.NOT_NOW, *not_ready):
        return False
    if ready is None:
        return False
    startplan.keep_all()
    _print(record, early, ready)
    return True


def _current(record: dict, early: dict[str, startplan.Early], root: str) -> bool:
    """Whether the servers spawned are the recorded ones and nothing the start reads changed."""
    plans = {plan["name"]: plan for plan in record["plans"]}
    if plans.keys() != early.keys() or any(early[n].plan != plans[n] for n in plans):
        return False
    if record["environ"] != stamps.environ_digest():
        return False
    if record["config"] != stamps.stamp(startplan.config_file(root)):
        return False
    return all(stamps.stamp(path) == want for path, want in record["reads"].items())


def _wait_ready(services: list[dict], early: dict[str, startplan.Early]) -> dict[str, float] | None:
    """When each server became ready and answered as recorded (time.monotonic(), by name),
    looked at in turn as the ordinary start's threads do at once; None as soon as one did not
    (exited, another answer, a probe of a kind not known here) or after WAIT_SECONDS."""
    ready: dict[str, float] = {}
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for service in services:
            name = service["name"]
            if name in ready:
                continue
            server = early[name]
            if server.proc.poll() is not None:
                return None  # it exited: the ordinary start says why
            kind = service["ready"]["kind"]
            if kind == "pgwire":
                answer = _pgwire_ready(service, server)
            elif kind == "resp":
                answer = _resp_ready(service["ready"])
            else:
                return None
            if answer is None:
                return None
            if answer:
                ready[name] = time.monotonic()
        if len(ready) == len(services):
            return ready
        time.sleep(POLL_SECONDS)
    return None


def _pgwire_ready(service: dict, early: startplan.Early) -> bool | None:
    """True once PostgreSQL took the early login (startplan.Early) and answers the checks as
    recorded; False not yet; None when it will not do (no login, another answer)."""
    from pathlib import Path

    from devenv.services import pgwire

    if early.probed is None:
        return None
    if not early.probed.is_set():
        return False
    conn = early.connection()  # the server said it is ready and took this login
    if conn is None:
        return None
    probe = early.plan["probe"]
    opened = {probe["dbname"]: conn}
    try:
        for check in service["checks"]:
            dbname = check["dbname"]
            if dbname not in opened:
                opened[dbname] = pgwire.Connection(Path(probe["socket"]), probe["user"], dbname)
            rows = [list(row) for row in opened[dbname].query(check["sql"])]
            if rows != check["rows"]:
                return None  # something to provision: the ordinary start does it
    finally:
        for each in opened.values():
            each.close()
    return True


def _resp_ready(ready: dict) -> bool | None:
    """True once Redis answers PING after AUTH with the project's password; False not yet
    (no socket, loading); None for another answer (the ordinary start reports it)."""
    from devenv.services import resp

    with open(ready["password_file"], encoding="utf-8") as f:
        password = f.read().strip()
    try:
        return resp.command(ready["socket"], "PING", password=password) == "PONG" or None
    except (OSError, resp.ConnectionClosed):
        return False  # not listening yet
    except resp.RespError as err:
        return False if str(err).startswith("LOADING") else None


def _print(record: dict, early: dict[str, startplan.Early], ready: dict[str, float]) -> None:
    """What the ordinary start prints, through the same printer and events."""
    import sys

    from devenv.console import SYSTEM, ConsolePrinter
    from devenv.events import Notice, ServiceReady, ServiceStarting

    printer = ConsolePrinter(sys.stdout)
    for message in record["notices"]:
        printer(Notice("devenv", message))
    for service in record["services"]:
        printer(ServiceStarting(service["name"], service["starting"]))
    for service in sorted(record["services"], key=lambda s: ready[s["name"]]):
        server = early[service["name"]]
        seconds = ready[service["name"]] - server.spawned_at
        printer(ServiceReady(service["name"], server.proc.pid, service["port"], seconds))
    for key, masked in record["urls"]:
        printer.line(SYSTEM, f"{key}={masked}")


# -- a stop -------------------------------------------------------------------


def finish_down(start: str) -> bool:
    """Finish ``devenv down`` for the project around ``start`` once the servers
    ``startplan.stop_early`` signalled are gone, when they are every service the project has:
    the record is of this config (same services, all with plans), every pid record is one of
    theirs, and each server left nothing behind (then the ordinary stop cleans up). Print what
    the ordinary stop would, True; else False, nothing changed. Never raises for a record."""
    asked = startplan.signalled()
    root = startplan.project_root(start) if asked else None
    if root is None:
        return False
    record = read_own_json(record_path(root))
    try:
        if record is None or record["config"] != stamps.stamp(startplan.config_file(root)):
            return False
        plans = {plan["pid_file"]: plan for plan in record["plans"]}
        state = os.path.join(root, ".devenv", "state")
        on_record = {os.path.join(state, n) for n in os.listdir(state) if n.endswith(".pid.json")}
        if plans.keys() != asked.keys() or on_record != plans.keys():
            return False
        _hurry(record["services"])
        if not _all_gone(asked.values(), time.monotonic() + WAIT_SECONDS):
            return False
        if any(os.path.lexists(path) for plan in plans.values() for path in plan["leftovers"]):
            return False
        for pid_file in plans:
            os.unlink(pid_file)
            startplan.stopped(pid_file)
        with contextlib.suppress(OSError):  # sockets of another kind left: `down` says nothing
            os.rmdir(next(iter(plans.values()))["runtime"][0])
    except startplan.NOT_NOW:
        return False
    import sys

    from devenv.console import ConsolePrinter
    from devenv.events import ServiceStopped

    printer = ConsolePrinter(sys.stdout)
    for plan in plans.values():
        printer(ServiceStopped(plan["name"], asked[plan["pid_file"]]))
    return True


def _hurry(services: list[dict]) -> None:
    """Ask Redis for the SHUTDOWN stop_early's signal asked for: it acts on a signal only at
    its next cron tick (up to 100 ms later), on the command at once. Its socket is in the
    project's private runtime folder; if it does not answer, the signal does the job."""
    from devenv.services import resp

    for service in services:
        ready = service["ready"]
        if ready["kind"] != "resp":
            continue
        try:
            with open(ready["password_file"], encoding="utf-8") as f:
                password = f.read().strip()
            resp.command(ready["socket"], "SHUTDOWN", password=password)
        except (OSError, resp.RespError, resp.ConnectionClosed):
            pass  # closed on us (the normal outcome), gone already, or refused: the signal acts


def _all_gone(pids: Iterable[int], deadline: float) -> bool:
    """Wait until none of ``pids`` runs (a zombie nobody reaps counts as gone, as for
    devenv.services.base.wait_gone, once its threads are); False at ``deadline``."""
    from devenv.project import procfs

    left = set(pids)
    while left and time.monotonic() < deadline:
        left = {pid for pid in left if procfs.state(pid) not in (None, "Z") or _threads(pid) > 1}
        if left:
            time.sleep(POLL_SECONDS)
    return not left


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


# -- the record -----------------------------------------------------------------


def remember(stack: Stack, seen: Sequence[Event], urls: list[tuple[str, str]]) -> None:
    """After an ordinary ``up -d`` that succeeded: record it for the next warm one when it was
    plain (``seen``: every event it emitted; ``urls``: the lines it printed, masked), leave
    it as it is when the servers were all running already and nothing was made, else drop
    it (the next start is an ordinary one). Call it while the servers run."""
    from devenv.events import Notice, ServiceReady
    from devenv.files import write_atomic

    def adopted(event: Event) -> bool:
        return isinstance(event, ServiceReady) and event.adopted

    quiet = all(adopted(e) or (isinstance(e, Notice) and e.name == "devenv") for e in seen)
    if quiet and any(adopted(e) for e in seen):
        return  # the servers were running already and nothing was made: the record holds
    path = record_path(stack.layout.root)
    record = _describe(stack, seen, urls)
    if record is None:
        forget(stack.layout.root)
        return
    write_atomic(path, json.dumps(record), mode=0o600)


def forget(root: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(record_path(root))


def _describe(stack: Stack, seen: Sequence[Event], urls: list[tuple[str, str]]) -> dict | None:
    from devenv.events import Notice, ServiceReady, ServiceStarting

    config = stack.config
    if config.hooks.after_ready or config.lockfiles.watch or not stack.names:
        return None  # work a record cannot stand for
    notices, starting = [], {}
    for event in seen:
        if isinstance(event, Notice) and event.name == "devenv":
            notices.append(event.message)
        elif isinstance(event, ServiceStarting):
            starting[event.name] = event.detail
        elif not (isinstance(event, ServiceReady) and not event.adopted):
            return None  # something was made, lent, adopted or said: not plain
    services, plans, reads = [], [], {_VERSION_FILE: stamps.stamp(_VERSION_FILE)}
    for name in stack.names:
        service = stack.service(name)
        plan = service.spawn_plan()
        finish = service.warm_finish() if plan is not None else None
        if plan is None or finish is None or name not in starting:
            return None
        ready = dict(finish["ready"])
        if ready["kind"] == "resp":
            from devenv.services.password import password_file

            ready["password_file"] = str(password_file(stack.layout))
        plans.append(plan)
        services.append(
            {
                "name": name,
                "port": service.port,
                "starting": starting[name],
                "ready": ready,
                "checks": finish["checks"],
            }
        )
        for read in [*_common_reads(service), *finish["reads"]]:
            reads[str(read)] = stamps.stamp(read)
    return json.loads(
        json.dumps(
            {
                "config": stamps.stamp(startplan.config_file(stack.layout.root)),
                "environ": stamps.environ_digest(),
                "reads": reads,
                "plans": plans,
                "notices": notices,
                "services": services,
                "urls": urls,
            }
        )
    )


def _common_reads(service: Service) -> list[os.PathLike[str] | str]:
    """The files a start of ``service`` depends on besides the config and its plan's."""
    from devenv.services.installations import searched_folders
    from devenv.services.password import password_file

    recipe = service.ctx.recipe
    templates = [recipe.template_path("config"), recipe.template_path("hba")]
    return [
        recipe.source,
        *(t for t in templates if t is not None),
        service.argv()[0],
        *searched_folders(recipe),
        password_file(service.ctx.layout),
    ]
