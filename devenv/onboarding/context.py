"""What a step's check and action work with: the project, its repository, the person's progress,
the output callback, and commands run with their output streamed (and stopped on cancel).

Commands run in their own session with stdin closed, their output stripped
of ANSI codes, handed line by line to ``output`` and appended to
``.devenv/logs/onboarding.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.config import Config, OnboardingConfig
from devenv.onboarding.git import Git
from devenv.onboarding.progress import Progress, StepRecord
from devenv.project.layout import Layout

if TYPE_CHECKING:
    import subprocess

TAIL = 20  # lines of a failed command's output kept for the person to read


@dataclass(frozen=True)
class Ran:
    command: str
    code: int
    tail: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.code == 0


@dataclass
class StepContext:
    """One step's view of the onboarding. ``record`` is the step's own progress record."""

    config: Config
    onboarding: OnboardingConfig
    progress: Progress
    record: StepRecord
    output: Callable[[str], None]
    cancelled: threading.Event
    message: str | None = None  # --message: the commit's message
    start_processes: Callable[[StepContext], None] | None = None
    total_seconds: Callable[[], float] = lambda: 0.0  # the person's time so far, this step's too
    _running: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def layout(self) -> Layout:
        return Layout(self.config.root)

    @property
    def git(self) -> Git:
        return Git(self.config.root)

    def base(self) -> str | None:
        """The commit the person's change is compared with: main's commit when the onboarding
        began (kept in the progress, so commits on main later do not move it)."""
        git = self.git
        if self.progress.base and git.rev(self.progress.base):
            return self.progress.base
        return git.rev(git.main_branch())

    def shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    # -- commands ------------------------------------------------------------------

    def project_env(self, *, services: bool) -> dict[str, str]:
        """The environment commands run in: the project's virtualenv first on PATH, and with
        ``services`` the services' variables (DATABASE_URL, ...), as `devenv run` gives."""
        if services and self.config.services:
            from devenv.services.stack import Stack

            return Stack(self.config).child_env()
        from devenv.environment.activation import activate
        from devenv.environment.project import ProjectEnv

        return activate(ProjectEnv.from_config(self.config), os.environ)

    def sh(self, command: str, *, env: dict[str, str] | None = None) -> Ran:
        """Run ``command`` in the shell at the project root, its output streamed."""
        from devenv.supervisor.streamed import open_log, pump, spawn

        tail: list[str] = []

        def on_line(line: str) -> None:
            tail[:] = [*tail[-(TAIL - 1) :], line]
            self.output(line)

        self.output(f"$ {command}")
        with open_log(self.layout.log_file("onboarding"), f"$ {command}") as log:
            try:
                proc = spawn(command, cwd=self.root, env=dict(os.environ) if env is None else env)
            except OSError as err:
                return Ran(command, 127, (f"cannot run it: {err.strerror}",))
            self._running.append(proc)
            try:
                if self.cancelled.is_set():
                    self._stop(proc)
                code = pump(proc, log, on_line)
            finally:
                self._running.remove(proc)
            log.write(f"--- exit code {code}\n")
        return Ran(command, code, tuple(tail))

    def stop_commands(self) -> None:
        """Stop what runs now (the onboarding was cancelled): SIGTERM to each command's group."""
        for proc in list(self._running):
            self._stop(proc)

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already
            os.killpg(proc.pid, signal.SIGTERM)
