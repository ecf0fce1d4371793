"""The devenv dashboard: services and processes, their logs, and the actions on them.

The app owns no devenv logic. It calls ``Session`` from thread workers (the
session's methods block) and renders what they post back; the core's
callbacks arrive on other threads and only ever ``post_message`` or fill the
``LineBuffer``, which a timer drains into the log pane in batches.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual import events, on, work
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import BindingType
from textual.command import Provider
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input
from textual.worker import Worker, WorkerState

from devenv.console import describe
from devenv.errors import DevenvError
from devenv.events import (
    DriftCleared,
    DriftFound,
    Event,
    HookOutput,
    Notice,
    ServiceFailed,
    ServiceReady,
    ServiceStopped,
    SyncFinished,
    SyncOutput,
    SyncStarted,
    SyncStepStarted,
)
from devenv.state import DOWN, UP, State, Status
from devenv.supervisor.events import ProcessExited, ProcessStopped
from devenv.supervisor.hangup import GRACE, Guard
from devenv.supervisor.proclog import LogLine
from devenv.tui.commands import DevenvCommands
from devenv.tui.details_pane import DetailsPane
from devenv.tui.drift_banner import SYNC_KEY, DriftBanner
from devenv.tui.error_panel import ErrorPanel
from devenv.tui.header import ProjectHeader
from devenv.tui.help_screen import HelpScreen
from devenv.tui.key_footer import KeyFooter
from devenv.tui.keys import ROW_ACTIONS, help_sections, key, row_action_applies
from devenv.tui.line_buffer import LineBuffer
from devenv.tui.log_view import MAX_LINES, LogView, OwnLine
from devenv.tui.messages import (
    ControlDone,
    CoreEvent,
    ParityChecked,
    RowsSampled,
    SessionStarted,
    SessionStopped,
    StopProgress,
    SyncDone,
    TailLoaded,
)
from devenv.tui.notice_bar import Note, NoticeBar
from devenv.tui.onboarding_dock import OnboardingDock
from devenv.tui.quit_screen import QuitScreen
from devenv.tui.status_table import StatusTable, health_from_event

if TYPE_CHECKING:  # the core's session: imported by the start, after the first frame
    from devenv.session import Session, StopSummary

DEPS_EVENTS = (DriftFound, DriftCleared, SyncStarted, SyncStepStarted, SyncFinished)
SERVICE_CHANGES = (ServiceFailed, ServiceReady, ServiceStopped)
CLIENTS = {"psql": "postgres", "redis_cli": "redis"}  # the service each client needs
# What applies of these changes with the selected row and the session's state (DevenvApp.applies).
CHANGING = (*ROW_ACTIONS, "restart_all", *CLIENTS, "copy_urls", "log_path")
OVER_SCREENS = frozenset({"quit", "close", "help"})  # the keys kept over the help, the quit dialog


class SessionFactory(Protocol):
    def __call__(
        self, *, on_event: Callable[[Event], None], on_lines: Callable[[str, list], None]
    ) -> Session: ...


class Parity(Protocol):
    """What devenv.environment.parity says of one [prod] name (a service, "python", "node")."""

    prod: str  # the version prod runs, as [prod] says it
    local: str | None  # the version here; None: none found
    state: str  # ok | patch | minor | major | missing
    message: str  # for people, with what to do about it


ParityCheck = Callable[["Session"], Mapping[str, Parity]]


def parity_entry(name: str, parity: Parity) -> tuple[str, str, str, str]:
    """What the header shows of one comparison: ``("postgres", "16 (dev 15.4)", "major",
    parity.message)``; the version here only when it differs."""
    shown = parity.prod
    if parity.state != "ok" and parity.local:
        shown += f" (dev {parity.local})"
    return name, shown, parity.state, parity.message


def app_urls(rows: list[Status]) -> tuple[tuple[str, str], ...]:
    """(name, ``http://127.0.0.1:PORT/``) of each process that listens, on its lowest port."""
    return tuple(
        (row.name, f"http://127.0.0.1:{min(row.ports)}/")
        for row in rows
        if row.kind == "process" and row.state in UP and row.ports
    )


class DevenvApp(App[int]):
    """``devenv up`` in a terminal: start everything, show it, stop it all on the way out."""

    TITLE = "devenv"
    CSS_PATH = "app.tcss"
    # devenv's actions only: Textual's own (themes, screenshots, its key panel) are not the
    # person's business here, and the help screen lists the keys.
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {DevenvCommands}
    # The one table of keys (devenv.tui.keys): the footer shows them in this order, most
    # useful first, as many as fit; the help screen groups them; the palette lists the titled.
    BINDINGS: ClassVar[list[BindingType]] = [
        key("q", "quit", "Quit", "app", "stop all and quit", "Quit"),
        key("question_mark,f1", "help", "Help", "app", "this help", "Help: every key"),
        key(
            "r",
            "restart_process",
            "Restart",
            "processes",
            "restart it",
            "Restart process",
        ),
        key("s", "stop_process", "Stop", "processes", "stop it (t starts it)", "Stop process"),
        key("t", "start_process", "Start", "processes", "start it", "Start process"),
        # Priority: acted on before the keys typed after it are passed on, so they reach the
        # filter, not the table ("o", "r", "s" are actions there); check_action lets "/"
        # through once the filter has the focus.
        key("slash", "filter", "Filter", "logs", "filter the log", "Filter logs", priority=True),
        key(
            "a",
            "toggle_all",
            "All logs",
            "logs",
            "all logs / the row's",
            "Toggle all logs",
        ),
        key("d", "details", "Details", "data", "graphs, command, env", "Show details"),
        key("p", "psql", "psql", "services", "psql on PostgreSQL", "Open psql"),
        key("c", "redis_cli", "redis-cli", "services", "redis-cli on Redis", "Open redis-cli"),
        # Shown once the session started, in a project with [onboarding] (OnboardingDock).
        key("o", "onboarding", "Onboarding", "app", "the onboarding", "Onboarding"),
        key(
            "R",
            "restart_all",
            "Restart all",
            "processes",
            "restart every process",
            "Restart all processes",
        ),
        key("y", "copy_urls", "Copy URLs", "services", "copy the URLs", "Copy URLs"),
        key("l", "log_path", "Log file", "logs", "the log file's path", "Show log file"),
        key("ctrl+l", "clear_log", "Clear", "logs", "clear the filter or view", "Clear logs"),
        # Not in the footer: the drift banner names it when it matters.
        key(
            SYNC_KEY,
            "sync_deps",
            "Sync deps",
            "data",
            "sync the packages",
            "Sync deps",
            show=False,
        ),
        key("escape", "close", "Close", "app", "close a screen, a panel", show=False),
        key("ctrl+c,ctrl+q", "quit", "Quit", "app", "", show=False, priority=True),
    ]

    DRAIN_EVERY = 0.08
    """At most one move of buffered log lines into the log pane in this many seconds (a
    flood is drained in batches); a line after a quiet spell goes at once."""
    SAMPLE_EVERY = 1.0
    """Seconds between two reads of ``Session.rows()``."""

    def __init__(
        self,
        project_name: str,
        make_session: SessionFactory,
        *,
        handle_signals: bool = False,
        services: tuple[str, ...] | None = None,
        check_parity: ParityCheck | None = None,
        stop_grace: float | None = None,
    ) -> None:
        """``handle_signals``: SIGTERM, SIGHUP and the terminal going away stop everything
        like ``q``, and end the process in time even if Textual is stuck (devenv.supervisor.hangup).

        ``services``: the project's services, when known, so that actions for a
        service it does not have (psql without postgres) are not offered.
        ``check_parity``: compares the session's versions with prod's (blocking: it
        may run binaries); called once after the start, its answer goes in the header.
        """
        super().__init__()
        self._handle_signals = handle_signals
        self._stop_grace = stop_grace  # None: devenv.supervisor.hangup.GRACE
        self._guard: Guard | None = None
        self._log_followed: tuple[str, threading.Event] | None = None  # a service's log file
        self._services = services
        self.project_name = project_name
        self.session: Session | None = None
        self.urls: dict[str, str] = {}
        self.exit_message = ""
        """Printed by ``run_tui`` after the screen closes (the error that stopped devenv)."""
        self.stop_summary: StopSummary | None = None
        """What the stop did, printed by ``run_tui`` after the screen closes."""
        self._make_session = make_session
        self._check_parity_of = check_parity
        # More than the log pane keeps would be formatted only to be pruned at once.
        # No timer polls it: its first line after a drain asks for the next (idle is quiet).
        self._buffer: LineBuffer[LogLine] = LineBuffer(
            maxlen=MAX_LINES, on_waiting=partial(self.call_later, self._lines_waiting)
        )
        self._drained_at = float("-inf")  # time.monotonic() of the last drain
        self._drain_due = False  # a timer will drain: lines that come meanwhile wait for it
        self._drain_due_at = 0.0  # time.monotonic() when it was set
        self._drains = 0  # the number of the drain timer that counts (older ones do nothing)
        self._sampling = threading.Event()  # set: the sampling thread ends
        self._dashboard: tuple[Widget, Widget] | None = None  # the log, details: once composed
        self._rows: list[Status] = []
        self._health: dict[str, str] = {}
        self._start_done = threading.Event()
        self._started = False
        self._start_failed = False
        self._stopping = False
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._forced = False
        self._start_notices: list[tuple[str, str]] = []  # (name, message), shown as one
        self.now: Callable[[], float] = time.time
        """The clock that stamps devenv's own lines (a test sets a fixed one)."""
        self._applying: frozenset[str] = frozenset()  # what applied when the footer was made
        self.onboarding = OnboardingDock(self, show=self._show_onboarding)
        """The onboarding screen: opened by itself for a person not onboarded, and by ``o``."""

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ProjectHeader(id="header")
        yield ErrorPanel(id="error")
        yield DriftBanner(id="drift")
        yield StatusTable(id="table")
        yield DetailsPane(id="details")
        yield NoticeBar(id="notices")
        yield LogView(id="logs")
        yield KeyFooter(self.applies)

    @property
    def header(self) -> ProjectHeader:
        return self.query_one("#header", ProjectHeader)

    @property
    def table(self) -> StatusTable:
        return self.query_one("#table", StatusTable)

    @property
    def log_view(self) -> LogView:
        return self.query_one("#logs", LogView)

    @property
    def details(self) -> DetailsPane:
        return self.query_one("#details", DetailsPane)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """On the dashboard, what is said goes to its notice bar, in the layout, covering
        nothing (a toast covers the table, the details or the log); over another screen
        (help, onboarding, quit), a toast on that screen."""
        bars = self.screen.query(NoticeBar) if len(self.screen_stack) == 1 else None
        if not bars:
            super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
            return
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        bars.first().add(Note(message, title, severity, seconds))

    def clear_notifications(self) -> None:
        super().clear_notifications()
        for bar in self.screen_stack[0].query(NoticeBar) if self.screen_stack else ():
            bar.clear()

    def _show_onboarding(self, line: str) -> None:
        if not self._dashboard_gone():
            self.header.onboarding = line

    @property
    def notices(self) -> list[Note]:
        """What the dashboard's notice bar shows now, oldest first."""
        bars = self.screen_stack[0].query(NoticeBar) if self.screen_stack else None
        return bars.first().notices if bars else []

    def _dashboard_gone(self) -> bool:
        """Whether the dashboard's widgets are gone or going (the app exits): a timer's last
        tick or a message from another thread may still come, and finds nothing to update."""
        if self._dashboard is None:
            base = self.screen_stack[:1]  # the dashboard's own screen, under any dialog
            views = base[0].query(LogView) if base else None
            if not views or not views.first().query("#log") or not base[0].query("#details"):
                return True
            self._dashboard = (views.first().output, base[0].query_one("#details"))
        # Found once (a query walks the DOM: too dear for each tick); a widget removed, or an
        # app exiting, is no longer attached.
        log, details = self._dashboard
        return not (log.is_attached and details.is_attached)

    @property
    def error_panel(self) -> ErrorPanel:
        return self.query_one("#error", ErrorPanel)

    @property
    def drift_banner(self) -> DriftBanner:
        return self.query_one("#drift", DriftBanner)

    def on_mount(self) -> None:
        self.header.project = self.project_name
        self.header.status = "starting…"
        self.table.focus()
        self.watch(self.log_view, "source", self._log_source_changed, init=False)
        # The once-a-second sample on a thread of its own: a Textual worker each second (a
        # thread hop, three state messages and their handlers) was most of the idle UI's CPU.
        threading.Thread(target=self._sample_every, name="devenv-tui-rows", daemon=True).start()
        # The first frame goes out before any devenv work (or import) starts.
        self.call_after_refresh(self._start)
        if self._handle_signals:
            # The stop runs on the guard's own thread: it works even if this loop is stuck.
            # A dead terminal shows nothing: the UI closes (on_unmount waits for the stop).
            stop = partial(self.stop_everything, hurry=True)
            guard = Guard(
                stop=stop,
                quit=self._quit_asked,
                on_gone=self.exit,
                grace=GRACE if self._stop_grace is None else self._stop_grace,
            )
            self._guard = guard.install(asyncio.get_running_loop())

    def on_resize(self, event: events.Resize) -> None:
        self.error_panel.refit(event.size)  # the app's own size follows a moment later

    def _quit_asked(self) -> None:
        if not self._stopping:  # a second action_quit would force
            self.call_later(self.action_quit)

    async def on_unmount(self) -> None:
        self._sampling.set()
        self._follow_service_log(None)
        # However the app ends (a crash, Textual giving up on its terminal), nothing outlives it.
        if self.session is not None and not self._stopped:
            await asyncio.to_thread(self.stop_everything)
        if self._guard is not None:
            self._guard.close()

    # -- workers: the only places that call the session ------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="start", description="start")
    def _start(self) -> None:
        try:
            if self.session is None:
                self.session = self._make_session(
                    on_event=self._event_from_core, on_lines=self._buffer.put
                )
            self.post_message(RowsSampled(self.session.rows()))
            self.session.start()
            # What exists now (Textual, the core, the screen) lives as long as the app: out of
            # the collector's sight, its full collections no longer walk it each time a log
            # flood's lines pile up (they took up to 120 ms, every second or so, at 100k
            # lines/s); and fewer, larger young collections: a flood's lines are short-lived
            # (measured in a 100k lines/s flood: 0.8 s of collections in 12 s -> 0.14 s).
            gc.freeze()
            gc.set_threshold(20_000, 50, 100)
            self.post_message(SessionStarted(self.session.urls(), self.session.names()))
            self.post_message(RowsSampled(self.session.rows()))
        except BaseException:
            self._start_failed = True
            raise
        finally:
            self._start_done.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rows", description="status")
    def _sample_rows(self) -> None:
        if self.session is not None:
            self.post_message(RowsSampled(self.session.rows()))

    def _follow_service_log(self, name: str | None) -> None:
        """Follow ``name``'s log file (a service's: its server writes it, not devenv) while its
        view is shown; None stops. A plain thread, not a worker: it runs until told to stop,
        and waiting for the workers to finish must not wait for it."""
        followed = self._log_followed
        if followed is not None and followed[0] == name:
            return
        if followed is not None:
            followed[1].set()
        self._log_followed = None
        if name is None or self.session is None:
            return
        stop = threading.Event()
        self._log_followed = (name, stop)
        reader = threading.Thread(
            target=self._read_service_log, args=(self.session, name, stop), daemon=True
        )
        reader.start()

    def _read_service_log(self, session: Session, name: str, stop: threading.Event) -> None:
        from devenv.services.logstamps import timed

        last: float | None = None
        more = False
        try:
            for batch in session.follow_log(name, stop):
                # Read and its stamps parsed here, off the UI's thread.
                lines = timed(batch, last)
                last = next((when for when, _ in reversed(lines) if when is not None), last)
                if stop.is_set():
                    return
                self.post_message(TailLoaded(name, lines, more))
                more = True
        except OSError as err:  # the logs folder gone: the view keeps devenv's lines
            note = f"cannot follow {name}'s log file any more: {err.strerror or err}"
            self._buffer.put(name, [OwnLine(self.now(), note)])

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop", description="stop")
    def _stop(self) -> None:
        self.stop_everything()
        self.post_message(SessionStopped())

    def stop_everything(self, *, hurry: bool = False) -> int:
        """Stop what the session started; return the exit code. Blocking, from any thread, and
        done once: a second caller waits for the first. ``hurry``: cancel the start's installs
        instead of waiting for them."""
        with self._stop_lock:
            if not self._start_done.is_set():
                self.post_message(StopProgress("waiting for the start to finish"))
                while not self._start_done.wait(0.2 if hurry else None):
                    if self.session is not None:
                        self.session.interrupt()  # an install may begin after the first look
            if self.session is not None and not self._start_failed and not self._stopped:
                self.stop_summary = self.session.stop(
                    on_progress=lambda step: self.post_message(StopProgress.of(step))
                )
            self._stopped = True
        return 1 if self._start_failed else 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", description="sync")
    def _sync_deps(self) -> None:
        if self.session is not None:
            self.post_message(SyncDone(self.session.sync()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="parity", description="parity")
    def _check_parity(self) -> None:
        if self.session is not None and self._check_parity_of is not None:
            found = self._check_parity_of(self.session)
            self.post_message(ParityChecked(tuple(parity_entry(n, p) for n, p in found.items())))

    @work(thread=True, exit_on_error=False, group="force", description="kill")
    def _force_stop(self) -> None:
        if self.session is not None:
            self.session.force_stop()
        self.post_message(SessionStopped())

    def _control(
        self, what: str, done: str, call: Callable[[], object], not_done: str = ""
    ) -> None:
        """Run ``call`` (a blocking session method) in a thread; say ``done`` when it returns,
        or ``not_done`` when it returned False (there was nothing to do)."""

        def run() -> None:
            did = call()
            self.post_message(ControlDone(not_done if did is False and not_done else done))

        self.run_worker(run, thread=True, exit_on_error=False, group="control", description=what)

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure ends up here, and is shown where it belongs."""
        if event.state != WorkerState.ERROR:
            return
        worker, error = event.worker, event.worker.error
        text = str(error) if isinstance(error, DevenvError) else f"{type(error).__name__}: {error}"
        if worker.group == "start":
            self._show_start_error(error, text)
        elif worker.group == "sync":
            self._show_sync_error(error, text)
        elif worker.group in ("stop", "force"):
            self.exit_message = f"devenv could not stop everything: {text}"
            self._exit_with(1)
        else:
            self.notify(text, title=f"{worker.description} failed", severity="error", timeout=8)

    # -- what the core says ----------------------------------------------------------

    def _event_from_core(self, event: Event) -> None:
        # Called on the core's threads. Events' lines take the processes' road (the
        # buffer, drained in batches), so the log shows everything in the order it
        # happened, and an installer's thousand lines of output cost one write.
        text = describe(event)
        if text is not None:
            now = self.now()
            # devenv's own words are marked as such; a hook's or an installer's output, and
            # the server's lines a failure carries, are theirs.
            said = LogLine if isinstance(event, (HookOutput, SyncOutput)) else OwnLine
            lines = [said(now, text)]
            if isinstance(event, ServiceFailed):
                lines += [LogLine(now, line) for line in event.log_tail]
            self._buffer.put(event.name, lines)
        if not isinstance(event, SyncOutput):  # the progress shows the step, not each line
            self.post_message(CoreEvent(event))

    @on(CoreEvent)
    def _core_event(self, message: CoreEvent) -> None:
        if self._dashboard_gone():
            return
        event = message.event
        text = describe(event)
        if text is not None and not self._started and not self._start_failed:
            self.header.status = f"{event.name}: {text}"
        if isinstance(event, Notice) and not self._started and not self._start_failed:
            self._start_notices.append((event.name, event.message))  # one toast, once up
        elif isinstance(event, Notice):
            self.notify(event.message, title=event.name, timeout=8)
        if self._stopping:
            self._stop_progress_of(event, text)
        if isinstance(event, DEPS_EVENTS):
            self._deps_event(event)
        health = health_from_event(event, self._health.get(event.name, ""))
        if health is not None and self._health.get(event.name) != health:
            self._health[event.name] = health
            self._show_rows()
        if self._started and isinstance(event, SERVICE_CHANGES):
            self._tick_rows()  # a service went down or came back: its row and the header now

    def _deps_event(self, event: Event) -> None:
        """The project's packages: drift found or gone, an install's progress and outcome."""
        banner = self.drift_banner
        progress = banner.progress
        match event:
            case DriftFound(summaries=summaries):
                action = self.session.drift_action if self.session is not None else "warn"
                banner.summaries = summaries
                banner.error = ""  # a new drift: an older failure no longer applies
                banner.offer_key = action == "ask"
            case DriftCleared():
                banner.summaries = ()
                banner.error = ""
            case SyncStarted(steps=steps, reason=reason):
                banner.error = ""
                banner.reason = reason
                banner.syncing = True
                progress.total, progress.done = len(steps), 0
                progress.command = steps[0] if steps else ""
            case SyncStepStarted(index=index, total=total, command=command):
                progress.total, progress.done, progress.command = total, index, command
            case SyncFinished(ok=ok, message=failure):
                progress.done = progress.total
                if not ok:
                    self._show_sync_error(None, failure)
                elif not self._sync_running():
                    banner.syncing = False  # a worker's sync ends on its SyncDone

    def _sync_running(self) -> bool:
        return any(w.group == "sync" and not w.is_finished for w in self.workers)

    def _show_sync_error(self, error: BaseException | None, text: str) -> None:
        banner = self.drift_banner
        banner.syncing = False
        if error is not None and not isinstance(error, DevenvError):
            self.notify(text, title="sync failed (a bug: please report it)", severity="error")
        elif banner.summaries:
            banner.error = text
            banner.offer_key = True  # whatever on_drift says: trying again is one key away
        elif self._started:
            # Nothing drifted as far as the banner knows (a failed first install is
            # the start's error, shown by the error panel).
            self.notify(text, title="sync failed", severity="error", timeout=10)

    def _stop_progress_of(self, event: Event, text: str | None) -> None:
        if isinstance(event, ProcessStopped):
            text = "stopped"
        elif isinstance(event, ProcessExited):
            return  # a ProcessStopped follows: one line per process
        if text and isinstance(self.screen, QuitScreen):
            self.screen.progress(f"{event.name}: {text}")

    @on(SessionStarted)
    def _session_started(self, message: SessionStarted) -> None:
        self._started = True
        self.urls = dict(message.urls)
        self.header.urls = self.urls
        if self._start_notices:  # running as root, a port moved...: one toast for all
            said = "\n".join(f"{name}: {text}" for name, text in self._start_notices)
            self.notify(said, title="while starting", timeout=10)
            self._start_notices = []
        self.log_view.set_names(message.names)
        self._show_summary()
        if self._check_parity_of is not None:
            self._check_parity()
        if self.session is not None:
            self.onboarding.offer(self.session)

    @on(RowsSampled)
    def _rows_sampled(self, message: RowsSampled) -> None:
        if message.rows == self._rows or self._dashboard_gone():
            return  # nothing changed: no repaint
        self._rows = message.rows
        self.log_view.set_names(row.name for row in message.rows)
        self._show_rows()
        self._show_summary()
        self.header.apps = app_urls(message.rows)

    @on(SyncDone)
    def _sync_done(self, message: SyncDone) -> None:
        self.drift_banner.syncing = False
        if message.in_sync:
            self.notify("The packages match the lockfiles.", title="deps synced")
        else:
            self.notify("Still not as the lockfiles say: see the banner.", severity="warning")

    @on(ParityChecked)
    def _parity_checked(self, message: ParityChecked) -> None:
        self.header.parity = message.parity

    @on(TailLoaded)
    def _tail_loaded(self, message: TailLoaded) -> None:
        if self._dashboard_gone():
            return
        if message.more:
            self.log_view.add_file_lines(message.name, message.lines)
        else:
            self.log_view.seed(message.name, message.lines)

    @on(ControlDone)
    def _control_done(self, message: ControlDone) -> None:
        self.notify(message.text)
        self._tick_rows()

    @on(StopProgress)
    def _stop_progress(self, message: StopProgress) -> None:
        text = message.text
        if message.step is not None and message.step.stage == "processes":
            running = [r.name for r in self._rows if r.kind == "process" and r.pid]
            if running:
                text = f"stopping {', '.join(running)}…"
        if isinstance(self.screen, QuitScreen):
            self.screen.progress(text)
        self.header.status = text
        self._buffer.put("devenv", [OwnLine(self.now(), text)])  # the log keeps the stop's steps

    @on(SessionStopped)
    def _session_stopped(self) -> None:
        self._exit_with(1 if self._start_failed else 0)

    def _exit_with(self, code: int) -> None:
        self.exit(code, return_code=code)

    # -- rendering -------------------------------------------------------------------

    def _show_rows(self) -> None:
        with self.batch_update():
            self.table.show_rows(self._rows, self._health)

    def _show_summary(self) -> None:
        if not self._started or self._stopping or self._start_failed:
            return
        up = sum(row.state in UP for row in self._rows)
        # A service that is not ready is down, whatever the word (backoff, stopped, ...):
        # the processes that use it cannot work.
        down = [
            row.name
            for row in self._rows
            if row.state in DOWN or (row.kind == "service" and row.state != State.READY)
        ]
        status = f"{up}/{len(self._rows)} up"
        if down:
            status += f" · down: {', '.join(down)}"
        self.header.status = status
        self.header.state = "degraded" if down else "running"

    def _show_start_error(self, error: BaseException | None, text: str) -> None:
        if isinstance(error, DevenvError):
            title = "devenv could not start"
            hint = "Fix this, then run `devenv up` again. q quits."
        else:
            title = "devenv stopped on an unexpected error (a bug: please report it)"
            hint = "The logs are in .devenv/logs/. q quits."
        self.clear_notifications()  # nothing covers the cause
        self.error_panel.show(title, text, hint)
        self.header.state = "failed"
        self.header.status = "could not start"
        self.exit_message = text

    def _lines_waiting(self) -> None:
        """Lines wait in the buffer (its first since a drain): drain them now, or once
        DRAIN_EVERY has passed since the last drain."""
        if self._drain_due:
            return
        wait = self._drained_at + self.DRAIN_EVERY - time.monotonic()
        if wait > 0:
            self._drain_due, self._drain_due_at = True, time.monotonic()
            self._drains += 1
            # asyncio's timer, not Textual's set_timer: a one-shot Textual timer whose loop
            # turn comes past its time is skipped, never called (a tiny wait, a busy loop),
            # and this drain, and every later one, would never come.
            loop = asyncio.get_running_loop()
            loop.call_later(wait, self.call_later, self._drain_time, self._drains)
        else:
            self.flush_logs()

    def _drain_time(self, number: int) -> None:
        # Only here: a flush called meanwhile (the tick, a test) leaves this timer the one
        # drain due; one more timer each such flush would drain ever more often.
        if number == self._drains:
            self._drain_due = False
            self.flush_logs()

    def flush_logs(self) -> None:
        """Move the buffered lines into the log pane (called when lines wait, see
        _lines_waiting; the once-a-second tick takes any left)."""
        if self._dashboard_gone():
            return
        self._drained_at = time.monotonic()
        lines, dropped = self._buffer.drain()
        if not lines and not dropped:
            return
        if dropped:
            note = f"… {dropped} lines skipped here (the log files have them all)"
            lines.insert(0, ("devenv", OwnLine(self.now(), note)))
        self.log_view.add_lines(lines)

    def _sample_every(self) -> None:
        """On its own thread, every SAMPLE_EVERY: the rows (RowsSampled), then the tick."""
        while not self._sampling.wait(self.SAMPLE_EVERY):
            session = self.session
            if session is not None and not self._forced:
                try:
                    self.post_message(RowsSampled(session.rows()))
                except Exception as error:  # as a failed worker's would be: said, not fatal
                    said = f"{type(error).__name__}: {error}"
                    self.call_later(self.notify, said, title="status failed", severity="error")
            self.call_later(self._tick)

    def _tick(self) -> None:
        """Once a second (after the rows' sample): the log pane at its last line."""
        if not self._dashboard_gone():
            # Lines no drain is due for (they came before the pane was there), or a drain
            # overdue by far (lost: never seen; it would hold every later one back).
            overdue = self._drain_due and time.monotonic() - self._drain_due_at > 1.0
            if len(self._buffer) and (not self._drain_due or overdue):
                self._drains += 1  # the drain due, if it comes after all, does nothing
                self._drain_due = False
                self.flush_logs()
            self.log_view.keep_following()

    def _tick_rows(self) -> None:
        if self.session is not None and not self._forced:
            self._sample_rows()

    # -- actions ---------------------------------------------------------------------

    def _selected(self) -> str | None:
        name = self.table.selected_name
        if name is None or self.session is None:
            self.notify("Nothing selected yet.", severity="warning")
            return None
        return name

    def action_restart_process(self) -> None:
        if (name := self._selected()) and (session := self.session):
            call = partial(session.restart, name)
            self._control(f"restart {name}", f"{name} restarted", call)

    def action_stop_process(self) -> None:
        if (name := self._selected()) and (session := self.session):
            call = partial(session.stop_process, name)
            self._control(f"stop {name}", f"{name} stopped", call)

    def action_start_process(self) -> None:
        if (name := self._selected()) and (session := self.session):
            call = partial(session.start_process, name)
            self._control(f"start {name}", f"{name} started", call, f"{name} runs already")

    def action_sync_deps(self) -> None:
        banner = self.drift_banner
        if self.session is None or not self._started or self._stopping:
            self.notify("Not now: devenv is starting or stopping.", severity="warning")
        elif banner.syncing or self._sync_running():
            self.notify("A sync is running already.", title="deps")
        elif not banner.summaries:
            self.notify("Nothing to sync: the packages match the lockfiles.", title="deps")
        else:
            progress = banner.progress
            progress.total, progress.done, progress.command = 0, 0, "looking at what differs"
            banner.error = ""
            banner.reason = ""
            banner.syncing = True  # at once: the core says SyncStarted after planning
            self._sync_deps()

    def action_restart_all(self) -> None:
        if self.session is not None:
            self._control("restart all", "all processes restarted", self.session.restart_all)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (allowed := self.onboarding.check_action(action)) is not None:
            return allowed
        if action == "filter" and isinstance(self.focused, Input):
            return False  # "/" is typed into the filter (or any text box), not an action
        # Over the dashboard (the help, the quit dialog) its keys would act on rows unseen.
        if len(self.screen_stack) > 1 and action not in OVER_SCREENS:
            return False
        # psql in a project without postgres: refused, hidden from the footer and the palette.
        needs = CLIENTS.get(action)
        return not (needs and self._services is not None and needs not in self._services)

    def applies(self, action: str) -> bool:
        """Whether the dashboard's ``action`` would do something now (whatever screen is on
        top): the footer and the command palette offer only these. r/s/t as the selected
        row's state allows, and none before the start is done, after it failed, or while
        stopping; psql and redis-cli while the project's server is ready; y once there
        are URLs. The keys themselves still work (check_action): pressed where they do
        nothing, the notification says why (the row shown may be a second old)."""
        live = (
            self.session is not None
            and self._started
            and not self._start_failed
            and not self._stopping
        )
        if action in ROW_ACTIONS:
            row = self._selected_row()
            return live and row is not None and row_action_applies(action, row)
        if action == "restart_all":
            return live and any(row.kind == "process" for row in self._rows)
        if service := CLIENTS.get(action):
            if self._services is not None and service not in self._services:
                return False  # hidden from the footer and the palette
            return any(row.name == service and row.state == State.READY for row in self._rows)
        if action == "copy_urls":
            return bool(self.urls)
        if action == "log_path":
            return self.session is not None and self._selected_row() is not None
        return True

    def _selected_row(self) -> Status | None:
        try:
            name = self.table.selected_name
        except NoMatches:  # not composed yet
            return None
        return next((row for row in self._rows if row.name == name), None)

    def _refresh_keys(self) -> None:
        """Have the footer show again what applies, when that changed (not at every sample:
        a footer rebuilt each second would cost the idle dashboard its quiet)."""
        applying = frozenset(action for action in CHANGING if self.applies(action))
        if applying != self._applying:
            self._applying = applying
            self.refresh_bindings()

    @on(RowsSampled)
    @on(SessionStarted)
    @on(StopProgress)
    @on(Worker.StateChanged)
    @on(DataTable.RowHighlighted, "#table")
    def _keys_may_change(self) -> None:
        self.call_later(self._refresh_keys)  # after this message's other handlers

    def action_help(self) -> None:
        """The help screen: every key of the app's BINDINGS, grouped, with what it does."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        elif len(self.screen_stack) == 1:
            self.push_screen(HelpScreen(help_sections(type(self).BINDINGS, self.get_key_display)))

    def action_close(self) -> None:
        """Esc: close what is open, the topmost first: a screen over the dashboard (the help,
        the quit dialog: the stop goes on, the header says how far), the details pane or the
        filter (the table gets the focus), the error panel; else focus the table."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.focused is self.table and not self.details.is_open and self._error_shown:
            self.error_panel.remove_class("-shown")
        else:
            self.action_focus_table()

    @property
    def _error_shown(self) -> bool:
        return self.error_panel.has_class("-shown")

    def get_driver_class(self) -> type[Driver]:
        # Textual's terminal driver, its input thread quiet while no key comes (quiet_input).
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver":  # not Windows', an inline or a TEXTUAL_DRIVER one
            from devenv.tui.quiet_input import QuietLinuxDriver

            return QuietLinuxDriver
        return driver

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's (themes, its key panel, screenshots) are not devenv's: see COMMANDS.
        return ()

    def action_onboarding(self) -> None:
        self.onboarding.open()

    def action_psql(self) -> None:
        self._run_client("postgres")

    def action_redis_cli(self) -> None:
        self._run_client("redis")

    def _run_client(self, service: str) -> None:
        if self.session is None:
            return
        try:
            argv, env = self.session.client_argv(service)
        except DevenvError as error:
            self.notify(str(error), severity="error")
            return
        try:
            with self.suspend():
                subprocess.run(argv, env=env)
        except SuspendNotSupported:
            command = "psql" if service == "postgres" else "redis-cli"
            self.notify(f"Run `devenv {command}` in another terminal.", severity="warning")
        except OSError as error:
            self.notify(f"{argv[0]}: {error}", severity="error")

    def action_log_path(self) -> None:
        if (name := self._selected()) and (session := self.session):
            self.notify(str(session.log_path(name)), title=f"{name} log file", timeout=10)

    def action_copy_urls(self) -> None:
        if not self.urls:
            self.notify("No connection URLs yet.", severity="warning")
            return
        from devenv.config.dotenv import export_lines

        what = f"{', '.join(self.urls)} (as export lines)"
        self._copy("\n".join(export_lines(self.urls)), what)

    def action_copy_url(self, key: str) -> None:
        if key in self.urls:
            from devenv.services.password import mask_url

            self._copy(self.urls[key], f"{key}: {mask_url(self.urls[key])}")

    def _copy(self, text: str, what: str) -> None:
        """Copy ``text`` and say truly how (devenv.tui.clipboard): ``what`` names it."""
        from devenv.tui import clipboard

        if clipboard.copy(text, self.copy_to_clipboard):
            self.notify(f"Copied {what}")
        else:
            self.notify(f"{what}: {clipboard.SENT}; `devenv env` prints them", title="clipboard")

    def action_filter(self) -> None:
        self.log_view.focus_filter()

    def action_toggle_all(self) -> None:
        view = self.log_view
        if view.source is None:
            if name := self.table.selected_name:
                self._show_log(name)
        else:
            view.source = None

    def action_clear_log(self) -> None:
        self.log_view.clear()

    def action_focus_table(self) -> None:
        if self.details.is_open:
            self._show_details(None)
        self.table.focus()

    async def action_quit(self) -> None:
        if self._forced:
            return
        if self._stopping:
            self._forced = True
            if isinstance(self.screen, QuitScreen):
                self.screen.forcing()
            self._force_stop()
            return
        self._stopping = True
        self.onboarding.stop()  # its run ends before the services it may use
        self.header.state = "stopping"
        self.header.status = "stopping…"
        if self.session is None or (self._start_done.is_set() and self._start_failed):
            # Nothing runs: a failed start has already stopped what it had started.
            self._exit_with(1 if self._start_failed else 0)
            return
        self.push_screen(QuitScreen(self.project_name))
        self._stop()

    # -- the table drives the log pane -----------------------------------------------

    @on(DataTable.RowSelected, "#table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self._show_log(event.row_key.value)

    @on(DataTable.RowHighlighted, "#table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.log_view.source is not None and event.row_key.value:
            self._show_log(event.row_key.value)

    def _log_source_changed(self, name: str | None) -> None:
        is_service = any(row.name == name and row.kind == "service" for row in self._rows)
        self._follow_service_log(name if is_service else None)

    def _show_log(self, name: str | None) -> None:
        if name is None:
            return
        self.log_view.source = name

    # -- the details pane: the selected row, in place of the log pane ----------------

    def action_details(self) -> None:
        if self.details.is_open:
            self._show_details(None)
        elif name := self._selected():
            self._show_details(name)

    def _show_details(self, name: str | None) -> None:
        pane = self.details
        if name is None:
            pane.close()
        else:
            if self.session is not None:
                pane.attach(self.session)
            pane.open(name)
        self.log_view.display = not pane.is_open

    @on(RowsSampled)
    def _details_sampled(self, message: RowsSampled) -> None:
        # Every sample, changed or not: the graphs are of time.
        if not self._dashboard_gone():
            self.details.add_rows(message.rows, self.now())

    @on(CoreEvent)
    def _details_event(self, message: CoreEvent) -> None:
        if not self._dashboard_gone():
            self.details.add_event(message.event, self.now())

    @on(DataTable.RowHighlighted, "#table")
    def _details_follow(self, event: DataTable.RowHighlighted) -> None:
        if self.details.is_open and event.row_key.value:
            self.details.show(event.row_key.value)
