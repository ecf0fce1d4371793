"""The Session the TUI drives: real services, real processes, blocking calls from a test thread."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from devenv.config import load_config
from devenv.errors import DevenvError
from devenv.events import ServiceExited
from devenv.project.runlock import AlreadyRunning
from devenv.session import Session

TICKER = "sh -c 'while true; do echo tick; sleep 0.1; done'"


def until(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return result


def row(session: Session, name: str):
    return next(r for r in session.rows() if r.name == name)


@pytest.fixture
def processes_only(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n')
    (tmp_path / "Procfile").write_text(f"ticker: {TICKER}\nidle: sleep 1000\n")
    return load_config(tmp_path / "devenv.toml")


def test_processes_lines_control_and_a_second_session(processes_only):
    events, lines = [], {}
    session = Session(
        processes_only,
        on_event=events.append,
        on_lines=lambda name, batch: lines.setdefault(name, []).append(batch),
        sample_every=0.2,
    )
    session.start()
    try:
        assert session.names() == ["ticker.1", "idle.1"]
        until(lambda: row(session, "ticker.1").state == "running", "ticker running")
        until(lambda: len(lines.get("ticker.1", [])) >= 3, "ticker lines")
        assert all(isinstance(batch, list) for batch in lines["ticker.1"])
        assert "tick" in session.tail("ticker.1")
        assert session.log_path("ticker.1").name == "ticker.1.log"
        until(lambda: row(session, "idle.1").rss, "stats sampled")

        with pytest.raises(AlreadyRunning):
            Session(processes_only, on_event=print, on_lines=print).start()

        first = row(session, "idle.1").pid
        session.restart("idle.1")
        assert until(lambda: row(session, "idle.1").pid not in (None, first), "restarted")
        session.stop_process("idle.1")
        assert row(session, "idle.1").state == "stopped"
        session.start_process("idle.1")
        until(lambda: row(session, "idle.1").state == "running", "started again")
        session.restart_all()
        until(lambda: row(session, "ticker.1").state == "running", "all back")
        with pytest.raises(DevenvError, match="no process named nope"):
            session.restart("nope")
    finally:
        session.stop()
    assert session.exit_code == 0
    assert session.layout.stack_file.exists() is False  # the lock is released


def test_the_logs_folder_is_private_and_one_that_cannot_be_made_fails_the_start(processes_only):
    """No services: the session itself makes .devenv/logs before any process starts."""
    layout_logs = processes_only.root / ".devenv" / "logs"
    session = Session(processes_only, on_event=print, on_lines=lambda name, batch: None)
    session.start()
    session.stop()
    assert layout_logs.stat().st_mode & 0o777 == 0o700
    assert (layout_logs / "ticker.1.log").is_file()

    for child in layout_logs.iterdir():
        child.unlink()
    layout_logs.rmdir()
    layout_logs.write_text("a file where the logs belong")
    session = Session(processes_only, on_event=print, on_lines=lambda name, batch: None)
    with pytest.raises(DevenvError, match=r"\.devenv/logs is not a folder.*move it away"):
        session.start()
    assert session.runner is None  # no process was started
    assert session.layout.stack_file.exists() is False  # and the lock is released


def test_services_rows_urls_and_clients(reachable_dir):
    (reachable_dir / "devenv.toml").write_text(
        '[[services.postgres.databases]]\nname = "app"\n\n[services.redis]\n'
    )
    config = load_config(reachable_dir / "devenv.toml")
    events = []
    session = Session(config, on_event=events.append, on_lines=lambda n, b: None)
    session.start()
    try:
        rows = {r.name: r for r in session.rows()}
        assert rows["postgres"].kind == "service" and rows["postgres"].state == "ready"
        assert rows["redis"].detail.startswith("7")
        assert set(session.urls()) == {"DATABASE_URL", "REDIS_URL"}
        argv, env = session.client_argv("postgres")
        assert argv[0].endswith("psql") and env["PGDATABASE"] == "app"
        assert any("ready to accept connections" in line for line in session.tail("postgres"))

        # Its log file followed: the last lines first, then what the server writes after.
        stop, batches = threading.Event(), []
        reader = threading.Thread(
            target=lambda: batches.extend(session.follow_log("postgres", stop, poll=0.05))
        )
        reader.start()
        try:
            until(lambda: batches, "the log's last lines")
            assert any("ready to accept connections" in line for line in batches[0])
            # A failed statement is one the server logs (log_min_error_statement).
            subprocess.run([*argv, "-c", "select 1/0 as followed"], env=env, capture_output=True)
            until(
                lambda: any("select 1/0 as followed" in line for b in batches[1:] for line in b),
                "the line postgres wrote about the failed statement",
            )
        finally:
            stop.set()
            reader.join(timeout=5)
        assert not reader.is_alive()  # stop ends the following
    finally:
        session.stop()
    assert {r.state for r in session.rows()} == {"stopped"}


@pytest.fixture
def services_and_a_user(reachable_dir):
    """PostgreSQL and Redis; web depends on PostgreSQL, only_redis on Redis, idle names none."""
    (reachable_dir / "devenv.toml").write_text(
        "[[services.postgres.databases]]\n"
        'name = "app"\n\n'
        "[services.redis]\n\n"
        "[processes.web]\n"
        'depends_on = ["postgres"]\n\n'
        "[processes.only_redis]\n"
        'depends_on = ["redis"]\n'
    )
    procfile = f"web: {TICKER}\nidle: sleep 1000\nonly_redis: sleep 1000\n"
    (reachable_dir / "Procfile").write_text(procfile)
    return load_config(reachable_dir / "devenv.toml")


def test_a_killed_service_is_restarted_and_the_processes_using_it_are_told(services_and_a_user):
    events = []
    session = Session(services_and_a_user, on_event=events.append, on_lines=lambda n, b: None)
    session.start()
    try:
        first = row(session, "postgres").pid
        web = until(lambda: row(session, "web.1").pid, "web started")
        assert row(session, "postgres").restarts == 0

        os.kill(first, signal.SIGKILL)

        told = "postgres went down: killed by SIGKILL; restarting it"
        until(lambda: told in session.tail("web.1"), "web told")
        until(lambda: told in session.tail("idle.1"), "a process naming no service told too")
        until(lambda: row(session, "postgres").pid not in (None, first), "a new postmaster")
        until(lambda: row(session, "postgres").state == "ready", "postgres ready again")
        assert row(session, "postgres").restarts == 1
        again = f"postgres is ready again (pid {row(session, 'postgres').pid})"
        until(lambda: again in session.tail("web.1"), "web told it is back")
        assert told not in session.tail("only_redis.1")  # it uses Redis alone
        assert row(session, "web.1").pid == web  # told, never killed
        assert row(session, "web.1").state == "running"
        exited = next(e for e in events if isinstance(e, ServiceExited))
        assert (exited.name, exited.pid, exited.returncode) == ("postgres", first, -9)
    finally:
        session.stop()
    assert {r.state for r in session.rows() if r.kind == "service"} == {"stopped"}


def test_services_are_restarted_stopped_and_started_by_name(services_and_a_user):
    session = Session(services_and_a_user, on_event=lambda e: None, on_lines=lambda n, b: None)
    session.start()
    try:
        first = row(session, "redis").pid
        session.restart("redis")
        second = row(session, "redis").pid
        assert second not in (None, first) and row(session, "redis").state == "ready"

        session.stop_process("redis")
        assert row(session, "redis").state == "stopped" and row(session, "redis").pid is None
        until(lambda: "redis was stopped" in session.tail("only_redis.1"), "its process told")
        time.sleep(1.5)  # three looks of the watcher and a backoff: a stop asked for is kept
        assert row(session, "redis").state == "stopped"
        assert session.stack.service("redis").find_running() is None

        session.start_process("redis")
        assert row(session, "redis").state == "ready"
        assert row(session, "redis").pid not in (None, second)
        with pytest.raises(DevenvError, match="no process named nope"):
            session.restart("nope")
    finally:
        session.stop()


class Connections:
    """How many connections PostgreSQL and Redis have accepted so far (PostgreSQL's from its
    log: log_connections is on), not counting the INFO connections of these looks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.looks = 0

    def __call__(self) -> tuple[int, int]:
        pg_log = self.session.stack.service("postgres").log_file.read_text(errors="replace")
        redis = self.session.stack.service("redis").info("stats")
        self.looks += 1  # this look's own connection is in what INFO reports
        return pg_log.count("connection received:"), int(redis["total_connections_received"]) - (
            self.looks
        )


