"""`devenv up --no-tui` with a Procfile: the real CLI, real processes, checked with psutil."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.cli import devenv as run_devenv
from tests.servers import free_port

PROCFILE = """\
migrate: python -c "import time; time.sleep(0.3); print('migrated')"
web: python -m http.server $PORT --bind 127.0.0.1
worker: sh -c 'trap "" TERM; sleep 1000 & while true; do echo tick; sleep 0.2; done'
"""

CONFIG = """\
[project]
name = "shop"

[processes.migrate]
restart = "never"

[processes.web]
depends_on = {{ migrate = "completed" }}
ready = {{ http = "http://127.0.0.1:$PORT/" }}

[processes.worker]
stop_timeout = 1
{extra}"""


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e['PATH']}"
    e["PORT"] = str(free_port())
    e.pop("NO_COLOR", None)
    return e


def devenv(project: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_devenv(project, *args, env=env(), timeout=timeout)


def start_up(project: Path, environ: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=project,
        env=environ or env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def make_project(tmp_path: Path, extra: str = "", procfile: str = PROCFILE) -> Path:
    (tmp_path / "devenv.toml").write_text(CONFIG.format(extra=extra))
    (tmp_path / "Procfile").write_text(procfile)
    return tmp_path


def processes(project: Path) -> dict:
    result = devenv(project, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["processes"]


def wait_for(project: Path, up: subprocess.Popen, want: dict[str, str], timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        current = processes(project)
        if all(current.get(name, {}).get("state") == state for name, state in want.items()):
            return current
        if up.poll() is not None:
            pytest.fail(f"devenv up exited early:\n{up.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"not reached: {want}; now {current}")
        time.sleep(0.05)


def tree(pid: int) -> list[int]:
    try:
        proc = psutil.Process(pid)
        return [pid, *(c.pid for c in proc.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_order_readiness_output_and_a_clean_stop_on_sigterm(tmp_path):
    project = make_project(tmp_path)
    up = start_up(project)
    try:
        state = wait_for(
            project, up, {"migrate.1": "completed", "web.1": "ready", "worker.1": "running"}
        )
        pids = [p for name in ("web.1", "worker.1") for p in tree(state[name]["pid"])]
        assert len(pids) >= 4  # web's shell and python; worker's shell, sleep, loop

        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
        output = up.stdout.read()
    finally:
        if up.poll() is None:
            up.kill()

    assert all(gone(pid) for pid in pids), [p for p in pids if not gone(p)]
    lines = output.splitlines()
    assert any(re.fullmatch(r"\d\d:\d\d:\d\d migrate\.1 +\| migrated", line) for line in lines)
    assert any(re.fullmatch(r"\d\d:\d\d:\d\d worker\.1 +\| tick", line) for line in lines)
    migrated = next(i for i, line in enumerate(lines) if line.endswith("| migrated"))
    web_started = next(i for i, line in enumerate(lines) if "web.1" in line and "started" in line)
    assert migrated < web_started  # the migration ran to completion first
    assert "SIGTERM received, stopping" in output
    assert processes(project) == {}  # nothing of it is left to show


def test_a_crash_loop_ends_crashed_and_the_rest_keeps_running(tmp_path):
    procfile = PROCFILE + "flaky: sh -c 'echo boom; exit 3'\n"
    project = make_project(
        tmp_path, extra="[processes.flaky]\nmax_restarts = 2\n", procfile=procfile
    )
    up = start_up(project)
    try:
        state = wait_for(project, up, {"flaky.1": "crashed", "web.1": "ready"})
        assert state["worker.1"]["state"] == "running"
        log = devenv(project, "logs", "flaky")
        assert log.stdout.count("boom") == 3  # the first run and two restarts
        assert "restarting in 0.5 s" in log.stdout
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=30)
    assert code == 1  # like honcho: a process that failed makes the run fail


def test_sigkill_of_devenv_then_up_stops_what_it_left(tmp_path):
    project = make_project(tmp_path)
    first = start_up(project)
    state = wait_for(project, first, {"web.1": "ready", "worker.1": "running"})
    # The long-lived ones: web's shell and server, and the worker's `sleep 1000` (its loop's
    # short sleeps come and go, and its shell dies of SIGPIPE once devenv stops reading).
    orphans = tree(state["web.1"]["pid"]) + [
        p for p in tree(state["worker.1"]["pid"]) if psutil.Process(p).cmdline()[-1:] == ["1000"]
    ]
    assert len(orphans) == 3
    handles = [psutil.Process(pid) for pid in orphans]  # kill() checks it is still the same one
    first.kill()
    first.wait()
    try:
        assert not any(gone(pid) for pid in orphans)  # their own sessions: they outlive devenv

        second = start_up(project)
        try:
            again = wait_for(project, second, {"web.1": "ready"})
            assert again["web.1"]["pid"] != state["web.1"]["pid"]
            left = [psutil.Process(p).cmdline() for p in orphans if not gone(p)]
            assert left == []
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(timeout=30)
    finally:
        for handle in handles:  # whatever happened above, leave nothing behind
            with contextlib.suppress(psutil.Error):
                handle.kill()
    output = second.stdout.read()
    assert re.search(r"stopped what a killed devenv left running: .*web\.1, worker\.1", output)


def test_down_from_another_terminal_stops_the_processes(tmp_path):
    project = make_project(tmp_path)
    up = start_up(project)
    try:
        state = wait_for(project, up, {"web.1": "ready", "worker.1": "running"})
        pids = [p for name in ("web.1", "worker.1") for p in tree(state[name]["pid"])]
        info = processes(project)["web.1"]
        assert info["restarts"] == 0 and info["uptime"] >= 0
        deadline = time.monotonic() + 10
        while "rss" not in info:  # sampled once a second by the running devenv
            assert time.monotonic() < deadline, info
            time.sleep(0.1)
            info = processes(project)["web.1"]
        assert info["rss"] > 5 * 2**20  # a python http.server
        assert info["ports"] == [info["port"]]
        assert info["cpu_percent"] >= 0
        human = devenv(project, "status").stdout
        assert re.search(
            r"^web\.1 +ready +\d+ +\d+  0 restarts, up \d+s, \d+% cpu, \d+ MiB$", human, re.M
        ), human

        down = devenv(project, "down")
        assert down.returncode == 0, down.stderr
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert all(gone(pid) for pid in pids)


def test_logs_of_a_process_type(tmp_path):
    project = make_project(tmp_path)
    up = start_up(project)
    try:
        wait_for(project, up, {"web.1": "ready"})
        result = devenv(project, "logs", "web", "-n", "50")
        assert result.returncode == 0, result.stderr
        assert re.search(
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} started \(pid \d+\)$", result.stdout, re.M
        )
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=30)


def test_a_broken_procfile_line_is_reported_with_its_number(tmp_path):
    project = make_project(tmp_path, procfile=PROCFILE + "this line is not a process\n")

    result = devenv(project, "up", "--no-tui")

    assert result.returncode == 2
    assert result.stderr == (
        "devenv: Procfile:4: expected 'name: command', got 'this line is not a process'\n"
    )


def test_processes_get_the_services_variables_after_up_detached(reachable_dir):
    project = reachable_dir / "app"
    project.mkdir()
    (project / "devenv.toml").write_text(
        '[[services.postgres.databases]]\nname = "app"\n\n[services.redis]\n\n'
        '[processes.check]\nrestart = "never"\n'
    )
    (project / "Procfile").write_text(
        textwrap.dedent(
            """\
            check: psql -At -c "select 'db ' || current_database()" && echo "redis $REDIS_URL"
            idle: sleep 1000
            """
        )
    )
    try:
        assert devenv(project, "up", "-d").returncode == 0
        up = start_up(project)
        try:
            wait_for(project, up, {"check.1": "completed", "idle.1": "running"})
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=30)
        output = up.stdout.read()
        assert "already running" in output  # the services from `up -d` were adopted
        assert "left running, as before: postgres, redis" in output
        services = json.loads(devenv(project, "status", "--json").stdout)["services"]
        assert {s["state"] for s in services.values()} == {"ready"}
        assert re.search(r"check\.1 +\| db app$", output, re.M)
        # The process gets the whole URL, with the project's password (only devenv's own
        # lines mask it).
        assert re.search(r"check\.1 +\| redis redis://:[^@*\s]+@127\.0\.0\.1:\d+/0$", output, re.M)
    finally:
        devenv(project, "down")


def test_status_never_shows_a_killed_devenvs_record_as_the_running_ones(tmp_path):
    """Between a new `up` taking the project and its first record, processes.json is still the
    killed devenv's: status says stopped, not that the old pids are the new devenv's."""
    from devenv.project.layout import Layout
    from devenv.project.runlock import ForegroundLock

    (tmp_path / "devenv.toml").write_text('[project]\nname = "p"\n')
    (tmp_path / "Procfile").write_text("web: sleep 100\n")
    layout = Layout(tmp_path)
    with ForegroundLock(layout):  # this test process is "the running devenv"
        record = {"web.1": {"state": "ready", "pid": os.getpid(), "started_at": time.time()}}
        (layout.base / "processes.json").write_text(
            json.dumps({"web.1": {**record["web.1"], "recorded_by": 1}})  # written by another
        )
        assert processes(tmp_path)["web.1"]["state"] == "stopped"
        (layout.base / "processes.json").write_text(
            json.dumps({"web.1": {**record["web.1"], "recorded_by": os.getpid()}})
        )
        shown = processes(tmp_path)["web.1"]
        assert (shown["state"], shown["pid"]) == ("ready", os.getpid())
        assert "recorded_by" not in shown
