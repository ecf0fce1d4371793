"""The onboarding screen: the ordered checklist, what to do next for the current step, the output
of what a step runs, and the done screen with each step's time and the total time to first ship.

A thin view over ``devenv.onboarding.flow.Onboarding``, which an
``OnboardingDriver`` runs on its own thread; the core's events arrive as
messages. Keys: Enter or r runs the onboarding from the current step (a
failed step is retried), k skips the step under the cursor, Esc closes the
screen (a run in progress is stopped; the progress stays, so it resumes).

Each time the screen is shown it runs the onboarding when ``autorun`` (``devenv
onboard``) or once a run was asked for; otherwise it only checks every step
(``devenv up`` opens it by itself: nothing changes in the person's repository
before they press Enter). It is dismissed with the last run's ``Result``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Log, Static

from devenv.errors import DevenvError
from devenv.events import Event
from devenv.onboarding.events import (
    OnboardingFinished,
    PersonAwaited,
    StepChanged,
    StepOutput,
    StepStarted,
)
from devenv.onboarding.flow import Onboarding
from devenv.onboarding.model import Result, StepView, duration
from devenv.tui.onboarding_checklist import FINISHED, Checklist, current
from devenv.tui.onboarding_done import DonePanel
from devenv.tui.onboarding_driver import Make, OnboardingDriver

OUTPUT_LINES = 2_000


def next_move(
    view: StepView, instruction: str, *, started: bool, busy: bool
) -> list[tuple[str, str]]:
    """What the "now" panel says of the current step ``view``: (text, style) lines. The
    person's instruction (``PersonAwaited``) is the most exact "what to do next"."""
    todo = view.todo or view.hint
    if view.waiting:
        lines = [(f"Your turn: {view.title}", "bold $text-warning")]
        if view.state == "failed":
            lines.append((view.message, "$text-error"))
        lines.append((f"→ {instruction or todo or view.message}", ""))
        lines.append(("devenv sees it by itself and goes on.", "$text-muted"))
        return lines
    if view.running:
        lines = [(f"▶ {view.title}: running…", "bold $text-accent")]
        if view.message:
            lines.append((view.message, "$text-muted"))
        return lines
    if view.state == "failed":
        lines = [(f"✗ {view.title} failed: {view.message}", "bold $text-error")]
        if todo:
            lines.append((f"→ {todo}", ""))
        lines.append(("Enter runs it again · k skips it", "$text-muted"))
        return lines
    lines = [(f"Next: {view.title}", "bold")]
    if view.message:
        lines.append((view.message, "$text-muted"))
    if todo:
        lines.append((f"→ {todo}", ""))
    if not busy:
        what = "goes on from here" if started else "starts: devenv does each step it can"
        lines.append((f"Enter {what} · k skips this step · Esc closes", "$text-muted"))
    return lines


