"""Python lockfiles other than requirements files: uv.lock, poetry.lock, Pipfile.lock, pdm.lock.

Each reader takes the path and returns a tuple of Locked (names normalised
with packaging's ``canonicalize_name``, versions as the lock writes them), or
raises LockfileError. What a caller may rely on, per tool:

- uv.lock: every ``[[package]]``. The project and its workspace members (and any
  package from a local folder or file) are ``local``, without a version: they are the
  project's own code, installed editable, never checked. uv.lock is universal, so a
  marker is worked out from the dependency graph, from the project and its members
  down (see ``lock_markers.graph_markers``): the packages ``uv sync`` would install are required,
  with the marker under which they are reached (None when some path to them has no
  marker); the others (only reached through an extra nobody asks for, or a dependency
  group that is not a default group: ``[tool.uv] default-groups`` in the pyproject.toml
  beside the lock, else "dev") are listed ``optional``. A version of a forked package
  reached without a marker gets its ``resolution-markers``. The markers select what
  ``uv export`` selects (tests/test_lockfiles.py checks it on a real lock).
- poetry.lock (1.x and 2.x): every ``[[package]]``, all groups (a dev environment
  installs them). The marker is the lock's ``markers`` (poetry 2 writes a table per
  group: a package that is unconditional in any group has none). Poetry 1.x writes no
  package markers: they are worked out from its dependency graph like uv's, rooted at
  the project's dependencies in the pyproject.toml beside it (see ``_poetry1_markers``).
  ``optional = true`` (only wanted by an extra) becomes ``optional``; directory and
  file sources are ``local``. The project itself, which the lock does not list, comes
  first as ``local`` (from the pyproject.toml beside it) unless ``package-mode = false``.
- Pipfile.lock: "default" and "develop"; ``"==1.2"`` pins, other versions (``"*"``) are
  unpinned; ``markers`` kept; ``path``/``file`` entries are ``local``, ``git`` ones unpinned.
- pdm.lock: every ``[[package]]`` (pdm writes one per set of extras: duplicates are
  dropped), ``marker`` kept, ``path`` entries ``local``; the project itself first, as
  ``local``, when it is a distribution (``[tool.pdm] distribution``, else a build system).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from devenv.environment.lock_markers import Node, graph_markers, one_of
from devenv.environment.lock_toml import load_lock_toml
from devenv.environment.lockfiles import malformed, parse_json, read_text
from devenv.environment.model import Locked


@functools.lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _packages(data: dict, path: Path, tool: str) -> list[dict]:
    """``[[package]]`` entries, each checked to have a name."""
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise malformed(path, tool, "`package` is not a list of [[package]] tables")
    for index, package in enumerate(packages, start=1):
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise malformed(path, tool, f"[[package]] number {index} has no name")
        version = package.get("version")
        if version is not None and not isinstance(version, str):
            raise malformed(path, tool, f"{package['name']}: version is not a string")
    return packages


# ---------------------------------------------------------------- uv.lock


def read_uv(path: Path) -> tuple[Locked, ...]:
    data = load_lock_toml(path, "uv")
    packages = _packages(data, path, "uv")
    manifest = data.get("manifest", {})
    members = manifest.get("members", []) if isinstance(manifest, dict) else []
    members = {_canonical(m) for m in members if isinstance(m, str)}

    keys: list[tuple[str, str | None]] = []
    by_name: dict[str, list[tuple[str, str | None]]] = {}
    local: set[tuple[str, str | None]] = set()
    for package in packages:
        key = (_canonical(package["name"]), package.get("version"))
        keys.append(key)
        by_name.setdefault(key[0], []).append(key)
        source = package.get("source", {})
        source = source if isinstance(source, dict) else {}
        if key[0] in members or {"editable", "virtual", "directory", "path"} & set(source):
            local.add(key)

    groups = _uv_default_groups(path)
    edges: dict[Node, list[tuple[Node, str | None]]] = {}
    for package, key in zip(packages, keys, strict=True):
        node_edges = edges.setdefault((*key, None), [])
        lists = [package.get("dependencies", [])]
        if key in local:
            dev = package.get("dev-dependencies", {})
            if isinstance(dev, dict):
                lists += [deps for group, deps in dev.items() if groups is None or group in groups]
        for deps in lists:
            node_edges += _uv_edges(deps, by_name, path)
        extras = package.get("optional-dependencies", {})
        if isinstance(extras, dict):
            for extra, deps in extras.items():
                # An extra is its own node: reached only through an edge that asks for it.
                edges[(*key, extra)] = [((*key, None), None), *_uv_edges(deps, by_name, path)]

    roots = [(*key, None) for key in keys if key in local]
    reached = graph_markers(roots, edges)
    result = []
    for package, key in zip(packages, keys, strict=True):
        name, version = key
        if key in local:
            source = package.get("source", {})
            where = next(iter(source.values()), "") if isinstance(source, dict) else ""
            result.append(Locked(name=name, version=None, spec=str(where), local=True))
            continue
        node = (*key, None)
        if node not in reached:
            result.append(Locked(name=name, version=version, optional=True))
            continue
        marker = reached[node]
        forks = package.get("resolution-markers")
        if marker is None and len(by_name[name]) > 1 and isinstance(forks, list):
            # One of several versions of a name, reached with no marker on its edges:
            # the forks' markers still say where this version is the one.
            marker = one_of(m for m in forks if isinstance(m, str))
        result.append(Locked(name=name, version=version, marker=marker))
    return tuple(result)


def _uv_edges(
    deps: object, by_name: Mapping[str, list[tuple[str, str | None]]], path: Path
) -> list[tuple[Node, str | None]]:
    if not isinstance(deps, list):
        raise malformed(path, "uv", "a dependencies entry is not a list")
    found: list[tuple[Node, str | None]] = []
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise malformed(path, "uv", f"a dependency has no name: {dep!r}")
        name = _canonical(dep["name"])
        version = dep.get("version")
        targets = [k for k in by_name.get(name, []) if version is None or k[1] == version]
        marker = dep.get("marker") if isinstance(dep.get("marker"), str) else None
        extras = dep.get("extra", [])
        for target in targets:
            found.append(((*target, None), marker))
            for extra in extras if isinstance(extras, list) else ():
                found.append(((*target, extra), marker))
    return found


def _uv_default_groups(lock: Path) -> set[str] | None:
    """The dependency groups ``uv sync`` installs: ``[tool.uv] default-groups`` of the
    pyproject.toml beside the lock, else {"dev"}; None for all of them."""
    data = _pyproject_beside(lock) or {}
    tool = data.get("tool", {})
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    default = uv.get("default-groups", ["dev"]) if isinstance(uv, dict) else ["dev"]
    if default == "all":
        return None
    return {g for g in default if isinstance(g, str)} if isinstance(default, list) else {"dev"}


# ---------------------------------------------------------------- poetry.lock


def read_poetry(path: Path) -> tuple[Locked, ...]:
    data = load_lock_toml(path, "poetry")
    packages = _packages(data, path, "poetry")
    # Poetry 2 writes each package's groups and markers; poetry 1 neither: its markers
    # are worked out from the dependency graph, as for uv.lock.
    pyproject = _pyproject_beside(path)
    graph = (
        None
        if any("groups" in p for p in packages)
        else _poetry1_markers(path, packages, pyproject)
    )
    result = []
    for index, package in enumerate(packages):
        name = _canonical(package["name"])
        source = package.get("source", {})
        kind = source.get("type") if isinstance(source, dict) else None
        if kind in ("directory", "file") or package.get("develop") is True:
            url = source.get("url", "") if isinstance(source, dict) else ""
            result.append(Locked(name=name, version=None, spec=str(url), local=True))
            continue
        result.append(
            Locked(
                name=name,
                version=package.get("version"),
                marker=_poetry_marker(package) if graph is None else graph.get(index),
                optional=package.get("optional") is True,
            )
        )
    return _with_project(result, pyproject, "poetry")


def _pyproject_beside(lock: Path) -> dict | None:
    """The pyproject.toml next to the lockfile, or None when there is none to read."""
    import tomllib

    try:
        with open(lock.parent / "pyproject.toml", "rb") as file:
            return tomllib.load(file)
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _with_project(packages: list[Locked], pyproject: dict | None, tool: str) -> tuple[Locked, ...]:
    """``packages`` (duplicates dropped) and, first, the project itself as ``local`` when
    its tool installs it into the environment (poetry unless ``package-mode = false``,
    pdm when the project is a distribution): it is then no stranger there."""
    project = pyproject.get("project", {}) if pyproject else {}
    tool_table = pyproject.get("tool", {}) if pyproject else {}
    own = tool_table.get(tool, {}) if isinstance(tool_table, dict) else {}
    project = project if isinstance(project, dict) else {}
    own = own if isinstance(own, dict) else {}
    name = project.get("name") or (own.get("name") if tool == "poetry" else None)
    if tool == "poetry":
        installed = own.get("package-mode") is not False
    else:
        distribution = own.get("distribution")
        installed = (
            distribution if isinstance(distribution, bool) else "build-system" in (pyproject or {})
        )
    if isinstance(name, str) and name and installed:
        name = _canonical(name)
        if all(package.name != name for package in packages):
            packages = [Locked(name=name, version=None, spec=".", local=True), *packages]
    return tuple(dict.fromkeys(packages))


def _poetry1_markers(
    path: Path, packages: list[dict], pyproject: dict | None
) -> dict[int, str | None]:
    """Each package's marker (by its index) from the graph of a poetry 1 lock.

    The roots are the project's direct dependencies, read from the pyproject.toml
    beside the lock with their ``markers`` (``python``/``platform`` restrictions are
    not translated: such a dependency counts as unconditional), or, without it, the
    packages nothing depends on. An optional dependency (wanted by an extra) counts as
    a plain one: the lock holds it only because some extra asked for it.
    """
    nodes = [(_canonical(p["name"]), p.get("version"), None) for p in packages]
    by_name: dict[str, list[Node]] = {}
    for node in nodes:
        by_name.setdefault(node[0], []).append(node)
    edges: dict[Node, list[tuple[Node, str | None]]] = {}
    reached: set[Node] = set()
    for node, package in zip(nodes, packages, strict=True):
        dependencies = package.get("dependencies", {})
        if not isinstance(dependencies, dict):
            raise malformed(path, "poetry", f"{node[0]}: dependencies is not a table")
        for name, wanted in dependencies.items():
            for marker in _poetry_dependency_markers(wanted):
                for target in by_name.get(_canonical(name), []):
                    edges.setdefault(node, []).append((target, marker))
                    reached.add(target)
    project = ("", None, None)  # the project itself, the root of the graph
    direct = None if pyproject is None else _poetry_direct_dependencies(pyproject)
    if direct is None:
        edges[project] = [(node, None) for node in nodes if node not in reached]
    else:
        edges[project] = [
            (target, marker)
            for name, marker in direct
            for target in by_name.get(_canonical(name), [])
        ]
    markers = graph_markers([project], edges)
    return {index: markers.get(node) for index, node in enumerate(nodes)}


def _poetry_dependency_markers(wanted: object) -> list[str | None]:
    """The markers of one ``[package.dependencies]`` entry: a constraint string, a table,
    or a list of tables (one per marker)."""
    tables = wanted if isinstance(wanted, list) else [wanted]
    found = []
    for table in tables:
        marker = table.get("markers") if isinstance(table, dict) else None
        found.append(_without_extra(marker) if isinstance(marker, str) and marker else None)
    return found


_EXTRA = r"""extra\s*==\s*(?:"[^"]*"|'[^']*')"""
_ONLY_EXTRAS = re.compile(rf"\(?\s*{_EXTRA}(?:\s*(?:or|and)\s*{_EXTRA})*\s*\)?")
_EXTRA_CONJUNCT = re.compile(
    rf"\s+and\s+\(?{_EXTRA}(?:\s+or\s+{_EXTRA})*\)?|\(?{_EXTRA}(?:\s+or\s+{_EXTRA})*\)?\s+and\s+"
)


