"""The step "processes up and the app answering": a devenv runs the project's processes and the
app's health URL answers.

The health URL is ``[onboarding] health`` or else the ``ready.http`` probe of
the first process that has one; ``$PORT`` in it is that process's port (the
first Procfile process with an http probe, else ``web``, else the first),
read from what the running devenv recorded. Without any URL, the step is done
when every process runs. Without processes, it is skipped.

How the processes get up: a face that runs them itself (the TUI, inside
``devenv up``) passes ``start_processes``; otherwise, when no devenv runs the
project, the onboarding starts ``devenv up --no-tui`` in the background (its
own session, output in ``.devenv/logs/onboarding-up.log``), which keeps running
after the onboarding (the new hire keeps the app to look at; ``devenv down``
stops it, ``devenv status`` and ``devenv logs`` show it).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devenv.config import Config, OnboardingConfig
from devenv.onboarding.context import StepContext
from devenv.onboarding.model import Outcome, StepFailed
from devenv.project.layout import Layout

DEADLINE = 120.0  # seconds for the app to answer after the processes were started
POLL = 0.1
RUNNING = ("running", "ready", "completed")


@dataclass(frozen=True)
class Health:
    process: str  # the process type whose PORT ``$PORT`` means
    url: str | None  # None: no URL to ask; every process running is enough


def health_target(config: Config, onboarding: OnboardingConfig) -> Health | None:
    processes = config.processes
    if not processes:
        return None
    http = [name for name, p in processes.items() if p.ready is not None and p.ready.kind == "http"]
    owner = http[0] if http else ("web" if "web" in processes else next(iter(processes)))
    if onboarding.health:
        return Health(owner, onboarding.health)
    if http:
        probe = processes[owner].ready
        assert probe is not None
        return Health(owner, str(probe.target))
    return Health(owner, None)


def resolve(url: str, port: int | None) -> str | None:
    """``url`` with ``$PORT`` replaced; None when it needs a port that is not known."""
    if not re.search(r"\$\{PORT\}|\$PORT\b", url):
        return url
    if port is None:
        return None
    return re.sub(r"\$\{PORT\}|\$PORT\b", str(port), url)


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a GET of ``url`` gets a 2xx or 3xx answer."""
    import http.client
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 400
    except urllib.error.HTTPError:  # it answered, but not "healthy" (503 while starting)
        return False
    except (OSError, http.client.HTTPException, ValueError):  # not listening yet, or reset
        return False


def _recorded(layout: Layout) -> dict[str, dict]:
    from devenv.supervisor import procstate

    return procstate.read(layout)


def _port(recorded: dict[str, dict], process: str) -> int | None:
    for name, info in recorded.items():
        if name.rsplit(".", 1)[0] == process and isinstance(info.get("port"), int):
            return info["port"]
    return None


def check_app(ctx: StepContext) -> Outcome:
    from devenv.project.runlock import foreground_pid

    target = health_target(ctx.config, ctx.onboarding)
    if target is None:
        return Outcome.skipped("this project has no Procfile processes")
    pid = foreground_pid(ctx.layout)
    if pid is None:
        return Outcome.not_yet(
            "the project's processes are not running",
            "devenv starts them in the background, as `devenv up` (`devenv down` stops them)",
        )
    recorded = _recorded(ctx.layout)
    if target.url is None:
        down = [name for name, info in recorded.items() if info.get("state") not in RUNNING]
        if down or not recorded:
            return Outcome.not_yet(f"not running yet: {', '.join(down) or 'the processes'}")
        return Outcome.done(f"{', '.join(recorded)} running (devenv up, pid {pid})")
    url = resolve(target.url, _port(recorded, target.process))
    if url is None:
        return Outcome.not_yet(f"{target.process} has no port yet")
    if not answers(url):
        return Outcome.not_yet(
            f"{target.process} does not answer at {url} yet",
            f"`devenv logs {target.process}` shows why",
        )
    home = re.sub(r"(https?://[^/]+).*", r"\1/", url)
    return Outcome.done(f"{target.process} answers at {url}: open {home} (devenv up, pid {pid})")


def start_app(ctx: StepContext) -> str:
    from devenv.project.runlock import foreground_pid

    spawned = None
    if ctx.start_processes is not None:
        ctx.start_processes(ctx)
        did = "started the processes"
    elif foreground_pid(ctx.layout) is None:
        spawned = _spawn_up(ctx)
        did = "started `devenv up` in the background (`devenv down` stops it)"
    else:
        did = "waited for the running devenv"
    ctx.output(did)
    deadline = time.monotonic() + DEADLINE
    last = ""
    while not ctx.cancelled.is_set():
        outcome = check_app(ctx)
        if outcome.state != "todo":
            return did
        if outcome.message != last:
            ctx.output(outcome.message)
            last = outcome.message
        if spawned is not None and spawned.poll() is not None:
            raise StepFailed(
                f"`devenv up` stopped (exit code {spawned.returncode}) before the app answered",
                "read its output below, correct what it says, then run `devenv onboard` again",
                _tail(_log(ctx)),
            )
        if time.monotonic() > deadline:
            target = health_target(ctx.config, ctx.onboarding)
            name = target.process if target else "the app"
            raise StepFailed(
                f"{outcome.message} after {DEADLINE:.0f} s",
                f"`devenv logs {name}` shows why; `devenv status` what runs",
                _tail(_log(ctx)) if spawned is not None else (),
            )
        ctx.cancelled.wait(POLL)
    return did


def _log(ctx: StepContext) -> Path:
    return ctx.layout.log_file("onboarding-up")


def _spawn_up(ctx: StepContext) -> subprocess.Popen:
    import os

    from devenv.supervisor.streamed import open_log

    with open_log(_log(ctx), "devenv up --no-tui (started by devenv onboard)") as log:
        log.flush()
        return subprocess.Popen(
            [sys.executable, "-m", "devenv", "up", "--no-tui"],
            cwd=ctx.root,
            env={**os.environ, "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and the terminal's hangup
        )


def _tail(path: Path, lines: int = 20) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(text.splitlines()[-lines:])
