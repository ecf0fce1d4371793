"""A command whose output is shown as it comes and kept in a log: hooks and installs.

Both run in their own session (a stop can signal the whole tree), read no
input, and have stdout and stderr merged into one stream of lines, stripped
of ANSI codes, written to the log file and handed to a callback.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO


def spawn(command: str | Sequence[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start ``command`` (a string runs in the shell); raises OSError when it cannot start."""
    return subprocess.Popen(
        command if isinstance(command, str) else list(command),
        shell=isinstance(command, str),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def pump(proc: subprocess.Popen, log: IO[str], on_line: Callable[[str], None]) -> int:
    """Each line of ``proc``'s output to ``log`` and ``on_line``, until it exits; its exit code."""
    from devenv.supervisor.proclog import strip_ansi

    assert proc.stdout is not None
    for raw in proc.stdout:
        line = strip_ansi(raw.decode("utf-8", "replace").rstrip("\r\n"))
        log.write(line + "\n")
        on_line(line)
    return proc.wait()


def open_log(path: Path, header: str) -> IO[str]:
    """``path`` opened for appending (owner-only), with a dated ``--- header`` line."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    log = os.fdopen(fd, "a", encoding="utf-8")
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {header}\n")
    return log
