"""The onboarding's done screen: the change shipped, each step's time, and the total time to first
ship (the same figures as ``devenv onboard --no-tui`` prints at the end)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from devenv.onboarding.model import StepView, duration

TOTAL = "total time to first ship"


def done_lines(views: Iterable[StepView], total_seconds: float) -> list[tuple[str, str]]:
    """(title, time) per step, a skipped step's time being "skipped", then the total."""
    lines = [
        (view.title, "skipped" if view.state == "skipped" else duration(view.seconds))
        for view in views
    ]
    return [*lines, (TOTAL, duration(total_seconds))]


class DonePanel(Static):
    """Hidden until ``show``."""

    def show(self, views: Iterable[StepView], total_seconds: float) -> None:
        lines = done_lines(views, total_seconds)
        width = max(len(title) for title, _ in lines)
        rows = [
            Content.styled(
                f"  {title:<{width}}  {time:>12}", "bold" if title == TOTAL else "$text-muted"
            )
            for title, time in lines
        ]
        headline = Content.styled(
            f"✓ Done: shipped on your first day, in {duration(total_seconds)}.",
            "bold $text-success",
        )
        self.update(Content("\n").join([headline, Content(""), *rows]))
        self.add_class("-shown")
