"""The TUI, driven by Pilot against a fake Session (same interface, deterministic, no servers)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import functools
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devenv.errors import DevenvError
from devenv.events import ServiceReady, ServiceStarting, StepDone
from devenv.services.insight import (
    Figures,
    Launch,
    PostgresFigures,
    RedisFigures,
    Statement,
    mask_env,
)
from devenv.session import StopStep, StopSummary
from devenv.state import State, Status
from devenv.supervisor.events import ProcessCrashed, ProcessReady, ProcessStarted, ProcessStopped
from devenv.supervisor.proclog import LogLine

# A fixed local time: every stamp on screen reads 09:30:0x whatever the time zone.
T0 = datetime.datetime(2024, 5, 6, 9, 30, 0).timestamp()


def dashboard_row(name, kind, state, pid, port, cpu, rss, restarts, uptime, detail) -> Status:
    """A row as Session.rows gives it; ``detail`` is a service's version, a process's command."""
    said = {"version": detail} if kind == "service" else {"command": detail}
    return Status(
        name,
        kind,
        State(state),
        pid=pid,
        port=port,
        restarts=restarts,
        cpu_percent=cpu,
        rss=rss,
        uptime=uptime,
        **said,
    )


ROWS = [
    dashboard_row("postgres", "service", "ready", 4242, 5432, 0.3, 24_500_000, None, 125.0, "15.4"),
    dashboard_row("redis", "service", "ready", 4243, 6379, 0.1, 8_200_000, None, 125.0, "7.0.15"),
    dashboard_row(
        "migrate.1", "process", "completed", None, None, None, None, 0, None, "python -m migrate"
    ),
    dashboard_row(
        "web.1", "process", "ready", 5001, 5000, 1.5, 41_000_000, 0, 64.0, "python -m app.web"
    ),
    dashboard_row(
        "worker.1", "process", "running", 5002, None, 0.0, 30_100_000, 1, 3725.0, "python -m wrk"
    ),
    dashboard_row(
        "mailer.1", "process", "crashed", None, None, None, None, 5, None, "python -m mailer"
    ),
]

START_EVENTS = [
    ServiceStarting("postgres", "PostgreSQL 15.4"),
    StepDone("postgres", "template copy", 0.076),
    ServiceReady("postgres", 4242, 5432, 0.04),
    ServiceStarting("redis", "Redis 7.0.15"),
    ServiceReady("redis", 4243, 6379, 0.012),
    ProcessStarted("web.1", pid=5001),
    ProcessReady("web.1", pid=5001, seconds=0.8),
    ProcessStarted("worker.1", pid=5002),
    ProcessCrashed("mailer.1", restarts=5),
]

LINES = {
    "web.1": ["Listening on http://127.0.0.1:5000", "GET /health 200 1.2ms", "GET / 200 8.1ms"],
    "worker.1": ["connected to redis", "job 17 done", "job 18 done"],
    "mailer.1": ["Traceback (most recent call last):", "ConnectionRefusedError: smtp"],
}


def asynctest(test):
    """Run an async test on its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


def log_lines(texts: list[str], start: float = T0) -> list[LogLine]:
    return [LogLine(start + i, text) for i, text in enumerate(texts)]


