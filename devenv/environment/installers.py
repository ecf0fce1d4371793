"""What installs a project's lockfiles: the commands, in order, and the tools they need.

``plan()`` is pure (it looks at files, runs nothing), so what a sync will do
can be shown first (``devenv sync --dry-run``) and tested without installing.
uv, a dependency of devenv, does the Python work: ``uv venv``, ``uv pip sync``
for pinned requirements files (``uv pip install -r`` when they hold ranges),
``uv sync --frozen`` for uv.lock. poetry, pipenv and pdm install their own
lockfiles into the same virtualenv; npm, yarn and pnpm fill node_modules.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devenv.config import Config
from devenv.environment.project import ProjectEnv
from devenv.environment.pyversion import python_request
from devenv.errors import DevenvError

# lockfile name -> (tool, argv after the tool, how to get the tool)
_TOOL_LOCKS = {
    "poetry.lock": ("poetry", ["install", "--sync", "--no-interaction"], "pipx install poetry"),
    "Pipfile.lock": ("pipenv", ["sync", "--dev"], "pipx install pipenv"),
    "pdm.lock": ("pdm", ["sync", "--no-self"], "pipx install pdm"),
    "package-lock.json": ("npm", ["ci"], "install Node.js (it brings npm)"),
    "pnpm-lock.yaml": (
        "pnpm",
        ["install", "--frozen-lockfile"],
        "`corepack enable pnpm` or `npm install -g pnpm`",
    ),
}
_YARN_HINT = "`corepack enable yarn` or `npm install -g yarn`"

# Where a command is on PATH, None when it is nowhere: shutil.which, or a test's stand-in.
Which = Callable[[str], str | None]


class ToolMissing(DevenvError):
    """A lockfile's own tool is not installed; the message says how to get it."""


@dataclass(frozen=True)
class Step:
    """One command of a sync. ``argv`` runs without a shell unless ``shell`` is set."""

    argv: tuple[str, ...]
    lockfiles: tuple[Path, ...]  # what it installs (empty: creating the virtualenv)
    ecosystem: str  # "python" | "node"
    shell: bool = False
    env: Mapping[str, str] = field(default_factory=dict)  # added to the activated environment
    hint: str = ""  # what to do when it fails, beyond its own output

    @property
    def display(self) -> str:
        """The command as a person would type it (tool paths shortened to their names)."""
        if self.shell:
            return self.argv[0]
        return shlex.join([Path(self.argv[0]).name, *self.argv[1:]])


def uv_bin() -> str:
    """The uv executable that came with devenv (the ``uv`` package), else one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
        raise DevenvError(
            "uv is missing: devenv installs the project's packages with it. Reinstall devenv "
            "(`pipx reinstall devenv`), or install uv (`pipx install uv`)."
        ) from None


def plan(
    config: Config,
    env: ProjectEnv,
    lockfiles: tuple[Path, ...] | None = None,
    *,
    which: Which = shutil.which,
) -> list[Step]:
    """The steps that make the environment match ``lockfiles`` (default: all of them).

    Raises ToolMissing when a lockfile needs a tool that is not installed.
    """
    wanted = env.lockfiles if lockfiles is None else lockfiles
    steps: list[Step] = []
    python = [p for p in wanted if env.ecosystem(p) == "python"]
    node = [p for p in wanted if env.ecosystem(p) == "node"]
    custom = config.lockfiles.sync
    if python or (lockfiles is None and env.python_lockfiles):
        _require_utf8_path(env.venv)
        if not env.venv_python.exists():
            if os.path.lexists(env.venv):
                raise DevenvError(
                    f"{_rel(env, env.venv)} exists but is not a virtualenv (no bin/python); "
                    "devenv makes the project's virtualenv there and leaves what is there "
                    "alone: move it away, or set another path in [environment] venv"
                )
            steps.append(_create_venv(config, env))
        steps += _python_steps(env, [p for p in python if p not in custom], which)
    for path in node:
        if path not in custom:
            steps.append(_node_step(path, which))
    for path in wanted:
        if path in custom:
            steps.append(Step((custom[path],), (path,), env.ecosystem(path), shell=True))
    return steps


def _require_utf8_path(venv: Path) -> None:
    """Refuse a virtualenv path that is not UTF-8: uv cannot make or use one there (it says only
    "path is not valid UTF-8", exit code 2), and neither can Python's own venv."""
    for folder in (*reversed(venv.parents), venv):
        raw = os.fsencode(folder.name)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = os.fsencode(folder).decode("utf-8", "backslashreplace")
            raise DevenvError(
                f"the folder {shown} has a name that is not UTF-8 text, and the project's "
                "virtualenv cannot be made below it (uv, like Python's venv, needs UTF-8 "
                "paths); rename it to a UTF-8 name, then run devenv again"
            ) from None


