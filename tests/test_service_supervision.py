"""Services supervised like processes: a server that dies is seen, said and restarted; a stop
asked for is kept; a readiness probe's bug surfaces at once.

Real Redis and PostgreSQL (run as the unprivileged service user when the tests run as root), a
real ``python3 -m http.server`` for the probe tests; nothing stands in for a server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import sqlite3
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from devenv.config import load_config
from devenv.errors import ConfigError, DevenvError
from devenv.events import Event, ServiceExited, ServiceReady, ServiceStopped
from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.services import resp
from devenv.services.base import ServiceContext
from devenv.services.generic import RecipeService
from devenv.services.installations import find_installation
from devenv.services.readiness import not_yet
from devenv.services.recipes import recipe_for
from devenv.services.stack import Stack
from devenv.services.watch import ServiceWatcher
from tests.servers import free_port
from tests.test_tui import asynctest, cell

pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py

FAST = 0.1  # the watcher's poll in these tests: a death is seen within a tenth of a second


def seen(watcher, name: str) -> tuple:
    status = watcher.snapshot()[name]
    return status.state, status.pid, status.restarts


def until(check, what: str, timeout: float = 20.0):
    """Poll ``check`` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)
    return result


class Recorder:
    """Events, and the lines the watcher has for the processes, as they come (any thread)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.told: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def down(self, name: str, text: str) -> None:
        with self._lock:
            self.told.append(("down", text))

    def up(self, name: str, text: str) -> None:
        with self._lock:
            self.told.append(("up", text))

    def of(self, kind: type) -> list:
        with self._lock:
            return [event for event in self.events if isinstance(event, kind)]


def zombie_or_gone(pid: int) -> str:
    try:
        return "zombie" if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE else "alive"
    except psutil.NoSuchProcess:
        return "gone"


@pytest.fixture
def redis_stack(reachable_dir):
    """A project with Redis alone, its Stack emitting into a Recorder; stopped afterwards."""
    (reachable_dir / "devenv.toml").write_text('[project]\nname = "shop"\n\n[services.redis]\n')
    recorder = Recorder()
    stack = Stack(load_config(reachable_dir / "devenv.toml"), recorder)
    made: list[ServiceWatcher] = []

    def watch(stack: Stack = stack, **kw) -> ServiceWatcher:
        kw.setdefault("interval", FAST)
        watcher = ServiceWatcher(stack, on_down=recorder.down, on_up=recorder.up, **kw).watch()
        made.append(watcher)
        return watcher

    try:
        yield stack, recorder, watch
    finally:
        for watcher in made:
            watcher.close()
        Stack(stack.config).stop()


# -- the watcher, on a real Redis --------------------------------------------------------------


def test_a_killed_server_is_seen_said_reaped_and_started_again(redis_stack):
    stack, recorder, watch = redis_stack
    stack.start()
    watcher = watch()
    service = stack.service("redis")
    first = service.find_running()
    assert seen(watcher, "redis") == ("ready", first, 0)

    os.kill(first, signal.SIGKILL)

    exited = until(lambda: recorder.of(ServiceExited), "the death reported")[0]
    assert exited.pid == first and exited.returncode == -signal.SIGKILL
    assert exited.restart_in == 0.5 and exited.attempt == 1
    assert exited.message == f"killed by SIGKILL (pid {first}); restarting in 0.5 s (attempt 1)"
    ready = until(lambda: [e for e in recorder.of(ServiceReady) if e.pid != first], "restarted")
    second = ready[0].pid
    assert not ready[0].adopted
    assert service.find_running() == second
    assert service.is_ready()
    assert until(lambda: watcher.snapshot()["redis"].state == "ready", "ready again")
    assert seen(watcher, "redis") == ("ready", second, 1)
    # devenv was its parent, so devenv reaped it (pid 1 here reaps nothing).
    assert zombie_or_gone(first) == "gone"
    assert recorder.told == [
        ("down", "redis went down: killed by SIGKILL; restarting it"),
        ("up", f"redis is ready again (pid {second})"),
    ]


def test_a_stop_asked_for_is_kept_and_start_and_restart_bring_it_back(redis_stack):
    stack, recorder, watch = redis_stack
    stack.start()
    watcher = watch()
    service = stack.service("redis")
    first = service.find_running()

    assert watcher.stop("redis") is True
    assert service.find_running() is None
    assert recorder.told == [("down", "redis was stopped")]
    time.sleep(10 * FAST)  # ten looks of the watcher, and a backoff's worth: nothing restarts it
    assert watcher.snapshot()["redis"].state == "stopped"
    assert service.find_running() is None
    assert recorder.of(ServiceExited) == []

    assert watcher.start("redis") is True
    second = service.find_running()
    assert second not in (None, first)
    assert seen(watcher, "redis") == ("ready", second, 0)
    assert watcher.start("redis") is False  # it runs already

    watcher.restart("redis")
    third = service.find_running()
    assert third not in (None, second)
    assert [e.pid for e in recorder.of(ServiceStopped)] == [first, second]
    assert recorder.of(ServiceExited) == []  # none of this was a death


def test_an_adopted_server_that_dies_is_seen_as_a_zombie_and_started_again(redis_stack):
    stack, recorder, watch = redis_stack
    stack.start()  # this test process is the server's parent: its death leaves a zombie
    first = stack.service("redis").find_running()
    adopting = Stack(stack.config, recorder)  # what a later `devenv up` sees: not its child
    adopting.start()
    assert adopting.adopted == {"redis"}
    watch(adopting)

    os.kill(first, signal.SIGKILL)

    exited = until(lambda: recorder.of(ServiceExited), "the death of an adopted server")[0]
    assert zombie_or_gone(first) == "zombie"  # nobody reaped it, and still it counts as dead
    assert exited.returncode is None  # not its parent: how it ended is unknown
    assert exited.message.startswith(f"its process is gone (pid {first}); restarting in 0.5 s")
    until(lambda: adopting.service("redis").find_running() not in (None, first), "restarted")
    stack.service("redis").process.wait()  # the zombie's parent (this test) reaps it


def test_a_server_that_cannot_start_again_is_retried_then_left_crashed(redis_stack):
    stack, recorder, watch = redis_stack
    stack.start()
    watcher = watch(max_restarts=1)
    service = stack.service("redis")
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        os.kill(service.find_running(), signal.SIGKILL)
        until(lambda: recorder.of(ServiceExited), "the death")
        holder.bind(("127.0.0.1", service.port))  # taken before the restart (0.5 s later)
        holder.listen()

        until(lambda: watcher.snapshot()["redis"].state == "crashed", "given up")

    first, second = recorder.of(ServiceExited)
    assert first.restart_in == 0.5
    assert second.restart_in is None and second.pid is None
    assert second.message.startswith("could not start again: the server exited with code 1")
    assert "1 restarts without staying up, so it is not started again" in second.message
    assert any("Address already in use" in line for line in second.log_tail)
    assert recorder.told[-1] == (
        "down",
        "redis went down: could not start again: the server exited with code 1; "
        "it keeps failing and is not restarted",
    )
    assert service.find_running() is None

    assert watcher.start("redis") is True  # the port is free again: a person starts it
    assert watcher.snapshot()["redis"].state == "ready"


# -- readiness: "not yet" against a bug ----------------------------------------------------------

HTTP_RECIPE = """\
name = "echo"
default_port = 18080

