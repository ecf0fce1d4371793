"""Bad input, part 6: the cases that need real servers, sharing one running project (PostgreSQL
with databases `a` and `b`, Redis) for the whole module: snapshot names, a snapshot that fails
part-way and its retry, a missing snapshot, a taken port, a process env that refers to the
services' variables."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_inputs import assert_answered, environ, project, run
from tests.servers import reachable_tmpdir

CONFIG = """\
[project]
name = "badshop"

[services.postgres]
[[services.postgres.databases]]
name = "a"
[[services.postgres.databases]]
name = "b"

[services.redis]
"""
SHOW = f"show: {sys.executable} -c \"import os; print('A=' + os.environ['A'])\"\n"


@pytest.fixture(scope="module")
def running():
    """The shared project, its services up (`devenv up -d`); stopped and removed afterwards."""
    base = reachable_tmpdir("devenv-bad-")
    root = project(base / "shop", {"devenv.toml": CONFIG})
    try:
        started = run(root, "up", "-d", timeout=180)
        assert started.returncode == 0, started.stderr + started.stdout
        yield root
    finally:
        run(root, "down", timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def _sql(root: Path, query: str) -> str:
    result = run(root, "psql", "-At", "-d", "postgres", "-c", query)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _copies(root: Path) -> list[str]:
    return _sql(root, "SELECT datname FROM pg_database WHERE datname LIKE 'devenv_snap_%'").split()


@pytest.mark.parametrize(
    ("argv", "code", "needles"),
    [
        pytest.param(["snapshot", "a b"], 2, ["'a b'", "letters, digits"], id="name-with-space"),
        pytest.param(["snapshot", "../up"], 2, ["'../up'"], id="name-with-slash"),
        pytest.param(["snapshot", "-x"], 2, ["unrecognized arguments"], id="name-like-a-flag"),
        pytest.param(
            ["restore", "never-taken", "--yes"], 2, ["'never-taken'"], id="restore-missing"
        ),
        pytest.param(["restore", "x"], 2, ["'x'"], id="restore-missing-no-yes"),
        pytest.param(["reset", "redis"], 1, ["--yes"], id="reset-not-confirmed"),
        pytest.param(["logs", "nginx"], 2, ["'nginx'", "postgres", "redis"], id="logs-unknown"),
    ],
)
def test_data_commands(running, argv, code, needles):
    assert_answered(run(running, *argv, stdin=subprocess.DEVNULL), code, *needles)


def test_snapshot_taken_twice_under_one_name(running):
    assert_answered(run(running, "snapshot", "twice"), 0, "snapshot 'twice' taken")
    assert_answered(run(running, "snapshot", "twice"), 2, "'twice'", "exists already")


def test_a_snapshot_that_fails_part_way_leaves_nothing_and_a_retry_works(running):
    """Database `c` is declared but was never created (no `up` since): the snapshot fails on
    it, says what to do, and the copy of `a` it had made is dropped again."""
    before = _copies(running)
    config = running / "devenv.toml"
    original = config.read_text()
    config.write_text(original + '[[services.postgres.databases]]\nname = "c"\n')
    try:
        failed = run(running, "snapshot", "partway")
        assert_answered(failed, 1, "'c'", "devenv up -d")
        assert _copies(running) == before
        assert not (running / ".devenv/snapshots/postgres/partway.json").exists()
    finally:
        config.write_text(original)
    assert_answered(run(running, "snapshot", "partway"), 0, "snapshot 'partway' taken")


def test_a_leftover_copy_from_a_killed_snapshot_does_not_block_the_name(running):
    """A snapshot killed between its CREATE DATABASE and its record leaves a copy nobody owns."""
    assert_answered(run(running, "snapshot", "killed"), 0, "snapshot 'killed' taken")
    # As if killed before its record: the copies stay, and no record owns them.
    (running / ".devenv/snapshots/postgres/killed.json").unlink()
    assert _copies(running)
    assert_answered(run(running, "snapshot", "killed"), 0, "snapshot 'killed' taken")
    assert_answered(run(running, "restore", "killed", "--yes"), 0, "restored 'killed'")


def test_a_damaged_snapshot_record(running):
    folder = running / ".devenv/snapshots/postgres"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "damaged.json").write_text("{not json")
    assert_answered(run(running, "snapshot", "--list"), 0)
    assert_answered(
        run(running, "restore", "damaged", "--yes"), 1, "damaged.json", "cannot be read"
    )
    (folder / "damaged.json").unlink()


def test_a_configured_port_someone_else_holds(running, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        base = reachable_tmpdir("devenv-bad-port-")
        try:
            root = project(base / "p", {"devenv.toml": f"[services.redis]\nport = {port}\n"})
            result = run(root, "up", "-d", timeout=120)
            assert_answered(result, 1, str(port), "pid")
        finally:
            run(base / "p", "down")
            shutil.rmtree(base, ignore_errors=True)


def test_a_process_env_refers_to_the_services_variables(running):
    """`CELERY_BROKER_URL = "$REDIS_URL"`: the process gets the URL, not the words."""
    config = running / "devenv.toml"
    original = config.read_text()
    config.write_text(original + '[processes.show]\nenv = { A = "$REDIS_URL/0 ${DATABASE_URL}" }\n')
    (running / "Procfile").write_text(SHOW)
    try:
        result = run(running, "up", "--no-tui", env=environ(), timeout=120)
        assert_answered(result, 0, "A=redis://", " postgresql://")
        assert "$REDIS_URL" not in result.stdout
    finally:
        config.write_text(original)
        (running / "Procfile").unlink()


def test_a_damaged_ports_file_under_running_servers(running):
    """ports.json lost its mind: status and env still find the running servers' ports."""
    ports = running / ".devenv/ports.json"
    saved = ports.read_text()
    ports.write_text("{garbage")
    try:
        result = run(running, "status", "--json")
        assert_answered(result, 0)
        services = json.loads(result.stdout)["services"]
        assert services["postgres"]["state"] in ("ready", "running")
        assert_answered(run(running, "env"), 0, "DATABASE_URL=")
    finally:
        ports.write_text(saved)
