"""The records every part of devenv.environment speaks: what a lockfile pins, what drifted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devenv.records import Record

Ecosystem = Literal["python", "node"]
DriftState = Literal["in-sync", "drift", "not-installed", "unknown"]


@dataclass(frozen=True, eq=False, repr=False)
class Locked(Record):
    """One package a lockfile asks for.

    ``name`` is normalised (packaging's ``canonicalize_name`` for Python;
    npm names as written, scope included). ``version`` is the exact version
    pinned, or None when the line does not pin one (a range, a URL, an
    editable path): then ``spec`` holds the requirement as written and the
    package is *unpinned*. ``marker`` is a PEP 508 environment marker (Python)
    that decides whether the package applies at all; ``optional`` packages
    (npm's platform-specific ones) are never reported missing; ``local`` ones
    (the project itself, installed from a path) are neither pinned nor checked. A name may
    appear several times (yarn keeps one entry per version range): any of
    its versions counts as installed correctly.
    """

    name: str
    version: str | None
    spec: str = ""
    marker: str | None = None
    optional: bool = False
    local: bool = False  # a local path (``-e .``, a workspace): the project's own code


@dataclass(frozen=True, eq=False, repr=False)
class Lockfile(Record):
    """A lockfile read: which ecosystem and tool it belongs to, and its packages."""

    path: Path
    ecosystem: Ecosystem
    tool: str  # "requirements", "uv", "poetry", "pipenv", "pdm", "npm", "yarn", "pnpm"
    packages: tuple[Locked, ...]
    # Other files read to build ``packages`` (requirements' -r/-c), absolute: a change in
    # one of them changes this lockfile's meaning, so drift's fingerprint includes them.
    includes: tuple[Path, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Wrong(Record):
    """A package installed in another version than the lockfile pins."""

    name: str
    locked: str
    installed: str


@dataclass(frozen=True, eq=False, repr=False)
class Drift(Record):
    """One lockfile compared with what is installed (``devenv status --json``'s ``deps``)."""

    lockfile: Path
    state: DriftState
    missing: tuple[str, ...] = ()
    wrong: tuple[Wrong, ...] = ()
    extra: tuple[str, ...] = ()  # installed, not in the lockfile: informational
    unpinned: tuple[str, ...] = ()  # in the lockfile without an exact version: not reproducible
    error: str = ""  # why the state is "unknown" (the lockfile cannot be read, ...)
    details: dict = field(default_factory=dict, compare=False)

    def as_json(self) -> dict:
        data: dict[str, object] = {
            "state": self.state,
            "missing": list(self.missing),
            "wrong": [
                {"name": w.name, "locked": w.locked, "installed": w.installed} for w in self.wrong
            ],
            "extra": list(self.extra),
            "unpinned": list(self.unpinned),
        }
        if self.error:
            data["error"] = self.error
        return data
