"""``devenv onboard`` on a terminal: a small app that hosts the onboarding screen and nothing else.

It runs the onboarding at once (the person asked for it) and ends when the
screen is closed (Esc, q or Ctrl+C), after the run in progress has stopped,
with the exit codes of ``devenv onboard --no-tui``: 0 every step done, 4
stopped at a step the person must do (or closed before the end), 1 a step
failed. What ``--no-tui`` would have said last is printed to the terminal
afterwards, so it stays in the scrollback.
"""

from __future__ import annotations

import sys
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from devenv.config import Config
from devenv.events import Emit
from devenv.onboarding.flow import Onboarding
from devenv.onboarding.model import Result
from devenv.onboarding.policy import exit_code
from devenv.tui.onboarding_driver import Make
from devenv.tui.onboarding_screen import OnboardingScreen

FAILED_TO_RUN = 1  # the onboarding could not even be looked at (its error is printed)


class OnboardingApp(App[int]):
    TITLE = "devenv onboard"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "close", "Quit", show=False),
        Binding("ctrl+c", "close", "Quit", show=False, priority=True),
    ]

    def __init__(self, make: Make, *, project: str) -> None:
        super().__init__()
        self.onboarding_screen = OnboardingScreen(make, project=project, autorun=True)
        self.result: Result | None = None
        """How the last run ended, once the app has exited."""
        self.error: BaseException | None = None

    def on_mount(self) -> None:
        self.push_screen(self.onboarding_screen, callback=self._screen_closed)

    def action_close(self) -> None:
        if self.screen is self.onboarding_screen:
            self.onboarding_screen.action_close()

    def _screen_closed(self, result: Result | None) -> None:
        self._wait_and_exit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="close", description="close")
    def _wait_and_exit(self) -> None:
        driver = self.onboarding_screen.driver
        driver.close()  # the run stopped by Esc returns its last Result
        self.result, self.error = driver.result, driver.error
        if self.result is not None:
            code = exit_code(self.result.ending)
        else:
            code = FAILED_TO_RUN if self.error is not None else exit_code("cancelled")
        self.call_from_thread(self.exit, code, return_code=code)


def run_onboarding_tui(config: Config, *, message: str | None = None, reset: bool = False) -> int:
    """Run the onboarding screen on this terminal; return ``devenv onboard``'s exit code."""
    from devenv.commands.onboard import StepPrinter

    def make(emit: Emit) -> Onboarding:
        onboarding = Onboarding(config, emit=emit, message=message)
        if reset:
            onboarding.reset()
        return onboarding

    app = OnboardingApp(make, project=config.project.name)
    app.run()
    code = app.return_code if app.return_code is not None else FAILED_TO_RUN
    if app.error is not None:
        print(f"devenv onboard: {app.error}", file=sys.stderr)
    elif app.result is not None:
        printer = StepPrinter(sys.stdout)
        printer.titles = {view.id: view.title for view in app.result.steps}
        printer.ending(app.result)
    return code