def _without_extra(marker: str) -> str | None:
    """A dependency marker with its ``extra == "x"`` part dropped (the extra is asked for,
    or the package would not be in the lock); None when nothing else is left, or when the
    extra cannot be taken out of it cleanly."""
    if "extra" not in marker:
        return marker
    if _ONLY_EXTRAS.fullmatch(marker.strip()):
        return None
    rest = _EXTRA_CONJUNCT.sub("", marker, count=1).strip()
    return None if "extra" in rest else rest


def _poetry_direct_dependencies(data: dict) -> list[tuple[str, str | None]]:
    """(name, marker) of the project's dependencies in every group of its pyproject.toml."""
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    poetry = poetry if isinstance(poetry, dict) else {}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        tables += [g.get("dependencies") for g in groups.values() if isinstance(g, dict)]
    direct: list[tuple[str, str | None]] = []
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, wanted in table.items():
            if name != "python":
                direct += [(name, marker) for marker in _poetry_dependency_markers(wanted)]
    project = data.get("project", {})
    listed = project.get("dependencies", []) if isinstance(project, dict) else []
    direct += _pep508_names(listed if isinstance(listed, list) else [])
    return direct


def _pep508_names(requirements: list) -> list[tuple[str, str | None]]:
    from packaging.requirements import InvalidRequirement, Requirement

    found: list[tuple[str, str | None]] = []
    for text in requirements:
        try:
            requirement = Requirement(str(text))
        except InvalidRequirement:
            continue  # poetry would have refused it: the lock cannot be from this file
        marker = str(requirement.marker) if requirement.marker else None
        found.append((requirement.name, marker))
    return found