[binaries]
server = "python3"

[version]
pattern = 'Python (\\d+(?:\\.\\d+)*)'

[readiness]
kind = "tcp"

[run]
command = ["{server}", "-m", "http.server", "{port}", "--bind", "127.0.0.1",
           "--directory", "{data_dir}"]
"""


class ProbeUnderTest(RecipeService):
    """The generic runner with a probe a test controls: ``failures`` are raised first, one per
    call, then ``bug`` (if set) on every call, else the real probe answers."""

    failures: list[BaseException]
    bug: BaseException | None = None
    calls = 0

    def is_ready(self) -> bool:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.bug is not None:
            raise self.bug
        return super().is_ready()


@pytest.fixture
def echo(reachable_dir):
    """A ProbeUnderTest running ``python3 -m http.server`` in a project; stopped afterwards."""
    (reachable_dir / "devenv").mkdir()
    (reachable_dir / "devenv" / "echo.toml").write_text(HTTP_RECIPE)
    (reachable_dir / "devenv.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "shop"

            [services.echo]
            recipe = "devenv/echo.toml"
            """
        )
    )
    config = load_config(reachable_dir / "devenv.toml")
    recipe = recipe_for(config.services["echo"])
    user = privileges.service_user()
    layout = Layout(config.root)
    layout.ensure(runtime_owner=user.uid)
    service = ProbeUnderTest(
        ServiceContext(
            project="shop",
            config=config.services["echo"],
            recipe=recipe,
            # The service user (tests run as root) cannot run root's pyenv shims.
            installation=find_installation(recipe, None, path="/usr/bin:/bin"),
            layout=layout,
            port=free_port(),
            user=user,
        )
    )
    service.failures = []
    try:
        yield service
    finally:
        with contextlib.suppress(Exception):
            service.bug = None
            service.stop()


