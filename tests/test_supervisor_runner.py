"""The supervisor driven from another thread, as the UI drives it: real processes."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import MappingProxyType

import psutil

from devenv.state import Status
from devenv.supervisor.core import Supervisor
from devenv.supervisor.proclog import ProcessLog
from devenv.supervisor.runner import SupervisorRunner
from devenv.supervisor.spec import ProcessSpec


def spec(name: str, command: str, cwd: Path) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        kind=name.split(".")[0],
        command=command,
        env=MappingProxyType({"PATH": "/usr/bin:/bin"}),
        cwd=cwd,
        stop_timeout=2,
    )


def wait_state(runner: SupervisorRunner, name: str, state: str) -> Status:
    deadline = time.monotonic() + 10
    while (info := runner.snapshot()[name]).state != state:
        assert time.monotonic() < deadline, info
        time.sleep(0.02)
    return info


def test_control_from_another_thread(tmp_path):
    sleeper = f"{sys.executable} -c 'import time; time.sleep(1000)'"
    specs = [spec("web.1", sleeper, tmp_path), spec("worker.1", sleeper, tmp_path)]
    events = []

    def make():
        return Supervisor(
            specs,
            emit=events.append,
            log_for=lambda name: ProcessLog(name, tmp_path / f"{name}.log"),
        )

    runner = SupervisorRunner(make).start()
    try:
        first = wait_state(runner, "web.1", "running").pid

        runner.restart_process("web.1")
        second = wait_state(runner, "web.1", "running").pid
        assert second != first
        assert not psutil.pid_exists(first) or psutil.Process(first).status() == "zombie"

        runner.stop_process("worker.1")
        assert runner.snapshot()["worker.1"].state == "stopped"
        assert runner.start_process("worker.1") is True
        wait_state(runner, "worker.1", "running")

        assert runner.send_signal("web.1", signal.SIGTERM) is True
        deadline = time.monotonic() + 10  # on-failure: killed by a signal, it comes back
        while (info := runner.snapshot()["web.1"]).pid in (second, None):
            assert time.monotonic() < deadline, info
            time.sleep(0.02)
        assert info.restarts == 1
    finally:
        code = runner.stop()
    assert code == 0
    assert {info.state for info in runner.supervisor.snapshot().values()} == {"stopped"}
