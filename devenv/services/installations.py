"""Finding a recipe's binaries on this machine: PATH and the recipe's search folders.

``find_installation`` reads each candidate server's version (cached per binary
in the user's cache folder, keyed on the binary's real path, mtime and size, so
a warm start spawns nothing) and picks the newest that matches the project's
constraint; a missing server is an error that names the package to install.

Only the standard library is imported here: the CLI loads this on every start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devenv.config.versions import Version, VersionConstraint
from devenv.errors import DevenvError
from devenv.files import cache_dir, write_atomic
from devenv.records import Record
from devenv.services.recipes import MANAGERS, Recipe

PROBE_TIMEOUT = 10.0
_MANAGER_COMMAND = {"apt": "apt-get", "dnf": "dnf", "brew": "brew"}
_MANAGER_LABEL = {"apt": "Debian/Ubuntu", "dnf": "Fedora/RHEL", "brew": "macOS"}


class MissingBinary(DevenvError):
    """A service's server is not installed, or not in a version the project allows."""


@dataclass(frozen=True, eq=False, repr=False)
class Installation(Record):
    """Where a server lives: its bindir, its version, and the recipe's binaries found there."""

    bindir: Path
    version: Version
    binaries: Mapping[str, Path]  # role -> path; "server" always

    @property
    def server(self) -> Path:
        return self.binaries["server"]


@dataclass(frozen=True, eq=False, repr=False)
class _Candidate(Record):
    """A folder holding a recipe's server: the installation's bindir, and the server in it."""

    bindir: Path
    server: Path


def _system(system: str | None) -> str:
    name = os.uname().sysname if system is None else system  # as platform.system(), unloaded
    return {"linux": "linux", "darwin": "macos", "macos": "macos"}.get(name.lower(), name.lower())


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _candidates(recipe: Recipe, path: str, system: str) -> list[_Candidate]:
    """Folders holding the server: PATH order first, then the recipe's search globs."""
    import glob

    folders = [Path(entry) for entry in path.split(os.pathsep) if entry]
    for pattern in recipe.search.get(system, ()):
        folders += [Path(found) for found in sorted(glob.glob(pattern))]
    seen: set[Path] = set()
    found: list[_Candidate] = []
    for folder in folders:
        server = folder / recipe.server
        if not _is_executable(server):
            continue
        bindir = _bindir(recipe, folder, server)
        if bindir in seen:
            continue
        seen.add(bindir)
        found.append(_Candidate(bindir, bindir / recipe.server))
    return found


def searched_folders(recipe: Recipe, path: str | None = None) -> list[Path]:
    """The folders whose entries decide what ``find_installation`` finds: PATH's, and for each
    of the recipe's search globs the folder before its first wildcard (a new version's folder
    appears in it). A record of a start stamps them (devenv.services.warmstart)."""
    path = os.environ.get("PATH", os.defpath) if path is None else path
    folders = [Path(entry) for entry in path.split(os.pathsep) if entry]
    for pattern in recipe.search.get(_system(None), ()):
        fixed = pattern.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
        folders.append(Path(os.path.dirname(fixed) or "."))
    return folders


def _bindir(recipe: Recipe, folder: Path, server: Path) -> Path:
    """The folder of the server's real file when the other binaries live there too.

    /usr/local/bin/postgres -> /usr/lib/postgresql/15/bin/postgres: initdb and
    pg_ctl are in the versioned folder, so that is the installation's bindir.
    The server keeps its own name there (redis-server is a link to
    redis-check-rdb, which behaves by the name it is run as).
    """
    folder = Path(os.path.abspath(folder))
    real = Path(os.path.realpath(server)).parent
    if real == folder or not _is_executable(real / recipe.server):
        return folder

    def count(where: Path) -> int:
        return sum(1 for name in recipe.binaries.values() if _is_executable(where / name))

    return real if count(real) >= count(folder) else folder


def find_installation(
    recipe: Recipe,
    constraint: VersionConstraint | None,
    *,
    path: str | None = None,
    system: str | None = None,
) -> Installation:
    """The newest installation of ``recipe``'s server that matches ``constraint``.

    Among equal versions the one found first (PATH order, then the search
    folders) wins. Raises ``MissingBinary`` with an install hint for this machine.
    """
    path = os.environ.get("PATH", os.defpath) if path is None else path
    system_name = _system(system)
    candidates = _candidates(recipe, path, system_name)
    cache = _VersionCache.load()
    probed: list[tuple[_Candidate, Version]] = []
    failures: list[str] = []
    for candidate in candidates:
        try:
            probed.append((candidate, cache.version(recipe, candidate.server)))
        except _ProbeFailed as err:
            failures.append(str(err))
    cache.save()
    matching = [item for item in probed if constraint is None or constraint.matches(item[1])]
    hint = install_hint(recipe, system=system_name, path=path)
    if not matching:
        if probed:
            found = ", ".join(f"{version} in {cand.bindir}" for cand, version in probed)
            raise MissingBinary(
                f"no {recipe.title} matching '{constraint}' found; found {found}. Install a "
                f"matching version ({hint}) or change services.{recipe.name}.version in devenv.toml"
            )
        if failures:
            raise MissingBinary(
                f"found {recipe.title} ({recipe.server}) but could not read its version: "
                + "; ".join(failures)
                + f". Reinstall it with {hint}"
            )
        raise MissingBinary(
            f"{recipe.title} ({recipe.server}) is not installed: install it with {hint}"
        )
    best_version = max(version for _, version in matching)
    candidate = next(cand for cand, version in matching if version == best_version)
    binaries = {"server": candidate.server}
    for role, name in recipe.binaries.items():
        if role != "server" and _is_executable(candidate.bindir / name):
            binaries[role] = candidate.bindir / name
    return Installation(candidate.bindir, best_version, MappingProxyType(binaries))


