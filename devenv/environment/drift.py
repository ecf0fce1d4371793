"""Lockfiles compared with what is installed, remembered under a fingerprint.

``compare()`` is pure: a Lockfile record and an installed set in, a Drift out.
``check()`` does it for every lockfile of a project, and answers from
``env.state_file`` without reading a lockfile or an installed package when
nothing they depend on changed (uv's idea: the environment is a cache of the
lock, and a fingerprint says "nothing to do" in milliseconds).

How the fingerprint is made, and where results are kept: devenv.environment.fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.environment.fingerprint import (
    Hash,
    combine,
    drift_from_json,
    files_part,
    installed_part,
    load_state,
    remember,
)
from devenv.environment.installed import (
    marker_environment,
    node_installed,
    python_installed,
    site_packages,
)
from devenv.environment.model import Drift, DriftState, Locked, Lockfile, Wrong
from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.environment.project import ProjectEnv

Reader = Callable[[Path], Lockfile]

# What `python -m venv` / `uv venv --seed` put in a venv without a lockfile asking: never
# "extra". A lock that lists them gets them checked like any other package.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel"})


# ---------------------------------------------------------------- comparing


def _applies(marker: str, env: Mapping | None, cache: dict[str, bool]) -> bool:
    """Whether a PEP 508 marker holds in ``env`` (packaging's default environment when
    None). A marker packaging cannot parse counts as holding: the package stays expected
    rather than being silently dropped."""
    if marker not in cache:
        from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName

        try:
            cache[marker] = Marker(marker).evaluate(dict(env) if env is not None else None)
        except (InvalidMarker, UndefinedEnvironmentName):
            cache[marker] = True
    return cache[marker]


def same_python_version(locked: str, installed: str) -> bool:
    """PEP 440 equality where both parse ("1.0" is "1.0.0"), else the strings'. A lock
    without a local label accepts any local build of it ("2.1.0" is satisfied by
    "2.1.0+cpu"), as ``pip install name==2.1.0`` is."""
    if locked == installed:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        want, have = Version(locked), Version(installed)
    except InvalidVersion:
        return False
    return want == have or (want.local is None and want == Version(have.public))


def compare(
    lockfile: Lockfile,
    installed: Mapping[str, str] | None,
    marker_env: Mapping | None = None,
) -> Drift:
    """``lockfile`` against ``installed`` (name -> version, names as the Locked records
    spell them); ``installed`` None means the environment does not exist at all.

    - missing: locked, its marker holds in ``marker_env``, not installed. Optional and
      local packages are never missing.
    - wrong: installed at another version than every version the lock pins for that name
      (Python versions compared per PEP 440, see same_python_version(); npm versions as
      strings: npm installs exactly what its lock says). A name locked with no version
      at all accepts any version.
    - extra: installed, not named anywhere in the lockfile (whatever the markers say);
      for Python, pip, setuptools and wheel are never extra (the venv seeds them).
    - unpinned: locked without a version and not local, whatever the markers say: the
      lockfile is not reproducible wherever it is used.

    state: "not-installed" when ``installed`` is None (missing then lists everything
    that would be installed), "drift" when something is missing or wrong, else "in-sync";
    extra and unpinned never make drift. Every list is sorted.
    """
    python = lockfile.ecosystem == "python"
    same = same_python_version if python else str.__eq__
    evaluated: dict[str, bool] = {}
    listed: set[str] = set()
    local: set[str] = set()
    unpinned: set[str] = set()
    expected: dict[str, list[Locked]] = {}
    for package in lockfile.packages:
        listed.add(package.name)
        if package.local:
            local.add(package.name)
            continue
        if package.version is None:
            unpinned.add(package.name)
        if package.marker and not _applies(package.marker, marker_env, evaluated):
            continue
        expected.setdefault(package.name, []).append(package)

    have_all = installed if installed is not None else {}
    missing: list[str] = []
    wrong: list[Wrong] = []
    for name, entries in expected.items():
        if name in local:
            continue
        have = have_all.get(name)
        if have is None:
            if not all(entry.optional for entry in entries):
                missing.append(name)
            continue
        pins = [entry.version for entry in entries if entry.version is not None]
        if len(pins) < len(entries) or any(same(pin, have) for pin in pins):
            continue
        wrong.append(Wrong(name=name, locked=" or ".join(dict.fromkeys(pins)), installed=have))

    ignored = SEED_PACKAGES if python else frozenset()
    extra = sorted(name for name in have_all if name not in listed and name not in ignored)
    state: DriftState
    if installed is None:
        state = "not-installed"
    elif missing or wrong:
        state = "drift"
    else:
        state = "in-sync"
    return Drift(
        lockfile=lockfile.path,
        state=state,
        missing=tuple(sorted(missing)),
        wrong=tuple(sorted(wrong, key=lambda w: w.name)),
        extra=tuple(extra),
        unpinned=tuple(sorted(unpinned)),
        details={"tool": lockfile.tool},
    )


# ---------------------------------------------------------------- checking a project


def _default_reader(path: Path) -> Lockfile:
    from devenv.environment.lockfiles import read_lockfile

    return read_lockfile(path)


class _Installed:
    """One check()'s view of the installed sets, each read at most once."""

    def __init__(self, env: ProjectEnv) -> None:
        self.env = env
        self.parts: dict[str, Hash] = {}
        self.sets: dict[str, dict[str, str] | None] = {}
        self.python_markers: dict | None = None

    def part(self, ecosystem: str) -> Hash:
        if ecosystem not in self.parts:
            self.parts[ecosystem] = installed_part(self.env, ecosystem)
        return self.parts[ecosystem]

    def packages(self, ecosystem: str) -> dict[str, str] | None:
        """name -> version, None when the venv / node_modules does not exist."""
        if ecosystem not in self.sets:
            if ecosystem == "node":
                exists = self.env.node_modules.is_dir()
                found = node_installed(self.env.root) if exists else None
            else:
                exists = site_packages(self.env.venv) is not None
                found = python_installed(self.env.venv) if exists else None
            self.sets[ecosystem] = found
        return self.sets[ecosystem]

    def markers(self, ecosystem: str) -> dict | None:
        if ecosystem != "python":
            return None
        if self.python_markers is None:
            self.python_markers = marker_environment(self.env.venv)
        return self.python_markers


