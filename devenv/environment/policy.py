"""What to do about drift, and which processes a sync restarts: pure functions, no I/O but stat.

``on_drift`` in [environment] says what happens when the lockfiles and the
installed packages differ: ``ask`` (the TUI shows a banner with one key to
sync), ``warn`` (a line, nothing else) or ``sync`` (install at once). Unset,
it is ``ask`` in the TUI and ``warn`` elsewhere. An environment that is not
installed at all is always installed: nothing else could run.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from devenv.config import ProcessConfig
from devenv.environment.model import Drift
from devenv.environment.project import ProjectEnv

Action = Literal["ask", "warn", "sync"]
PYTHON_COMMANDS = frozenset({"python", "python3", "pip", "pip3", "uv"})
NODE_COMMANDS = frozenset({"node", "npm", "npx", "yarn", "pnpm", "corepack"})


def drift_action(configured: str | None, *, interactive: bool) -> Action:
    match configured:
        case "warn" | "sync":
            return configured
        case _:  # "ask" or unset; without a person to ask, say it
            return "ask" if interactive else "warn"


def to_install(drifts: Mapping[Path, Drift], action: Action) -> tuple[Path, ...]:
    """The lockfiles to install now: the not-installed ones, and the drifted ones under "sync"."""
    states = ("not-installed", "drift") if action == "sync" else ("not-installed",)
    return tuple(path for path, drift in drifts.items() if drift.state in states)


def drifted(drifts: Mapping[Path, Drift]) -> tuple[Path, ...]:
    return tuple(path for path, d in drifts.items() if d.state in ("drift", "not-installed"))


def command_word(command: str) -> str:
    """The program a Procfile command runs: ``FOO=1 exec gunicorn app`` -> ``gunicorn``."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        if "=" in word.split("/", 1)[0] or word in ("exec", "env", "nice", "nohup"):
            continue
        return word
    return ""


def runs_in(process: ProcessConfig, env: ProjectEnv) -> set[str]:
    """The ecosystems whose packages a process's command uses ("python", "node")."""
    word = command_word(process.command)
    name = Path(word).name
    found = set()
    if name in PYTHON_COMMANDS or name.startswith("python3.") or (env.venv_bin / name).exists():
        found.add("python")
    if name in NODE_COMMANDS or (env.node_modules / ".bin" / name).exists():
        found.add("node")
    return found


def affected(
    processes: Mapping[str, ProcessConfig], synced: tuple[Path, ...], env: ProjectEnv
) -> list[str]:
    """The process types (Procfile names) to restart after ``synced`` were installed.

    A process's ``restart_on`` (lockfile paths) decides when it is set; otherwise a
    process restarts when its command runs in an ecosystem that was synced.
    """
    ecosystems = {env.ecosystem(path) for path in synced}
    chosen = []
    for name, process in processes.items():
        if process.restart_on is not None:
            if any(path in process.restart_on for path in synced):
                chosen.append(name)
        elif runs_in(process, env) & ecosystems:
            chosen.append(name)
    return chosen
