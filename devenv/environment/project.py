"""Where a project's environment lives: its virtualenv, node_modules, lockfiles, fingerprints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: importing the config code costs ~20 ms
    from devenv.config import Config

NODE_LOCKFILES = ("package-lock.json", "yarn.lock", "pnpm-lock.yaml")
# Lockfiles devenv watches but does not read or install (another language's tools own them).
FOREIGN_LOCKFILES = ("Gemfile.lock", "Cargo.lock", "go.sum")


@dataclass(frozen=True)
class ProjectEnv:
    """The paths of one project's environment; nothing is created by building it."""

    root: Path
    venv: Path  # absolute; devenv.toml's [environment] venv, default .venv
    lockfiles: tuple[Path, ...]  # absolute, the ones devenv reads (see ecosystem())
    state_file: Path  # .devenv/deps.json: the fingerprints of the last in-sync state

    @classmethod
    def from_config(cls, config: Config) -> ProjectEnv:
        readable = tuple(p for p in config.lockfiles.watch if p.name not in FOREIGN_LOCKFILES)
        return cls(
            root=config.root,
            venv=config.environment.venv,
            lockfiles=readable,
            state_file=config.root / ".devenv" / "deps.json",
        )

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def venv_bin(self) -> Path:
        return self.venv / "bin"

    @property
    def venv_python(self) -> Path:
        return self.venv_bin / "python"

    @staticmethod
    def ecosystem(lockfile: Path) -> str:
        """ "node" for package-lock.json, yarn.lock and pnpm-lock.yaml, else "python"."""
        return "node" if lockfile.name in NODE_LOCKFILES else "python"

    @property
    def python_lockfiles(self) -> tuple[Path, ...]:
        return tuple(p for p in self.lockfiles if self.ecosystem(p) == "python")

    @property
    def node_lockfiles(self) -> tuple[Path, ...]:
        return tuple(p for p in self.lockfiles if self.ecosystem(p) == "node")
