"""Warm `devenv up -d` spawns the servers from the last start's plans before loading devenv
(devenv.project.startplan); the ordinary start keeps such a server only when it is exactly
the one it would spawn. Real PostgreSQL and Redis, real files."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devenv.config import load_project
from devenv.project import startplan
from devenv.project.layout import Layout
from devenv.project.procfs import state as proc_state
from devenv.services.stack import Stack
from tests.cli import devenv as run_devenv

CONFIG = """\
[project]
name = "{name}"

[services.postgres]

[[services.postgres.databases]]
name = "app"

[services.redis]
"""


def devenv(project: Path, *args: str, env: dict[str, str] | None = None):
    env = dict(os.environ if env is None else env)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return run_devenv(project, *args, env=env)


@pytest.fixture
def project(reachable_dir):
    """A project started once and stopped: its plans are recorded, nothing runs."""
    path = reachable_dir / "planned"
    path.mkdir()
    (path / "devenv.toml").write_text(CONFIG.format(name="planned"))
    for command in (("up", "-d"), ("down",)):
        result = devenv(path, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    yield path
    startplan.abandon()
    devenv(path, "down")


def servers(project: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cwd"]):
        cwd = proc.info.get("cwd") or ""
        if proc.info["name"] in ("postgres", "redis-server") and cwd.startswith(str(project)):
            found.append(proc)
    return found


def plan(project: Path, name: str) -> dict:
    return json.loads((project / ".devenv" / "state" / f"{name}{startplan.SUFFIX}").read_text())


def lock_is_free(project: Path) -> bool:
    fd = os.open(Layout(project).ops_lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_start_records_how_it_spawned_each_server(project):
    pg = plan(project, "postgres")
    assert pg["argv"][1:] == ["-D", str(project / ".devenv" / "state" / "postgres")]
    assert pg["pid_file"] == str(project / ".devenv" / "state" / "postgres.pid.json")
    assert set(pg["reads"]) == {
        str(project / ".devenv" / "state" / "postgres" / name)
        for name in ("postgresql.conf", "pg_hba.conf")
    }
    assert plan(project, "redis")["argv"][1:] == [
        str(project / ".devenv" / "state" / "redis" / "redis.conf")
    ]


def test_the_early_servers_are_the_ones_the_start_keeps(project):
    startplan.spawn_early(str(project))
    early = startplan.pending()
    assert set(early) == {"postgres", "redis"}
    assert not lock_is_free(project)  # held from the spawn on, against another devenv
    stack = Stack(load_project(project))
    stack.start(hooks=False)
    assert startplan.pending() == {}
    assert stack.adopted == set()  # started by this start, not found running
    for name, pid in early.items():
        assert stack.service(name).process.pid == pid
    assert {s.state.value for s in stack.status().values()} == {"ready"}
    stack.stop()
    startplan.abandon()  # the lock: what `up -d`'s operation_lock hands back
    assert lock_is_free(project)


def test_spawning_early_from_a_subfolder_finds_the_project(project):
    (project / "sub").mkdir()
    startplan.spawn_early(str(project / "sub"))
    assert set(startplan.pending()) == {"postgres", "redis"}
    startplan.abandon()
    assert servers(project) == []
    assert not (project / ".devenv" / "state" / "postgres.pid.json").exists()
    assert lock_is_free(project)


def test_nothing_is_spawned_early_after_the_config_changed(project):
    with open(project / "devenv.toml", "a") as f:
        f.write("# edited\n")
    startplan.spawn_early(str(project))
    assert startplan.pending() == {}
    assert lock_is_free(project)


def test_nothing_is_spawned_early_while_a_record_says_a_server_runs(project):
    (project / ".devenv" / "state" / "redis.pid.json").write_text('{"pid": 1}')
    startplan.spawn_early(str(project))
    assert startplan.pending() == {}


def test_a_server_spawned_from_a_stale_plan_is_replaced_by_the_right_one(project):
    path = project / ".devenv" / "state" / f"postgres{startplan.SUFFIX}"
    stale = plan(project, "postgres")
    stale["argv"] += ["-c", "work_mem=77MB"]  # not what devenv spawns
    path.write_text(json.dumps(stale))
    log = project / ".devenv" / "logs" / "postgres.log"
    ready = "database system is ready to accept connections"
    before = log.read_text().count(ready)
    up = devenv(project, "up", "-d")
    assert up.returncode == 0, up.stdout + up.stderr
    assert log.read_text().count(ready) == before + 2  # the early one, then the right one
    shown = devenv(project, "psql", "-At", "-c", "SHOW work_mem")
    assert shown.stdout.strip() == "4MB", shown.stderr
    assert "-c" not in plan(project, "postgres")["argv"]  # recorded anew
    assert len([p for p in servers(project) if p.info["name"] == "redis-server"]) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="DEVENV_SERVICE_USER is read as root only")
def test_servers_spawned_early_are_stopped_when_the_start_fails_first(project):
    env = {**os.environ, "DEVENV_SERVICE_USER": "no-such-user-here"}
    up = devenv(project, "up", "-d", env=env)
    assert up.returncode != 0
    assert "no-such-user-here" in up.stderr
    assert servers(project) == []
    assert not (project / ".devenv" / "state" / "postgres.pid.json").exists()
    assert not (project / ".devenv" / "state" / "redis.pid.json").exists()
    warm = devenv(project, "up", "-d")
    assert warm.returncode == 0, warm.stdout + warm.stderr


def test_a_warm_up_from_the_plans_still_says_ready_and_provisions(project):
    up = devenv(project, "up", "-d")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "postgres | ready in" in up.stdout
    assert "redis    | ready in" in up.stdout
    databases = devenv(project, "psql", "-At", "-c", "SELECT datname FROM pg_database")
    assert "app" in databases.stdout.split()


def test_the_early_spawn_loads_no_other_devenv_module_before_spawning(project):
    """What runs before the servers are spawned imports nothing of devenv but the plan code
    and its helpers (stamps, own files), and none of the libraries the rest of devenv pays
    for (pathlib, typing, dataclasses...): the point is to spawn before those imports."""
    code = (
        "import sys, subprocess\n"
        "from devenv.project import startplan\n"
        "spawned = []\n"
        "class Spy(subprocess.Popen):\n"
        "    def __init__(self, *a, **k):\n"
        "        spawned.append(sorted(sys.modules))\n"
        "        super().__init__(*a, **k)\n"
        "subprocess.Popen = Spy\n"
        f"startplan.spawn_early({str(project)!r})\n"
        "names = set(spawned[0]) if spawned else set()\n"
        "startplan.abandon()\n"
        "print(len(spawned))\n"
        "print(sorted(n for n in names if n.startswith('devenv')))\n"
        "print(sorted(names & {'pathlib', 'typing', 'dataclasses', 'argparse', 'psutil'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    count, devenv_modules, heavy = result.stdout.strip().splitlines()
    assert count == "2"  # postgres and redis
    light = ["devenv", "devenv.project", "devenv.project.ownfiles", "devenv.project.stamps"]
    light.append("devenv.project.startplan")
    assert devenv_modules == str(light)
    assert heavy == "[]"


def test_a_warm_up_with_nothing_to_provision_does_not_import_psycopg2(project):
    """Readiness and the check that every role and database is in place go through
    devenv.services.pgwire: psycopg2 (~15 ms to import) is loaded only when there is work.
    Nor psutil (pid records read /proc), nor argparse (`up -d` is parsed without it), nor
    the environment's code in a project without lockfiles."""
    code = (
        "import sys\n"
        "from devenv.cli import main\n"
        "code = main(['up', '-d'])\n"
        "heavy = ('psycopg2', 'psutil', 'argparse', 'devenv.environment.startup')\n"
        "print(code, *(name in sys.modules for name in heavy))\n"
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 False False False False"


@pytest.mark.skipif(os.geteuid() != 0, reason="another account's file needs root to make")
def test_a_plan_another_account_wrote_is_never_used(project):
    """As root the state folder belongs to the service account; a plan it wrote there (which
    could name any command, run as root) is not spawned."""
    path = project / ".devenv" / "state" / f"redis{startplan.SUFFIX}"
    owner = (project / ".devenv" / "state").stat()
    assert owner.st_uid != 0  # the service account's
    os.chown(path, owner.st_uid, owner.st_gid)
    startplan.spawn_early(str(project))
    assert startplan.pending() == {}
    os.chown(path, 0, 0)
    path.chmod(0o666)
    startplan.spawn_early(str(project))
    assert startplan.pending() == {}


def up(project: Path) -> dict[str, int]:
    """`devenv up -d`; the servers' pids by service."""
    result = devenv(project, "up", "-d")
    assert result.returncode == 0, result.stdout + result.stderr
    state = project / ".devenv" / "state"
    return {name: json.loads((state / f"{name}.pid.json").read_text())["pid"] for name in SERVICES}


SERVICES = ("postgres", "redis")


def test_down_asks_the_servers_to_stop_before_loading_devenv_and_still_says_so(project):
    pids = up(project)
    startplan.stop_early(str(project))
    assert not lock_is_free(project)
    deadline = time.monotonic() + 10
    while any(proc_state(pid) not in (None, "Z") for pid in pids.values()):  # they go
        assert time.monotonic() < deadline
        time.sleep(0.01)
    events: list = []
    stack = Stack(load_project(project), events.append)
    assert sorted(stack.stop()) == ["postgres", "redis"]
    assert {(type(e).__name__, e.name, e.pid) for e in events} == {
        ("ServiceStopped", name, pid) for name, pid in pids.items()
    }
    assert servers(project) == []
    assert not (project / ".devenv" / "state" / "postgres.pid.json").exists()
    startplan.abandon()
    assert lock_is_free(project)


def test_down_from_the_cli_names_what_it_stopped(project):
    pids = up(project)
    down = devenv(project, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    for name, pid in pids.items():
        assert f"| stopped (pid {pid})" in down.stdout
        assert f"{name:<9}| stopped" in down.stdout or f"{name} | stopped" in down.stdout
    assert servers(project) == []
    assert devenv(project, "down").stdout.strip().endswith("nothing was running")


def test_nothing_is_stopped_early_while_a_foreground_devenv_runs_the_project(project):
    pids = up(project)
    stack_file = Layout(project).stack_file
    stack_file.write_text('{"pid": 1, "create_time": 0}')  # as a foreground `devenv up` has
    try:
        startplan.stop_early(str(project))
        assert lock_is_free(project)
        assert all(psutil.pid_exists(pid) for pid in pids.values())
        assert startplan.stopped(project / ".devenv" / "state" / "postgres.pid.json") is None
    finally:
        stack_file.unlink()


def test_a_finished_up_d_ends_its_process_at_once_with_its_whole_output(project, tmp_path):
    """Run for its own command line, `up -d` (and `down`) ends the process once it is done (no
    interpreter teardown): what it printed is all there, in a file too (block-buffered), and
    the exit code is the command's. With a thread of someone else's still running, main() returns as
    before and the ordinary exit follows."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = tmp_path / "up.out"
    with open(out, "w") as f:
        result = subprocess.run(
            [sys.executable, "-m", "devenv", "up", "-d"], cwd=project, env=env, stdout=f
        )
    assert result.returncode == 0
    lines = out.read_text().splitlines()
    assert "DATABASE_URL=postgresql://app:***@" in lines[-2]
    assert "REDIS_URL=redis://:***@" in lines[-1]
    with open(out, "w") as f:  # `down` ends its process the same way
        result = subprocess.run(
            [sys.executable, "-m", "devenv", "down"], cwd=project, env=env, stdout=f
        )
    assert result.returncode == 0
    stopped = sorted(line.split()[1] for line in out.read_text().splitlines())
    assert stopped == ["postgres", "redis"], out.read_text()
    assert servers(project) == []

    code = (
        "import sys, threading\n"
        "sys.argv = ['devenv'] + sys.argv[1:]\n"
        "from devenv.cli import main\n"
        "if sys.argv[-1] == '-d':\n"
        "    print('without a thread', main(), flush=True)\n"
        "    sys.exit(0)\n"
        "waiting = threading.Event()\n"
        "threading.Thread(target=waiting.wait).start()\n"
        "sys.argv[-1] = '-d'\n"
        "print('with a thread', main(), flush=True)\n"
        "waiting.set()\n"
    )
    alone = subprocess.run(
        [sys.executable, "-c", code, "up", "-d"], cwd=project, env=env, capture_output=True
    )
    assert alone.returncode == 0, alone.stderr
    assert b"without a thread" not in alone.stdout  # main() ended the process itself
    assert b"REDIS_URL=" in alone.stdout
    assert devenv(project, "down").returncode == 0
    beside = subprocess.run(
        [sys.executable, "-c", code, "up", "-x"], cwd=project, env=env, capture_output=True
    )
    assert beside.returncode == 0, beside.stderr
    assert beside.stdout.decode().splitlines()[-1] == "with a thread 0"


def test_an_early_postgresql_is_logged_into_while_devenv_loads(project):
    """PostgreSQL's plan has a probe: the early start logs in once the server says it is
    ready, and hands that session over once (is_ready uses it); Redis's plan has none."""
    layout = Layout(project)
    startplan.spawn_early(str(project))
    taken = []
    try:
        early = startplan.take(layout.state / "postgres.pid.json")
        redis = startplan.take(layout.state / "redis.pid.json")
        taken = [e for e in (early, redis) if e is not None]
        assert early is not None and early.probed is not None
        assert early.probed.wait(30)
        conn = early.connection()
        assert conn is not None
        try:
            assert conn.query("SELECT current_user") == [("postgres",)]
        finally:
            conn.close()
        assert early.connection() is None  # once
        assert redis is not None and redis.probed is None and redis.connection() is None
    finally:
        for taken_early in taken:  # as abandon() stops those nobody took
            taken_early.proc.terminate()
            taken_early.proc.wait(10)
            os.unlink(taken_early.plan["pid_file"])
        startplan.abandon()
    assert servers(project) == []