def check(env: ProjectEnv, *, reader: Reader | None = None) -> dict[Path, Drift]:
    """A Drift for every lockfile of ``env``, in env.lockfiles' order: Python lockfiles
    against ``env.venv``, node ones against ``env.node_modules``.

    A lockfile whose fingerprint equals the stored one is answered from
    ``env.state_file`` (``details["cached"]`` is True) without reading anything else;
    the others are read with ``reader`` (devenv.environment.lockfiles.read_lockfile by
    default), compared, and stored. A lockfile that cannot be read gives state
    "unknown" with ``error`` saying why. Never raises for a bad lockfile or state file.
    """
    read = reader or _default_reader
    stored = load_state(env.state_file)
    installed = _Installed(env)
    results: dict[Path, Drift] = {}
    computed: dict[Path, Drift] = {}
    for path in env.lockfiles:
        ecosystem = env.ecosystem(path)
        entry = stored.get(str(path), {})
        listed = entry.get("includes")
        old_includes = tuple(
            Path(p) for p in (listed if isinstance(listed, list) else ()) if isinstance(p, str)
        )
        # The installed set's part is taken before that set is read, and the files' before
        # they are read: whatever changes afterwards changes the next fingerprint.
        installed_part = installed.part(ecosystem)
        digest = combine(installed_part, files_part(path, old_includes))
        if digest is not None and entry.get("fingerprint") == digest:
            drift = drift_from_json(path, entry.get("drift"))
            if drift is not None:
                drift.details.update(
                    tool=entry.get("tool", ""), fingerprint=digest, includes=old_includes
                )
                drift.details["cached"] = True
                results[path] = drift
                continue
        try:
            lockfile = read(path)
        except (DevenvError, OSError) as exc:
            drift = Drift(lockfile=path, state="unknown", error=str(exc))
            drift.details.update(fingerprint=digest, includes=(), cached=False)
        else:
            drift = compare(lockfile, installed.packages(ecosystem), installed.markers(ecosystem))
            includes = tuple(lockfile.includes)
            if includes != old_includes:
                # Stat'd after reading: the racy rule catches a write in between.
                digest = combine(installed_part, files_part(path, includes))
            drift.details.update(fingerprint=digest, includes=includes, cached=False)
        results[path] = computed[path] = drift
    if computed or set(stored) - {str(path) for path in env.lockfiles}:
        remember(env, computed)
    return _shared_extras(env, results)


def _shared_extras(env: ProjectEnv, results: dict[Path, Drift]) -> dict[Path, Drift]:
    """``extra`` against all the lockfiles that share an environment, not each one alone.

    With requirements.lock and requirements-dev.lock in one venv, pytest is not "extra"
    for the first: the second locks it. An installed name that another lockfile of the
    same environment does not count as extra is one it locks, so the extras of each are
    the ones all of them count.
    """
    import dataclasses

    for ecosystem in ("python", "node"):
        group = [
            path
            for path, drift in results.items()
            if env.ecosystem(path) == ecosystem and drift.state in ("in-sync", "drift")
        ]
        if len(group) < 2:
            continue
        common = set.intersection(*(set(results[path].extra) for path in group))
        for path in group:
            drift = results[path]
            kept = tuple(name for name in drift.extra if name in common)
            if kept != drift.extra:
                results[path] = dataclasses.replace(drift, extra=kept, details=drift.details)
    return results


# ---------------------------------------------------------------- for people


def _names(names: Iterable[str], limit: int = 3) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def summary(drift: Drift) -> str:
    """One line for people, e.g. ``requirements.lock: 2 missing (psycopg2-binary,
    redis), 1 wrong (packaging 26.4 locked, 25.0 installed)``; at most three names a
    list."""
    name = drift.lockfile.name
    if drift.state == "unknown":
        return f"{name}: unknown ({drift.error or 'not checked'})"
    if drift.state == "not-installed":
        count = len(drift.missing)
        return f"{name}: not installed" + (
            f" ({count} package{'s' if count != 1 else ''} to install)" if count else ""
        )
    parts = []
    if drift.missing:
        parts.append(f"{len(drift.missing)} missing ({_names(drift.missing)})")
    if drift.wrong:
        wrong = [f"{w.name} {w.locked} locked, {w.installed} installed" for w in drift.wrong]
        shown = "; ".join(wrong[:3]) + (f"; {len(wrong) - 3} more" if len(wrong) > 3 else "")
        parts.append(f"{len(drift.wrong)} wrong ({shown})")
    if not parts:
        parts.append("in sync")
    if drift.unpinned:
        parts.append(f"{len(drift.unpinned)} unpinned ({_names(drift.unpinned)})")
    if drift.extra:
        parts.append(f"{len(drift.extra)} not in the lockfile ({_names(drift.extra)})")
    return f"{name}: {', '.join(parts)}"
