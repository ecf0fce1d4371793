"""The project's environment's events (devenv.environment: installs and drift).

They are ``devenv.events`` events, and ``devenv.events`` gives each of them by name;
they live here so that what never installs or watches packages (``devenv status``)
does not build them when it loads devenv.events (each frozen dataclass costs ~0.5 ms
to create).
"""

from __future__ import annotations

from dataclasses import dataclass

from devenv.events import Event


@dataclass(frozen=True, eq=False, repr=False)
class SyncStarted(Event):
    """An install of the project's dependencies begins; ``name`` is "deps"."""

    steps: tuple[str, ...]  # what will run, one line each ("uv pip sync requirements.lock")
    reason: str = ""  # "first start: no virtualenv yet", "requirements.lock changed", ...


@dataclass(frozen=True, eq=False, repr=False)
class SyncStepStarted(Event):
    """One step (``command``) of an install began: step ``index`` of ``total``."""

    index: int  # 0-based
    total: int
    command: str


@dataclass(frozen=True, eq=False, repr=False)
class SyncOutput(Event):
    """One line an install step printed."""

    line: str


@dataclass(frozen=True, eq=False, repr=False)
class SyncFinished(Event):
    """An install ended: ``ok``, how long it took, and ``message``."""

    ok: bool
    seconds: float
    message: str = ""  # why it failed, or what it changed


@dataclass(frozen=True, eq=False, repr=False)
class DriftFound(Event):
    """The lockfiles and the installed packages differ; ``name`` is "deps"."""

    summaries: tuple[str, ...]  # one line per drifted lockfile
    lockfiles: tuple[str, ...]  # their names, relative to the project root


@dataclass(frozen=True, eq=False, repr=False)
class DriftCleared(Event):
    """Everything installed matches the lockfiles again."""
