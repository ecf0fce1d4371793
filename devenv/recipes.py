"""Service recipes (``services/*.toml``, or a project's own) and finding their binaries.

A recipe is data: how to find a server's binaries on Linux and macOS, how to
read its version, how to install it, its default port, readiness probe and
config template. ``driver`` names the Python code that runs PostgreSQL or
Redis; a recipe without a driver is run by the generic runner from its
``[run]`` table, so a team can add memcached or mailpit without Python::

    name = "memcached"
    title = "Memcached"
    default_port = 11211
    [binaries]
    server = "memcached"
    [version]
    command = ["{server}", "--version"]
    pattern = 'memcached (\\d+(?:\\.\\d+)*)'
    [install]
    apt = "apt-get install memcached"
    [readiness]
    kind = "tcp"
    [run]
    command = ["{server}", "-l", "127.0.0.1", "-p", "{port}"]
    [env]
    MEMCACHED_URL = "127.0.0.1:{port}"

``find_installation`` looks on PATH and in the recipe's search folders, reads
each server's version (cached per binary in the user's cache folder, keyed on
the binary's real path, mtime and size, so a warm start spawns nothing) and
picks the newest that matches the project's constraint.

Only the standard library is imported here: the CLI loads this on every start.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import string
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from devenv.config.checks import _Checks, _Document, _show
from devenv.errors import DevenvError, did_you_mean
from devenv.resources import templates_dir
from devenv.tomlpos import KeyPath
from devenv.versions import Version, VersionConstraint

if TYPE_CHECKING:
    from devenv.config.model import ServiceConfig

DRIVERS = ("postgres", "redis")
SYSTEMS = ("linux", "macos")
MANAGERS = ("apt", "dnf", "brew")
READINESS_KINDS = ("sql", "ping", "tcp", "command")
DRIVER_READINESS = {"sql": "postgres", "ping": "redis"}  # kinds that need a driver
# Placeholders every template may use; the binary roles ({server}, {client}, ...) too.
PLACEHOLDERS = ("port", "socket", "data_dir", "bindir")

TOP_KEYS = (
    "name",
    "title",
    "description",
    "default_port",
    "driver",
    "binaries",
    "search",
    "version",
    "install",
    "readiness",
    "config",
    "run",
    "env",
)
VERSION_KEYS = ("command", "pattern")
READINESS_KEYS = ("kind", "query", "command", "timeout")
CONFIG_KEYS = ("template", "hba")
RUN_KEYS = ("command", "stop_signal")

DEFAULT_VERSION_COMMAND = ("{server}", "--version")
DEFAULT_VERSION_PATTERN = r"(\d+(?:\.\d+)+)"
PROBE_TIMEOUT = 10.0

_ROLE = re.compile(r"[a-z][a-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MANAGER_COMMAND = {"apt": "apt-get", "dnf": "dnf", "brew": "brew"}
_MANAGER_LABEL = {"apt": "Debian/Ubuntu", "dnf": "Fedora/RHEL", "brew": "macOS"}


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Recipe:
    """One service recipe, checked. Templates use ``{placeholder}``s (see ``placeholders``)."""

    name: str
    source: Path
    binaries: Mapping[str, str]  # role -> binary name; "server" always
    title: str = ""  # for people: "PostgreSQL"; default: the name
    description: str = ""
    default_port: int | None = None
    driver: str | None = None  # "postgres", "redis", or None: the generic runner
    search: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen)  # system -> globs
    version_command: tuple[str, ...] = DEFAULT_VERSION_COMMAND
    version_pattern: str = DEFAULT_VERSION_PATTERN  # one group: the version
    install: Mapping[str, str] = field(default_factory=_frozen)  # manager -> command
    readiness: Mapping[str, Any] = field(default_factory=lambda: _frozen({"kind": "tcp"}))
    config_template: str | None = None  # relative to devenv.resources.templates_dir()
    hba: str | None = None  # relative to templates_dir()
    run_command: tuple[str, ...] = ()  # generic recipes only
    stop_signal: str = "SIGTERM"
    env: Mapping[str, str] = field(default_factory=_frozen)  # name -> template

    @property
    def server(self) -> str:
        return self.binaries["server"]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return (*self.binaries, *PLACEHOLDERS)

    @property
    def generic(self) -> bool:
        return self.driver is None

    def template_path(self, which: str = "config") -> Path | None:
        """The config template (``which="config"``) or hba file, or None."""
        name = self.config_template if which == "config" else self.hba
        return templates_dir() / name if name else None


# ---------------------------------------------------------------- loading


def load_recipe(path: Path) -> Recipe:
    """Read and check a recipe; every mistake is a ConfigError naming file, line and key."""
    doc = _Document(path)
    doc.shown = path
    data = doc.parse()
    return _RecipeLoader(doc, data).load()


def recipe_for(service: ServiceConfig) -> Recipe:
    """The recipe of a configured service (bundled, or the project's own)."""
    path = service.recipe
    try:
        st = path.stat()
    except OSError:
        return load_recipe(path)  # reports the problem
    return _cached_recipe(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _cached_recipe(path: Path, mtime_ns: int, size: int) -> Recipe:
    return load_recipe(path)


class _RecipeLoader:
    def __init__(self, doc: _Document, data: dict[str, Any]) -> None:
        self.doc = doc
        self.check = _Checks(doc)
        self.data = self.check.table(data, (), TOP_KEYS)

    def load(self) -> Recipe:
        data, check = self.data, self.check
        name = check.optional(data, "name", (), check.string) or self.doc.path.stem
        title = check.optional(data, "title", (), check.string) or name
        description = check.optional(data, "description", (), check.string) or ""
        default_port = check.optional(data, "default_port", (), check.port)
        driver = self._driver()
        binaries = self._binaries()
        roles = tuple(binaries)
        version_command, version_pattern = self._version(roles)
        run_command, stop_signal = self._run(driver, roles)
        config = check.table(data.get("config", {}), ("config",), CONFIG_KEYS)
        return Recipe(
            name=name,
            source=self.doc.path,
            title=title,
            description=description,
            default_port=default_port,
            driver=driver,
            binaries=_frozen(binaries),
            search=_frozen(self._search()),
            version_command=version_command,
            version_pattern=version_pattern,
            install=_frozen(self._install()),
            readiness=_frozen(self._readiness(driver, roles)),
            config_template=self._template(config, "template"),
            hba=self._template(config, "hba"),
            run_command=run_command,
            stop_signal=stop_signal,
            env=_frozen(self._env(roles)),
        )

    def _driver(self) -> str | None:
        if "driver" not in self.data:
            return None
        driver = self.check.string(self.data["driver"], ("driver",))
        if driver not in DRIVERS:
            self.doc.fail(
                ("driver",),
                f"unknown driver '{driver}'{did_you_mean(driver, DRIVERS)}; devenv has drivers "
                f"for {_choices(DRIVERS)} (leave driver out to run the service from [run])",
            )
        return driver

    def _binaries(self) -> dict[str, str]:
        key: KeyPath = ("binaries",)
        if "binaries" not in self.data:
            self.doc.fail(key, 'missing; add [binaries] with server = "the server binary"', at=())
        table = self.check.mapping(self.data["binaries"], key)
        binaries: dict[str, str] = {}
        for role, value in table.items():
            if not _ROLE.fullmatch(role):
                self.doc.fail(
                    (*key, role),
                    f"role {_show(role)} must be lower-case letters, digits and '_' "
                    "(it is also a {placeholder})",
                )
            if role in PLACEHOLDERS:
                self.doc.fail((*key, role), f"'{role}' is a placeholder name; choose another role")
            name = self.check.string(value, (*key, role), "a binary name")
            if "/" in name:
                self.doc.fail((*key, role), f"expected a binary name without '/', got {name!r}")
            binaries[role] = name
        if "server" not in binaries:
            self.doc.fail(key, 'the server binary is missing; add server = "..."')
        return {"server": binaries.pop("server"), **binaries}

    def _search(self) -> dict[str, tuple[str, ...]]:
        key: KeyPath = ("search",)
        table = self.check.table(self.data.get("search", {}), key, SYSTEMS)
        return {
            system: self.check.strings(globs, (*key, system)) for system, globs in table.items()
        }

    def _version(self, roles: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        key: KeyPath = ("version",)
        table = self.check.table(self.data.get("version", {}), key, VERSION_KEYS)
        command = DEFAULT_VERSION_COMMAND
        if "command" in table:
            command = self._command(table["command"], (*key, "command"), (*roles, "bindir"))
        pattern = DEFAULT_VERSION_PATTERN
        if "pattern" in table:
            pattern = self.check.string(table["pattern"], (*key, "pattern"), "a regular expression")
            try:
                groups = re.compile(pattern).groups
            except re.error as err:
                self.doc.fail((*key, "pattern"), f"invalid regular expression: {err}")
            if groups != 1:
                self.doc.fail(
                    (*key, "pattern"),
                    f"expected a regular expression with one group (the version), "
                    f"got {groups} groups",
                )
        return command, pattern

    def _install(self) -> dict[str, str]:
        key: KeyPath = ("install",)
        table = self.check.table(self.data.get("install", {}), key, MANAGERS)
        return {manager: self.check.command(cmd, (*key, manager)) for manager, cmd in table.items()}

    def _readiness(self, driver: str | None, roles: tuple[str, ...]) -> dict[str, Any]:
        key: KeyPath = ("readiness",)
        table = self.check.table(self.data.get("readiness", {}), key, READINESS_KEYS)
        kind = self.check.string(table.get("kind", "tcp"), (*key, "kind"))
        if kind not in READINESS_KINDS:
            self.doc.fail(
                (*key, "kind"),
                f"unknown readiness kind '{kind}'{did_you_mean(kind, READINESS_KINDS)}; "
                f"expected {_choices(READINESS_KINDS)}",
            )
        needs = DRIVER_READINESS.get(kind)
        if needs is not None and driver != needs:
            self.doc.fail(
                (*key, "kind"),
                f"readiness kind '{kind}' needs driver = \"{needs}\"; a recipe without a driver "
                "uses 'tcp' or 'command'",
            )
        readiness: dict[str, Any] = {"kind": kind}
        for name in table:
            if name == "kind":
                continue
            allowed = {"query": "sql", "command": "command"}.get(name)
            if allowed is not None and kind != allowed:
                self.doc.fail((*key, name), f"'{name}' is only for kind = \"{allowed}\"")
        if kind == "command":
            if "command" not in table:
                self.doc.fail(key, 'kind = "command" needs command = ["...", ...]')
            readiness["command"] = self._command(
                table["command"], (*key, "command"), (*roles, *PLACEHOLDERS)
            )
        if "query" in table:
            readiness["query"] = self.check.string(table["query"], (*key, "query"), "SQL")
        if "timeout" in table:
            readiness["timeout"] = self.check.seconds(table["timeout"], (*key, "timeout"))
        return readiness

    def _template(self, config: dict[str, Any], name: str) -> str | None:
        key: KeyPath = ("config", name)
        if name not in config:
            return None
        text = self.check.string(config[name], key, "a path")
        if not (templates_dir() / text).is_file():
            self.doc.fail(key, f"'{text}' is not a file in devenv's templates folder")
        return text

    def _run(self, driver: str | None, roles: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        key: KeyPath = ("run",)
        if "run" not in self.data:
            if driver is None:
                self.doc.fail(
                    key,
                    "missing; a recipe without a driver needs [run] with "
                    'command = ["{server}", ...]',
                    at=(),
                )
            return (), "SIGTERM"
        table = self.check.table(self.data["run"], key, RUN_KEYS)
        if "command" not in table:
            if driver is None:
                self.doc.fail(key, 'command is missing; add command = ["{server}", ...]')
            command: tuple[str, ...] = ()
        else:
            command = self._command(table["command"], (*key, "command"), (*roles, *PLACEHOLDERS))
        stop = "SIGTERM"
        if "stop_signal" in table:
            stop = self.check.string(table["stop_signal"], (*key, "stop_signal"), "a signal name")
            names = [sig.name for sig in signal.Signals if not sig.name.startswith("SIG_")]
            if stop not in names:
                self.doc.fail(
                    (*key, "stop_signal"),
                    f"unknown signal '{stop}'{did_you_mean(stop, names)}; "
                    "expected a name like SIGTERM or SIGINT",
                )
        return command, stop

    def _env(self, roles: tuple[str, ...]) -> dict[str, str]:
        key: KeyPath = ("env",)
        table = self.check.mapping(self.data.get("env", {}), key)
        env: dict[str, str] = {}
        for name, value in table.items():
            if not _ENV_NAME.fullmatch(name):
                self.doc.fail((*key, name), f"{_show(name)} is not an environment variable name")
            text = self.check.string(value, (*key, name))
            self._placeholders(text, (*key, name), (*roles, *PLACEHOLDERS))
            env[name] = text
        return env

    def _command(self, value: object, key: KeyPath, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            got = "an empty list" if value == [] else _show(value)
            self.doc.fail(key, f'expected a list of arguments like ["{{server}}", ...], got {got}')
        command = self.check.strings(value, key)
        for index, part in enumerate(command):
            self._placeholders(part, (*key, index), allowed, at=key)
        return command

    def _placeholders(
        self, text: str, key: KeyPath, allowed: tuple[str, ...], *, at: KeyPath | None = None
    ) -> None:
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError:
            self.doc.fail(
                key, f"unbalanced braces in {text!r}; write {{{{ and }}}} for literal braces", at=at
            )
        for _literal, name, spec, conversion in fields:
            if name is None:
                continue
            if name in allowed and (spec or conversion):
                shown = "{" + name + (f"!{conversion}" if conversion else "")
                shown += (f":{spec}" if spec else "") + "}"
                self.doc.fail(
                    key,
                    f"placeholder '{shown}' cannot have a format or conversion; write '{{{name}}}'",
                    at=at,
                )
            if name not in allowed:
                shown = "{" + name + "}"
                self.doc.fail(
                    key,
                    f"unknown placeholder '{shown}'{did_you_mean(name, allowed)}; "
                    f"expected {_choices(['{' + a + '}' for a in allowed])}",
                    at=at,
                )


def _choices(items: tuple[str, ...] | list[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# ---------------------------------------------------------------- installations


class MissingBinary(DevenvError):
    """A service's server is not installed, or not in a version the project allows."""


@dataclass(frozen=True)
class Installation:
    """Where a server lives: its bindir, its version, and the recipe's binaries found there."""

    bindir: Path
    version: Version
    binaries: Mapping[str, Path]  # role -> path; "server" always

    @property
    def server(self) -> Path:
        return self.binaries["server"]


@dataclass(frozen=True)
class _Candidate:
    bindir: Path
    server: Path


def _system(system: str | None) -> str:
    name = platform.system() if system is None else system
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


# ---------------------------------------------------------------- install hints


def _managers(system: str, path: str | None) -> list[str]:
    """The package managers of this machine: brew on macOS; apt-get, then dnf, on Linux."""
    order = ("brew",) if system == "macos" else ("apt", "dnf")
    return [manager for manager in order if shutil.which(_MANAGER_COMMAND[manager], path=path)]


def _install_command(manager: str, command: str) -> str:
    if manager != "brew" and os.geteuid() != 0 and not command.startswith("sudo "):
        command = f"sudo {command}"
    return f"`{command}`"


def install_hint(recipe: Recipe, *, system: str | None = None, path: str | None = None) -> str:
    """How to install the server here: "`sudo apt-get install postgresql`".

    When this machine's package manager is not found (or the recipe has no
    command for it), every hint the recipe has is shown, each with its system.
    """
    system_name = _system(system)
    for manager in _managers(system_name, path):
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
    base = os.environ.get("XDG_CACHE_HOME", "")
    folder = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return folder / "devenv" / "versions.json"


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
            fd, tmp = tempfile.mkstemp(prefix=".versions-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"version": self.VERSION, "entries": self.entries}, out)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
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
