"""Drift seen live: watchdog on the lockfiles and the installed sets, one recompute per burst.

A ``git checkout`` rewriting ten files, or an install writing thousands,
gives one recompute: events only (re)start a quiet-period timer, and the drift
is computed once nothing has happened for ``quiet`` seconds (or ``cap``
seconds after the first event, so a never-ending stream still shows up).
Only the top level of the project, the virtualenv's site-packages and
node_modules are watched (not recursively): a package appearing or leaving is
an entry there.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.environment.model import Drift
from devenv.environment.project import ProjectEnv

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver, ObservedWatch

OnDrift = Callable[[dict[Path, Drift]], None]


class DriftWatcher:
    def __init__(
        self,
        env: ProjectEnv,
        on_drift: OnDrift,
        *,
        quiet: float = 0.1,
        cap: float = 5.0,
        compute: Callable[[ProjectEnv], dict[Path, Drift]] | None = None,
    ) -> None:
        self.env = env
        self.on_drift = on_drift
        self.quiet = quiet
        self.cap = cap
        self.recomputes = 0  # how many times the drift was computed (tests, benchmarks)
        self._compute = compute
        # Lockfiles, and what they pull in (-r includes, the pyproject.toml or package.json
        # beside them: their fingerprints cover those), as learnt from each recompute.
        self._files = {str(path) for path in env.lockfiles}
        self._cond = threading.Condition()
        self._first: float | None = None
        self._last = 0.0
        self._paused = 0
        self._stopped = False
        self._observer: BaseObserver | None = None
        self._watched: dict[str, ObservedWatch] = {}
        self._installed: set[Path] = set()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> DriftWatcher:
        from watchdog.observers import Observer

        observer = self._observer = Observer()
        observer.daemon = True
        self._watch_folders()
        observer.start()
        self._thread = threading.Thread(target=self._loop, name="devenv-drift", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def pause(self) -> None:
        """Ignore changes (devenv's own sync is writing); ``resume`` recomputes once."""
        with self._cond:
            self._paused += 1

    def resume(self) -> None:
        with self._cond:
            self._paused = max(0, self._paused - 1)
        self._watch_folders()  # a sync may have created the venv or node_modules
        self.changed()

    # -- events ------------------------------------------------------------------

    def changed(self) -> None:
        """Something relevant changed: (re)start the quiet period."""
        now = time.monotonic()
        with self._cond:
            if self._paused:
                return
            if self._first is None:
                self._first = now
            self._last = now
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and self._first is None:
                    self._cond.wait()
                first = self._first
                if self._stopped or first is None:  # None only once stopped
                    return
                now = time.monotonic()
                due = min(self._last + self.quiet, first + self.cap)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                self._first = None
            self._recompute()

    def _recompute(self) -> None:
        from devenv.environment.drift import check

        compute = self._compute or check
        self.recomputes += 1
        try:
            drifts = compute(self.env)
        except OSError:
            return  # a folder vanished mid-way (an install replacing it): the next event retries
        for drift in drifts.values():
            self._files.update(str(path) for path in drift.details.get("includes", ()))
        self._watch_folders()
        self.on_drift(drifts)

    # -- what is watched -----------------------------------------------------------

    def _folders(self) -> list[Path]:
        folders = [self.env.root, *sorted({Path(file).parent for file in self._files})]
        if self.env.python_lockfiles:
            folders += sorted(self.env.venv.glob("lib/python*/site-packages"))
            folders.append(self.env.venv)  # pyvenv.cfg: another Python
        if self.env.node_lockfiles:
            folders.append(self.env.node_modules)
        return folders

    def _installed_folders(self) -> set[Path]:
        """Folders any change in which is a change of the installed set."""
        found = set(self.env.venv.glob("lib/python*/site-packages")) | {self.env.venv}
        return {*found, self.env.node_modules}

    def _watch_folders(self) -> None:
        from watchdog.events import FileSystemEventHandler

        if self._observer is None:
            return
        watcher = self
        self._installed = self._installed_folders()

        class Handler(FileSystemEventHandler):
            def __init__(self, folder: Path) -> None:
                self.folder = folder

            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                if self.folder in watcher._installed:
                    watcher.changed()
                    return
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    path = str(path) if path else ""
                    if path in watcher._files or path in (
                        str(watcher.env.venv),
                        str(watcher.env.node_modules),
                    ):
                        watcher.changed()
                        return

        for key, watch in list(self._watched.items()):
            if not Path(key).is_dir():  # removed (a venv made anew): watch the new one later
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)
                del self._watched[key]
        for folder in self._folders():
            key = str(folder)
            if key in self._watched or not folder.is_dir():
                continue
            try:
                self._watched[key] = self._observer.schedule(Handler(folder), key, recursive=False)
            except OSError:
                continue  # gone again, or out of inotify watches: drift is still checked on demand