class OnboardingScreen(Screen[Result | None]):
    """See the module's docstring. ``driver`` is this screen's ``OnboardingDriver``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # The checklist's own Enter says "Run/retry" in the footer while it has the focus.
        Binding("enter", "run", "Run/retry", show=False),
        Binding("r", "run", "Run/retry", show=False),
        Binding("k", "skip", "Skip step"),
        Binding("escape", "close", "Close"),
    ]

    FLUSH_EVERY = 0.1
    """Seconds between two moves of a step's output lines into the log (batched)."""

    class CoreEvent(Message):
        """An event of the onboarding (a step started, changed, printed a line, ...)."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Ready(Message):
        """The core is built: every step as recorded, who is onboarding, whether it is over."""

        def __init__(
            self, views: tuple[StepView, ...], person: str, finished: bool, total_seconds: float
        ) -> None:
            super().__init__()
            self.views = views
            self.person = person
            self.finished = finished
            self.total_seconds = total_seconds

    class Idle(Message):
        """The driver has nothing left to do; ``result``: how the run it ran ended."""

        def __init__(self, result: Result | None) -> None:
            super().__init__()
            self.result = result

    class Failed(Message):
        """A command of the driver raised ``error``."""

        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    def __init__(self, make: Make, *, project: str, autorun: bool) -> None:
        """``make(emit)`` builds the core (on the driver's thread); ``project`` is shown in the
        title; ``autorun``: run the onboarding each time the screen is shown."""
        super().__init__()
        self.project = project
        self.autorun = autorun
        self.driver = OnboardingDriver(
            make,
            on_event=self._from_core,
            on_ready=self._core_ready,
            on_idle=lambda result: self.post_message(self.Idle(result)),
            on_error=lambda error: self.post_message(self.Failed(error)),
        )
        self.views: dict[str, StepView] = {}
        """Each step as last shown, in order."""
        self.person = ""
        self.finished = False
        """Every step is done: the done screen is shown."""
        self._instructions: dict[str, str] = {}
        self._pointed: str | None = None
        self._headed: str | None = None  # the step whose title was written above its output
        self._busy = False
        self._opened = False  # shown, and not closed since (a palette or dialog on top, closed)
        self._error = ""
        # (step id, line) from the driver's thread; a line None: the step (re)started.
        self._lines: list[tuple[str, str | None]] = []
        self._lines_lock = threading.Lock()

    def _from_core(self, event: Event) -> None:
        # On the driver's thread. A step's output (a test suite's thousands of lines) goes to
        # a buffer that a timer writes in batches, not a message a line.
        if isinstance(event, StepOutput | StepStarted):
            line = event.line if isinstance(event, StepOutput) else None
            with self._lines_lock:
                self._lines.append((event.name, line))
            if isinstance(event, StepOutput):
                return
        self.post_message(self.CoreEvent(event))

    def _core_ready(self, onboarding: Onboarding) -> None:
        # On the driver's thread: views are safe to read there (each is replaced whole).
        self.post_message(
            self.Ready(
                onboarding.views,
                onboarding.person.shown,
                onboarding.finished,
                onboarding.total_seconds,
            )
        )

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label(Content.styled(f"Onboarding · {self.project}", "bold"), id="onboarding-title")
        yield Checklist(id="onboarding-steps")
        yield Static(id="onboarding-now")
        yield Log(max_lines=OUTPUT_LINES, id="onboarding-output")
        yield DonePanel(id="onboarding-done")
        yield Footer()

    @property
    def checklist(self) -> Checklist:
        return self.query_one("#onboarding-steps", Checklist)

    @property
    def output(self) -> Log:
        return self.query_one("#onboarding-output", Log)

    @property
    def now(self) -> Static:
        return self.query_one("#onboarding-now", Static)

    @property
    def done_panel(self) -> DonePanel:
        return self.query_one("#onboarding-done", DonePanel)

    def on_mount(self) -> None:
        self.set_interval(self.FLUSH_EVERY, self.flush_output)
        self.checklist.focus()
        self.now.update(Content.styled("Looking at each step…", "$text-muted"))

    def on_screen_resume(self) -> None:
        if self._opened:
            return  # back from a screen on top of this one (the palette, the quit dialog)
        self._opened = True
        self._busy = True
        if self.autorun or self.driver.started:
            self.driver.run()
        else:
            self.driver.survey()

    async def on_unmount(self) -> None:
        # Nothing of the onboarding outlives the screen (a test command gets SIGTERM).
        await asyncio.to_thread(self.driver.close)

    # -- what the core says ------------------------------------------------------------

    @on(Ready)
    def _ready(self, message: Ready) -> None:
        self.views = {view.id: view for view in message.views}
        self.person = message.person
        self.query_one("#onboarding-title", Label).update(self._title())
        self.checklist.show(message.views)
        if message.finished:
            self._finish(message.total_seconds)
        self._show_now()

    @on(CoreEvent)
    def _core_event(self, message: CoreEvent) -> None:
        match message.event:
            case StepStarted():
                self._error = ""
            case StepChanged(step=view) if self.views:
                # (Before Ready: a change made while the core was built, --reset's, which
                # Ready's views include; the rows are added then, in order.)
                self.flush_output()  # the log says what led to the change when it shows
                self.views[view.id] = view
                self.checklist.show([view])
                self.query_one("#onboarding-title", Label).update(self._title())
                self._show_now()
            case PersonAwaited(name=step_id, instruction=instruction):
                self._instructions[step_id] = instruction
                self._show_now()
            case OnboardingFinished(steps=steps, total_seconds=total):
                self.views = {view.id: view for view in steps}
                self.checklist.show(steps)
                self._finish(total)

    @on(Idle)
    def _idle(self, message: Idle) -> None:
        self._busy = self.driver.busy
        self._show_now()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        error = message.error
        if isinstance(error, DevenvError):
            self._error = str(error)
        else:
            self._error = f"{type(error).__name__}: {error} (a bug in devenv: please report it)"
        self._show_now()

    # -- rendering -------------------------------------------------------------------

    def _title(self) -> Content:
        views = list(self.views.values())
        done = sum(view.state in FINISHED for view in views)
        total = sum(view.seconds for view in views)
        who = f" · {self.person}" if self.person else ""
        return Content.assemble(
            (f"Onboarding · {self.project}", "bold"),
            (f"{who} · {done}/{len(views)} done · {duration(total)} so far", "$text-muted"),
        )

    def progress_line(self) -> str:
        """Where the person is, in a line for the dashboard's header once the screen is closed:
        "3/10 done · next: Tests pass", or "done" once every step is."""
        if self.finished:
            return "done"
        views = list(self.views.values())
        done = sum(view.state in FINISHED for view in views)
        line = f"{done}/{len(views)} done"
        if (view := current(views)) is not None:
            line += f" · next: {view.title}"
        return line

    def _show_now(self) -> None:
        if self.finished:
            return
        if self._error:
            self.now.update(
                Content.assemble(
                    ("The onboarding stopped: ", "bold $text-error"),
                    (self._error, ""),
                    ("\nEnter tries again · Esc closes", "$text-muted"),
                )
            )
            return
        view = current(self.views.values())
        if view is None:
            return
        if view.id != self._pointed:
            self._pointed = view.id
            self.checklist.point_at(view.id)
        lines = next_move(
            view,
            self._instructions.get(view.id, "") if view.waiting else "",
            started=self.autorun or self.driver.started,
            busy=self._busy,
        )
        self.now.update(Content("\n").join(Content.styled(text, style) for text, style in lines))

    def _finish(self, total_seconds: float) -> None:
        self.finished = True
        self.done_panel.show(list(self.views.values()), total_seconds)
        self.add_class("-done")
        self.set_focus(None)  # the checklist is hidden: its Enter leaves the footer
        self.query_one("#onboarding-title", Label).update(self._title())
        self.refresh_bindings()

    def flush_output(self) -> None:
        """Move the buffered output lines into the log (a timer calls this every FLUSH_EVERY).

        A step's title goes above its first line of each run: a step that prints nothing
        (a check that passes) leaves no title behind. Lines wait until the steps are known
        (the Ready message), so a heading is always the step's title, never its id."""
        if not self.views:
            return
        with self._lines_lock:
            taken, self._lines = self._lines, []
        lines = []
        for step_id, line in taken:
            if line is None:
                self._headed = None
                continue
            if self._headed != step_id:
                self._headed = step_id
                title = self.views[step_id].title if step_id in self.views else step_id
                lines.append(f"▶ {title}")
            lines.append(line)
        if lines:
            self.output.write_lines(lines)

    # -- keys ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Once every step is done there is nothing to run or skip: only Esc is offered.
        return not (self.finished and action in ("run", "skip"))

    def action_run(self) -> None:
        running = next((view for view in self.views.values() if view.running), None)
        if running is not None:
            self.notify(f"{running.title}: running already.")
            return
        if self.finished:
            self.notify("Every step is done: Esc closes.")
            return
        self._error = ""
        self._busy = True
        self.driver.run()
        self._show_now()

    @on(DataTable.RowSelected, "#onboarding-steps")
    def _row_selected(self) -> None:
        self.action_run()

    def action_skip(self) -> None:
        step_id = self.checklist.highlighted
        view = self.views.get(step_id) if step_id else None
        if view is None:
            return
        if view.state in FINISHED:
            self.notify(f"{view.title}: {view.state} already.")
            return
        self._busy = True
        self.driver.skip(view.id)

    def action_close(self) -> None:
        self._opened = False
        self.driver.stop()
        self.dismiss(self.driver.result)
