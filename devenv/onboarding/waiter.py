"""Waiting for the person: re-check a step each time a watched file changes (watchdog).

``wait_until(done, paths, cancelled)`` returns True once ``done()`` is true,
False when ``cancelled`` is set (a face quit). Editors save by writing a
temporary file and renaming it, so the folders holding the paths are watched,
not the files. A slow re-check every ``poll`` seconds backs watchdog up
(a change it cannot see: a network file system, a step with nothing to watch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

POLL = 2.0  # seconds between re-checks when no event comes
QUIET = 0.05  # an editor's save is a burst of events: check once it settles


def wait_until(
    done: Callable[[], bool],
    paths: Iterable[Path],
    cancelled: threading.Event,
    *,
    poll: float = POLL,
    on_check: Callable[[], None] | None = None,
) -> bool:
    """Block until ``done()`` (True) or ``cancelled`` (False); see the module's docstring."""
    changed = threading.Event()
    observer = _watch(paths, changed)
    stop_relay = threading.Event()
    # One event wakes the loop for both a change and a cancel.
    relay = threading.Thread(
        target=_relay, args=(cancelled, changed, stop_relay), daemon=True, name="devenv-onboard"
    )
    relay.start()
    try:
        while not cancelled.is_set():
            if done():
                return True
            if on_check is not None:
                on_check()
            if changed.wait(poll):
                cancelled.wait(QUIET)
                changed.clear()
        return False
    finally:
        stop_relay.set()
        if observer is not None:
            observer.stop()
            observer.join(timeout=2)


def _relay(cancelled: threading.Event, changed: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        if cancelled.wait(0.1):
            changed.set()
            return


def _watch(paths: Iterable[Path], changed: threading.Event) -> BaseObserver | None:
    """A started watchdog Observer on the folders of ``paths`` (None when nothing can be
    watched: then only the poll re-checks)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    targets: dict[Path, set[str] | None] = {}
    for path in paths:
        if path.is_dir():
            targets[path] = None  # anything in it
        elif path.parent.is_dir():
            names = targets.setdefault(path.parent, set())
            if names is not None:
                names.add(path.name)
    if not targets:
        return None

    class Handler(FileSystemEventHandler):
        def __init__(self, names: set[str] | None) -> None:
            self.names = names

        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return  # reads change nothing
            if self.names is None:
                changed.set()
                return
            touched = {Path(str(event.src_path)).name}
            if getattr(event, "dest_path", ""):
                touched.add(Path(str(event.dest_path)).name)
            if touched & self.names:
                changed.set()

    observer = Observer()
    observer.daemon = True
    for folder, names in targets.items():
        try:
            observer.schedule(Handler(names), str(folder), recursive=False)
        except OSError:  # out of inotify watches: the poll still re-checks
            continue
    observer.start()
    return observer
