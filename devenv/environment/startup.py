"""The environment's part of ``devenv up`` (every face): install what is missing, report drift.

It runs alongside the services starting (both take a few hundred ms, and
neither needs the other), and before the hooks and processes, which need both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from devenv.config import Config
from devenv.environment.model import Drift
from devenv.environment.policy import drift_action, drifted, to_install
from devenv.environment.project import ProjectEnv
from devenv.events import DriftFound, Emit, Notice


def prepare(
    config: Config, emit: Emit, *, interactive: bool, track: Callable | None = None
) -> dict[Path, Drift]:
    """Install the lockfiles that are not installed (and drifted ones under on_drift = "sync").

    Returns the drift afterwards. Raises SyncFailed when an install fails; a
    Node lockfile whose tool is missing is a notice, not a failure (the Python
    side may be all the project needs to start). ``track`` is given the running
    Sync (then None), so that a stop can cancel it.
    """
    from devenv.environment.drift import check

    env = ProjectEnv.from_config(config)
    if not env.lockfiles:
        return {}
    moved = moved_venv_notice(env)
    if moved:
        emit(Notice("deps", moved))
    drifts = check(env)
    action = drift_action(config.environment.on_drift, interactive=interactive)
    wanted = to_install(drifts, action)
    if wanted:
        synced = sync_lockfiles(
            config, env, wanted, emit, reason=_reason(drifts, wanted), track=track
        )
        if synced:
            drifts = check(env)
    report_drift(config, drifts, emit)
    return drifts


def sync_lockfiles(
    config: Config,
    env: ProjectEnv,
    wanted: tuple[Path, ...],
    emit: Emit,
    *,
    reason: str,
    track: Callable | None = None,
) -> tuple[Path, ...]:
    """Install ``wanted``; returns what was installed. Node tools missing are reported, skipped."""
    from devenv.environment.installers import ToolMissing, plan
    from devenv.environment.sync import Sync

    python = tuple(p for p in wanted if env.ecosystem(p) == "python")
    node = [p for p in wanted if env.ecosystem(p) == "node"]
    steps = plan(config, env, python) if python else []
    installed = list(python)
    for path in node:
        try:
            steps += plan(config, env, (path,))
            installed.append(path)
        except ToolMissing as missing:
            emit(Notice("deps", str(missing)))
    if not steps:
        return ()
    sync = Sync(config, env, steps, emit)
    if track is not None:
        track(sync)
    try:
        sync.run(reason)
    finally:
        if track is not None:
            track(None)
    return tuple(installed)


def moved_venv_notice(env: ProjectEnv) -> str | None:
    """What to say when the project's venv was made for another folder (a copied project)."""
    from devenv.environment.installed import venv_moved

    made = venv_moved(env.venv)
    if made is None:
        return None
    shown = env.venv.relative_to(env.root) if env.root in env.venv.parents else env.venv
    return (
        f"{shown} was made for {made} (this project was copied or moved): its scripts still "
        f"run that virtualenv's Python and packages. Remove {shown} and run `devenv sync` to "
        "make it here (devenv does not delete it for you)"
    )


def report_drift(config: Config, drifts: dict[Path, Drift], emit: Emit) -> None:
    from devenv.environment.drift import summary

    for drift in drifts.values():
        if drift.state == "unknown":  # cannot be read: said plainly, with what to do
            emit(Notice("deps", drift.error or f"{drift.lockfile.name} cannot be read"))
    paths = drifted(drifts)
    if paths:
        emit(
            DriftFound(
                "deps",
                tuple(summary(drifts[p]) for p in paths),
                tuple(_relative(config, p) for p in paths),
            )
        )


def _reason(drifts: dict[Path, Drift], wanted: tuple[Path, ...]) -> str:
    names = ", ".join(p.name for p in wanted)
    if all(drifts[p].state == "not-installed" for p in wanted):
        return f"first start: installing {names}"
    return f"on_drift = sync: installing {names}"


def _relative(config: Config, path: Path) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return str(path)