def servers_in(root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and str(root) in " ".join(
            proc.info["cmdline"] or []
        ):
            found.append(proc)
    return found


def test_a_bug_in_the_readiness_probe_surfaces_at_once_and_leaves_no_server(echo):
    echo.bug = TypeError("'NoneType' object is not subscriptable")

    with pytest.raises(TypeError, match="not subscriptable") as caught:
        echo.start(timeout=20)  # were it taken for "not yet", this would fail after 20 s

    assert echo.calls == 1
    assert caught.value.__notes__ == [
        "raised by the readiness probe of echo (ProbeUnderTest.is_ready)"
    ]
    assert echo.find_running() is None
    assert servers_in(echo.ctx.layout.root) == []


def test_a_config_error_in_the_probe_surfaces_at_once_too(echo):
    echo.bug = ConfigError("cannot fill '{nope}'", key="readiness.command[0]")

    with pytest.raises(ConfigError, match=r"readiness\.command"):
        echo.start(timeout=20)

    assert echo.calls == 1
    assert servers_in(echo.ctx.layout.root) == []


def test_errors_that_mean_not_yet_are_waited_through(echo):
    echo.failures = [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        sqlite3.OperationalError("a DB-API driver's: the server is starting up"),
        resp.RespError("LOADING Redis is loading the dataset in memory"),
    ]

    ready = echo.start(timeout=20)

    assert echo.failures == [] and echo.calls > 4
    assert echo.find_running() == ready.pid


def test_status_says_starting_for_not_yet_and_raises_a_bug(echo):
    echo.start(timeout=20)
    assert echo.status().state == "ready"

    echo.failures = [TimeoutError("timed out")]
    assert echo.status().state == "starting"

    echo.bug = AttributeError("'Recipe' object has no attribute 'readyness'")
    with pytest.raises(AttributeError, match="readyness"):
        echo.status()


def test_a_quick_status_takes_a_listening_server_as_ready_and_asks_one_that_is_not(echo):
    """`devenv status` looks at the port (no client library); only a server that does not
    accept connections there is asked, with the probe."""
    echo.start(timeout=20)
    echo.bug = AttributeError("the probe must not run")
    assert echo.listening()
    calls = echo.calls
    assert echo.status(quick=True).state == "ready"
    assert echo.calls == calls  # not asked

    echo.bug = None
    echo.failures = [TimeoutError("timed out")]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    ctx, echo.ctx = echo.ctx, dataclasses.replace(echo.ctx, port=closed.getsockname()[1])
    try:
        assert not echo.listening()
        assert echo.status(quick=True).state == "starting"  # asked: not yet
        assert echo.calls == calls + 1
    finally:
        echo.ctx = ctx
        closed.close()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(), True),
        (FileNotFoundError(), True),  # no socket yet
        (TimeoutError(), True),
        (sqlite3.OperationalError("locked"), True),
        (resp.ConnectionClosed("closed"), True),
        (resp.RespError("LOADING Redis is loading"), True),
        (resp.RespError("BUSY Redis is busy running a script"), True),
        (resp.RespError("NOAUTH Authentication required."), False),
        (resp.RespError("ERR unknown command 'PNG'"), False),
        (TypeError("bug"), False),
        (KeyError("port"), False),
        (ImportError("no module named psycopg2"), False),
        (DevenvError("recipe mistake"), False),
    ],
)
def test_which_errors_mean_not_yet(error, expected):
    assert not_yet(error) is expected


