"""When several services fail to start, the person sees every one of them, not the first."""

from __future__ import annotations

import os
import re
import socket
import textwrap
from pathlib import Path

from devenv.config import load_config
from devenv.events import ServiceFailed
from devenv.services.stack import ServicesFailed, Stack
from tests.cli import devenv

# The service user (when tests run as root) cannot run root's pyenv shims: the system's python3.
SYSTEM_PATH = "/usr/bin:/bin"

BROKEN_RECIPE = """\
name = "{name}"
default_port = {port}

[binaries]
server = "python3"

[version]
pattern = 'Python (\\d+(?:\\.\\d+)*)'

[readiness]
kind = "tcp"

[run]
command = ["{{server}}", "-c", "raise SystemExit('{name}: cannot read its config file')"]
"""


def broken_project(root: Path) -> Path:
    """Two services whose servers exit at once, each saying why in its log."""
    (root / "devenv").mkdir(parents=True)
    config = '[project]\nname = "shop"\n'
    for name, port in (("alpha", 18091), ("beta", 18092)):
        recipe = BROKEN_RECIPE.format(name=name, port=port)
        (root / "devenv" / f"{name}.toml").write_text(recipe)
        config += f'\n[services.{name}]\nrecipe = "devenv/{name}.toml"\n'
    (root / "devenv.toml").write_text(config)
    return root


def test_up_detached_names_every_service_that_failed(reachable_dir):
    project = broken_project(reachable_dir / "shop")
    env = {**os.environ, "PATH": SYSTEM_PATH, "NO_COLOR": "1"}

    result = devenv(project, "up", "-d", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for name in ("alpha", "beta"):
        # Said as it happened (the event), and in the error the command ends with.
        assert re.search(rf"{name} +\| failed: the server exited with code 1", result.stdout)
        assert f"{name}: the server exited with code 1" in result.stderr
        assert f"{name}: cannot read its config file" in result.stderr  # its log's tail


def test_a_stack_says_each_failure_and_raises_one_error_naming_all(reachable_dir):
    project = broken_project(reachable_dir / "shop")
    events = []
    path = os.environ["PATH"]
    os.environ["PATH"] = SYSTEM_PATH
    try:
        stack = Stack(load_config(project / "devenv.toml"), events.append)
        try:
            stack.start()
        except ServicesFailed as err:
            raised = err
        else:
            raise AssertionError("the start did not fail")
    finally:
        os.environ["PATH"] = path

    failed = sorted((e.name, e.message) for e in events if isinstance(e, ServiceFailed))
    assert failed == [
        ("alpha", "the server exited with code 1"),
        ("beta", "the server exited with code 1"),
    ]
    assert [e.name for e in raised.errors] == ["alpha", "beta"]  # config order
    assert raised.exit_code == 1
    assert str(raised).splitlines()[0] == "alpha: the server exited with code 1"


def test_two_taken_ports_are_both_said_and_nothing_starts(reachable_dir):
    project = reachable_dir / "shop"
    project.mkdir()
    blockers = []
    ports = []
    for _ in range(2):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        blockers.append(blocker)
        ports.append(blocker.getsockname()[1])
    (project / "devenv.toml").write_text(
        textwrap.dedent(
            f"""\
            [services.postgres]
            port = {ports[0]}

            [services.redis]
            port = {ports[1]}
            """
        )
    )
    try:
        result = devenv(project, "up", "-d", env={**os.environ, "NO_COLOR": "1"})
    finally:
        for blocker in blockers:
            blocker.close()

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name, port in zip(("postgres", "redis"), ports, strict=True):
        assert re.search(rf"{name} +\| failed: .*port {port}", result.stdout)
        assert f"port {port}" in result.stderr
    assert not (project / ".devenv" / "state" / "redis.pid.json").exists()