def test_reading_the_dashboard_opens_no_connection_to_any_server(reachable_dir):
    """Session.rows() is read once a second: liveness from the pids, readiness from the events;
    never a connection, before the session's start, while it runs, or after it stopped."""
    (reachable_dir / "devenv.toml").write_text("[services.postgres]\n\n[services.redis]\n")
    config = load_config(reachable_dir / "devenv.toml")
    from devenv.services.stack import Stack

    Stack(config).start()  # as `devenv up -d`: the session adopts them, and leaves them running
    postgres = Stack(config).service("postgres")
    conn = postgres.superuser_connect()
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET log_connections = on")
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()
    session = Session(config, on_event=lambda e: None, on_lines=lambda n, b: None)
    connections_made = Connections(session)
    try:
        # The count sees a connection (so that an unchanged count below means something); the
        # reload takes effect a moment later.
        def logged() -> bool:
            postgres.superuser_connect().close()
            time.sleep(0.05)
            return connections_made()[0] > 0

        until(logged, "log_connections in effect")
        before = connections_made()
        postgres.superuser_connect().close()
        until(lambda: connections_made()[0] == before[0] + 1, "a connection is logged")

        def read_the_dashboard(times: int = 20) -> list:
            counted = connections_made()
            rows = [session.rows() for _ in range(times)]
            time.sleep(0.3)  # a connection's log line is written by its backend, just after
            assert connections_made() == counted
            return rows[-1]

        assert {r.state for r in read_the_dashboard()} == {"starting"}  # not said ready yet
        session.start()
        assert {r.state for r in read_the_dashboard()} == {"ready"}
        session.stop()
        assert {r.state for r in read_the_dashboard()} == {"ready"}  # left running, as found
    finally:
        session.stop()
        Stack(config).stop()