# -- the TUI's service rows, on a real Session -----------------------------------------------


async def pilot_until(pilot, check, what: str, timeout: float = 20.0):
    """Poll ``check()`` between the app's own turns until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await pilot.pause(0.05)
    return found


@asynctest
async def test_service_rows_go_down_come_back_and_take_r_s_t(reachable_dir):
    from devenv.session import Session
    from devenv.tui.app import DevenvApp

    (reachable_dir / "devenv.toml").write_text(
        '[project]\nname = "shop"\n\n[services.redis]\n\n'
        '[processes.worker]\ndepends_on = ["redis"]\n'
    )
    (reachable_dir / "Procfile").write_text("worker: sleep 1000\n")
    config = load_config(reachable_dir / "devenv.toml")
    sessions: list[Session] = []

    def make_session(**callbacks):
        sessions.append(Session(config, **callbacks))
        return sessions[0]

    app = DevenvApp("shop", make_session, services=("redis",))
    try:
        async with app.run_test(size=(120, 30)) as pilot:

            def state() -> str:
                return cell(app, "redis", "state") if "redis" in app.table.rows else ""

            def pid() -> str:
                return cell(app, "redis", "pid")

            await pilot_until(pilot, lambda: app._started or app._start_failed, "the start")
            assert not app._start_failed, app.exit_message
            await pilot_until(pilot, lambda: app.header.status == "2/2 up", "all up")
            first = pid()

            os.kill(int(first), signal.SIGKILL)
            await pilot_until(pilot, lambda: "down: redis" in app.header.status, "shown down")
            assert app.header.state == "degraded"
            assert cell(app, "redis", "health") == "exit -9, retry 0.5s #1"
            await pilot_until(pilot, lambda: state() == "ready" and pid() != first, "back")
            await pilot_until(pilot, lambda: app.header.status == "2/2 up", "counted up again")
            assert cell(app, "redis", "restarts") == "1"
            app.flush_logs()
            lines = list(app.log_view.output.lines)
            assert any("redis" in line and "killed by SIGKILL" in line for line in lines)
            told = "redis went down: killed by SIGKILL; restarting it"
            assert any("worker.1" in line and told in line for line in lines)
            worker = cell(app, "worker.1", "pid")

            app.table.move_cursor(row=0)  # the services come first: redis
            await pilot.pause()
            await pilot.press("s")
            await pilot_until(pilot, lambda: state() == "stopped", "stopped by s")
            assert "down: redis" in app.header.status
            await pilot.pause(1.5)  # three looks and a backoff's worth: a stop asked for stays
            assert state() == "stopped"

            await pilot.press("t")
            await pilot_until(pilot, lambda: state() == "ready", "started by t")
            second = pid()
            await pilot.press("r")
            await pilot_until(pilot, lambda: state() == "ready" and pid() != second, "r")
            assert cell(app, "worker.1", "pid") == worker  # the process was never touched

            await pilot.press("q")
            await pilot_until(pilot, lambda: not app.is_running, "the quit", timeout=60)
    finally:
        if sessions and sessions[0]._lock is not None:
            sessions[0].stop()
    assert Stack(config).service("redis").find_running() is None
