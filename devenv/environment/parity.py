"""Dev close to prod: what ``[prod]`` in devenv.toml says production runs, against what runs here.

``check_parity(stack, venv)`` gives one ``Parity`` per ``[prod]`` key:

- a **service**: the version its running server runs: its binaries' when its
  process runs the binary devenv found, else what it reports (PostgreSQL's
  ``SHOW server_version`` over the project's socket, Redis's ``INFO server``
  over its socket); when it is not running (or does not answer), the version
  of the binaries devenv would start (``Stack.service(name)``'s installation);
  none found matching the project's constraint: "missing";
- **python**: the project's virtualenv's Python (its ``pyvenv.cfg``); when
  there is no virtualenv yet, the Python ``uv venv`` would make it with (uv's
  own discovery in the project folder: ``.python-version``,
  ``requires-python``; never the Python devenv itself runs on), else "missing";
- **node**: ``node --version`` of the first ``node`` on PATH with the
  project's ``node_modules/.bin`` in front, else "missing".

The state compares as many numbers as prod states: prod "15" and 15.4 here is
"ok"; prod "15.4" and 15.6 is "minor"; prod "7.0.11" and 7.0.15 is "patch"
(numbers by position: major.minor.patch; PostgreSQL's 15.4 counts as major 15,
minor 4). A "major", "minor" or "missing" state is a warning and carries an
install hint for this machine; a "patch" difference is a note.

Nothing here is imported by the CLI at start-up; psycopg2 is imported only to
ask a running PostgreSQL that runs other binaries than those found, and Redis is
asked with devenv.services.resp.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from devenv.config.versions import Version
from devenv.records import Record

if TYPE_CHECKING:
    from devenv.config.versions import VersionConstraint
    from devenv.services.base import Service
    from devenv.services.postgres import PostgresService
    from devenv.services.recipes import Recipe
    from devenv.services.redis import RedisService
    from devenv.services.stack import Stack

State = Literal["ok", "patch", "minor", "major", "missing"]
Severity = Literal["ok", "note", "warning"]
# Where ``local`` was read: a running server, the binaries devenv would start, the
# virtualenv's pyvenv.cfg, the Python uv would make the virtualenv with, node on PATH.
Source = Literal["server", "binaries", "venv", "uv", "path"]

PROBE_TIMEOUT = 5.0  # seconds for `node --version` and `uv python find`
SERVER_TIMEOUT = 1  # seconds to connect to a running server; it is local and answers in ms

_SEVERITY: dict[str, Severity] = {
    "ok": "ok",
    "patch": "note",
    "minor": "warning",
    "major": "warning",
    "missing": "warning",
}
_HAVE = {
    "server": "you run {local}",
    "binaries": "you have {local}",
    "venv": "the virtualenv has {local}",
    "uv": "there is no virtualenv yet; uv would make it with {local}",
    "path": "you have {local}",
}
_NOTHING = {
    "python": "no virtualenv, and no Python that uv would make one with",
    "node": "no node on PATH or in node_modules/.bin",
}


@dataclass(frozen=True, eq=False, repr=False)
class Parity(Record):
    """One ``[prod]`` entry compared: ``prod`` as written, ``local`` as found (None: nothing).

    ``hint`` says what to do about a "major", "minor" or "missing" state (an
    install command for this machine); it is empty otherwise.
    """

    name: str
    prod: str
    local: str | None
    state: State
    source: Source | None = None
    hint: str = ""

    @property
    def severity(self) -> Severity:
        """ "warning" for major, minor and missing; "note" for patch; "ok" when it matches."""
        return _SEVERITY[self.state]

    @property
    def message(self) -> str:
        """For people: "postgres: prod runs 16, you run 15.4 (major): `apt-get install ...`"."""
        if self.local is None:
            have = _NOTHING.get(self.name, f"no {self.name} found here")
        else:
            have = _HAVE[self.source or "path"].format(local=self.local)
        text = f"{self.name}: prod runs {self.prod}, {have}"
        if self.state != "ok":
            text += f" ({self.state})"
        return f"{text}: {self.hint}" if self.hint else text

    def as_json(self) -> dict:
        """``devenv status --json``'s ``parity`` entry: ``{"prod", "local", "state"}``."""
        return {"prod": self.prod, "local": self.local, "state": self.state}


def compare(prod: Version, local: Version | None, *, bugfix_second: bool = False) -> State:
    """How far ``local`` is from ``prod``, over the numbers prod states (local padded with 0).

    ``bugfix_second``: the second number is the bug-fix release, as in PostgreSQL
    10 and later (prod 15.4 and local 15.18 differ by a patch, not a minor).
    """
    if local is None:
        return "missing"
    width = len(prod.parts)
    mine = (local.parts + (0,) * width)[:width]
    names: tuple[State, State, State] = (
        ("major", "patch", "patch") if bugfix_second else ("major", "minor", "patch")
    )
    for index, (want, have) in enumerate(zip(prod.parts, mine, strict=True)):
        if want != have:
            return names[index] if index < 3 else "patch"
    return "ok"


