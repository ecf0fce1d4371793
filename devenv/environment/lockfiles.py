"""Reading a lockfile, whatever tool wrote it, into a ``Lockfile`` record.

``read_lockfile(path)`` picks the reader by the file's name (``tool_for``) and
returns every package the file asks for (see devenv.environment.model.Locked).
A file that cannot be read (missing, not UTF-8, malformed, a missing or cyclic
``-r`` include...) raises ``LockfileError``, naming the file, the line where it
is known, and what to do; no other exception escapes. ``Lockfile.includes`` lists
the other files the reading depended on: requirements' ``-r``/``-c`` files, and
the pyproject.toml (uv, poetry, pdm) or package.json (yarn) beside the lock.

The readers live in requirements.py (pip requirements files), python_locks.py
(uv, poetry, pipenv, pdm; TOML through lock_toml.py) and node_locks.py (npm,
yarn, pnpm), and are imported on first use: the CLI must start without them.
Reading a 500-package lockfile takes some 5 to 25 ms.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from devenv.environment.model import Ecosystem, Lockfile
from devenv.errors import DevenvError

# Lockfiles known by their exact name -> the tool that writes them.
LOCKFILE_TOOLS: dict[str, str] = {
    "uv.lock": "uv",
    "poetry.lock": "poetry",
    "Pipfile.lock": "pipenv",
    "pdm.lock": "pdm",
    "package-lock.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
}
# pip requirements files go by pattern: requirements.txt, requirements-dev.lock (rye),
# and any other *.txt (constraints.txt, dev.txt, ...).
REQUIREMENTS_PATTERNS = ("requirements*.txt", "requirements*.lock", "*.txt")

TOOL_ECOSYSTEM: dict[str, Ecosystem] = {
    "requirements": "python",
    "uv": "python",
    "poetry": "python",
    "pipenv": "python",
    "pdm": "python",
    "npm": "node",
    "yarn": "node",
    "pnpm": "node",
}

# The file beside a lockfile that its reader also consults (the project's name and
# dependency groups, yarn 1's root dependencies): it is part of the lockfile's meaning,
# so it is listed in Lockfile.includes whether it exists or not.
COMPANIONS: dict[str, str] = {
    "uv": "pyproject.toml",
    "poetry": "pyproject.toml",
    "pdm": "pyproject.toml",
    "yarn": "package.json",
}

# What to run to write the file again: the usual way out of a broken lockfile.
REGENERATE: dict[str, str] = {
    "uv": "uv lock",
    "poetry": "poetry lock",
    "pipenv": "pipenv lock",
    "pdm": "pdm lock",
    "npm": "npm install --package-lock-only",
    "yarn": "yarn install",
    "pnpm": "pnpm install --lockfile-only",
}


class LockfileError(DevenvError):
    """A lockfile devenv cannot read; ``str()`` is ``path[:line]: problem; what to do``.

    ``path`` is the file at fault (an included requirements file when the
    problem is there), ``line`` is 1-based or None.
    """

    def __init__(self, path: Path | str, message: str, *, line: int | None = None, hint: str = ""):
        self.path = Path(path)
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        hint = f"; {self.hint}" if self.hint else ""
        return f"{where}: {self.message}{hint}"


def tool_for(path: Path | str) -> str | None:
    """The tool whose lockfile ``path`` is, by its name alone ("uv", "npm", "requirements"...),
    or None for a file devenv does not read. Nothing is opened."""
    name = Path(path).name
    if name in LOCKFILE_TOOLS:
        return LOCKFILE_TOOLS[name]
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in REQUIREMENTS_PATTERNS):
        return "requirements"
    return None


def read_lockfile(path: Path) -> Lockfile:
    """Read ``path`` with the reader its name calls for.

    Raises LockfileError for a name devenv does not know and for anything
    wrong with the file or the files it includes.
    """
    path = Path(path)
    tool = tool_for(path)
    if tool is None:
        known = ", ".join([*LOCKFILE_TOOLS, "requirements*.txt", "requirements*.lock"])
        raise LockfileError(
            path, "not a lockfile devenv can read", hint=f"devenv reads {known}; rename it"
        )
    includes: tuple[Path, ...] = ()
    if tool == "requirements":
        from devenv.environment.requirements import read_requirements

        packages, includes = read_requirements(path)
    elif TOOL_ECOSYSTEM[tool] == "python":
        from devenv.environment import python_locks

        packages = python_locks.READERS[tool](path)
    else:
        from devenv.environment import node_locks

        packages = node_locks.READERS[tool](path)
    if tool in COMPANIONS:
        includes = ((path.parent / COMPANIONS[tool]).absolute(),)
    return Lockfile(
        path=path,
        ecosystem=TOOL_ECOSYSTEM[tool],
        tool=tool,
        packages=packages,
        includes=includes,
    )


# ---------------------------------------------------------------- helpers for the readers


def read_text(path: Path, *, tool: str, cited_at: tuple[Path, int] | None = None) -> str:
    """The file's text as UTF-8 (a BOM dropped).

    ``cited_at`` is where an include named this file: a missing include is
    reported there, since that is the line to fix.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if cited_at is not None:
            raise LockfileError(
                cited_at[0],
                f"includes {path}, which does not exist",
                line=cited_at[1],
                hint="fix the path (it is relative to the including file) or remove the line",
            ) from None
        raise LockfileError(path, "does not exist", hint=_regenerate(tool)) from None
    except IsADirectoryError:
        if cited_at is not None:
            raise LockfileError(
                cited_at[0], f"includes {path}, which is a folder", line=cited_at[1]
            ) from None
        raise LockfileError(path, "is a folder, not a lockfile") from None
    except ValueError:  # a NUL in the path
        where = cited_at or (path, None)
        raise LockfileError(
            where[0], f"{str(path)!r} is not a usable path", line=where[1]
        ) from None
    except OSError as exc:
        where = cited_at or (path, None)
        raise LockfileError(
            where[0], f"cannot read {path}: {exc.strerror or exc}", line=where[1]
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LockfileError(
            path,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            line=line,
            hint="save it as UTF-8" + (f" or {_regenerate(tool)}" if tool in REGENERATE else ""),
        ) from None


def malformed(path: Path, tool: str, what: str, line: int | None = None) -> LockfileError:
    """The error for a file that does not have the shape its tool writes."""
    return LockfileError(path, what, line=line, hint=_regenerate(tool))


def _regenerate(tool: str) -> str:
    command = REGENERATE.get(tool)
    return f"regenerate it with `{command}`" if command else "fix the file"


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_toml(path: Path, text: str, tool: str) -> dict:
    """tomllib.loads, its error turned into a LockfileError with the line."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 carries the position only in the message.
        found = _TOML_POSITION.search(str(exc))
        reason = _TOML_POSITION.sub("", str(exc)).strip()
        line = int(found.group(1)) if found else None
        raise malformed(path, tool, f"is not valid TOML ({reason})", line) from None


def parse_json(path: Path, text: str, tool: str) -> object:
    """json.loads, its error turned into a LockfileError with the line."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise malformed(path, tool, f"is not valid JSON ({exc.msg})", exc.lineno) from None
    except RecursionError:
        raise malformed(path, tool, "is not valid JSON (nested too deeply)") from None
