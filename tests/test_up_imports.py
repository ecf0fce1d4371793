"""What ``devenv up --no-tui`` has loaded when it spawns its first process.

A project with a Procfile and neither services, hooks nor lockfiles starts its processes
without the services' code (devenv.services.*), the environment's start-up (installs, drift)
or psutil (leftovers of a killed devenv, the stats sampler): those load later, or never.
The modules are read from an audit hook on ``subprocess.Popen`` (asyncio spawns through it),
at the spawn of the Procfile's own command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PROBE = textwrap.dedent(
    """\
    import runpy
    import sys

    out, marker = sys.argv[1], sys.argv[2]
    done = []

    def hook(event, args):
        if event == "subprocess.Popen" and not done and marker in str(args[1]):
            done.append(True)
            with open(out + ".tmp", "w") as f:
                f.write("\\n".join(sorted(sys.modules)))
            import os

            os.replace(out + ".tmp", out)

    sys.addaudithook(hook)
    sys.argv = ["devenv", "up", "--no-tui"]
    runpy.run_module("devenv", run_name="__main__", alter_sys=True)
    """
)


def modules_at_first_spawn(project: Path, tmp_path: Path, marker: str) -> set[str]:
    (tmp_path / "probe.py").write_text(PROBE)
    out = tmp_path / "modules.txt"
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "probe.py"), str(out), marker],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert out.exists(), f"no process was spawned; devenv said: {err.decode(errors='replace')}"
    return set(out.read_text().split())


def test_a_procfile_only_project_spawns_before_loading_services_or_psutil(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "plain"\n')
    marker = f"sleep 1000.{os.getpid()}"
    (project / "Procfile").write_text(f"a: {marker}\nb: {marker}\nc: {marker}\n")

    loaded = modules_at_first_spawn(project, tmp_path, marker)

    assert "devenv.supervisor.core" in loaded  # the hook saw the supervisor's spawn
    unwanted = {
        "psutil",
        "devenv.services",
        "devenv.services.stack",
        "devenv.services.watch",
        "devenv.environment.startup",
        "devenv.environment.watch",
        "devenv.supervisor.stats",
    }
    assert loaded & unwanted == set()
    assert not [name for name in loaded if name.startswith("devenv.services.")]


def test_the_next_start_spawns_from_its_plan_before_loading_asyncio_or_the_config(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "plain"\n')
    marker = f"sleep 1000.{os.getpid()}"
    (project / "Procfile").write_text(f"a: {marker}\nb: {marker}\nc: {marker}\n")
    plan = project / ".devenv" / "processes.plan.json"
    for _ in range(2):  # a start whose ports moved (it says so) records none: the next does
        up = subprocess.Popen(
            [sys.executable, "-m", "devenv", "up", "--no-tui"],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        state = project / ".devenv" / "processes.json"  # written once they run
        deadline = time.monotonic() + 30
        while not state.exists() and up.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the plan is written as they start
        if up.poll() is None:
            os.kill(up.pid, signal.SIGINT)
        _, err = up.communicate(timeout=30)
        if plan.exists():
            break
    assert plan.exists(), err.decode(errors="replace")

    loaded = modules_at_first_spawn(project, tmp_path, marker)

    assert "devenv.project.procplan" in loaded  # the hook saw the early spawn
    unwanted = {"asyncio", "devenv.config", "devenv.supervisor", "devenv.session", "dataclasses"}
    assert loaded & unwanted == set()
