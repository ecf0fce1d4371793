"""Where a problem that stops devenv (missing binary, taken port, bad config) is shown."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ErrorPanel(Static):
    """Hidden until ``show``; the message is the core's own, which says what to do."""

    def show(self, title: str, message: str, hint: str = "") -> None:
        parts = [Content.styled(title, "bold"), Content("\n"), Content(message)]
        if hint:
            parts += [Content("\n\n"), Content.styled(hint, "italic")]
        self.update(Content.assemble(*parts))
        self.add_class("-shown")
