"""The service commands end to end: the real CLI, real PostgreSQL and Redis, real files.

Projects live in folders PostgreSQL's unprivileged account can enter (tests run
as root in CI), and every test stops what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.cli import devenv as run_devenv

CONFIG = """\
[project]
name = "{name}"

[services.postgres]
{pg_extra}
[[services.postgres.databases]]
name = "app"
owner = "app"
extensions = ["pg_trgm"]

[services.redis]

[hooks]
after_ready = ["python -c \\"import os; print('hook sees', os.environ['REDIS_URL'][:8])\\""]
"""


def devenv(project: Path, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("NO_COLOR", None)
    return run_devenv(project, *args, env=env, timeout=timeout, **kw)


def make_project(parent: Path, name: str = "shop", pg_extra: str = "") -> Path:
    project = parent / name
    project.mkdir(parents=True)
    (project / "devenv.toml").write_text(CONFIG.format(name=name, pg_extra=pg_extra))
    return project


@pytest.fixture
def project(reachable_dir):
    path = make_project(reachable_dir)
    yield path
    devenv(path, "down")


def status(project: Path) -> dict:
    result = devenv(project, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def psql(project: Path, sql: str) -> str:
    result = devenv(project, "psql", "-At", "-c", sql)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def redis_cli(project: Path, *args: str) -> str:
    result = devenv(project, "redis-cli", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def project_servers(project: Path) -> list[psutil.Process]:
    """postgres and redis-server processes whose working folder is inside the project."""
    found = []
    for proc in psutil.process_iter(["name", "cwd"]):
        cwd = proc.info.get("cwd") or ""
        if proc.info["name"] in ("postgres", "redis-server") and cwd.startswith(str(project)):
            found.append(proc)
    return found


def test_up_detached_cold_then_warm_keeps_committed_rows(project):
    cold = devenv(project, "up", "-d")
    assert cold.returncode == 0, cold.stderr + cold.stdout
    assert "postgres | ready in" in cold.stdout or "postgres | " in cold.stdout
    assert "hook sees redis://" in cold.stdout
    # The URLs are shown with the project's password (.devenv/password) masked.
    secret = (project / ".devenv" / "password").read_text().strip()
    assert "DATABASE_URL=postgresql://app:***@127.0.0.1:" in cold.stdout
    assert secret not in cold.stdout + cold.stderr

    info = status(project)
    assert info["services"]["postgres"]["state"] == "ready"
    assert info["services"]["redis"]["state"] == "ready"
    assert info["services"]["postgres"]["version"].startswith("15")
    assert psutil.pid_exists(info["services"]["postgres"]["pid"])
    assert info["processes"] == {}

    exports = devenv(project, "env").stdout
    port = info["services"]["postgres"]["port"]
    assert f"export DATABASE_URL=postgresql://app:{secret}@127.0.0.1:{port}/app" in exports
    assert f"export PGPORT={port}" in exports
    assert f"export REDIS_URL=redis://:{secret}@127.0.0.1:" in exports

    psql(project, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (42)")
    assert psql(project, "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'") == "pg_trgm"
    assert redis_cli(project, "SET", "visits", "7") == "OK"

    down = devenv(project, "down")
    assert down.returncode == 0, down.stderr
    assert project_servers(project) == []
    stopped = status(project)["services"]
    assert {s["state"] for s in stopped.values()} == {"stopped"}
    assert (project / ".devenv" / "state" / "postgres" / "PG_VERSION").exists()

    warm = devenv(project, "up", "-d")
    assert warm.returncode == 0, warm.stderr
    assert status(project)["services"]["postgres"]["port"] == port  # remembered
    assert psql(project, "SELECT id FROM orders") == "42"
    assert redis_cli(project, "GET", "visits") == "7"


def test_hooks_devenv_run_and_env_read_dotenv_as_the_processes_do(reachable_dir):
    """A migration hook reads the app's settings from .env as the app does (django-on-docker's
    SQL_* variables); the services' own variables still win, as for the processes."""
    project = reachable_dir / "shop"
    project.mkdir()
    hook = (
        "python -c \\\"import os; print('hook:', os.environ['APP_GREETING'], "
        "os.environ['APP_CACHE'] == os.environ['REDIS_URL'], os.environ['REDIS_URL'][:8])\\\""
    )
    (project / "devenv.toml").write_text(
        f'[project]\nname = "shop"\n\n[services.redis]\n\n[hooks]\nafter_ready = ["{hook}"]\n'
    )
    (project / ".env").write_text(
        'APP_GREETING="hello from .env"\nAPP_CACHE=${REDIS_URL}\nREDIS_URL=redis://elsewhere\n'
    )
    try:
        up = devenv(project, "up", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "hook: hello from .env True redis://" in up.stdout

        code = "import os; print(os.environ['APP_GREETING'], os.environ['REDIS_URL'][:9])"
        ran = devenv(project, "run", "python", "-c", code)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "hello from .env redis://:"  # the project's own Redis

        # `eval "$(devenv env)"` gives a shell the same.
        exports = devenv(project, "env").stdout.splitlines()
        assert "export APP_GREETING='hello from .env'" in exports
        redis = [line for line in exports if line.startswith("export REDIS_URL=")]
        assert len(redis) == 1 and redis[0].startswith("export REDIS_URL=redis://:"), redis

        (project / ".env").write_text("APP_GREETING='unclosed\n")
        broken = devenv(project, "run", "python", "-c", "pass")
        assert broken.returncode == 2, broken.stdout + broken.stderr
        assert broken.stderr.startswith("devenv: .env:1: APP_GREETING:"), broken.stderr
        assert "Traceback" not in broken.stderr
    finally:
        devenv(project, "down")


def test_kill_9_of_both_servers_then_up_recovers_the_data(project):
    assert devenv(project, "up", "-d").returncode == 0
    psql(project, "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)")
    redis_cli(project, "SET", "k", "kept")
    pids = {name: s["pid"] for name, s in status(project)["services"].items()}

    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    for pid in pids.values():
        psutil.wait_procs([psutil.Process(pid)], timeout=5) if psutil.pid_exists(pid) else None

    again = devenv(project, "up", "-d")
    assert again.returncode == 0, again.stderr + again.stdout
    assert psql(project, "SELECT count(*) FROM t") == "2"
    assert redis_cli(project, "GET", "k") == "kept"
    new = {name: s["pid"] for name, s in status(project)["services"].items()}
    assert set(new.values()).isdisjoint(pids.values())


def test_up_twice_adopts_instead_of_starting_a_second_server(project):
    assert devenv(project, "up", "-d").returncode == 0
    first = {name: s["pid"] for name, s in status(project)["services"].items()}

    second = devenv(project, "up", "-d")

    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert {name: s["pid"] for name, s in status(project)["services"].items()} == first
    assert len([p for p in project_servers(project) if p.name() == "redis-server"]) == 1


def test_a_taken_configured_port_names_the_process_holding_it(reachable_dir):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        project = make_project(reachable_dir, pg_extra=f"port = {port}\n")

        result = devenv(project, "up", "-d")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"port {port} for postgres" in result.stderr
    assert f"(pid {os.getpid()})" in result.stderr
    assert project_servers(project) == []
    devenv(project, "down")


def test_two_projects_run_side_by_side(reachable_dir):
    a, b = make_project(reachable_dir, "alpha"), make_project(reachable_dir, "beta")
    try:
        env = dict(
            os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "devenv", "up", "-d"],
                cwd=p,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p in (a, b)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err + out
        ports_a = {n: s["port"] for n, s in status(a)["services"].items()}
        ports_b = {n: s["port"] for n, s in status(b)["services"].items()}
        assert set(ports_a.values()).isdisjoint(ports_b.values())
        psql(a, "CREATE TABLE only_in_alpha (x int)")
        assert psql(b, "SELECT to_regclass('only_in_alpha') IS NULL") == "t"
    finally:
        devenv(a, "down")
        devenv(b, "down")


def test_a_version_nothing_matches_names_what_was_found(reachable_dir):
    project = make_project(reachable_dir, pg_extra='version = ">=99"\n')

    result = devenv(project, "up", "-d")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no PostgreSQL matching '>=99' found; found 15." in result.stderr
    assert "services.postgres.version" in result.stderr


def test_a_service_whose_binary_is_missing_says_how_to_install_it(reachable_dir):
    project = reachable_dir / "cache"
    (project / "devenv").mkdir(parents=True)
    (project / "devenv" / "keydb.toml").write_text(
        textwrap.dedent(
            """\
            name = "keydb"
            default_port = 6380
            [binaries]
            server = "keydb-server-not-installed"
            [install]
            apt = "apt-get install keydb"
            brew = "brew install keydb"
            dnf = "dnf install keydb"
            [run]
            command = ["{server}", "--port", "{port}"]
            """
        )
    )
    (project / "devenv.toml").write_text('[services.keydb]\nrecipe = "devenv/keydb.toml"\n')

    result = devenv(project, "up", "-d")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "is not installed: install it with" in result.stderr
    assert "install keydb" in result.stderr


def test_a_deep_project_path_keeps_sockets_short(reachable_dir):
    deep = reachable_dir / ("very-long-folder-name-" * 4) / ("nested-" * 10) / "x"
    project = make_project(deep)
    assert len(str(project)) > 150
    try:
        result = devenv(project, "up", "-d")
        assert result.returncode == 0, result.stderr
        assert psql(project, "SELECT 1") == "1"
        assert redis_cli(project, "PING") == "PONG"
        run_dir = (project / ".devenv" / "run").resolve()
        assert len(str(run_dir / "redis.sock")) < 100
    finally:
        devenv(project, "down")


def test_snapshot_and_restore_the_databases(project):
    assert devenv(project, "up", "-d").returncode == 0
    psql(project, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('keep me')")

    snap = devenv(project, "snapshot", "before-cleanup")
    assert snap.returncode == 0, snap.stderr
    assert "snapshot 'before-cleanup' taken of app" in snap.stdout
    psql(project, "DELETE FROM notes")

    refused = devenv(project, "restore", "before-cleanup", stdin=subprocess.DEVNULL)
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    assert psql(project, "SELECT count(*) FROM notes") == "0"

    restored = devenv(project, "restore", "before-cleanup", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert psql(project, "SELECT body FROM notes") == "keep me"
    listing = devenv(project, "snapshot", "--list").stdout
    assert "before-cleanup" in listing
    assert "before-restore-" in listing  # the state before the restore was kept too

    again = devenv(project, "snapshot", "before-cleanup")
    assert again.returncode == 2  # a name that cannot be used: a usage mistake
    assert "a snapshot named 'before-cleanup' exists already; choose another name" in again.stderr


def test_reset_asks_then_moves_the_old_data_aside(project):
    assert devenv(project, "up", "-d").returncode == 0
    psql(project, "CREATE TABLE precious (x int)")

    refused = devenv(project, "reset", "postgres", stdin=subprocess.DEVNULL)
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    assert psql(project, "SELECT to_regclass('precious') IS NOT NULL") == "t"

    done = devenv(project, "reset", "postgres", "--yes")
    assert done.returncode == 0, done.stderr
    assert "postgres: old data kept in .devenv/snapshots/reset-postgres-" in done.stdout
    assert psql(project, "SELECT to_regclass('precious') IS NULL") == "t"
    kept = list((project / ".devenv" / "snapshots").glob("reset-postgres-*/PG_VERSION"))
    assert len(kept) == 1


def test_foreground_up_is_stopped_by_down_from_another_terminal(project):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    up = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while status(project)["services"]["redis"]["state"] != "ready":
            assert up.poll() is None, up.stdout.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        info = status(project)
        assert info["devenv"]["pid"] == up.pid

        second = devenv(project, "up", "--no-tui")
        assert second.returncode == 1
        assert f"devenv is already running this project (pid {up.pid})" in second.stderr

        down = devenv(project, "down")
        assert down.returncode == 0, down.stderr
        assert f"stopped the running devenv (pid {up.pid})" in down.stdout
        assert up.wait(timeout=30) == 0
        output = up.stdout.read()
        assert "SIGTERM received, stopping" in output
        assert project_servers(project) == []
    finally:
        if up.poll() is None:
            up.kill()


def test_logs_shows_a_services_log_and_names_the_known_ones(project):
    assert devenv(project, "up", "-d").returncode == 0

    pg = devenv(project, "logs", "postgres", "-n", "5")
    assert pg.returncode == 0, pg.stderr
    assert "database system is ready to accept connections" in pg.stdout
    assert len(pg.stdout.splitlines()) <= 5
    assert "Ready to accept connections" in devenv(project, "logs", "redis").stdout

    missing = devenv(project, "logs", "web")  # no Procfile here: not a name of this project
    assert missing.returncode == 2
    assert "no log for 'web': not a name in this project" in missing.stderr
    assert "logs exist for: hooks, postgres, redis" in missing.stderr  # the hooks' output too
    assert "python -c" in devenv(project, "logs", "hooks").stdout


def test_a_project_path_with_spaces_and_quotes_starts_and_stops(reachable_dir):
    project = reachable_dir / 'the "shop" it\'s'
    project.mkdir()
    (project / "devenv.toml").write_text(
        '[services.postgres]\n[[services.postgres.databases]]\nname = "app"\n[services.redis]\n'
    )

    up = devenv(project, "up", "-d")
    assert up.returncode == 0, up.stdout + up.stderr
    status = json.loads(devenv(project, "status", "--json").stdout)
    assert {info["state"] for info in status["services"].values()} == {"ready"}
    redis_conf = (project / ".devenv" / "state" / "redis" / "redis.conf").read_text()
    assert f'dir "{project}/.devenv/state/redis"'.replace('"shop"', '\\"shop\\"') in redis_conf

    assert devenv(project, "down").returncode == 0
    assert project_servers(project) == []


@pytest.mark.parametrize(
    ("service", "setting", "reason"),
    [
        ("postgres", 'listen_addresses = "*"', "devenv listens on 127.0.0.1 and its socket only"),
        ("postgres", "port = 5999", "set services.postgres.port instead"),
        ("redis", 'bind = "0.0.0.0"', "devenv listens on 127.0.0.1 and its socket only"),
        ("redis", 'requirepass = "x"', "it is the project's generated password"),
    ],
)
def test_settings_devenv_owns_are_refused(reachable_dir, service, setting, reason):
    (reachable_dir / "devenv.toml").write_text(
        f"[services.{service}]\nsettings = {{ {setting} }}\n"
    )

    result = devenv(reachable_dir, "up", "-d")

    key = setting.split(" =")[0]
    assert result.returncode == 2
    assert f"services.{service}.settings.{key}: devenv sets '{key}' itself" in result.stderr
    assert reason in result.stderr
    assert project_servers(reachable_dir) == []


def test_nothing_of_the_project_is_readable_by_other_accounts(project):
    assert devenv(project, "up", "-d").returncode == 0
    base = project / ".devenv"

    # Another account may pass through .devenv (the servers' account, when devenv runs as root)
    # but list or read nothing: data, logs and snapshots are their owner's alone.
    for folder in (".", "state"):
        assert stat.S_IMODE((base / folder).stat().st_mode) & 0o077 in (0, 0o011), folder
    for folder in ("logs", "snapshots", "state/redis", "state/postgres"):
        assert stat.S_IMODE((base / folder).stat().st_mode) == 0o700, folder
    logs = list((base / "logs").iterdir())
    assert {path.name for path in logs} >= {"postgres.log", "redis.log", "hooks.log"}
    for log in logs:
        assert stat.S_IMODE(log.stat().st_mode) == 0o600, log.name


def test_down_stops_a_service_removed_from_the_config_while_it_ran(project):
    assert devenv(project, "up", "-d").returncode == 0
    config = project / "devenv.toml"
    config.write_text(config.read_text().replace("[services.redis]\n", ""))

    down = devenv(project, "down")

    assert down.returncode == 0, down.stderr
    assert "redis" in down.stdout and "stopped (not in the config any more)" in down.stdout
    assert project_servers(project) == []


def test_down_with_a_broken_config_stops_what_the_records_say_runs(project):
    assert devenv(project, "up", "-d").returncode == 0
    (project / "devenv.toml").write_text("[services.postgres\n")  # not TOML

    down = devenv(project, "down")

    assert down.returncode == 0, down.stderr
    assert "stopping what this project's records say runs" in down.stdout
    assert project_servers(project) == []
    assert "Traceback" not in down.stderr


def test_down_in_a_copy_never_stops_the_originals_servers(project, reachable_dir):
    assert devenv(project, "up", "-d").returncode == 0
    copy = reachable_dir / "copy"
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns("*.sock*"))
    (copy / "devenv.toml").write_text("")  # no services: only the copied records are left

    assert devenv(copy, "down").returncode == 0

    names = {proc.name() for proc in project_servers(project)}
    assert names == {"postgres", "redis-server"}  # the original's servers run on
    assert devenv(project, "down").returncode == 0


def test_a_lost_ports_file_does_not_hand_out_another_programs_port(project):
    with contextlib.ExitStack() as held:
        for port in (5432, 6379):  # the defaults, held by "another program" if free
            sock = held.enter_context(socket.socket())
            # As servers do: a connection of an earlier test lingering in TIME_WAIT on the port
            # must not keep this socket from holding it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with contextlib.suppress(OSError):
                sock.bind(("127.0.0.1", port))
                sock.listen()
        assert devenv(project, "up", "-d").returncode == 0
        before = env_of(project)
        (project / ".devenv" / "ports.json").unlink()

        after = env_of(project)
        status = json.loads(devenv(project, "status", "--json").stdout)["services"]

    assert after["REDIS_URL"] == before["REDIS_URL"]
    assert after["DATABASE_URL"] == before["DATABASE_URL"]
    assert ":6379/" not in after["REDIS_URL"] and ":5432/" not in after["DATABASE_URL"]
    assert status["redis"]["port"] == int(before["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])


def env_of(project: Path) -> dict[str, str]:
    lines = devenv(project, "env").stdout.splitlines()
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines)
    return {key: value.strip("'") for key, value in pairs}


def test_a_copy_of_a_running_project_runs_its_own_servers(project, reachable_dir):
    """`cp -a` of a running project: the copy starts servers of its own, on its own ports, and
    its `down` never stops the original's (both kept their pid records and ports.json)."""
    assert devenv(project, "up", "-d").returncode == 0
    original = env_of(project)
    copy = reachable_dir / "copy"
    subprocess.run(["cp", "-a", str(project), str(copy)], check=True)  # owners kept, as root

    up = devenv(copy, "up", "-d", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    copied = env_of(copy)
    assert copied["DATABASE_URL"] != original["DATABASE_URL"]
    assert copied["REDIS_URL"] != original["REDIS_URL"]
    assert {p.name() for p in project_servers(copy)} == {"postgres", "redis-server"}

    assert devenv(copy, "down").returncode == 0
    assert project_servers(copy) == []
    assert {p.name() for p in project_servers(project)} == {"postgres", "redis-server"}
    status = json.loads(devenv(project, "status", "--json").stdout)["services"]
    assert {info["state"] for info in status.values()} == {"ready"}


def test_a_failed_up_stops_what_it_started_and_keeps_what_ran_before(reachable_dir):
    project = reachable_dir / "shop"
    project.mkdir()
    good = '[project]\nname = "shop"\n\n[services.postgres]\n'
    # A real Redis that cannot start: redis-server refuses the setting and exits 1.
    bad = good + '\n[services.redis]\nsettings = { maxmemory = "lots" }\n'
    config = project / "devenv.toml"
    config.write_text(bad)
    try:
        failed = devenv(project, "up", "-d")

        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "redis: the server exited with code 1" in failed.stderr
        assert "Traceback" not in failed.stderr
        assert "postgres | ready in" in failed.stdout  # it did start, in parallel
        assert "the start failed: stopping postgres again" in failed.stdout
        assert project_servers(project) == []
        assert status(project)["services"]["postgres"]["state"] == "stopped"

        config.write_text(good)
        assert devenv(project, "up", "-d").returncode == 0
        running = status(project)["services"]["postgres"]["pid"]
        config.write_text(bad)

        again = devenv(project, "up", "-d")

        assert again.returncode == 1
        assert "postgres | already running" in again.stdout
        assert "stopping postgres" not in again.stdout  # it ran before this up: it stays
        info = status(project)["services"]
        assert (info["postgres"]["state"], info["postgres"]["pid"]) == ("ready", running)
        assert info["redis"]["state"] == "stopped"
    finally:
        devenv(project, "down")


def test_a_killed_service_under_up_no_tui_comes_back_with_its_data(reachable_dir):
    """kill -9 of the demo's PostgreSQL, then of its Redis, under `devenv up --no-tui`: each is
    ready again, with a new pid, before a 10 s deadline; the rows committed before are there;
    web is told and keeps running."""
    made = devenv(reachable_dir, "demo", "demo")
    assert made.returncode == 0, made.stdout + made.stderr
    demo = reachable_dir / "demo"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NO_COLOR", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=demo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(up.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while status(demo)["processes"].get("web.1", {}).get("state") != "ready":
            assert up.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        psql(demo, "INSERT INTO notes (text) VALUES ('written before the kill')")
        web = status(demo)["processes"]["web.1"]["pid"]

        for service in ("postgres", "redis"):
            old = status(demo)["services"][service]["pid"]
            os.kill(old, signal.SIGKILL)
            deadline = time.monotonic() + 10  # the contract: back within 10 s
            while True:
                info = status(demo)["services"][service]
                if info["state"] == "ready" and info["pid"] not in (None, old):
                    break
                assert time.monotonic() < deadline, f"{service}: {info}\n" + "".join(lines)
                time.sleep(0.1)
            said = f"| failed: killed by SIGKILL (pid {old}); restarting in 0.5 s (attempt 1)"
            while not any(service in line and said in line for line in lines):  # it may lag
                assert time.monotonic() < deadline + 10, "".join(lines)
                time.sleep(0.05)

        assert psql(demo, "SELECT text FROM notes") == "written before the kill"
        assert status(demo)["processes"]["web.1"]["pid"] == web  # told, not killed
        assert any(
            "web.1" in line and "postgres went down: killed by SIGKILL; restarting it" in line
            for line in lines
        )
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
        assert project_servers(demo) == []
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        devenv(demo, "down")
