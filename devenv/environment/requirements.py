"""pip requirements files (requirements*.txt, requirements*.lock, any *.txt) read as pip reads them.

``read_requirements(path)`` returns the packages and the other files it read
(``-r`` includes and ``-c`` constraints, absolute). What a caller may rely on:

- ``name==1.2`` (or ``===``) pins: ``version`` "1.2"; ranges, wildcards (``==1.*``)
  and bare names are unpinned (``version`` None, ``spec`` the requirement as written);
- extras are dropped from the name, an environment marker goes to ``marker``;
- ``-e .`` / ``-e ./path`` / a local file or folder (``./x.whl``, ``name @ file:...``)
  are ``local``; ``-e git+...#egg=name``, ``name @ https://...`` and bare URLs are unpinned;
- ``-r``/``--requirement`` includes are read relative to the including file;
  ``-c``/``--constraint`` files pin the versions of packages listed elsewhere and
  add none (a constraint that contradicts a pin is an error, as it is for pip);
- ``\\`` continuations, comments, ``--hash`` and other per-line options are understood;
  option lines (``--index-url``, ``--find-links``, ``--no-binary``...) are ignored.

An invalid line, a missing include or an include cycle raises LockfileError
naming the file and the line.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from devenv.environment.lockfiles import LockfileError, read_text
from devenv.environment.model import Locked

# pip's own rules (pip._internal.req.req_file): a comment starts at "#" at the
# start of a line or after whitespace, so "#egg=" inside a URL survives.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION = re.compile(r"(--[A-Za-z0-9-]+|-[A-Za-z])(?:=|\s+)?(.*)$")
# Per-requirement options (--hash, --config-settings...) follow the requirement.
_TRAILING_OPTIONS = re.compile(r"\s+(?=--?[A-Za-z])")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")
_EXTRAS_SUFFIX = re.compile(r"\[[^\]]*\]$")
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")

_INCLUDE = {"-r", "--requirement"}
_CONSTRAINT = {"-c", "--constraint"}
_EDITABLE = {"-e", "--editable"}


@dataclass(frozen=True)
class _Pin:
    version: str | None
    path: Path
    line: int


def read_requirements(path: Path) -> tuple[tuple[Locked, ...], tuple[Path, ...]]:
    """The packages ``path`` asks for, and the absolute paths of the files it included."""
    reader = _Reader()
    reader.read(Path(path), stack=(), constraint=False)
    packages = reader.apply_constraints()
    root = Path(path).absolute()
    includes = tuple(p for p in dict.fromkeys(reader.files) if p != root)
    return tuple(dict.fromkeys(packages)), includes


class _Reader:
    def __init__(self) -> None:
        self.packages: list[tuple[Locked, Path, int]] = []
        self.constraints: dict[str, _Pin] = {}
        self.files: list[Path] = []

    def read(
        self,
        path: Path,
        *,
        stack: tuple[Path, ...],
        constraint: bool,
        cited_at: tuple[Path, int] | None = None,
    ) -> None:
        absolute = path.absolute()
        if absolute in stack:
            assert cited_at is not None  # the first file cannot be in an empty stack
            chain = " -> ".join(p.name for p in (*stack, absolute))
            raise LockfileError(
                cited_at[0],
                f"includes {path}, which is already being read (a cycle: {chain})",
                line=cited_at[1],
                hint="remove one of the -r/-c lines of the cycle",
            )
        text = read_text(path, tool="requirements", cited_at=cited_at)
        self.files.append(absolute)
        stack = (*stack, absolute)
        for number, line in _logical_lines(text):
            self._line(path, number, line, stack=stack, constraint=constraint)

    def _line(
        self, path: Path, number: int, line: str, *, stack: tuple[Path, ...], constraint: bool
    ) -> None:
        if line.startswith("-"):
            option = _OPTION.match(line)
            name, value = (option.group(1), option.group(2).strip()) if option else (line, "")
            if name in _INCLUDE or name in _CONSTRAINT:
                # What a constraints file includes constrains too (pip would add it).
                target = _first_word(value, path, number, f"{name} needs a file name")
                included = path.parent / Path(target).expanduser()
                self.read(
                    included,
                    stack=stack,
                    constraint=constraint or name in _CONSTRAINT,
                    cited_at=(path, number),
                )
            elif name in _EDITABLE:
                target = _first_word(value, path, number, f"{name} needs a path or URL")
                self._add(_editable(target, path, number), path, number, constraint)
            # Every other option (--index-url, --find-links, --hash, --no-binary, --pre, ...)
            # changes where or how pip installs, not what: nothing to record.
            return
        requirement = _TRAILING_OPTIONS.split(line, maxsplit=1)[0].strip()
        self._add(_requirement(requirement, path, number), path, number, constraint)

    def _add(self, package: Locked, path: Path, number: int, constraint: bool) -> None:
        if not constraint:
            self.packages.append((package, path, number))
        elif not package.local:
            self.constraints.setdefault(package.name, _Pin(package.version, path, number))

    def apply_constraints(self) -> list[Locked]:
        result = []
        for package, path, number in self.packages:
            pin = self.constraints.get(package.name)
            if pin is None or pin.version is None or package.local:
                result.append(package)
            elif package.version is None:
                result.append(replace(package, version=pin.version))
            elif _same_version(package.version, pin.version):
                result.append(package)
            else:
                raise LockfileError(
                    path,
                    f"{package.name} is pinned to {package.version} here, but "
                    f"{pin.path}:{pin.line} constrains it to {pin.version}",
                    line=number,
                    hint="make the two agree (pip refuses to install either)",
                )
        return result


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with continuations joined and comments removed."""
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        comment = "#" in raw and _COMMENT.match(raw) is not None
        # A comment line ends a continuation, as in pip.
        if not raw.endswith("\\") or comment:
            if pending:
                pending.append("" if comment else raw)
                line, at = "".join(pending), first
                pending = []
            else:
                line, at = raw, number
            line = _strip_comment(line)
            if line:
                yield at, line
        else:
            if not pending:
                first = number
            pending.append(raw[:-1])
    if pending:
        line = _strip_comment("".join(pending))
        if line:
            yield first, line


