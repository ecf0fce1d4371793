"""``Onboarding``: runs a project's onboarding steps in order for one person, and keeps their
progress. The CLI (``devenv onboard``) and the TUI are views over it.

A caller may rely on:

- ``views`` is the ordered list of ``StepView`` at any moment (safe to read
  from another thread: each view is replaced whole);
- every change is emitted as it happens, from the thread that runs:
  ``StepStarted``, ``StepOutput`` (lines of what a step runs), ``StepChanged``,
  ``PersonAwaited`` (waiting for the person's edit) and ``OnboardingFinished``;
- ``survey()`` runs every check and changes nothing (what ``--json`` prints);
- ``run(wait=...)`` goes through the steps, doing each one it can, and returns
  a ``Result`` when all are done, when it stops at a step a person must do
  (``wait=False``; with ``wait=True`` it waits there, re-checking on each
  change of the watched files), when a step failed, or when ``cancel()`` was
  called from another thread (a running command is stopped, a wait returns);
- ``skip(id)`` and ``reset()`` change the record;
- progress and each step's seconds are saved after every step, so quitting at
  any point resumes there; once every step was done, the onboarding is
  finished and later runs show that record instead of checking again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from devenv.config import Config
from devenv.errors import DevenvError
from devenv.events import Emit, ignore
from devenv.onboarding import policy
from devenv.onboarding.catalog import onboarding_config, steps_for
from devenv.onboarding.context import StepContext
from devenv.onboarding.events import (
    OnboardingFinished,
    PersonAwaited,
    StepChanged,
    StepOutput,
    StepStarted,
)
from devenv.onboarding.model import Ending, Outcome, Result, Step, StepFailed, StepView
from devenv.onboarding.progress import Person, Progress, StepRecord, who


class Onboarding:
    def __init__(
        self,
        config: Config,
        *,
        emit: Emit = ignore,
        person: Person | None = None,
        message: str | None = None,
        start_processes: Callable[[StepContext], None] | None = None,
        steps: list[Step] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.onboarding = onboarding_config(config)
        self.person = person if person is not None else who(config.root)
        self.progress = Progress.load(config.root, self.person)
        self.steps = steps if steps is not None else steps_for(config)
        self.emit = emit
        self.message = message
        self.start_processes = start_processes
        self._clock = clock
        self._cancelled = threading.Event()
        self._contexts: list[StepContext] = []
        self._views: dict[str, StepView] = {step.id: self._recorded(step) for step in self.steps}

    # -- what a face reads -------------------------------------------------------------

    @property
    def views(self) -> tuple[StepView, ...]:
        return tuple(self._views[step.id] for step in self.steps)

    @property
    def finished(self) -> bool:
        return self.progress.finished_at is not None

    @property
    def total_seconds(self) -> float:
        return policy.total_seconds(view.seconds for view in self.views)

    def as_json(self) -> dict:
        """``{"steps": [{"id", "title", "state", "seconds"}], "total_seconds"}``."""
        return {
            "steps": [view.as_json() for view in self.views],
            "total_seconds": self.total_seconds,
        }

    def _recorded(self, step: Step) -> StepView:
        record = self.progress.steps.get(step.id)
        state = policy.shown_state(
            None, record.state if record else None, skipped=bool(record and record.skipped)
        )
        return StepView(
            id=step.id,
            title=step.title,
            state=state,
            seconds=record.seconds if record else 0.0,
            message=record.message if record else "",
            hint=step.hint or "",
        )

    def _show(self, view: StepView) -> StepView:
        self._views[view.id] = view
        self.emit(StepChanged(view.id, view))
        return view

    # -- looking, changing nothing -------------------------------------------------------

    def survey(self) -> tuple[StepView, ...]:
        """Every step's state as its check sees it now; saves nothing, runs no action."""
        if self.finished:
            return self.views
        for step in self.steps:
            record = self.progress.steps.get(step.id)
            ctx = self._context(step, record or StepRecord())
            outcome = self._check(step, ctx)
            state = policy.shown_state(
                outcome.state,
                record.state if record else None,
                skipped=bool(record and record.skipped),
            )
            self._show(
                replace(
                    self._views[step.id], state=state, message=outcome.message, todo=outcome.todo
                )
            )
        return self.views

    # -- running -----------------------------------------------------------------------

    def run(self, *, wait: bool = False) -> Result:
        """Do every step that is not done, in order; see the module's docstring."""
        self._cancelled.clear()
        if self.finished:
            return self._finish()
        self._begin()
        for step in self.steps:
            if self._cancelled.is_set():
                return self._result("cancelled", step)
            how = self._run(step, wait=wait)
            if how in ("fail", "stop", "wait"):
                # A step shown failed failed on its own (one that cancel() stopped is shown
                # "stopped before it finished"): a cancel that came after says nothing of it.
                failed = how == "fail" and self._views[step.id].state == "failed"
                if self._cancelled.is_set() and not failed:
                    return self._result("cancelled", step)
                return self._result(policy.ending((), how), step)
        return self._finish()

    def skip(self, step_id: str) -> StepView:
        """Mark a step skipped by the person: runs go past it until ``reset()``."""
        step = self._step(step_id)
        record = self.progress.step(step.id)
        record.skipped = True
        self.progress.save()
        return self._show(replace(self._views[step.id], state="skipped", running=False))

    def reset(self) -> bool:
        """Forget this person's progress and times (git work is never undone: the checks see
        it as it is). True when there was a record."""
        existed = self.progress.reset()
        for step in self.steps:
            self._show(self._recorded(step))
        return existed

    def cancel(self) -> None:
        """From any thread: stop a running command, end a wait; ``run`` returns "cancelled"."""
        self._cancelled.set()
        for ctx in list(self._contexts):
            ctx.stop_commands()

    # -- inside ------------------------------------------------------------------------

    def _step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        from devenv.errors import did_you_mean

        known = [step.id for step in self.steps]
        raise DevenvError(f"no onboarding step '{step_id}'{did_you_mean(step_id, known)}")

    def _begin(self) -> None:
        if self.progress.started_at is None:
            self.progress.begin()
            from devenv.onboarding.git import Git

            git = Git(self.config.root)
            try:
                if git.is_repository():
                    self.progress.base = git.rev(git.main_branch())
            except DevenvError:  # no git at all: the git steps say so
                pass
            self.progress.save()

    def _context(self, step: Step, record: StepRecord) -> StepContext:
        return StepContext(
            config=self.config,
            onboarding=self.onboarding,
            progress=self.progress,
            record=record,
            output=lambda line: self.emit(StepOutput(step.id, line)),
            cancelled=self._cancelled,
            message=self.message,
            start_processes=self.start_processes,
        )

    @staticmethod
    def _check(step: Step, ctx: StepContext) -> Outcome:
        try:
            return step.check(ctx)
        except DevenvError as err:
            return Outcome.failed(str(err))

    def _run(self, step: Step, *, wait: bool) -> policy.Move:
        record = self.progress.step(step.id)
        if record.skipped:
            self._show(replace(self._views[step.id], state="skipped"))
            return "next"
        was_done = record.state == "done"
        ctx = self._context(step, record)
        started = self._clock()
        ctx.total_seconds = lambda: self._recorded_total() + self._clock() - started
        self._contexts.append(ctx)
        self.emit(StepStarted(step.id))
        self._show(replace(self._views[step.id], running=True, tail=()))
        outcome = Outcome.not_yet("")
        how: policy.Move = "stop"
        tail: tuple[str, ...] = ()
        acted = ""
        try:
            while True:
                acted = ""
                try:
                    outcome, how, acted = self._attempt(step, ctx, wait)
                except StepFailed as failed:
                    outcome, how = Outcome.failed(failed.message, failed.todo), "fail"
                    tail = failed.tail
                    # With the person there, a failed test or lint is theirs to fix: wait for
                    # them to save a change, then run it again.
                    if wait and step.retry_on_change and self._wait_for_fix(step, ctx, failed):
                        tail = ()
                        continue
                break
        except DevenvError as err:
            outcome, how = Outcome.failed(str(err)), "fail"
        finally:
            self._contexts.remove(ctx)
            if self._cancelled.is_set() and outcome.state == "failed":
                # A command stopped by cancel() "fails": it was not the step's fault.
                outcome, tail = Outcome.not_yet("stopped before it finished", "run it again"), ()
            if acted and outcome.state == "done":
                outcome = replace(outcome, message=f"{acted}; {outcome.message}")
            if policy.counts_time(was_done, outcome.state):
                record.seconds = round(record.seconds + self._clock() - started, 3)
            record.state = outcome.state
            record.message = outcome.message
            self.progress.save()
            self._show(
                replace(
                    self._views[step.id],
                    state=outcome.state,
                    seconds=record.seconds,
                    message=outcome.message,
                    todo=outcome.todo,
                    tail=tuple(tail),
                    running=False,
                    waiting=False,
                )
            )
        return how

    def _attempt(
        self, step: Step, ctx: StepContext, wait: bool
    ) -> tuple[Outcome, policy.Move, str]:
        """Check, act when the check says so, check again; wait for the person when it is
        theirs. Returns the last outcome, the move it led to and what the action did."""
        acted: str | None = None
        while True:
            outcome = self._check(step, ctx)
            how = policy.move(
                outcome, has_action=step.action is not None, acted=acted is not None, wait=wait
            )
            if how == "act" and self._cancelled.is_set():
                return outcome, "stop", acted or ""  # cancelled while checking: do nothing more
            if how == "act":
                assert step.action is not None
                acted = step.action(ctx) or ""
                continue
            if how == "fail" and outcome.state == "todo":  # the action did not do it
                outcome = Outcome.failed(f"{outcome.message} (after devenv {acted})", outcome.todo)
            if how == "wait" and self._wait(step, ctx, outcome):
                continue  # the person did it: check once more, then go on
            return outcome, how, acted or ""

    def _wait(self, step: Step, ctx: StepContext, outcome: Outcome) -> bool:
        from devenv.onboarding.waiter import wait_until

        instruction = outcome.todo or step.hint or outcome.message
        self._show(
            replace(
                self._views[step.id],
                state="todo",
                message=outcome.message,
                todo=outcome.todo,
                waiting=True,
            )
        )
        self.emit(PersonAwaited(step.id, instruction))
        paths = step.watch(ctx) if step.watch is not None else ()
        return wait_until(lambda: self._check(step, ctx).state == "done", paths, self._cancelled)

    def _wait_for_fix(self, step: Step, ctx: StepContext, failed: StepFailed) -> bool:
        """Show the failure, then wait until the work tree changes (True) or a cancel (False)."""
        from devenv.onboarding.change import watch_tree
        from devenv.onboarding.waiter import wait_until

        self._show(
            replace(
                self._views[step.id],
                state="failed",
                message=failed.message,
                todo=failed.todo,
                tail=failed.tail,
                running=False,
                waiting=True,
            )
        )
        git = ctx.git
        before = git.tree_fingerprint()
        todo = failed.todo.split(", then ")[0] if failed.todo else "fix it"
        self.emit(PersonAwaited(step.id, f"{todo}, and save: devenv runs it again"))
        changed = wait_until(
            lambda: git.tree_fingerprint() != before, watch_tree(ctx), self._cancelled
        )
        if changed:
            self._show(
                replace(self._views[step.id], state="todo", running=True, waiting=False, tail=())
            )
        return changed

    def _recorded_total(self) -> float:
        return sum(record.seconds for record in self.progress.steps.values())

    def _result(self, ending: Ending, step: Step | None) -> Result:
        return Result(
            ending=ending,
            steps=self.views,
            step=self._views[step.id] if step is not None else None,
            total_seconds=self.total_seconds,
        )

    def _finish(self) -> Result:
        if self.progress.finished_at is None:
            self.progress.finished_at = time.time()
            self.progress.save()
        self.emit(OnboardingFinished("onboarding", self.views, self.total_seconds))
        return self._result("done", None)
