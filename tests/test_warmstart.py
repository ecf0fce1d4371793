"""A warm `devenv up -d` with nothing changed finishes from the last plain start's record
before devenv's own code loads (devenv.services.warmstart); anything that changed, and the
ordinary start does the work. Real PostgreSQL and Redis, real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.project import startplan
from devenv.services import warmstart
from tests.cli import devenv as run_devenv
from tests.test_startplan import CONFIG, servers

SERVICES = ("postgres", "redis")
PYTEST_SAYS = "PYTEST_CURRENT_TEST"  # pytest changes it between a fixture and the test


def devenv(project: Path, *args: str):
    """`devenv ARGS`, in this process's environment (a record is of one environment)."""
    env = {key: value for key, value in os.environ.items() if key != PYTEST_SAYS}
    result = run_devenv(project, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def record_file(project: Path) -> Path:
    return Path(warmstart.record_path(project))


@pytest.fixture(autouse=True)
def devenv_on_path(monkeypatch):
    """The test's `devenv` commands and what it calls in this process see one environment."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture
def project(reachable_dir, devenv_on_path):
    """A project started cold, then warm (a plain start: recorded), and stopped."""
    path = reachable_dir / "warm"
    path.mkdir()
    (path / "devenv.toml").write_text(CONFIG.format(name="warm"))
    devenv(path, "up", "-d")
    assert not record_file(path).exists()  # the first start made the cluster: not plain
    devenv(path, "down")
    devenv(path, "up", "-d")
    devenv(path, "down")
    yield path
    startplan.abandon()
    run_devenv(path, "down")


def finish(project: Path) -> bool:
    """What `devenv up -d` does first, in this process: spawn early, then finish if it can.
    Servers nobody took are stopped (abandon) before returning; the lock is let go."""
    said = os.environ.pop(PYTEST_SAYS, None)
    try:
        startplan.spawn_early(str(project))
        return warmstart.finish(str(project))
    finally:
        startplan.abandon()
        if said is not None:
            os.environ[PYTEST_SAYS] = said


def normalized(output: str) -> list[str]:
    """The lines as any start prints them, without clock, times and pids."""
    lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in output.splitlines()]
    lines = [re.sub(r"ready in \d+ ms \(pid \d+", "ready in N ms (pid P", line) for line in lines]
    return sorted(lines)


def test_a_plain_warm_start_is_recorded_without_the_password(project):
    path = record_file(project)
    st = path.stat()
    assert st.st_uid == os.geteuid()
    assert st.st_mode & 0o777 == 0o600
    password = (project / ".devenv" / "password").read_text().strip()
    assert password not in path.read_text()
    record = json.loads(path.read_text())
    assert [service["name"] for service in record["services"]] == list(SERVICES)


def test_a_warm_start_finishes_from_the_record_and_the_servers_serve(project, capfd):
    assert finish(project)
    out = capfd.readouterr().out
    assert "postgres | starting (version" in out
    assert re.search(r"postgres \| ready in \d+ ms \(pid \d+, port \d+\)", out)
    assert re.search(r"redis +\| ready in \d+ ms", out)
    assert "DATABASE_URL=postgresql://app:***@127.0.0.1:" in out
    assert len(servers(project)) > 1  # kept running: nobody stops what finished
    status = json.loads(devenv(project, "status", "--json").stdout)
    assert {name: s["state"] for name, s in status["services"].items()} == {
        name: "ready" for name in SERVICES
    }
    rows = devenv(project, "psql", "-At", "-c", "SELECT datname FROM pg_database")
    assert "app" in rows.stdout.split()
    assert devenv(project, "redis-cli", "ping").stdout.strip() == "PONG"


def test_the_finished_start_prints_what_the_ordinary_start_printed(project, capfd):
    path = record_file(project)
    path.unlink()
    ordinary = devenv(project, "up", "-d").stdout  # records anew
    devenv(project, "down")
    assert finish(project)
    assert normalized(capfd.readouterr().out) == normalized(ordinary)


def main_in(project: Path, argv: list[str], heavy: tuple[str, ...]) -> tuple[str, list[str]]:
    """devenv's main(argv) in a new interpreter in ``project``: (its output, its exit code
    and then, for each of ``heavy``, whether it got imported, as words)."""
    code = (
        "import sys\n"
        "from devenv.cli import main\n"
        f"code = main({argv!r})\n"
        f"print(code, *(name in sys.modules for name in {heavy!r}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != PYTEST_SAYS}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, result.stdout.strip().splitlines()[-1].split()


def test_a_warm_up_d_from_the_cli_loads_neither_the_config_nor_the_services(project):
    heavy = ("devenv.config", "devenv.services.stack", "devenv.services.postgres", "psutil")
    output, said = main_in(project, ["up", "-d"], heavy)
    assert said == ["0", "False", "False", "False", "False"]
    assert "DATABASE_URL=" in output


def test_another_environment_is_started_the_ordinary_way(project, monkeypatch):
    monkeypatch.setenv("DEVENV_WARMSTART_TEST", "1")  # any variable: a config may expand it
    assert not finish(project)
    assert servers(project) == []  # the early servers were stopped again
    monkeypatch.delenv("DEVENV_WARMSTART_TEST")
    monkeypatch.setenv("OLDPWD", "/")  # what a `cd` changes does not count
    assert finish(project)


def test_a_changed_password_file_is_started_the_ordinary_way(project):
    password = project / ".devenv" / "password"
    text = password.read_text()
    password.unlink()
    password.write_text(text)  # the same password, another file: what it stamps changed
    password.chmod(0o600)
    assert not finish(project)
    assert "DATABASE_URL=" in devenv(project, "up", "-d").stdout
    devenv(project, "down")
    assert finish(project)  # recorded anew


def test_a_dropped_database_is_made_again_by_the_ordinary_start(project):
    devenv(project, "up", "-d")
    devenv(project, "psql", "-d", "postgres", "-c", "DROP DATABASE app")
    devenv(project, "down")
    assert not finish(project)  # the server's answers are not the recorded ones
    again = devenv(project, "up", "-d").stdout
    assert "created database app" in again
    assert not record_file(project).exists()  # that start made something: not plain
    devenv(project, "down")
    devenv(project, "up", "-d")
    devenv(project, "down")
    assert finish(project)


@pytest.mark.skipif(os.geteuid() != 0, reason="another account's file needs root to make")
def test_a_record_another_account_wrote_is_never_used(project):
    path = record_file(project)
    owner = path.parent.stat()
    assert owner.st_uid != 0  # the state folder is the service account's
    os.chown(path, owner.st_uid, owner.st_gid)
    assert not finish(project)
    os.chown(path, 0, 0)
    path.chmod(0o622)
    assert not finish(project)


@pytest.mark.parametrize(
    "damage",
    [
        "not json",
        "[]",
        "{}",
        '{"plans": 5}',
        '{"plans": [{"name": "postgres"}], "environ": null}',
    ],
)
def test_a_damaged_record_is_started_the_ordinary_way(project, damage):
    record_file(project).write_text(damage)
    assert not finish(project)
    assert servers(project) == []
    assert "DATABASE_URL=" in devenv(project, "up", "-d").stdout  # and records anew
    devenv(project, "down")
    assert finish(project)


def test_a_damaged_record_field_is_started_the_ordinary_way(project):
    path = record_file(project)
    record = json.loads(path.read_text())
    record["services"][0]["ready"] = {"kind": "unknown"}
    path.write_text(json.dumps(record))
    assert not finish(project)
    record["services"][0]["ready"] = None
    path.write_text(json.dumps(record))
    assert not finish(project)
    assert servers(project) == []


def test_a_project_with_hooks_is_never_finished_from_a_record(reachable_dir):
    path = reachable_dir / "hooked"
    path.mkdir()
    config = CONFIG.format(name="hooked") + '\n[hooks]\nafter_ready = ["true"]\n'
    (path / "devenv.toml").write_text(config)
    try:
        for _ in range(2):
            devenv(path, "up", "-d")
            devenv(path, "down")
        assert not record_file(path).exists()
    finally:
        run_devenv(path, "down")


def down_early(project: Path) -> bool:
    """What `devenv down` does first, in this process: signal early, then finish if it can;
    the lock is let go."""
    try:
        startplan.stop_early(str(project))
        return warmstart.finish_down(str(project))
    finally:
        startplan.abandon()


def test_down_of_a_recorded_project_finishes_without_loading_devenv(project):
    from devenv.project.layout import Layout

    devenv(project, "up", "-d")
    heavy = ("devenv.config", "devenv.services.stack", "devenv.services.redis")
    output, said = main_in(project, ["down"], heavy)
    assert said == ["0", "False", "False", "False"]
    assert re.search(r"postgres \| stopped \(pid \d+\)", output)
    assert re.search(r"redis +\| stopped \(pid \d+\)", output)
    assert servers(project) == []
    assert list((project / ".devenv" / "state").glob("*.pid.json")) == []
    assert not Layout(project).runtime.exists()  # its sockets are gone, and so is it
    assert finish(project)  # and the next start is a warm one again


def test_down_with_another_service_on_record_is_the_ordinary_one(project):
    devenv(project, "up", "-d")
    other = project / ".devenv" / "state" / "memcached.pid.json"
    other.write_text('{"pid": 999999, "create_time": 1.0}')
    assert not down_early(project)  # a record of something the record does not know
    assert other.exists()
    devenv(project, "down")  # the ordinary stop finishes what the early signal began
    assert servers(project) == []


def test_down_without_a_record_is_the_ordinary_one(project):
    devenv(project, "up", "-d")
    record_file(project).unlink()
    assert not down_early(project)
    devenv(project, "down")
    assert servers(project) == []


def test_down_after_the_config_changed_is_the_ordinary_one(project):
    devenv(project, "up", "-d")
    config = project / "devenv.toml"
    config.write_text(config.read_text() + "\n")
    assert not down_early(project)
    devenv(project, "down")
    assert servers(project) == []


def test_an_up_d_while_the_servers_run_keeps_the_record(project):
    devenv(project, "up", "-d")
    before = record_file(project).read_text()
    assert "already running" in devenv(project, "up", "-d").stdout
    assert record_file(project).read_text() == before
    devenv(project, "down")
    assert finish(project)