def _strip_comment(line: str) -> str:
    return (_COMMENT.sub("", line) if "#" in line else line).strip()


def _first_word(value: str, path: Path, number: int, missing: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise LockfileError(path, f"cannot read this line ({exc})", line=number) from None
    if not words:
        raise LockfileError(path, missing, line=number)
    return words[0]


@functools.cache
def _pin_pattern() -> re.Pattern:
    from packaging.version import VERSION_PATTERN

    return re.compile(
        rf"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*({VERSION_PATTERN})\s*",
        re.VERBOSE | re.IGNORECASE,
    )


def _plain_pin(text: str) -> Locked | None:
    """``name==1.2`` without extras or marker, the lines of a compiled file, read
    without packaging's full parser (a tenth of the time)."""
    found = _pin_pattern().fullmatch(text)
    if found is None:
        return None
    from packaging.utils import canonicalize_name

    return Locked(name=canonicalize_name(found.group(1)), version=found.group(2))


def _requirement(text: str, path: Path, number: int) -> Locked:
    plain = _plain_pin(text)
    if plain is not None:
        return plain
    if not _NAMED_URL.match(text) and _looks_like_location(text):
        return _location(text, path, number, editable=False)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise LockfileError(
            path,
            f"{text!r} is not a valid requirement ({reason})",
            line=number,
            hint="write it as name==version (PEP 508)",
        ) from None
    name = canonicalize_name(requirement.name)
    marker = str(requirement.marker) if requirement.marker else None
    if requirement.url:
        # pip also takes a plain path after "@" (name @ ./libs/x): local too.
        local = requirement.url.startswith("file:") or not _URL.match(requirement.url)
        return Locked(name=name, version=None, spec=text, marker=marker, local=local)
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1:
        only = specifiers[0]
        if only.operator in ("==", "===") and not only.version.endswith(".*"):
            return Locked(name=name, version=only.version, marker=marker)
    return Locked(name=name, version=None, spec=text, marker=marker)


def _editable(target: str, path: Path, number: int) -> Locked:
    return _location(target, path, number, editable=True)


def _looks_like_location(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    return (
        bool(_URL.match(head))
        or head.startswith((*_VCS, "file:", ".", "/", "~"))
        or head.endswith(_ARCHIVES)
        or "/" in head
        or "\\" in head
    )


def _location(text: str, path: Path, number: int, *, editable: bool) -> Locked:
    """A line that is a path or a URL, with no ``name @`` in front."""
    from packaging.utils import canonicalize_name

    location, marker = text, None
    # pip's rule for URLs and paths: the marker follows "; " (a URL may hold ";").
    if "; " in text:
        location, _, marker_text = text.partition("; ")
        location, marker = location.strip(), _marker(marker_text.strip(), path, number)
    fragment = urlsplit(location).fragment if "#" in location else ""
    egg = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    remote = bool(_URL.match(location)) and not location.startswith("file:")
    if remote or location.startswith(_VCS):
        name = egg.group(1) if egg else _archive_name(urlsplit(location).path)
        if name is None:
            raise LockfileError(
                path,
                f"cannot tell which package {location!r} is",
                line=number,
                hint="write it as `name @ URL` (or add #egg=name)",
            )
        spec = f"-e {text}" if editable else text
        return Locked(name=canonicalize_name(name), version=None, spec=spec, marker=marker)
    # A folder may carry extras (-e .[dev], ./pkg[fast]): they name no file.
    local = _local_path(_EXTRAS_SUFFIX.sub("", location.split("#", 1)[0]), path)
    name = egg.group(1) if egg else _archive_name(local.name) or _project_name(local)
    spec = f"-e {location}" if editable else location
    # Named after its folder at worst (".": the folder the requirements file is in).
    name = canonicalize_name(name or os.path.basename(os.path.abspath(local)))
    return Locked(name=name, version=None, spec=spec, marker=marker, local=True)


def _marker(text: str, path: Path, number: int) -> str:
    from packaging.markers import InvalidMarker, Marker

    try:
        return str(Marker(text))
    except InvalidMarker as exc:
        reason = str(exc).splitlines()[0]
        raise LockfileError(path, f"invalid environment marker ({reason})", line=number) from None


def _local_path(location: str, requirements: Path) -> Path:
    if location.startswith("file:"):
        from urllib.request import url2pathname

        parts = urlsplit(location)
        local = Path(url2pathname(unquote(parts.path)))
        # file:./x and file:x are relative, as pip allows.
        return local if local.is_absolute() else requirements.parent / local
    local = Path(location).expanduser()
    return local if local.is_absolute() else requirements.parent / local


def _archive_name(filename: str) -> str | None:
    """The project name in a wheel or sdist file name, else None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    filename = filename.rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _project_name(folder: Path) -> str | None:
    """[project] name in the folder's pyproject.toml, if it can be read."""
    import tomllib

    try:
        with open(folder / "pyproject.toml", "rb") as file:
            data = tomllib.load(file)
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    if name is None:
        poetry = data.get("tool", {}).get("poetry", {})
        name = poetry.get("name") if isinstance(poetry, dict) else None
    return name if isinstance(name, str) else None


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b
