"""`devenv doctor`: the real CLI against real projects, servers, processes and sockets.

Projects that run PostgreSQL live in folders its unprivileged account can enter
(the tests run as root in CI); every test stops what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devenv.doctor import run_checks
from devenv.doctor.checks import Family, ok
from devenv.doctor.host import DISK_FAIL, DISK_WARN, disk_state
from tests.cli import devenv as run_devenv

KEYS = {"id", "state", "message", "fix", "fixable"}


def devenv(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return run_devenv(project, *args, env=env, timeout=timeout)


def doctor_json(project: Path, *args: str) -> tuple[int, dict]:
    result = devenv(project, "doctor", "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def by_id(report: dict) -> dict[str, dict]:
    return {check["id"]: check for check in report["checks"]}


def project_dir(parent: Path, config: str, name: str = "shop") -> Path:
    project = parent / name
    project.mkdir()
    (project / "devenv.toml").write_text(f'[project]\nname = "{name}"\n' + config)
    return project


def wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    pytest.fail(f"pid {pid} is still running")


# ---------------------------------------------------------------- the contract


def test_json_shape_and_exit_code_of_a_healthy_project(tmp_path):
    project = project_dir(tmp_path, "")

    code, report = doctor_json(project)

    assert code == 0
    assert list(report) == ["checks"]
    checks = report["checks"]
    assert all(set(check) == KEYS for check in checks)
    assert all(check["state"] in ("ok", "warn", "fail") for check in checks)
    assert all(isinstance(check["fixable"], bool) for check in checks)
    ids = [check["id"] for check in checks]
    assert len(ids) == len(set(ids))
    assert ids[0] == "config"
    assert checks[0]["state"] == "ok"
    assert {"leftovers", "stale-sockets", "disk"} <= set(ids)
    assert not [i for i in ids if i.startswith(("binaries.", "ports."))]  # no services


def test_plain_output_has_one_line_per_check_with_its_mark(tmp_path):
    project = project_dir(tmp_path, "")

    result = devenv(project, "doctor")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["ok", "config"]
    assert any(line.split()[:2] == ["ok", "disk"] for line in lines)
    assert lines[-1].startswith("all ") and lines[-1].endswith(" checks passed")


def test_a_broken_config_is_the_first_failing_check_and_skips_the_checks_that_need_it(tmp_path):
    project = project_dir(tmp_path, '[services.postgres]\nversoin = "15"\n')

    code, report = doctor_json(project)

    assert code == 1
    first = report["checks"][0]
    assert first["id"] == "config" and first["state"] == "fail"
    assert "devenv.toml:4" in first["message"]
    assert "versoin" in first["message"] and "did you mean 'version'" in first["message"]
    ids = [check["id"] for check in report["checks"]]
    assert not [i for i in ids if i.split(".")[0] in ("binaries", "ports", "stale-pid")]
    assert {"leftovers", "disk", "socket-path"} <= set(ids)  # they need the folder only

    plain = devenv(project, "doctor")
    assert plain.returncode == 1
    assert plain.stdout.startswith("FAIL  config")
    assert "fix: correct devenv.toml" in plain.stdout
    assert "Traceback" not in plain.stderr


def test_outside_a_project_the_config_check_says_how_to_start_one(tmp_path):
    code, report = doctor_json(tmp_path)

    assert code == 1
    assert report["checks"][0]["id"] == "config"
    assert report["checks"][0]["state"] == "fail"
    assert "devenv init" in report["checks"][0]["fix"]
    assert [check["id"] for check in report["checks"]] == ["config", "disk"]


def test_a_check_that_raises_becomes_a_failing_check(tmp_path):
    project = project_dir(tmp_path, "")

    def explodes(context):
        yield ok("first", "fine")
        raise ZeroDivisionError("division by zero")

    report = run_checks(project, families=[Family("boom", "config", explodes)])

    assert [(c.id, c.state) for c in report.checks] == [
        ("config", "ok"),
        ("first", "ok"),
        ("boom", "fail"),
    ]
    assert "ZeroDivisionError: division by zero" in report.checks[-1].message
    assert report.failed


def test_disk_thresholds():
    assert disk_state(DISK_WARN) == "ok"
    assert disk_state(DISK_WARN - 1) == "warn"
    assert disk_state(DISK_FAIL) == "warn"
    assert disk_state(DISK_FAIL - 1) == "fail"


# ---------------------------------------------------------------- servers


def test_a_stale_postmaster_pid_is_found_fixed_and_up_works_after(reachable_dir, private_cache):
    project = project_dir(reachable_dir, "[services.postgres]\n")
    try:
        up = devenv(project, "up", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        status = json.loads(devenv(project, "status", "--json").stdout)
        pid, port = status["services"]["postgres"]["pid"], status["services"]["postgres"]["port"]
        lock = project / ".devenv/state/postgres/postmaster.pid"
        assert lock.read_text().split()[0] == str(pid)

        os.kill(pid, signal.SIGKILL)
        wait_gone(pid)

        code, report = doctor_json(project)
        checks = by_id(report)
        assert code == 0  # warnings only: devenv up would clean these itself
        stale = checks["stale-pid.postgres"]
        assert stale["state"] == "warn" and stale["fixable"] is True
        assert f"names pid {pid}, which is not running" in stale["message"]
        sockets = checks["stale-sockets"]
        assert sockets["state"] == "warn" and f".s.PGSQL.{port}" in sockets["message"]

        fixed = devenv(project, "doctor", "--fix")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert "fixed stale-pid.postgres: removed the stale postmaster.pid" in fixed.stdout
        assert not lock.exists()
        assert not any(p.name.startswith(".s.PGSQL.") for p in (project / ".devenv/run").iterdir())
        after = by_id(doctor_json(project)[1])
        assert after["stale-pid.postgres"]["state"] == "ok"
        assert after["stale-sockets"]["state"] == "ok"

        again = devenv(project, "up", "-d")
        assert again.returncode == 0, again.stdout + again.stderr
        running = by_id(doctor_json(project)[1])
        assert running["ports.postgres"]["state"] == "ok"
        assert "listens on port" in running["ports.postgres"]["message"]
    finally:
        devenv(project, "down")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the servers as another account")
def test_as_root_a_project_the_service_account_cannot_enter_fails(tmp_path):
    locked = tmp_path / "private"
    locked.mkdir(mode=0o700)
    project = project_dir(locked, "[services.redis]\n")

    code, report = doctor_json(project)

    check = by_id(report)["service-user"]
    blocked = next(p for p in [*reversed(project.parents), project] if not p.stat().st_mode & 1)
    mode = blocked.stat().st_mode & 0o7777
    assert code == 1
    assert check["state"] == "fail"
    assert f"cannot enter {blocked} (mode {mode:04o})" in check["message"]
    assert f"chmod o+x {blocked}" in check["fix"]


def test_a_configured_port_held_by_another_program_names_it_and_fails(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        project = project_dir(tmp_path, f"[services.redis]\nport = {port}\n")

        code, report = doctor_json(project)

    assert code == 1
    check = by_id(report)["ports.redis"]
    assert check["state"] == "fail"
    assert f"port {port} (services.redis.port in devenv.toml)" in check["message"]
    assert f"(pid {os.getpid()})" in check["message"]
    assert psutil.Process().name() in check["message"]
    assert "services.redis.port" in check["fix"] and check["fixable"] is False


def test_a_remembered_port_held_by_another_program_is_a_warning(reachable_dir):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        project = project_dir(reachable_dir, "[services.redis]\n")
        (project / ".devenv").mkdir()
        (project / ".devenv/ports.json").write_text(json.dumps({"redis": port}))

        code, report = doctor_json(project)

    check = by_id(report)["ports.redis"]
    assert check["state"] == "warn"
    assert f"(pid {os.getpid()})" in check["message"]
    assert "another free port" in check["fix"]
    assert code == 0


def test_a_socket_path_over_the_limit_fails(tmp_path):
    name = "s" * 80
    (tmp_path / "recipes").mkdir(parents=True)
    (tmp_path / "recipes/sleeper.toml").write_text(
        'name = "sleeper"\n[binaries]\nserver = "sleep"\n'
        '[version]\npattern = "sleep \\\\(GNU coreutils\\\\) (\\\\d+\\\\.\\\\d+)"\n'
        '[run]\ncommand = ["{server}", "1000"]\n'
    )
    project = project_dir(tmp_path, f'[services.{name}]\nrecipe = "../recipes/sleeper.toml"\n')

    code, report = doctor_json(project)

    check = by_id(report)["socket-path"]
    assert code == 1
    assert check["state"] == "fail"
    assert f"{name}.sock" in check["message"] and "longer than 100 bytes" in check["message"]
    assert "XDG_RUNTIME_DIR" in check["fix"]


# ---------------------------------------------------------------- processes


def test_a_process_left_by_a_killed_devenv_is_named_and_fix_stops_it(tmp_path):
    project = project_dir(tmp_path, "")
    (project / "Procfile").write_text("web: sleep 1000\n")
    up = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handle = None
    try:
        deadline = time.monotonic() + 30
        while True:
            recorded = (
                json.loads((project / ".devenv/processes.json").read_text() or "{}")
                if (project / ".devenv/processes.json").exists()
                else {}
            )
            pid = recorded.get("web.1", {}).get("pid")
            if pid and recorded["web.1"].get("state") == "running":
                break
            assert time.monotonic() < deadline, f"web.1 did not start: {recorded}"
            time.sleep(0.05)
        handle = psutil.Process(pid)
        up.kill()
        up.wait()

        code, report = doctor_json(project)
        check = by_id(report)["leftovers"]
        assert code == 0
        assert check["state"] == "warn" and check["fixable"] is True
        assert f"web.1 (pid {pid}" in check["message"]
        assert "project 'shop'" in check["message"]

        fixed = devenv(project, "doctor", "--fix")
        assert "fixed leftovers: stopped web.1" in fixed.stdout, fixed.stdout + fixed.stderr
        wait_gone(pid)
        assert by_id(doctor_json(project)[1])["leftovers"]["state"] == "ok"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        if handle is not None:
            with contextlib.suppress(psutil.Error):
                handle.kill()


def test_a_fix_reports_nothing_to_do_when_all_is_well(tmp_path):
    project = project_dir(tmp_path, "")

    code, report = doctor_json(project, "--fix")

    assert code == 0
    assert report["fixed"] == []


# ---------------------------------------------------------------- the repository


def test_a_missing_lint_hook_is_a_warning_until_one_is_installed(tmp_path):
    project = project_dir(
        tmp_path, '[onboarding]\ntest = "python -m pytest"\nlint = "ruff check ."\n'
    )
    subprocess.run(["git", "init", "-q", str(project)], check=True)

    check = by_id(doctor_json(project)[1])["git-hooks"]
    assert check["state"] == "warn" and check["fixable"] is False
    assert "ruff check ." in check["message"] and "devenv onboard" in check["fix"]

    hook = project / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nruff check .\n")
    hook.chmod(0o755)
    assert by_id(doctor_json(project)[1])["git-hooks"]["state"] == "ok"


def test_no_lint_configured_no_hook_check(tmp_path):
    project = project_dir(tmp_path, '[onboarding]\ntest = "python -m pytest"\n')

    assert "git-hooks" not in by_id(doctor_json(project)[1])


# ---------------------------------------------------------------- the environment


def make_venv(where: Path) -> None:
    import uv

    subprocess.run(
        [uv.find_uv_bin(), "venv", "-q", "--python", sys.executable, str(where)],
        check=True,
        capture_output=True,
    )


def test_a_venv_with_another_python_than_the_project_asks_for_fails(tmp_path):
    project = project_dir(tmp_path, "")
    make_venv(project / ".venv")
    (project / ".python-version").write_text("3.4\n")

    code, report = doctor_json(project)

    check = by_id(report)["python-version"]
    mine = ".".join(map(str, sys.version_info[:3]))
    assert code == 1
    assert check["state"] == "fail" and check["fixable"] is False
    assert f"Python {mine}" in check["message"] and ".python-version" in check["message"]
    assert "remove .venv and run `devenv sync`" in check["fix"]
    assert (project / ".venv/pyvenv.cfg").exists()  # never deleted by doctor, even with --fix
    devenv(project, "doctor", "--fix")
    assert (project / ".venv/pyvenv.cfg").exists()

    (project / ".python-version").write_text(f"{sys.version_info[0]}.{sys.version_info[1]}\n")
    check = by_id(doctor_json(project)[1])["python-version"]
    assert check["state"] == "ok"


def uv_pip(wheels: Path, venv: Path, *args: str) -> None:
    import uv

    python = str(venv / "bin/python")
    subprocess.run(
        [uv.find_uv_bin(), "pip", *args, "--python", python, "--no-index", "-f", str(wheels)],
        check=True,
        capture_output=True,
        env={**os.environ, "UV_CACHE_DIR": str(wheels.parent / "uv-cache")},
    )


def test_lockfile_drift_is_a_warning_that_devenv_sync_fixes(tmp_path, wheels):
    project = project_dir(tmp_path, "")
    (project / "requirements.lock").write_text("alpha==1.0\nbeta==1.0\n")
    make_venv(project / ".venv")
    uv_pip(wheels, project / ".venv", "install", "alpha==2.0")

    code, report = doctor_json(project)

    check = by_id(report)["deps.requirements.lock"]
    assert code == 0
    assert check["state"] == "warn" and check["fixable"] is False
    assert "1 missing (beta)" in check["message"]
    assert "alpha 1.0 locked, 2.0 installed" in check["message"]
    assert "devenv sync" in check["fix"]

    uv_pip(wheels, project / ".venv", "sync", str(project / "requirements.lock"))
    check = by_id(doctor_json(project)[1])["deps.requirements.lock"]
    assert check["state"] == "ok"
    assert "in sync" in check["message"]


def test_requirements_with_ranges_are_a_warning_to_pin_them(tmp_path, wheels):
    project = project_dir(tmp_path, "")
    (project / "requirements.txt").write_text("alpha>=1\n")
    make_venv(project / ".venv")
    uv_pip(wheels, project / ".venv", "install", "alpha==2.0")

    code, report = doctor_json(project)

    check = by_id(report)["deps.requirements.txt"]
    assert code == 0
    assert check["state"] == "warn"
    assert "1 unpinned (alpha)" in check["message"] and "not reproducible" in check["message"]
    assert "uv pip compile requirements.txt -o requirements.lock" in check["fix"]


def test_a_lockfile_that_cannot_be_read_fails_with_its_error(tmp_path):
    project = project_dir(tmp_path, "")
    (project / "uv.lock").write_text("version = 1\n[[package]\n")  # not TOML
    make_venv(project / ".venv")

    code, report = doctor_json(project)

    check = by_id(report)["deps.uv.lock"]
    assert code == 1
    assert check["state"] == "fail"
    assert "uv.lock" in check["message"] and "not valid TOML" in check["message"]


def test_prod_parity_a_major_difference_is_a_warning_with_the_install_hint(reachable_dir):
    services = "[services.postgres]\n[services.redis]\n"
    project = project_dir(reachable_dir, services + '[prod]\npostgres = "15"\nredis = "6"\n')

    code, report = doctor_json(project)

    checks = by_id(report)
    assert checks["parity.postgres"]["state"] == "ok"
    redis = checks["parity.redis"]
    assert redis["state"] == "warn" and redis["fixable"] is False
    assert "prod runs 6" in redis["message"] and "(major)" in redis["message"]
    assert "install" in redis["fix"] and redis["fix"] not in redis["message"]
    assert code == 0