def _poetry_marker(package: dict) -> str | None:
    markers = package.get("markers")
    if isinstance(markers, str):
        return markers or None
    if isinstance(markers, dict):
        groups = package.get("groups", [])
        # Poetry 2 writes a marker per group; a group without one has the package always.
        if isinstance(groups, list) and any(g not in markers for g in groups):
            return None
        return one_of(m for m in markers.values() if isinstance(m, str) and m)
    return None


# ---------------------------------------------------------------- Pipfile.lock


def read_pipenv(path: Path) -> tuple[Locked, ...]:
    data = parse_json(path, read_text(path, tool="pipenv"), "pipenv")
    if not isinstance(data, dict) or not ({"default", "develop"} & set(data)):
        raise malformed(path, "pipenv", 'has neither a "default" nor a "develop" section')
    result = []
    for section in ("default", "develop"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise malformed(path, "pipenv", f'"{section}" is not an object')
        for raw_name, entry in entries.items():
            if not isinstance(entry, dict):
                raise malformed(path, "pipenv", f'"{section}" -> "{raw_name}" is not an object')
            result.append(_pipenv_entry(_canonical(raw_name), entry))
    return tuple(dict.fromkeys(result))


def _pipenv_entry(name: str, entry: dict) -> Locked:
    marker = entry.get("markers") if isinstance(entry.get("markers"), str) else None
    if "path" in entry or ("file" in entry and not _is_remote(str(entry["file"]))):
        where = entry.get("path", entry.get("file"))
        prefix = "-e " if entry.get("editable") else ""
        return Locked(name=name, version=None, spec=f"{prefix}{where}", marker=marker, local=True)
    if "git" in entry or "file" in entry:
        url = f"git+{entry['git']}" if "git" in entry else str(entry["file"])
        ref = entry.get("ref")
        spec = f"{name} @ {url}" + (f"@{ref}" if ref else "")
        return Locked(name=name, version=None, spec=spec, marker=marker)
    version = entry.get("version")
    if isinstance(version, str) and version.startswith("==") and "*" not in version:
        return Locked(name=name, version=version[2:].strip(), marker=marker)
    spec = name if version in (None, "*", "") else f"{name}{version}"
    return Locked(name=name, version=None, spec=spec, marker=marker)


def _is_remote(location: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location) is not None and not (
        location.startswith("file:")
    )


# ---------------------------------------------------------------- pdm.lock


def read_pdm(path: Path) -> tuple[Locked, ...]:
    data = load_lock_toml(path, "pdm")
    result = []
    for package in _packages(data, path, "pdm"):
        name = _canonical(package["name"])
        marker = package.get("marker") if isinstance(package.get("marker"), str) else None
        if "path" in package:
            prefix = "-e " if package.get("editable") else ""
            result.append(
                Locked(
                    name=name,
                    version=None,
                    spec=f"{prefix}{package['path']}",
                    marker=marker,
                    local=True,
                )
            )
            continue
        result.append(Locked(name=name, version=package.get("version"), marker=marker))
    return _with_project(result, _pyproject_beside(path), "pdm")


READERS: dict[str, Callable[[Path], tuple[Locked, ...]]] = {
    "uv": read_uv,
    "poetry": read_poetry,
    "pipenv": read_pipenv,
    "pdm": read_pdm,
}