def _bugfix_second(name: str, prod: Version) -> bool:
    """PostgreSQL 10 and later number releases MAJOR.FIX: no minor number."""
    return name == "postgres" and bool(prod.parts) and prod.parts[0] >= 10


def check_parity(
    stack: Stack, venv: Path, *, path: str | None = None, system: str | None = None
) -> dict[str, Parity]:
    """Every ``[prod]`` entry of ``stack.config`` compared with this machine, in config order.

    ``venv`` is the project's virtualenv (``ProjectEnv.venv``); it need not
    exist. ``path`` is the PATH to look for node and Pythons in (default: the
    environment's); ``system`` ("linux", "macos") picks the install hints
    (default: this machine). Running servers are asked, so the services need
    not be stopped or started for this; nothing is started, written or installed.
    """
    config = stack.config
    result: dict[str, Parity] = {}
    for name, prod in config.prod.items():
        if name == "python":
            result[name] = python_parity(prod, venv, config.root, path=path)
        elif name == "node":
            result[name] = node_parity(prod, config.root, path=path, system=system)
        else:
            result[name] = service_parity(stack, name, prod, system=system)
    return result


# ---------------------------------------------------------------- services


def service_parity(stack: Stack, name: str, prod: Version, *, system: str | None = None) -> Parity:
    """The service ``name``: its running server's version, else its binaries'."""
    from devenv.services.installations import MissingBinary
    from devenv.services.recipes import recipe_for

    config = stack.config.services[name]
    source: Source | None
    try:
        service = stack.service(name)
    except MissingBinary:
        local, source = None, None
    else:
        local = server_version(service)
        source = "server"
        if local is None:
            local, source = service.ctx.installation.version, "binaries"
    state = compare(prod, local, bugfix_second=_bugfix_second(name, prod))
    parity = Parity(name, str(prod), _str(local), state, source)
    recipe = recipe_for(config)
    return _with_hint(parity, hint(parity, recipe, system=system, allowed=config.version))


def server_version(service: Service) -> Version | None:
    """The version the service's running server reports; None when it is not running or silent.

    When the server's process runs the very binary devenv found (its installation's
    server file, see ``installations.running_version``), that binary's version is the
    answer, without a connection (and without psycopg2's import: ``devenv status``
    comes here). Otherwise PostgreSQL and Redis are asked (a server upgraded in place,
    or started from other binaries, may differ from those devenv would start now); a
    service run from a recipe alone has no way to be asked and gives None.
    """
    from devenv.services.installations import running_version
    from devenv.services.postgres import PostgresService
    from devenv.services.redis import RedisService

    if not isinstance(service, PostgresService | RedisService):
        return None
    pid = service.find_running()
    if pid is None:
        return None
    known = running_version(service.ctx.installation, pid)
    if known is not None:
        return known
    try:
        if isinstance(service, PostgresService):
            text = _postgres_version(service)
        else:
            text = _redis_version(service)
        return Version.search(text)
    except (OSError, ValueError, _NotAnswering):
        return None  # starting, stopping, or not ours to reach: the binaries' version it is


class _NotAnswering(Exception):
    pass


def _postgres_version(service: PostgresService) -> str:
    import psycopg2

    try:
        conn = service.superuser_connect(connect_timeout=SERVER_TIMEOUT)
    except psycopg2.Error as err:
        raise _NotAnswering(str(err)) from None
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")  # "15.18 (Debian 15.18-0+deb12u1)"
            row = cur.fetchone()
    except psycopg2.Error as err:
        raise _NotAnswering(str(err)) from None
    finally:
        conn.close()
    if row is None:
        raise _NotAnswering("no answer to SHOW server_version")
    return str(row[0])


def _redis_version(service: RedisService) -> str:
    # devenv's own RESP client, as RedisService uses: over the project's 0700 socket, with
    # the password the running server was given, no retries, and without redis-py's import.
    from devenv.services import resp

    try:
        info = service.info("server", timeout=SERVER_TIMEOUT)
    except (resp.RespError, resp.ConnectionClosed) as err:
        raise _NotAnswering(str(err)) from None
    if "redis_version" not in info:
        raise _NotAnswering("INFO server has no redis_version")
    return info["redis_version"]


# ---------------------------------------------------------------- python


def python_parity(prod: Version, venv: Path, root: Path, *, path: str | None = None) -> Parity:
    """The virtualenv's Python; without one, the Python uv would make it with."""
    local: Version | None = venv_python_version(venv)
    source: Source | None = "venv"
    if local is None:
        local, source = uv_python_version(root, path=path), "uv"
    if local is None:
        source = None
    parity = Parity("python", str(prod), _str(local), compare(prod, local), source)
    return _with_hint(parity, hint(parity, venv=_shown(venv, root)))


def venv_python_version(venv: Path) -> Version | None:
    """The Python version a virtualenv was made with (its pyvenv.cfg); None without one.

    uv and virtualenv write ``version_info``, the venv module ``version``.
    """
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    for key in ("version_info", "version"):
        try:
            return Version.search(values[key])
        except (KeyError, ValueError):
            continue
    return None