def _create_venv(config: Config, env: ProjectEnv) -> Step:
    argv = [uv_bin(), "venv", _rel(env, env.venv)]
    request = python_request(config)
    hint = ""
    if request is not None:
        argv += ["--python", request.request]
        hint = (
            f"the project asks for Python {request.request} ({request.source}): install it "
            f"(`uv python install {request.request}`, or your package manager), or ask for "
            f"another version in {request.source}"
        )
    return Step(tuple(argv), (), "python", hint=hint)


def _python_steps(env: ProjectEnv, python: list[Path], which: Which) -> list[Step]:
    from devenv.environment.lockfiles import read_lockfile

    steps: list[Step] = []
    requirements = []
    for path in python:
        if path.name == "uv.lock":
            steps.append(
                Step(
                    (uv_bin(), "sync", "--frozen"),
                    (path,),
                    "python",
                    env={"UV_PROJECT_ENVIRONMENT": str(env.venv)},
                )
            )
        elif path.name in _TOOL_LOCKS:
            steps.append(_tool_step(path, which, "python"))
        else:
            requirements.append(path)
    if requirements:
        pinned = all(
            package.version is not None or package.local
            for path in requirements
            for package in read_lockfile(path).packages
        )
        # Exactly the lock when it is one: every line pins, and it lists the dependencies too
        # (uv pip sync installs none it does not list, and removes what is not in it). Ranges,
        # or pins of the top-level packages alone (Django==4.2.3 without asgiref), need a
        # resolver: then nothing is removed.
        whole = pinned and all(complete_lock(path) for path in requirements)
        verb = ["pip", "sync"] if whole and not steps else ["pip", "install"]
        argv = [uv_bin(), *verb, "--python", _rel(env, env.venv_python)]
        for path in requirements:
            argv += [_rel(env, path)] if verb[1] == "sync" else ["-r", _rel(env, path)]
        steps.append(Step(tuple(argv), tuple(requirements), "python"))
    return steps


# What a requirements file made by a locker says of itself: pip-compile's and uv pip compile's
# header and "# via" lines, hashes.
_LOCK_MARKS = ("# via", "--hash=", "autogenerated by pip-compile", "uv pip compile")


def complete_lock(path: Path) -> bool:
    """Whether a requirements file lists every package to install, dependencies included: a
    ``*.lock`` file, or one a locker made (pip-compile, uv pip compile: their header, "# via"
    lines or hashes). A hand-written requirements.txt pins its top-level packages at most."""
    if path.suffix == ".lock":
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(mark in text for mark in _LOCK_MARKS)


def _rel(env: ProjectEnv, path: Path) -> str:
    """``path`` as the command sees it: it runs in the project root, so relative when inside."""
    return os.path.relpath(path, env.root) if env.root in path.parents else str(path)


def _poetry_2(path: Path) -> bool:
    """A lock written by Poetry 2 (it has `poetry sync`; 1.x had `install --sync`)."""
    head = _head(path)
    return "@generated by Poetry " in head and "@generated by Poetry 1." not in head


def _tool_step(path: Path, which: Which, ecosystem: str) -> Step:
    tool, args, hint = _TOOL_LOCKS[path.name]
    if path.name == "poetry.lock" and _poetry_2(path):
        args = ["sync", "--no-interaction"]
    # Never a version check against the network during an install (pdm does one by default).
    env = {"PDM_CHECK_UPDATE": "false"} if tool == "pdm" else {}
    found = which(tool)
    if found is None:
        raise ToolMissing(
            f"{path.name} is {tool}'s lockfile and {tool} is not installed: {hint}, "
            "then run `devenv sync`"
        )
    return Step((found, *args), (path,), ecosystem, env=env)


def _node_step(path: Path, which: Which) -> Step:
    if path.name != "yarn.lock":
        return _tool_step(path, which, "node")
    found = which("yarn")
    if found is None:
        raise ToolMissing(
            f"yarn.lock is yarn's lockfile and yarn is not installed: {_YARN_HINT}, "
            "then run `devenv sync`"
        )
    berry = _is_berry(path)
    return Step(
        (found, "install", "--immutable" if berry else "--frozen-lockfile"), (path,), "node"
    )


def _head(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(2048)
    except OSError:
        return ""


def _is_berry(path: Path) -> bool:
    return "__metadata:" in _head(path)
