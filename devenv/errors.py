"""Errors meant for people, and what the CLI says when a command fails.

- A ``DevenvError`` is a problem the user can fix: the CLI prints it without a traceback.
- An OSError about a file (a folder that is read-only, a file where a folder belongs, a full
  disk) is the machine's state, not a bug: ``describe_os_error`` names the path and what to do.
- Any other exception is a bug in devenv: ``report_bug`` writes the full trace to a file under
  ``$XDG_STATE_HOME/devenv/`` (default ``~/.local/state/devenv/``) and prints one line that says
  so and where; exit code 70 (EX_SOFTWARE). When no file can be written, the trace follows
  the line on stderr, so it is never lost.

The reporting code imports what it needs when a command has failed: the CLI's start-up does not
pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class DevenvError(Exception):
    """A problem the user can fix; ``str()`` says what and how.

    ``exit_code`` is what the CLI exits with (2 for usage and config mistakes,
    1 for everything else).
    """

    exit_code = 1


class UsageError(DevenvError):
    """A command used the wrong way (a name that does not exist, a folder that cannot be
    entered, a snapshot name that cannot be used): exit code 2, like argparse's own errors."""

    exit_code = 2


class ConfigError(DevenvError):
    """A mistake in a config file (devenv.toml, pyproject.toml, Procfile, a recipe).

    The message names the file, the line where it is known, and the key.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# -- when a command fails by something other than a DevenvError -------------------------------

BUG_EXIT_CODE = 70  # sysexits.h EX_SOFTWARE: an internal software error


def describe_os_error(err: OSError) -> str:
    """One line for people: the path, what is wrong with it, what to do."""
    import errno
    import os

    if err.filename is None:
        return f"{err.strerror or err}"
    paths = [Path(os.fsdecode(p)) for p in (err.filename2, err.filename) if p is not None]
    path = paths[-1]
    code = err.errno
    if code in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        for candidate in paths:
            blocker = _in_the_way(candidate)
            if blocker is not None and blocker.is_symlink():
                return (
                    f"{blocker} is a symbolic link to '{os.readlink(blocker)}', which does "
                    "not exist; fix or remove the link"
                )
            if blocker is not None and code != errno.ENOENT:
                return (
                    f"{blocker} is not a folder, but devenv keeps files in it; move it away "
                    "and try again"
                )
    if code in (errno.EISDIR, errno.EEXIST):
        folder = next((p for p in paths if p.is_dir()), path)
        return f"{folder} is a folder where devenv expects a file; move it away and try again"
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"{path}: Permission denied; devenv needs to use it: check the owner and mode of "
            f"it and of its folder (ls -ld '{path}' '{path.parent}')"
        )
    if code == errno.EROFS:
        return f"{path}: the file system is read-only; run devenv where it may write"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"{path}: no space left on the disk (or over quota); free some and try again"
    return f"{path}: {err.strerror or err}"


def _in_the_way(path: Path) -> Path | None:
    """The first of ``path``'s parents and ``path`` that is a dangling link or exists and is
    not a folder."""
    for candidate in (*reversed(path.parents), path):
        if candidate.is_symlink() and not candidate.exists():
            return candidate
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def report_bug(err: BaseException, argv: list[str]) -> int:
    """Say on stderr that ``err`` is a bug and where its trace is; return the exit code."""
    import sys
    import traceback

    from devenv import __version__

    trace = "".join(traceback.format_exception(err))
    summary = f"{type(err).__name__}: {err}".splitlines()[0][:300]
    where = _write_trace(trace, argv, __version__)
    head = f"devenv: internal error (a bug in devenv {__version__}): {summary}"
    if where is not None:
        print(
            f"{head}; the full trace is in {where} (please attach it to a bug report)",
            file=sys.stderr,
        )
    else:
        print(f"{head}; no file could be written for its trace, so here it is:", file=sys.stderr)
        print(trace, file=sys.stderr, end="")
    return BUG_EXIT_CODE


def _write_trace(trace: str, argv: list[str], version: str) -> Path | None:
    import datetime
    import os
    import sys

    from devenv.files import state_dir

    now = datetime.datetime.now()
    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
        # The trace may show paths and values of the project: its owner's alone.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.write(f"devenv {version}, Python {sys.version.split()[0]}, {sys.platform}\n")
            out.write(f"time: {now.isoformat(timespec='seconds')}\n")
            out.write(f"argv: {argv!r}\n")
            out.write(f"cwd: {os.getcwd()}\n\n")
            out.write(trace)
        return path
    except (OSError, RuntimeError):  # RuntimeError: Path.home() with no home to find
        return None
