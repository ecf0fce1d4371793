"""What is installed in a project's virtualenv and node_modules, read from the files alone.

Nothing here starts an interpreter or node: a virtualenv is read through its
``pyvenv.cfg`` and its site-packages' ``*.dist-info`` folder names (a folder
named ``name-version.dist-info`` says both; METADATA is opened only when the
name cannot be split), node_modules through each top-level package's
``package.json``. A folder that does not exist reads as empty: callers that
must tell "nothing installed" from "no environment" ask ``site_packages()``
or look for node_modules themselves (drift reports "not-installed").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# The entries of site-packages that say what is installed (PEP 376 and setuptools' older form).
DIST_SUFFIXES = (".dist-info", ".egg-info")
_PRERELEASE = {"alpha": "a", "beta": "b", "candidate": "rc"}


# ---------------------------------------------------------------- Python


def read_pyvenv_cfg(venv: Path) -> dict[str, str]:
    """The ``key = value`` lines of the venv's pyvenv.cfg; {} when it has none."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _full_version(raw: str) -> str | None:
    """``3.11.7`` from venv's ``3.11.7``, uv's ``3.11.7`` or virtualenv's ``3.11.7.final.0``;
    a pre-release as Python spells it (``3.13.0.candidate.1`` -> ``3.13.0rc1``)."""
    parts = raw.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]):
        return None
    version = ".".join(parts[:3])
    if len(parts) >= 5 and parts[3] in _PRERELEASE:
        version += _PRERELEASE[parts[3]] + parts[4]
    return version


def venv_python_version(venv: Path) -> str | None:
    """The venv's full Python version (``"3.11.7"``) from pyvenv.cfg's ``version_info``
    (uv, virtualenv) or ``version`` (python -m venv); None without a readable one."""
    return _cfg_version(read_pyvenv_cfg(venv))


def _cfg_version(cfg: dict[str, str]) -> str | None:
    for key in ("version_info", "version"):
        if key in cfg and (version := _full_version(cfg[key])):
            return version
    return None


def site_packages(venv: Path) -> Path | None:
    """The venv's ``lib/pythonX.Y/site-packages`` (Linux and macOS layout), None when the
    venv has none: it does not exist, or was never finished.

    When an in-place upgrade left several ``lib/python3.*`` folders, the one of the
    version pyvenv.cfg names wins.
    """
    lib = venv / "lib"
    try:
        candidates = sorted(
            lib / name / "site-packages"
            for name in os.listdir(lib)
            if name.startswith(("python", "pypy")) and (lib / name / "site-packages").is_dir()
        )
    except OSError:
        return None
    if len(candidates) > 1 and (version := venv_python_version(venv)):
        major_minor = ".".join(version.split(".")[:2])
        for candidate in candidates:
            if candidate.parent.name.endswith(major_minor):
                return candidate
    return candidates[-1] if candidates else None


def dist_entries(site: Path | None) -> list[str]:
    """The sorted names of site's ``*.dist-info`` and ``*.egg-info`` entries ([] for None).

    These names are all python_installed() needs (a name carries the version), which
    is why drift's fingerprint hashes this list and nothing else of site-packages.
    """
    if site is None:
        return []
    try:
        return sorted(name for name in os.listdir(site) if name.endswith(DIST_SUFFIXES))
    except OSError:
        return []


def _split_dist_name(entry: str) -> tuple[str, str] | None:
    """(name, version) from ``name-version.dist-info``; None when the name is not that
    shape (a dash in the project part, an egg-info with a python tag or no version)."""
    if not entry.endswith(".dist-info"):
        return None
    name, sep, version = entry[: -len(".dist-info")].partition("-")
    if not sep or not name or not version or "-" in version:
        return None
    return name, version


def _metadata_name_version(path: Path) -> tuple[str, str] | None:
    """Name and Version from a METADATA / PKG-INFO file's headers (the lines before the
    first blank one); None when it cannot be read or lacks either."""
    found: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and key in ("Name", "Version") and key not in found:
                    found[key] = value.strip()
    except OSError:
        return None
    if found.get("Name") and found.get("Version"):
        return found["Name"], found["Version"]
    return None


def _read_entry(site: Path, entry: str) -> tuple[str, str] | None:
    split = _split_dist_name(entry)
    if split is not None:
        return split
    path = site / entry
    if entry.endswith(".dist-info"):
        return _metadata_name_version(path / "METADATA")
    # An egg-info is a folder holding PKG-INFO, or (distutils) the PKG-INFO file itself.
    return _metadata_name_version(path / "PKG-INFO" if path.is_dir() else path)