class FakeSession:
    """devenv.session.Session's interface, scripted; records every call."""

    project_name = "shop"
    drift_action = "warn"  # Session's property (from on_drift); a test sets what it needs

    def __init__(
        self,
        *,
        on_event,
        on_lines,
        rows=ROWS,
        start_events=START_EVENTS,
        lines=LINES,
        start_error: BaseException | None = None,
        stop_gate: threading.Event | None = None,
    ) -> None:
        self.on_event = on_event
        self.on_lines = on_lines
        self.current_rows = list(rows)
        self.start_events = start_events
        self.lines = lines
        self.followed: list[str] = []  # the names whose log files are followed now
        self.written: dict[str, queue.Queue[list[str]]] = collections.defaultdict(queue.Queue)
        self.start_error = start_error
        self.stop_gate = stop_gate
        self.stopping = threading.Event()
        self.start_over = threading.Event()  # start() returned or raised
        self.calls: list[tuple] = []

    def start(self) -> None:
        self.calls.append(("start",))
        try:
            for event in self.start_events:
                self.on_event(event)
            if self.start_error is not None:
                raise self.start_error
            for name, texts in self.lines.items():
                self.on_lines(name, log_lines(texts))
        finally:
            self.start_over.set()

    def stop(self, on_progress: Callable[[StopStep], object] | None = None) -> StopSummary:
        self.calls.append(("stop",))
        progress = on_progress or (lambda step: None)
        progress(StopStep("processes", ("web.1",)))
        self.on_event(ProcessStopped("web.1", pid=5001))
        self.stopping.set()
        if self.stop_gate is not None:
            self.stop_gate.wait(timeout=10)
        progress(StopStep("services", ("postgres", "redis")))
        progress(StopStep("stopped"))
        return StopSummary("shop", ("web.1",), ("postgres", "redis"), (), "/shop/.devenv/logs")

    def force_stop(self) -> None:
        self.calls.append(("force_stop",))
        if self.stop_gate is not None:
            self.stop_gate.set()

    def interrupt(self) -> None:
        self.calls.append(("interrupt",))

    def sync(self) -> bool:
        self.calls.append(("sync",))
        return True

    def rows(self) -> list[Status]:
        return list(self.current_rows)

    def names(self) -> list[str]:
        return [row.name for row in self.current_rows]

    def restart(self, name: str) -> None:
        self.calls.append(("restart", name))

    def stop_process(self, name: str) -> None:
        self.calls.append(("stop_process", name))

    def start_process(self, name: str) -> bool:
        self.calls.append(("start_process", name))
        row = next((row for row in self.current_rows if row.name == name), None)
        return row is None or row.state not in (State.RUNNING, State.READY)

    def restart_all(self) -> None:
        self.calls.append(("restart_all",))

    def urls(self) -> dict[str, str]:
        return {
            "DATABASE_URL": "postgresql://shop:s3cr3t@127.0.0.1:5432/shop",
            "REDIS_URL": "redis://:s3cr3t@127.0.0.1:6379/0",
        }

    def client_argv(self, service: str) -> tuple[list[str], dict[str, str]]:
        if service == "postgres":
            return ["psql", "-h", "/tmp/devenv-ab12", "shop"], {"PGPORT": "5432"}
        if service == "redis":
            return ["redis-cli", "-p", "6379"], {"REDISCLI_AUTH": ""}
        raise DevenvError(f"this project has no {service} service")

    def log_path(self, name: str) -> Path:
        return Path("/work/shop/.devenv/logs") / f"{name}.log"

    def tail(self, name: str, n: int = 500) -> list[str]:
        return [f"{name} old line {i}" for i in range(3)]

    def follow_log(
        self, name: str, stop: threading.Event, *, last: int = 500, poll: float = 0.25
    ) -> Iterator[list[str]]:
        """The file's last lines, then each batch a test puts in ``written[name]``."""
        self.followed.append(name)
        try:
            yield self.tail(name)
            while not stop.is_set():
                with contextlib.suppress(queue.Empty):
                    yield self.written[name].get(timeout=poll)
        finally:
            self.followed.remove(name)

    def launch(self, name: str) -> Launch:
        row = next((row for row in self.current_rows if row.name == name), None)
        if row is None:
            raise DevenvError(f"no process or service named {name}")
        if row.kind == "service":
            command = f"/usr/lib/postgresql/15/bin/{name} -D /work/shop/.devenv/state/{name}"
            return Launch(command, mask_env(SERVICE_ENV, (PASSWORD,)))
        return Launch(row.command or "", mask_env(PROCESS_ENV, (PASSWORD,)))

    def insight(self, name: str) -> Figures | None:
        self.calls.append(("insight", name))
        return FIGURES.get(name)


PASSWORD = "s3cr3t"  # the project's, as FakeSession.urls carries it
PROCESS_ENV = {
    "DATABASE_URL": "postgresql://shop:s3cr3t@127.0.0.1:5432/shop",
    "PORT": "5000",
    "SECRET_KEY": "django-insecure-abc",
    "STRIPE_TOKEN": "tok_live_123",
    "MODE": "dev",
}
SERVICE_ENV = {"PGPASSWORD": PASSWORD, "PGPORT": "5432", "PGUSER": "shop"}
FIGURES: dict[str, Figures] = {
    "postgres": PostgresFigures(
        connections=3,
        max_connections=100,
        by_state=(("idle", 2), ("active", 1)),
        databases=(("shop", 9_100_000), ("postgres", 7_500_000)),
        statements=(
            Statement("SELECT * FROM orders WHERE total > $1", 12, 84.2, 1010.4),
            Statement("UPDATE carts SET seen = now() WHERE id = $1", 310, 1.3, 403.0),
        ),
    ),
    "redis": RedisFigures(
        used_memory=1_200_000,
        peak_memory=1_500_000,
        maxmemory=0,
        clients=2,
        ops_per_sec=14,
        keys=(("db0", 42), ("db3", 1)),
    ),
}


