"""A bounded, thread-safe hand-over of log lines from the supervisor's thread to the UI.

The producer never waits and memory never grows: when the UI falls behind, the
oldest lines are dropped (every line is still in ``.devenv/logs/``) and
counted, so the UI can say how many it skipped. The consumer need not poll:
``on_waiting`` is called once when lines wait and no drain has taken them yet.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

Line = TypeVar("Line")


class LineBuffer(Generic[Line]):
    """Lines of several sources, oldest first, at most ``maxlen`` of them."""

    def __init__(
        self, maxlen: int = 20_000, on_waiting: Callable[[], object] | None = None
    ) -> None:
        """``on_waiting``: called (on the putting thread, outside the lock) by the first
        ``put`` after a ``drain``, or after creation: lines wait until the next drain, and
        no other call comes before it. It must not block (post a message, set an event)."""
        self._lines: collections.deque[tuple[str, Line]] = collections.deque(maxlen=maxlen)
        self._dropped = 0
        self._lock = threading.Lock()
        self._on_waiting = on_waiting
        self._waiting = False  # on_waiting was called and no drain came since

    def put(self, name: str, lines: Iterable[Line]) -> None:
        """Add a batch of ``name``'s lines; callable from any thread."""
        batch = [(name, line) for line in lines]
        if not batch:
            return
        with self._lock:
            overflow = len(self._lines) + len(batch) - (self._lines.maxlen or 0)
            if overflow > 0:
                self._dropped += overflow
            self._lines.extend(batch)
            wake, self._waiting = not self._waiting, True
        if wake and self._on_waiting is not None:
            self._on_waiting()

    def drain(self) -> tuple[list[tuple[str, Line]], int]:
        """Everything buffered, oldest first, and how many lines were dropped since last time."""
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
            dropped, self._dropped = self._dropped, 0
            self._waiting = False
        return lines, dropped

    def __len__(self) -> int:
        return len(self._lines)
