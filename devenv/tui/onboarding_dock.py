"""The dashboard's side of the onboarding (``devenv up``): the ``o`` key, and the onboarding screen
opened by itself once the services are up for a person who has not finished it.

A caller (``DevenvApp``) may rely on:

- ``offer(session)`` after the session started: when the project has an
  [onboarding] table, ``o`` is offered; when this person has not finished
  the onboarding (``devenv.onboarding.progress.onboarded``, asked on a worker
  thread), the screen opens by itself, once: after the person closes it, only
  ``o`` brings it back in this ``devenv up`` (the core's progress stays the
  truth: the next ``devenv up`` offers it again until every step is done);
- the screen is one for the whole ``devenv up`` (installed), so a run asked
  for with Enter resumes when it is reopened; opened by itself it only checks
  the steps until the person presses Enter;
- its "processes up, the app answering" step uses the session's processes
  (a process that is stopped, exited or crashed is started again) instead of a
  background ``devenv up``;
- ``check_action`` hides ``o`` where there is no onboarding, and the
  dashboard's keys while the onboarding screen is shown (they act on rows it
  hides), all but quit;
- ``stop()`` ends a run in progress (quitting devenv).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from devenv.state import State

if TYPE_CHECKING:
    from textual.app import App

    from devenv.config import Config
    from devenv.events import Emit
    from devenv.onboarding.context import StepContext
    from devenv.onboarding.flow import Onboarding
    from devenv.session import Session
    from devenv.tui.onboarding_screen import OnboardingScreen

# The onboarding's modules are imported when the project has one: the dashboard of a project
# without it starts without them.

SCREEN = "onboarding"
DOWN = frozenset({State.STOPPED, State.EXITED, State.CRASHED})  # the "app" step starts it again
ALWAYS = frozenset({"quit"})  # the dashboard's actions kept while the onboarding is shown


def session_processes(session: Session) -> Callable[[StepContext], None]:
    """The onboarding's ``start_processes`` inside ``devenv up``: the session's own processes."""

    def start(ctx: StepContext) -> None:
        for row in session.rows():
            if row.kind == "process" and row.state in DOWN:
                ctx.output(f"starting {row.name} ({row.state})")
                session.start_process(row.name)

    return start


class OnboardingDock:
    def __init__(self, app: App, show: Callable[[str], object] = lambda line: None) -> None:
        """``show(line)``: where the person is, for the dashboard's header, each time the
        screen closes ("" while it is shown or there is nothing to say)."""
        self.app = app
        self._show = show
        self.config: Config | None = None
        self.screen: OnboardingScreen | None = None
        self.dismissed = False
        """The person closed the screen in this ``devenv up``: it does not open by itself."""
        self._session: Session | None = None

    @property
    def available(self) -> bool:
        """The project has an [onboarding] table (known once the session started)."""
        return self.config is not None and self.config.onboarding is not None

    def offer(self, session: Session) -> None:
        # A stand-in session without a config (the TUI's tests) has no onboarding.
        config = getattr(session, "config", None)
        if config is None or config.onboarding is None:
            return
        self.config, self._session = config, session
        self.app.refresh_bindings()
        self.app.run_worker(
            lambda: self._ask(config),
            thread=True,
            exit_on_error=False,
            group="onboarding",
            description="onboarding",
        )

    def _ask(self, config: Config) -> None:
        from devenv.onboarding.progress import onboarded

        if not onboarded(config.root):
            self.app.call_from_thread(self._open_by_itself)

    def _open_by_itself(self) -> None:
        # Only over the dashboard alone: never over the quit dialog or the command palette.
        if not self.dismissed and len(self.app.screen_stack) == 1:
            self.open()

    def open(self) -> None:
        """Show the onboarding screen (``o``)."""
        if not self.available or self.is_shown:
            return
        if self.screen is None:
            from devenv.tui.onboarding_screen import OnboardingScreen

            assert self.config is not None  # self.available says so
            project = self.config.project.name
            self.screen = OnboardingScreen(self._make, project=project, autorun=False)
            self.app.install_screen(self.screen, SCREEN)
        self._show("")
        self.app.push_screen(SCREEN, callback=self._closed)

    @property
    def is_shown(self) -> bool:
        return self.screen is not None and self.app.screen is self.screen

    def _make(self, emit: Emit) -> Onboarding:
        from devenv.onboarding.flow import Onboarding

        assert self.config is not None and self._session is not None
        return Onboarding(self.config, emit=emit, start_processes=session_processes(self._session))

    def _closed(self, result: object) -> None:
        self.dismissed = True
        if self.screen is not None:
            progress = self.screen.progress_line()
            # The header keeps it while the dashboard is shown: o takes the person back.
            tail = "" if progress == "done" else " · o continues (your progress is kept)"
            self._show(f"onboarding: {progress}{tail}")

    def check_action(self, action: str) -> bool | None:
        """False for an action to hide and refuse now; None when the dock has no say."""
        if action == "onboarding":
            return self.available and not self.is_shown
        if self.is_shown and action not in ALWAYS:
            return False
        return None

    def stop(self) -> None:
        """End a run of the onboarding in progress (devenv is quitting)."""
        if self.screen is not None:
            self.screen.driver.stop()