def make_app(**fake_options):
    """A DevenvApp on a FakeSession; returns (app, holder) where holder["session"] is the fake."""
    from devenv.tui.app import DevenvApp

    holder: dict[str, FakeSession] = {}

    def make_session(**callbacks):
        holder["session"] = FakeSession(**callbacks, **fake_options)
        return holder["session"]

    app = DevenvApp("shop", make_session)
    app.now = lambda: T0
    return app, holder


SETTLE_DEADLINE = 10  # seconds for the app to show what it was told


async def settle(app, pilot) -> bool:
    """Let the fake's start finish and every message it posted be handled; flush the logs;
    wait until the screen is drawn with all of it (``drawn``). False if that took too long.

    It returns instead of failing, so that a snapshot's ``run_before`` can use it: a
    ``pytest.fail`` in there never ends the screenshot's app; a picture taken too early
    fails the comparison instead.
    """
    from textual.worker import WorkerFailed

    deadline = time.monotonic() + SETTLE_DEADLINE
    # The start worker is made after the first frame: until then there is none to wait for.
    while app.session is None or not app.session.start_over.is_set():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.01)
    # Its last messages are posted once start() returned. A start that failed is the app's
    # to show (its error panel), not a reason to stop here.
    starting = [worker for worker in app.workers if worker.group == "start"]
    if starting:  # (none: it is over and gone; an empty list would wait for every worker)
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete(starting)
    await pilot.pause()
    app.flush_logs()
    return await drawn(pilot, app.log_view.output, lambda: rows_shown(app))


def rows_shown(app) -> bool:
    return app.table.row_count == len(app.session.rows())


async def drawn(
    pilot, log, ready=lambda: True, also=lambda: None, timeout: float = SETTLE_DEADLINE
) -> bool:
    """Wait until ``ready()``, the log pane ``log`` is at its end, and the picture holds still:
    the same lines, scroll position and sizes (and ``also()``) after one more full turn of
    the app (every pending message and after-refresh callback handled, the screen laid out
    and painted). False if that does not happen within ``timeout`` seconds.

    A scroll to the end is done after the next refresh, and only the screen on top is laid
    out: a snapshot taken (or a screen pushed) before then shows the log pane where it was.
    """
    deadline = time.monotonic() + timeout
    before = None
    while time.monotonic() < deadline:
        await pilot.pause()
        screen = pilot.app.screen
        now = (len(log.lines), log.scroll_offset, log.virtual_size, log.size, screen, also())
        if now == before and log.is_vertical_scroll_end and ready():
            return True
        if before is not None and now == before:
            await pilot.pause(0.01)  # waiting for another thread, not for the app
        before = now
    return False


def cell(app, row: str, column: str) -> str:
    return str(app.table.get_cell(row, column))


def shown(app) -> list[str]:
    return list(app.log_view.output.lines)


# -- the package ------------------------------------------------------------------


