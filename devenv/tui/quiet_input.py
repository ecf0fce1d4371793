"""Textual's terminal driver, with an input thread that sleeps while no key comes.

Textual's ``LinuxDriver`` reads keys on a thread that wakes ten times a second (a 0.1 s
``select``), key or not: on the idle dashboard that thread was the largest part of the UI's
own CPU (0.18 % of a core; issue 12's goal for the whole ``devenv up`` is 0.5 %). Here the
same loop waits IDLE_WAIT seconds at a time once no input came for QUIET_AFTER seconds.

What a caller may rely on: input is read as soon as it arrives, whatever the wait (the
``select`` returns on it); the short waits Textual needs after a key (a lone Esc is told
from an escape sequence by a 0.1 s pause) are kept for QUIET_AFTER seconds after any input;
only the end of the input thread, when the app stops without a key (a signal, the terminal
gone), may take up to IDLE_WAIT seconds longer.
"""

from __future__ import annotations

import selectors
import sys
import time
from types import SimpleNamespace

from textual.drivers.linux_driver import LinuxDriver

QUIET_AFTER = 2.0  # seconds without input before the waits grow
IDLE_WAIT = 1.0  # seconds a wait then lasts at most


def wait(timeout: float | None, since_input: float, registered: bool) -> float | None:
    """How long a ``select(timeout)`` waits, ``since_input`` seconds after the last input:
    as asked, or IDLE_WAIT at least once QUIET_AFTER seconds passed (with nothing
    registered, as the loop's last read at its end, a select only sleeps: as asked)."""
    if timeout is None or not registered or since_input <= QUIET_AFTER:
        return timeout
    return max(timeout, IDLE_WAIT)


class QuietSelector(selectors.SelectSelector):
    """A ``SelectSelector`` whose short timeouts grow to IDLE_WAIT while no input comes."""

    def __init__(self) -> None:
        super().__init__()
        self.last_input = time.monotonic()
        """``time.monotonic()`` when input last came (or the selector was made)."""

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        since = time.monotonic() - self.last_input
        ready = super().select(wait(timeout, since, bool(self.get_map())))
        if ready:
            self.last_input = time.monotonic()
        return ready


# What Textual's input loop finds as ``selectors`` in its module: the same, but this selector.
_SELECTORS = SimpleNamespace(EVENT_READ=selectors.EVENT_READ, SelectSelector=QuietSelector)


class QuietLinuxDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread runs Textual's own loop with a QuietSelector."""

    def run_input_thread(self) -> None:
        # The loop looks ``selectors`` up in its module's globals once, as it starts; only
        # this thread uses them (one driver a process).
        sys.modules[LinuxDriver.__module__].selectors = _SELECTORS  # type: ignore[attr-defined]
        super().run_input_thread()