class LoopOnly:
    """Stands for the supervisor and notes every read of its state from a thread other than
    its loop's (the supervisor is not thread-safe: only SupervisorRunner's calls may reach
    it, and they run on its loop)."""

    READS = frozenset({"snapshot", "names", "state", "services_ready", "exit_code"})

    def __init__(self, supervisor, loop_thread) -> None:
        self._supervisor = supervisor
        self._loop_thread = loop_thread
        self.strays: list[str] = []

    def __getattr__(self, name: str):
        thread = threading.current_thread()
        if name in self.READS and thread is not self._loop_thread:
            self.strays.append(f"supervisor.{name} from {thread.name}")
        return getattr(self._supervisor, name)


def test_the_session_reads_the_supervisor_only_on_its_loop(processes_only):
    session = Session(
        processes_only, on_event=lambda e: None, on_lines=lambda n, b: None, sample_every=0.05
    )
    session.start()
    try:
        runner = session.runner
        loop_thread = next(t for t in threading.enumerate() if t.name == "devenv-supervisor")
        guard = LoopOnly(runner.supervisor, loop_thread)
        runner.supervisor = guard
        until(lambda: row(session, "ticker.1").state == "running", "ticker running")
        assert session.names() == ["ticker.1", "idle.1"]
        first = row(session, "idle.1").pid
        session.restart("idle.1")
        until(lambda: row(session, "idle.1").pid not in (None, first), "restarted")
        session.stop_process("idle.1")
        session.start_process("idle.1")
        session.restart_all()
        until(lambda: row(session, "ticker.1").state == "running", "all back")
        until(lambda: row(session, "idle.1").rss, "sampled (the sampler's thread ran)")
    finally:
        session.stop()
    assert guard.strays == []
