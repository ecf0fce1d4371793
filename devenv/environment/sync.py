"""Running a sync: the installers' commands in order, their output streamed, nothing half-done.

Each step's output goes to the ``emit`` callback as it comes and into
``.devenv/logs/deps.log``, so it can still be read after the TUI is gone. A
failed step stops the sync and leaves the environment as it was: uv resolves
and downloads everything before it changes the virtualenv, a virtualenv this
sync created is removed again (nothing but the failed install is in it), and
``node_modules`` is moved aside before ``npm ci`` (which empties it first)
and put back if the install fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from devenv.config import Config
from devenv.environment.activation import activate
from devenv.environment.indexes import uv_environment
from devenv.environment.installers import Step
from devenv.environment.project import ProjectEnv
from devenv.errors import DevenvError
from devenv.events import Emit, SyncFinished, SyncOutput, SyncStarted, SyncStepStarted
from devenv.project.layout import Layout

NAME = "deps"  # the name sync events and the sync log go by


class SyncFailed(DevenvError):
    pass


class Sync:
    """One run of ``steps``; ``cancel()`` (from another thread) stops the running command."""

    def __init__(self, config: Config, env: ProjectEnv, steps: list[Step], emit: Emit) -> None:
        self.config = config
        self.env = env
        self.steps = steps
        self.emit = emit
        self._proc: subprocess.Popen | None = None
        self._venv_was_there: bool | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)

    def _made_venv(self) -> bool:
        """Whether this sync created the virtualenv (then a failure removes it again)."""
        return self._venv_was_there is False and self.env.venv.is_dir()

    def run(self, reason: str = "") -> float:
        """Run every step; return the seconds it took. Raises SyncFailed (environment unchanged)."""
        started = time.monotonic()
        # Anything at the venv's path before the sync is never removed, whatever happens.
        self._venv_was_there = os.path.lexists(self.env.venv)
        displays = tuple(step.display for step in self.steps)
        self.emit(SyncStarted(NAME, displays, reason))
        from devenv.supervisor.streamed import open_log

        log_path = self.config.root / ".devenv" / "logs" / f"{NAME}.log"
        with _sync_lock(self.config.root), open_log(log_path, f"sync: {reason or 'asked'}") as log:
            try:
                for index, step in enumerate(self.steps):
                    self._run_step(index, step, log)
            except SyncFailed as failed:
                self.emit(SyncFinished(NAME, False, time.monotonic() - started, str(failed)))
                raise
        seconds = time.monotonic() - started
        self.emit(SyncFinished(NAME, True, seconds))
        return seconds

    def _run_step(self, index: int, step: Step, log: IO[str]) -> None:
        self.emit(SyncStepStarted(NAME, index, len(self.steps), step.display))
        log.write(f"$ {step.display}\n")
        base = activate(self.env, os.environ)
        child_env = {**base, **uv_environment(base), **step.env}
        aside = self._move_node_modules_aside() if step.argv[1:2] == ("ci",) else None
        code = self._spawn(step, child_env, log)
        if code == 0 and not self._cancelled.is_set():
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)
            return
        if self._made_venv():
            shutil.rmtree(self.env.venv, ignore_errors=True)  # made by this sync, moments ago
        if aside is not None:
            shutil.rmtree(self.env.node_modules, ignore_errors=True)
            with contextlib.suppress(OSError):  # left in .devenv/ then, for a person to see
                os.rename(aside, self.env.node_modules)
        if self._cancelled.is_set():
            raise SyncFailed(f"the sync was stopped during `{step.display}`; nothing changed")
        hint = f". Probably {step.hint}" if step.hint else ""
        raise SyncFailed(
            f"`{step.display}` failed with exit code {code}; the environment is as it was "
            f"before{hint}. Its output: `devenv logs {NAME}`"
        )

    def _spawn(self, step: Step, env: dict[str, str], log: IO[str]) -> int:
        from devenv.supervisor.streamed import pump, spawn

        try:
            self._proc = proc = spawn(
                step.argv[0] if step.shell else step.argv, cwd=self.config.root, env=env
            )
        except OSError as err:
            raise SyncFailed(f"cannot run `{step.display}`: {err.strerror}") from None
        if self._cancelled.is_set():
            self.cancel()
        return pump(proc, log, lambda line: self.emit(SyncOutput(NAME, line)))

    def _move_node_modules_aside(self) -> Path | None:
        if not self.env.node_modules.is_dir():
            return None
        aside = self.config.root / ".devenv" / "node_modules.previous"
        shutil.rmtree(aside, ignore_errors=True)
        try:
            os.rename(self.env.node_modules, aside)
        except OSError:
            return None  # another filesystem, say: then a failed `npm ci` cannot be undone
        return aside


@contextlib.contextmanager
def _sync_lock(root: Path) -> Iterator[None]:
    """One sync at a time per project (``devenv sync`` while ``devenv up`` syncs waits)."""
    path = Layout(root).sync_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