def running_version(installation: Installation, pid: int) -> Version | None:
    """``installation.version`` when process ``pid`` runs that installation's server binary
    (the very file: same device and inode, read through Linux's ``/proc/PID/exe``); None when
    it runs another file, or when that cannot be told (not Linux, no access, no such process).

    The version was read from that file (cached on its path and stamp) and a running
    executable cannot be written to, so it is the version the process runs, known without
    connecting to it. A binary upgraded in place is a new file: the old process then runs
    a deleted inode, which no path names, and this gives None.
    """
    try:
        running = os.stat(f"/proc/{pid}/exe")
        binary = os.stat(installation.server)
    except OSError:
        return None
    if (running.st_dev, running.st_ino) != (binary.st_dev, binary.st_ino):
        return None
    return installation.version


# ---------------------------------------------------------------- install hints


def _managers(system: str, path: str | None) -> list[str]:
    """The package managers of this machine: brew on macOS; apt-get, then dnf, on Linux."""
    import shutil  # ~3 ms with the compression modules it loads; only hints need it

    order = ("brew",) if system == "macos" else ("apt", "dnf")
    return [manager for manager in order if shutil.which(_MANAGER_COMMAND[manager], path=path)]


def _install_command(manager: str, command: str) -> str:
    if manager != "brew" and os.geteuid() != 0 and not command.startswith("sudo "):
        command = f"sudo {command}"
    return f"`{command}`"


def install_hint(
    recipe: Recipe,
    *,
    system: str | None = None,
    path: str | None = None,
    major: int | None = None,
) -> str:
    """How to install the server here: "`sudo apt-get install postgresql`".

    With ``major``, the recipe's ``install_version`` command for that major
    version when it has one ("`brew install postgresql@16`"). When this
    machine's package manager is not found (or the recipe has no command for
    it), every hint the recipe has is shown, each with its system.
    """
    system_name = _system(system)
    for manager in _managers(system_name, path):
        if major is not None and manager in recipe.install_version:
            return _install_command(
                manager, recipe.install_version[manager].replace("{major}", str(major))
            )
        if manager in recipe.install:
            return _install_command(manager, recipe.install[manager])
    hints = [
        f"{_install_command(manager, recipe.install[manager])} ({_MANAGER_LABEL[manager]})"
        for manager in MANAGERS
        if manager in recipe.install
    ]
    if not hints:
        return f"your system's package manager (it provides `{recipe.server}`)"
    return hints[0] if len(hints) == 1 else ", ".join(hints[:-1]) + " or " + hints[-1]


# ---------------------------------------------------------------- version probes


class _ProbeFailed(Exception):
    pass


def cache_file() -> Path:
    """``$XDG_CACHE_HOME/devenv/versions.json``, else ``~/.cache/devenv/versions.json``."""
    return cache_dir() / "versions.json"


def _binary_key(binary: Path) -> tuple[str, list[int]]:
    """The real path and (mtime_ns, size, inode, ctime_ns) of a binary: any change, a new key."""
    real = os.path.realpath(binary)
    st = os.stat(real)
    return real, [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]


class _VersionCache:
    """Versions read from binaries, in a small JSON file; a stale entry is never used."""

    VERSION = 1

    def __init__(self, path: Path, entries: dict[str, Any]) -> None:
        self.path = path
        self.entries = entries
        self.dirty = False

    @classmethod
    def load(cls) -> _VersionCache:
        path = cache_file()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["entries"] if data.get("version") == cls.VERSION else {}
            if not isinstance(entries, dict):
                entries = {}
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            entries = {}
        return cls(path, entries)

    def version(self, recipe: Recipe, server: Path) -> Version:
        argv = _version_argv(recipe, server)
        try:
            real, stamp = _binary_key(server)
        except OSError as err:
            raise _ProbeFailed(f"cannot read {server}: {err.strerror or err}") from None
        key = json.dumps([real, argv, recipe.version_pattern])
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stamp:
            try:
                return Version.parse(str(entry.get("version")))
            except ValueError:
                pass
        version = _probe(argv, recipe.version_pattern)
        self.entries[key] = {"stamp": stamp, "version": str(version)}
        self.dirty = True
        return version

    def save(self) -> None:
        """Write the file atomically; a cache that cannot be written is only slower."""
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps({"version": self.VERSION, "entries": self.entries}))
        except OSError:
            return
        self.dirty = False


def _version_argv(recipe: Recipe, server: Path) -> list[str]:
    values = {role: str(server.parent / name) for role, name in recipe.binaries.items()}
    values["server"] = str(server)
    values["bindir"] = str(server.parent)
    return [part.format_map(values) for part in recipe.version_command]


def _probe(argv: list[str], pattern: str) -> Version:
    shown = " ".join(argv)
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise _ProbeFailed(f"`{shown}` could not run: {err}") from None
    output = result.stdout + result.stderr
    match = re.search(pattern, output)
    if match is None:
        first = output.strip().splitlines()[0] if output.strip() else "no output"
        raise _ProbeFailed(
            f"`{shown}` did not print a version (exit code {result.returncode}: {first})"
        )
    try:
        return Version.parse(match.group(1))
    except ValueError as err:
        raise _ProbeFailed(f"`{shown}`: {err}") from None