def test_importing_the_package_imports_no_textual():
    code = "import devenv.tui, sys; assert 'textual' not in sys.modules, 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_core_imports_no_textual():
    code = (
        "import devenv.session, devenv.services.stack, devenv.console, sys;"
        "assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the fake is Session's interface ------------------------------------------------------


def session_members_the_tui_reads() -> set[str]:
    """Every name devenv/tui/ reads on its session: ``self.session.X``, ``self._session.X``
    and ``session.X`` (a function's ``session`` parameter)."""
    import ast

    import devenv.tui

    def is_session(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id == "session"
        return (
            isinstance(node, ast.Attribute)
            and node.attr in ("session", "_session")
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    names = set()
    for path in sorted(Path(devenv.tui.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Attribute) and is_session(node.value):
                names.add(node.attr)
    return names


def session_instance_attributes() -> set[str]:
    """The attributes ``Session.__init__`` sets (``self.X = ...``): its data, not its methods."""
    import ast
    import inspect
    import textwrap

    from devenv.session import Session

    tree = ast.parse(textwrap.dedent(inspect.getsource(Session.__init__)))
    names = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and isinstance(leaf.value, ast.Name)
                    and leaf.value.id == "self"
                ):
                    names.add(leaf.attr)
    return names


def signature_of(function) -> str:
    """``function``'s signature as text, annotations as written (strings under ``from
    __future__ import annotations``) so that two modules' signatures compare."""
    import inspect

    def shown(annotation) -> str:
        return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)

    signature = inspect.signature(function)
    parameters = [
        p.replace(annotation=shown(p.annotation)) if p.annotation is not p.empty else p
        for p in signature.parameters.values()
    ]
    returns = signature.return_annotation
    if returns is not signature.empty:
        returns = shown(returns)
    return str(signature.replace(parameters=parameters, return_annotation=returns)).replace("'", "")


def fake_disagreements(fake: type) -> list[str]:
    """How ``fake`` differs from devenv.session.Session, one sentence each (none: it agrees).

    Every public member ``fake`` defines, and every one the TUI reads on its session,
    must be Session's: a method with the same signature, a property (or a plain value of
    the property's type), or one of the attributes Session's ``__init__`` sets.
    """
    import inspect

    from devenv.session import Session

    data = session_instance_attributes()
    defined = {name for cls in fake.__mro__[:-1] for name in vars(cls) if not name.startswith("_")}
    problems = []
    for name in sorted(session_members_the_tui_reads() - defined):
        problems.append(f"devenv/tui/ reads session.{name}, which {fake.__name__} lacks")
    for name in sorted(defined | session_members_the_tui_reads()):
        ours = inspect.getattr_static(fake, name, None)
        real = inspect.getattr_static(Session, name, None)
        if real is None:
            if name not in data:
                problems.append(f"{fake.__name__}.{name} is not Session's: Session has no {name}")
            continue
        if ours is None:
            continue  # reported above
        if isinstance(real, property):
            if isinstance(ours, property):
                ours, real = ours.fget, real.fget
            else:
                wanted = inspect.signature(real.fget).return_annotation
                got = type(ours).__name__
                if isinstance(wanted, str) and wanted.isidentifier() and got != wanted:
                    problems.append(
                        f"{fake.__name__}.{name} is a {got}; Session.{name} is a {wanted}"
                    )
                continue
        if inspect.isfunction(real):
            if not inspect.isfunction(ours):
                problems.append(f"{fake.__name__}.{name} is not a method; Session.{name} is")
            elif signature_of(ours) != signature_of(real):
                problems.append(
                    f"{fake.__name__}.{name}{signature_of(ours)} differs from "
                    f"Session.{name}{signature_of(real)}"
                )
        elif inspect.isfunction(ours):
            problems.append(f"{fake.__name__}.{name} is a method; Session.{name} is not")
    return problems


def test_the_fake_session_is_sessions_interface():
    problems = fake_disagreements(FakeSession)
    assert not problems, (
        "the TUI's tests drive a FakeSession that no longer matches devenv.session.Session; "
        "change the fake (tests/test_tui.py) as Session changed:\n  " + "\n  ".join(problems)
    )


def test_a_fake_that_drifted_from_session_is_named_with_what_differs():
    class Drifted(FakeSession):
        def rows(self, everything: bool) -> list[Status]:  # Session.rows takes nothing
            return []

        def tail(self, name: str, n: int = 100) -> list[str]:  # Session's default is 500
            return []

        def uptime(self) -> float:  # Session has none
            return 0.0

        drift_action = 3  # Session.drift_action is a str

    problems = fake_disagreements(Drifted)
    assert problems == [
        "Drifted.drift_action is a int; Session.drift_action is a str",
        "Drifted.rows(self, everything: bool) -> list[Status] differs from "
        "Session.rows(self) -> list[Status]",
        "Drifted.tail(self, name: str, n: int = 100) -> list[str] differs from "
        "Session.tail(self, name: str, n: int = 500) -> list[str]",
        "Drifted.uptime is not Session's: Session has no uptime",
    ]
    missing = type("Bare", (), {"rows": FakeSession.rows})
    assert "devenv/tui/ reads session.start, which Bare lacks" in fake_disagreements(missing)


# -- starting ---------------------------------------------------------------------


@asynctest
async def test_first_frame_comes_before_the_session_starts():
    app, holder = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        # Mounted and painted, and no session yet: it is created in a worker after the frame.
        assert app.query_one("#table")
        await settle(app, pilot)
        assert holder["session"].calls[0] == ("start",)


@asynctest
async def test_table_shows_every_row_with_its_state_and_stats():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.table
        assert [key.value for key in table.rows] == [row.name for row in ROWS]
        assert cell(app, "postgres", "state") == "ready"
        assert cell(app, "postgres", "port") == "5432"
        assert cell(app, "postgres", "rss") == "23.4M"
        assert cell(app, "postgres", "health") == "ok 40ms"
        assert cell(app, "web.1", "health") == "ready 0.8s"
        assert cell(app, "worker.1", "uptime") == "1h02m"
        assert cell(app, "mailer.1", "state") == "crashed"
        assert cell(app, "mailer.1", "health") == "gave up"
        assert app.header.status == "5/6 up · down: mailer.1"
        assert app.header.urls["DATABASE_URL"] == "postgresql://shop:s3cr3t@127.0.0.1:5432/shop"


@asynctest
async def test_a_changed_row_updates_only_its_changed_cells():
    from devenv.tui.messages import RowsSampled

    app, holder = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        updated: list[tuple] = []
        original = app.table.update_cell
        app.table.update_cell = lambda *args, **kw: (
            updated.append(args[:2]),
            original(*args, **kw),
        )
        rows = list(ROWS)
        rows[3] = dashboard_row(
            "web.1", "process", "running", 6001, 5000, 1.5, 41_000_000, 1, 2.0, "python -m app.web"
        )
        holder["session"].current_rows = rows
        app.post_message(RowsSampled(rows))
        await pilot.pause()
        # Health said "ready 0.8s": a running (restarted, not ready yet) row says nothing
        # there rather than contradict its state.
        changed = [("web.1", key) for key in ("state", "health", "pid", "restarts", "uptime")]
        assert sorted(updated) == sorted(changed)
        assert cell(app, "web.1", "pid") == "6001"
        assert cell(app, "web.1", "state") == "running"
        assert cell(app, "web.1", "health") == ""

        updated.clear()
        app.post_message(RowsSampled(list(rows)))  # the same rows again: nothing is touched
        await pilot.pause()
        assert updated == []


@asynctest
async def test_lines_from_on_lines_reach_the_log_in_batches():
    app, holder = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        log = app.log_view.output
        writes: list[int] = []
        original = log.write_lines
        log.write_lines = lambda lines, *a, **kw: (
            writes.append(len(lines)),
            original(lines, *a, **kw),
        )[1]
        session = holder["session"]
        for i in range(3):  # three callbacks from "another thread" ...
            session.on_lines("web.1", log_lines([f"line {i}a", f"line {i}b"]))
        assert writes == []  # ... nothing reaches the widget before the timer's flush
        app.flush_logs()
        await pilot.pause()
        assert writes == [6]  # ... then one write of all six
        assert shown(app)[-1].endswith("web.1     | line 2b")
        assert shown(app)[-1].startswith("09:30:01 ")


@asynctest
async def test_a_flood_is_bounded_and_the_skipped_lines_are_counted():
    from devenv.tui.line_buffer import LineBuffer

    buffer = LineBuffer(maxlen=100)
    buffer.put("web.1", range(250))
    lines, dropped = buffer.drain()
    assert len(lines) == 100 and dropped == 150
    assert lines[0] == ("web.1", 150)
    assert buffer.drain() == ([], 0)

    app, holder = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app._buffer = LineBuffer(maxlen=1000)
        holder["session"].on_lines = app._buffer.put
        for _ in range(5):
            holder["session"].on_lines("web.1", log_lines(["spam"] * 1000))
        app.flush_logs()
        await pilot.pause()
        lines = shown(app)
        assert any("4000 lines skipped" in line for line in lines)
        assert sum("spam" in line for line in lines) == 1000


@asynctest
async def test_a_full_log_still_repaints_its_tail():
    from devenv.tui.log_view import DRAWN_AT_ONCE, MAX_LINES

    app, holder = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        session, log = holder["session"], app.log_view.output
        for _ in range(MAX_LINES // DRAWN_AT_ONCE):  # drains of lines all drawn, to the top
            session.on_lines("web.1", log_lines(["old"] * DRAWN_AT_ONCE))
            app.flush_logs()
        await pilot.pause()
        assert len(log.lines) == MAX_LINES
        refreshed = []
        original = log.refresh
        log.refresh = lambda *a, **kw: (refreshed.append(a), original(*a, **kw))[1]
        session.on_lines("web.1", log_lines(["new"] * 5))
        app.flush_logs()
        await pilot.pause()
        assert len(log.lines) == MAX_LINES and log.lines[-1].endswith("new")
        assert () in refreshed  # a whole repaint: the visible rows all moved up
        assert log.is_vertical_scroll_end


@asynctest
async def test_the_log_follows_the_tail_unless_scrolled_up():
    app, holder = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        session, log = holder["session"], app.log_view.output
        session.on_lines("web.1", log_lines([f"a {i}" for i in range(200)]))
        app.flush_logs()
        await pilot.pause()
        assert log.is_vertical_scroll_end and log.scroll_y > 0
        log.scroll_to(y=10, animate=False, immediate=True)  # the user reads something older
        session.on_lines("web.1", log_lines([f"b {i}" for i in range(50)]))
        app.flush_logs()
        await pilot.pause()
        assert log.scroll_y == 10
        log.scroll_end(animate=False, immediate=True)  # back at the end: following again
        session.on_lines("web.1", log_lines([f"c {i}" for i in range(50)]))
        app.flush_logs()
        await pilot.pause()
        assert log.is_vertical_scroll_end


@asynctest
async def test_an_error_from_start_is_shown_in_the_ui():
    error = DevenvError(
        "postgres: port 5432 (set in devenv.toml) is taken by postgres (pid 812); "
        "stop it or choose another port"
    )
    app, _ = make_app(start_error=error, start_events=[ServiceStarting("postgres")])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        panel = app.error_panel
        assert panel.has_class("-shown")
        assert "port 5432" in str(panel.render())
        assert "devenv could not start" in str(panel.render())
        assert app.header.state == "failed"
        assert app.exit_message == str(error)
        await pilot.press("q")  # the failed start stopped what it started: quit is immediate
        await pilot.pause()
    assert app.return_code == 1
    assert ("stop",) not in _["session"].calls


@asynctest
async def test_a_long_error_shows_its_first_line_its_cause_and_what_to_do():
    """A hook's traceback is taller than the panel (half the screen): the panel keeps the
    first line and the last ones (the exception, where the whole output is) on screen, says
    how many it left out, and quitting prints the whole message."""
    lines = [f'  File "x.py", line {n}, in frame_{n}' for n in range(40)]
    message = "\n".join(
        [
            "the after_ready hook `python manage.py migrate` failed with exit code 1: "
            "ModuleNotFoundError: No module named 'render' (hooks.after_ready in devenv.toml). "
            "Its last lines:",
            *lines,
            "  ModuleNotFoundError: No module named 'render'",
            "All of its output: `devenv logs hooks`",
        ]
    )
    app, _ = make_app(start_error=DevenvError(message))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        screen = "\n".join(
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        )
        assert "ModuleNotFoundError: No module named 'render' (hooks.after_ready" in screen
        assert "  ModuleNotFoundError: No module named 'render'  " in screen
        assert "All of its output: `devenv logs hooks`" in screen
        assert re.search(r"… \d+ more lines \(all of them are printed when you quit\)", screen)
        assert "Fix this, then run `devenv up` again. q quits." in screen  # the hint
        assert "frame_0" not in screen  # the middle is what gives way
        assert app.exit_message == message

        await pilot.resize_terminal(80, 40)  # more room: more of the lines come back
        await pilot.pause()
        await pilot.pause()
        taller = "\n".join(
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        )
        shown_before = screen.count("in frame_")
        assert taller.count("in frame_") > shown_before
        assert "  ModuleNotFoundError: No module named 'render'" in taller


@asynctest
async def test_every_service_that_failed_to_start_is_shown():
    """What Stack.start does when two services fail (tests/test_service_failures.py): one
    ServiceFailed each, then one error naming both. The person sees both, not the first."""
    from devenv.events import ServiceFailed
    from devenv.services.base import ServiceStartError
    from devenv.services.stack import ServicesFailed

    errors = [
        ServiceStartError("postgres", "the server exited with code 1", ["FATAL: bad setting"]),
        ServiceStartError("redis", "did not become ready in time (30 s)", ["# oops"]),
    ]
    events = [ServiceFailed(e.name, e.message, e.log_tail) for e in errors]
    app, _ = make_app(start_error=ServicesFailed(errors), start_events=events)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        app.flush_logs()
        await pilot.pause()
        panel = str(app.error_panel.render())
        assert "postgres: the server exited with code 1" in panel
        assert "redis: did not become ready in time (30 s)" in panel
        assert cell(app, "postgres", "health").startswith("the server exited")
        assert cell(app, "redis", "health").startswith("did not become ready")
        lines = "\n".join(shown(app))
        assert "failed: the server exited with code 1" in lines
        assert "failed: did not become ready in time (30 s)" in lines
        assert "FATAL: bad setting" in lines and "# oops" in lines


@asynctest
async def test_an_unexpected_error_from_start_is_shown_too():
    app, _ = make_app(start_error=RuntimeError("boom"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "RuntimeError: boom" in str(app.error_panel.render())
        assert app.is_running  # no traceback, no exit


# -- actions ----------------------------------------------------------------------


async def select(app, pilot, name: str) -> None:
    names = [key.value for key in app.table.rows]
    app.table.move_cursor(row=names.index(name))
    await pilot.pause()


@pytest.mark.parametrize(
    ("key", "call"),
    [
        ("r", ("restart", "web.1")),
        ("s", ("stop_process", "web.1")),
        ("t", ("start_process", "web.1")),
        ("R", ("restart_all",)),
    ],
)
@asynctest
async def test_process_actions_call_the_session(key, call):
    app, holder = make_app()
    messages = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        await select(app, pilot, "web.1")
        await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert holder["session"].calls[-1] == call
        done = [m.text for m in messages if type(m).__name__ == "ControlDone"]
        # web.1 is ready: `t` starts nothing, and says so.
        assert done and done[-1].endswith(("restarted", "stopped", "runs already"))


@asynctest
async def test_an_action_that_fails_is_a_notification():
    app, holder = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)

        def refuse(name):
            raise DevenvError(f"{name} is a service: restart it with `devenv down` and `up`")

        holder["session"].restart = refuse
        await select(app, pilot, "postgres")
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = [n.message for n in app.notices]
        assert any("postgres is a service" in note for note in notes)
        assert app.is_running


@pytest.mark.parametrize(
    ("key", "argv"),
    [("p", ["psql", "-h", "/tmp/devenv-ab12", "shop"]), ("c", ["redis-cli", "-p", "6379"])],
)
@asynctest
async def test_clients_run_suspended_with_the_sessions_argv(monkeypatch, key, argv):
    import devenv.tui.app as app_module

    ran = []
    monkeypatch.setattr(
        app_module.subprocess, "run", lambda argv, env: ran.append((argv, env, suspended))
    )
    suspended = []

    app, holder = make_app()

    @contextlib.contextmanager
    def suspend():
        suspended.append("in")
        yield
        suspended.append("out")

    app.suspend = suspend
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await pilot.pause()
    service = "postgres" if key == "p" else "redis"
    expected_argv, expected_env = holder["session"].client_argv(service)
    assert [(a, e) for a, e, _ in ran] == [(expected_argv, expected_env)]
    assert ran[0][0] == argv
    assert suspended == ["in", "out"]


@asynctest
async def test_log_path_is_notified():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await select(app, pilot, "worker.1")
        await pilot.press("l")
        await pilot.pause()
        notes = [(n.title, n.message) for n in app.notices]
        assert ("worker.1 log file", "/work/shop/.devenv/logs/worker.1.log") in notes


@asynctest
async def test_copy_urls_and_one_url():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        assert app.clipboard == (
            "export DATABASE_URL=postgresql://shop:s3cr3t@127.0.0.1:5432/shop\n"
            "export REDIS_URL=redis://:s3cr3t@127.0.0.1:6379/0"
        )
        app.action_copy_url("REDIS_URL")
        assert app.clipboard == "redis://:s3cr3t@127.0.0.1:6379/0"  # the real URL is copied
        await pilot.pause()
        notes = [n.message for n in app.notices]
        # Copied by the system's tool, or sent to the terminal (OSC 52): it says which.
        assert any("REDIS_URL: redis://:***@127.0.0.1:6379/0" in note for note in notes)
        assert not any("s3cr3t" in note for note in notes)
        # The header shows the URLs with the password masked.
        header = str(app.header.query_one("#urls").render())
        assert "DATABASE_URL=postgresql://shop:***@127.0.0.1:5432/shop" in header
        assert "s3cr3t" not in header


@asynctest
async def test_filter_shows_only_matching_lines_and_escape_leaves_it():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert any("connected to redis" in line for line in shown(app))
        await pilot.press("slash")
        await pilot.press(*"job")
        await pilot.pause()
        assert app.log_view.filter_text == "job"
        assert len(shown(app)) == 2 and all("job" in line for line in shown(app))
        holder_line = log_lines(["job 19 done", "unrelated"])
        app._buffer.put("worker.1", holder_line)
        app.flush_logs()
        await pilot.pause()
        assert len(shown(app)) == 3  # new lines are filtered as they come
        await pilot.press("escape")
        assert app.focused is app.table


@asynctest
async def test_selected_row_log_all_logs_and_clear():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.log_view.source is None  # the combined view first
        assert any(line.startswith("09:30:00 postgres") for line in shown(app))
        await select(app, pilot, "worker.1")
        await pilot.press("enter")
        await pilot.pause()
        assert app.log_view.source == "worker.1"
        assert shown(app) == [
            "09:30:00 connected to redis",
            "09:30:01 job 17 done",
            "09:30:02 job 18 done",
        ]
        await pilot.press("up")  # following the cursor now
        await pilot.pause()
        assert app.log_view.source == "web.1"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert shown(app) == []
        await pilot.press("a")
        await pilot.pause()
        assert app.log_view.source is None
        assert any("worker.1" in line for line in shown(app))
        assert not any("web.1    | GET" in line for line in shown(app))  # cleared for good


@asynctest
async def test_a_services_log_starts_with_its_file_tail():
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await select(app, pilot, "redis")
        await pilot.press("enter")
        await until_shown(app, pilot, "redis old line 2")
        assert shown(app)[:3] == ["redis old line 0", "redis old line 1", "redis old line 2"]


@asynctest
async def test_a_services_log_follows_its_file_while_it_is_shown():
    """The server writes its own file: what it writes while its view is open shows at once,
    stamped lines in the pane's format; leaving the view stops following the file."""
    app, holder = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        session = holder["session"]
        await select(app, pilot, "redis")
        await pilot.press("enter")
        await until_shown(app, pilot, "redis old line 2")
        session.written["redis"].put(["1:M 30 Nov 2026 09:31:05.250 * Background saving started"])
        await until_shown(app, pilot, "* Background saving started")
        stamp = datetime.datetime(2026, 11, 30, 9, 31, 5).strftime("%H:%M:%S")
        assert shown(app)[-1] == f"{stamp} 1:M * Background saving started"
        assert session.followed == ["redis"]
        await pilot.press("a")  # all sources: the file is no longer followed
        deadline = time.monotonic() + SETTLE_DEADLINE
        while session.followed and time.monotonic() < deadline:
            await pilot.pause(0.01)
        assert session.followed == []


async def until_shown(app, pilot, text: str) -> None:
    deadline = time.monotonic() + SETTLE_DEADLINE
    while not any(text in line for line in shown(app)):
        assert time.monotonic() < deadline, f"never shown: {text!r} in {shown(app)}"
        await pilot.pause(0.01)


@asynctest
async def test_command_palette_lists_the_actions():
    from devenv.tui.commands import DevenvCommands

    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        provider = DevenvCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        assert {"Restart process", "Open psql", "Quit", "Copy DATABASE_URL"} <= set(titles)
        hits = [hit async for hit in provider.search("restart all")]
        assert hits and str(hits[0].text) == "Restart all processes"
        hits[0].command()
        await app.workers.wait_for_complete()
        assert _["session"].calls[-1] == ("restart_all",)


# -- quitting ---------------------------------------------------------------------


@asynctest
async def test_quit_stops_everything_with_progress_then_exits():
    from devenv.tui.quit_screen import QuitScreen

    app, holder = make_app()
    messages = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen) or not app.is_running
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert ("stop",) in holder["session"].calls
    assert ("force_stop",) not in holder["session"].calls
    progress = [m.text for m in messages if type(m).__name__ == "StopProgress"]
    assert progress[0] == "stopping the processes"
    assert progress[-1] == "stopped"
    assert app.return_code == 0


@asynctest
async def test_a_second_quit_forces():
    from devenv.tui.quit_screen import QuitScreen

    gate = threading.Event()
    app, holder = make_app(stop_gate=gate)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        # Wait (without sleeping) until the fake's stop is blocked half-way.
        assert holder["session"].stopping.wait(timeout=10)
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        progress = str(app.screen.query_one("#quit-progress").render())
        assert "stopping web.1, worker.1…" in progress
        assert "web.1: stopped" in progress
        await pilot.press("ctrl+c")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert (
        holder["session"].calls[-1] == ("force_stop",) or ("force_stop",) in holder["session"].calls
    )
    assert not app.is_running


def test_no_color_is_honoured(monkeypatch):
    from textual.filter import Monochrome

    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app()
    assert app.no_color
    assert any(isinstance(f, Monochrome) for f in app._filters)


def test_formatting():
    from devenv.tui.status_table import format_bytes, format_cpu, format_uptime

    assert format_uptime(None) == "–"
    assert [format_uptime(s) for s in (5, 65, 3725, 90000)] == ["<1m", "1m", "1h02m", "1d01h"]
    sizes = (512, 2048, 24_500_000, 500_000_000, 1_600_000_000)
    assert [format_bytes(b) for b in sizes] == ["512B", "2.0K", "23.4M", "477M", "1.5G"]
    assert [format_cpu(p) for p in (12.345, 250.0)] == ["12.3%", "250%"]


@asynctest
async def test_a_project_without_postgres_is_not_offered_psql():
    from devenv.tui.app import DevenvApp
    from devenv.tui.commands import DevenvCommands

    app = DevenvApp("cache-only", lambda **callbacks: FakeSession(**callbacks), services=("redis",))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        titles = [hit.text async for hit in DevenvCommands(app.screen).discover()]
        assert app.check_action("psql", ()) is False
        assert app.check_action("redis_cli", ()) is True
        assert "Open psql" not in titles and "Open redis-cli" in titles


def test_a_setup_step_after_ready_keeps_the_health_ok():
    from devenv.events import ServiceReady, StepDone
    from devenv.tui.status_table import health_from_event

    ready = health_from_event(ServiceReady("postgres", 42, 5432, 0.04))
    assert ready == "ok 40ms"
    assert health_from_event(StepDone("postgres", "created database demo"), ready) is None
    assert health_from_event(StepDone("postgres", "initdb"), "starting") == "initdb"