def uv_python_version(root: Path, *, path: str | None = None) -> Version | None:
    """The Python ``uv venv`` would use in ``root``; None when uv finds none.

    ``--system`` leaves out virtualenvs (an active one, or ``.venv``), which
    ``uv venv`` does not build on either; nothing is downloaded.
    """
    import uv

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    if path is not None:
        env["PATH"] = path
    argv = [uv.find_uv_bin(), "python", "find", "--system", "--show-version"]
    argv.append("--no-python-downloads")
    return _version_of(argv, cwd=root, env=env)


# ---------------------------------------------------------------- node


def node_parity(
    prod: Version, root: Path, *, path: str | None = None, system: str | None = None
) -> Parity:
    """The first node on PATH with the project's node_modules/.bin in front."""
    local = node_version(root, path=path)
    source: Source | None = "path" if local is not None else None
    parity = Parity("node", str(prod), _str(local), compare(prod, local), source)
    return _with_hint(parity, hint(parity, system=system, path=path))


def node_version(root: Path, *, path: str | None = None) -> Version | None:
    """``node --version`` of the node a process of the project would run; None without one."""
    import shutil  # ~3 ms with the compression modules it loads; node is not always in [prod]

    search = os.pathsep.join(
        [str(root / "node_modules" / ".bin"), os.environ.get("PATH", "") if path is None else path]
    )
    node = shutil.which("node", path=search)
    if node is None:
        return None
    return _version_of([node, "--version"], cwd=root)  # "v20.20.2"


# ---------------------------------------------------------------- hints


def hint(
    parity: Parity,
    recipe: Recipe | None = None,
    *,
    allowed: VersionConstraint | None = None,
    venv: str = ".venv",
    system: str | None = None,
    path: str | None = None,
) -> str:
    """What to do about a "major", "minor" or "missing" state on this machine; "" otherwise.

    A service gets its recipe's install command for this machine's package
    manager, and, when the project's ``allowed`` version constraint
    (``services.NAME.version``) excludes prod's version, the line to change.
    Python gets uv's (uv comes with devenv on every system), node the
    package for this system.
    """
    if parity.severity != "warning":
        return ""
    prod = parity.prod
    if parity.name == "python":
        return f"`uv python install {prod}`, then make {venv} with `uv venv --python {prod} {venv}`"
    if parity.name == "node" and recipe is None:
        return _node_hint(Version.parse(prod), system=system, path=path)
    if recipe is None:
        return ""
    from devenv.services.installations import install_hint

    how = install_hint(recipe, system=system, path=path, major=Version.parse(prod).major)
    text = f"install {recipe.title} {prod} with {how}"
    if allowed is not None and not allowed.matches(Version.parse(prod)):
        text += f", and allow it: services.{parity.name}.version = \"{prod}\" (now '{allowed}')"
    return text


def _node_hint(prod: Version, *, system: str | None, path: str | None) -> str:
    import shutil

    from devenv.services.installations import install_hint
    from devenv.services.recipes import Recipe

    major = prod.major
    linux = (system or sys.platform).lower().startswith("linux")
    apt_only = shutil.which("apt-get", path=path) and not shutil.which("dnf", path=path)
    if linux and apt_only:
        # Debian and Ubuntu package one Node.js release; other majors come from elsewhere.
        return (
            f"install Node.js {major} from NodeSource (https://github.com/nodesource/distributions)"
            f" or with `nvm install {major}`; Debian's nodejs package has one version"
        )
    node = Recipe(
        name="node",
        source=Path("node"),
        title="Node.js",
        binaries=MappingProxyType({"server": "node"}),
        install=MappingProxyType(
            {"dnf": f"dnf install nodejs{major}", "brew": f"brew install node@{major}"}
        ),
    )
    return f"install Node.js {major} with {install_hint(node, system=system, path=path)}"


# ---------------------------------------------------------------- plumbing


def _version_of(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> Version | None:
    """The first version in what ``argv`` prints; None when it fails or prints none."""
    try:
        result = subprocess.run(
            argv,
            cwd=cwd if cwd.is_dir() else None,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    try:
        return Version.search(result.stdout)
    except ValueError:
        return None


def _with_hint(parity: Parity, text: str) -> Parity:
    from dataclasses import replace

    return replace(parity, hint=text) if text else parity


def _shown(venv: Path, root: Path) -> str:
    """The virtualenv as a person types it: relative to the project when inside it."""
    try:
        return str(venv.relative_to(root))
    except ValueError:
        return str(venv)


def _str(version: Version | None) -> str | None:
    return None if version is None else str(version)


__all__ = [
    "Parity",
    "Severity",
    "Source",
    "State",
    "check_parity",
    "compare",
    "hint",
    "node_parity",
    "node_version",
    "python_parity",
    "server_version",
    "service_parity",
    "uv_python_version",
    "venv_python_version",
]