def python_installed(venv: Path) -> dict[str, str]:
    """Canonical project name -> installed version, for the venv's site-packages.

    {} when the venv or its site-packages does not exist (see site_packages() to tell
    that from an empty venv). An entry whose metadata cannot be read is left out. When
    a broken install left two dist-info folders of one project, the first in name
    order is kept.
    """
    from packaging.utils import canonicalize_name

    site = site_packages(venv)
    installed: dict[str, str] = {}
    if site is None:
        return installed
    for entry in dist_entries(site):
        found = _read_entry(site, entry)
        if found is not None:
            installed.setdefault(canonicalize_name(found[0]), found[1])
    return installed


def marker_environment(venv: Path) -> dict[str, str]:
    """The environment PEP 508 markers are evaluated against for this venv.

    packaging's ``default_environment()`` (this machine, devenv's own interpreter),
    with ``python_version``, ``python_full_version`` and ``implementation_version``
    taken from the venv's pyvenv.cfg, since the venv's Python may differ from
    devenv's. When pyvenv.cfg names another implementation (virtualenv and uv write
    ``implementation``), ``implementation_name`` and
    ``platform_python_implementation`` follow it, and ``implementation_version`` is
    left as devenv's (that implementation's own version is not in pyvenv.cfg). Without a
    readable pyvenv.cfg, devenv's own interpreter is the best guess.
    """
    from packaging.markers import default_environment

    # Its values are all str, but a TypedDict is only a Mapping[str, object] to mypy.
    env: dict[str, str] = dict(default_environment())  # type: ignore[arg-type]
    cfg = read_pyvenv_cfg(venv)
    version = _cfg_version(cfg)
    if version is None:
        return env
    env["python_full_version"] = version
    env["python_version"] = ".".join(version.split(".")[:2])
    implementation = cfg.get("implementation", "CPython")
    if implementation.lower() == "cpython":
        env["implementation_version"] = version
    if implementation.lower() != env["implementation_name"]:
        env["implementation_name"] = implementation.lower()
        env["platform_python_implementation"] = implementation
    return env


# ---------------------------------------------------------------- node


def node_packages(node_modules: Path) -> list[str]:
    """The package folders of node_modules' top level, sorted: ``name`` and
    ``@scope/name``, without dot entries (``.bin``, ``.pnpm``, ``.package-lock.json``).
    Symlinked folders (pnpm) count; [] when node_modules does not exist."""
    try:
        top = sorted(os.listdir(node_modules))
    except OSError:
        return []
    packages: list[str] = []
    for name in top:
        if name.startswith("."):
            continue
        if name.startswith("@"):
            try:
                scoped = sorted(os.listdir(node_modules / name))
            except OSError:  # a stray file named @something, or a broken link
                continue
            packages.extend(f"{name}/{sub}" for sub in scoped if not sub.startswith("."))
        else:
            packages.append(name)
    return packages


def node_installed(root: Path) -> dict[str, str]:
    """Package name -> version for ``root/node_modules``'s top-level packages.

    The name is the folder's (``lodash``, ``@types/node``), which is what ``require``
    resolves and what package-lock.json keys by; for an alias (``"foo":
    "npm:bar@1"``) that is the alias. Links are followed (pnpm links each package into
    ``.pnpm``). Copies nested under another package (``a/node_modules/b``) are not
    read: the top level is what the project itself gets. A folder without a readable
    package.json holding a string ``version`` is left out. {} without node_modules.
    """
    node_modules = root / "node_modules"
    installed = {}
    for name in node_packages(node_modules):
        try:
            with open(node_modules / name / "package.json", "rb") as handle:
                data = json.load(handle)
        except (OSError, ValueError):  # not a package, a broken link, a half-written file
            continue
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, str) and version:
            installed[name] = version
    return installed


def venv_made_for(venv: Path) -> Path | None:
    """The folder ``venv`` was made at (bin/activate's VIRTUAL_ENV), or None when unknown.

    A virtualenv is not relocatable: its scripts start ``#!<that folder>/bin/python``.
    In a copied or moved project this is the original's folder, and its scripts run
    the original's Python and packages.
    """
    try:
        with open(venv / "bin" / "activate", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("VIRTUAL_ENV="):
                    value = line.split("=", 1)[1].strip().strip("'\"")
                    return Path(value) if value.startswith("/") else None
    except OSError:
        return None
    return None


def venv_moved(venv: Path) -> Path | None:
    """Where the venv was made, when that is not where it is now; else None."""
    made = venv_made_for(venv)
    if made is None or not venv.is_dir():
        return None
    try:
        if made.exists() and made.samefile(venv):
            return None
    except OSError:
        pass
    return None if made == venv else made
