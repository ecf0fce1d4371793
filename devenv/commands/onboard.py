"""``devenv onboard [--reset] [--no-tui] [--json] [--message M]``: the first-day onboarding.

``--no-tui`` runs the steps in the terminal: every step devenv can do by
itself is done; at the step only the person can do (the edit) it prints what
to do and, when stdin is a terminal, waits for it (watchdog) and goes on;
when stdin is not a terminal it stops there. Exit codes: 0 every step done, 4
stopped at a step the person must do, 1 a step failed (130 on Ctrl-C; the
progress is kept, and the next run resumes there). ``--json`` prints
``{"steps": [{"id", "title", "state", "seconds"}], "total_seconds"}`` and
changes nothing.

On a terminal (stdin and stdout), without ``--no-tui``, the same run is shown
in the TUI's onboarding screen (devenv.tui.onboarding_app, Textual imported
only then), with the same exit codes; elsewhere the command runs as with
``--no-tui``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from devenv.errors import UsageError
from devenv.events import Event
from devenv.onboarding.model import Result, StepView, duration


def onboard(args: argparse.Namespace) -> int:
    from devenv.config import load_project
    from devenv.onboarding.flow import Onboarding
    from devenv.onboarding.policy import exit_code

    if args.json and args.reset:
        raise UsageError("--json changes nothing, so it cannot --reset: run them one at a time")
    config = load_project(Path.cwd())
    if args.json:
        onboarding = Onboarding(config, message=args.message)
        onboarding.survey()
        print(json.dumps(onboarding.as_json(), indent=2))
        return 0
    if not args.no_tui and sys.stdin.isatty() and sys.stdout.isatty():
        from devenv.tui.onboarding_app import run_onboarding_tui

        return run_onboarding_tui(config, message=args.message, reset=args.reset)
    printer = StepPrinter(sys.stdout)
    onboarding = Onboarding(config, emit=printer, message=args.message)
    printer.titles = {step.id: step.title for step in onboarding.steps}
    if args.reset:
        forgot = onboarding.reset()
        printer.say(
            f"started over: {'progress and times forgotten' if forgot else 'there was no progress'}"
            " (your git work is as it was; the steps check it)"
        )
    printer.say(
        f"onboarding {onboarding.person.shown} to {config.project.name}: "
        f"{len(onboarding.steps)} steps"
        + ("" if onboarding.progress.started_at is None else ", resuming")
    )
    try:
        result = onboarding.run(wait=sys.stdin.isatty())
    except KeyboardInterrupt:
        printer.say("stopped; `devenv onboard` resumes where you were")
        return 130
    printer.ending(result)
    return exit_code(result.ending)


class StepPrinter:
    """The onboarding's events as plain lines (an ``Emit``); safe from any thread."""

    INDENT = "       "

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.titles: dict[str, str] = {}  # the steps in order: id -> title
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def _number(self, step_id: str) -> str:
        order = list(self.titles)
        if step_id in order:
            return f"[{order.index(step_id) + 1}/{len(order)}]"
        return "[?]"

    def __call__(self, event: Event) -> None:
        from devenv.onboarding.events import (
            OnboardingFinished,
            PersonAwaited,
            StepChanged,
            StepOutput,
            StepStarted,
        )

        match event:
            case StepStarted(name=step_id):
                self.say(f"{self._number(step_id):<6} {self.titles.get(step_id, step_id)}")
            case StepOutput(line=line):
                self.say(f"{self.INDENT}| {line}")
            case StepChanged(step=view) if not view.running and (
                not view.waiting or view.state == "failed"
            ):
                self._result(view)
            case PersonAwaited(instruction=instruction):
                self.say(f"{self.INDENT}-> {instruction}")
                self.say(
                    f"{self.INDENT}waiting for it (devenv sees the change by itself); "
                    "Ctrl-C stops, `devenv onboard` resumes here"
                )
            case OnboardingFinished():
                pass  # ending() prints the summary once the run returns

    def _result(self, view: StepView) -> None:
        if view.state == "done":
            self.say(f"{self.INDENT}done ({duration(view.seconds)}): {view.message}")
        elif view.state == "skipped":
            self.say(f"{self.INDENT}skipped: {view.message or 'skipped by you'}")
        elif view.state == "todo":
            self.say(f"{self.INDENT}to do: {view.message}")
            if view.todo:
                self.say(f"{self.INDENT}-> {view.todo}")
        else:
            self.say(f"{self.INDENT}FAILED: {view.message}")
            for line in view.tail:
                self.say(f"{self.INDENT}| {line}")
            if view.todo:
                self.say(f"{self.INDENT}-> {view.todo}")

    def ending(self, result: Result) -> None:
        if result.ending == "done":
            width = max([len("total time to first ship"), *(len(v.title) for v in result.steps)])
            self.say("")
            self.say(f"Done: shipped on your first day, in {duration(result.total_seconds)}.")
            for view in result.steps:
                shown = "skipped" if view.state == "skipped" else duration(view.seconds)
                self.say(f"  {view.title:<{width}}  {shown:>12}")
            self.say(
                f"  {'total time to first ship':<{width}}  {duration(result.total_seconds):>12}"
            )
            return
        step = result.step
        assert step is not None
        where = f"{self._number(step.id)} {step.title}"
        if result.ending == "failed":
            self.say(f"\nStopped: step {where} failed: {step.message}")
            if step.todo:
                self.say(f"What to do: {step.todo}")
            return
        what = step.todo or step.hint or step.message
        self.say(f"\nYour turn: step {where}: {what}")
        self.say("Then run `devenv onboard` again: it goes on from there.")
