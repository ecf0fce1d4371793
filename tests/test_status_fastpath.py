"""`devenv status` from the last full status's record (devenv.commands.status_fast): the same
bytes as the full status in every state, taken in the common case, not taken after a change.

Real servers (PostgreSQL, Redis), real `up --no-tui` sessions, real files. ``both()`` runs the
fast path and then the full one in one process at one frozen ``time.time`` (the processes'
uptime is computed from it), so their outputs can be compared byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port

CONFIG = '[project]\nname = "shop"\n\n[services.postgres]\n\n[services.redis]\n\n' + (
    '[prod]\npostgres = "15"\nredis = "7"\n'
)

BOTH = """
import io, json, sys, time
from contextlib import redirect_stdout
from types import SimpleNamespace
time.time = lambda: 1_900_000_000.0
from devenv.commands import status_fast
out = {}
for as_json in (False, True):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = status_fast.answer(as_json)
    out["fast", as_json] = buf.getvalue() if code == 0 else None
    assert code in (0, None) and (code == 0 or buf.getvalue() == "")
from devenv.commands.services import status
for as_json in (False, True):
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert status(SimpleNamespace(json=as_json)) == 0
    out["full", as_json] = buf.getvalue()
print(json.dumps({f"{k[0]} {k[1]}": v for k, v in out.items()}))
"""

TAKEN = """
import io, sys
from contextlib import redirect_stdout
from devenv.cli import main
with redirect_stdout(io.StringIO()):
    code = main(["status", "--json"])
heavy = {"devenv.config", "dataclasses", "tomllib", "pathlib", "devenv.commands.services"}
print(code, sorted(heavy & set(sys.modules)))
"""


class Project:
    def __init__(self, root: Path, extra_path: Path | None = None) -> None:
        self.root = root
        self.env = dict(os.environ)
        self.env.pop("NO_COLOR", None)
        self.env.pop("DEVENV_STATUS_FULL", None)
        first = [str(extra_path)] if extra_path else []
        self.env["PATH"] = os.pathsep.join(
            [*first, str(Path(sys.executable).parent), self.env["PATH"]]
        )

    def run(self, *argv: str, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            argv,
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def devenv(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "devenv", *args, **env)

    def both(self) -> dict[str, str | None]:
        return json.loads(self.run(sys.executable, "-c", BOTH).stdout)

    def settle(self) -> None:
        """Run the full status until it has recorded (a file modified within the racy window,
        or a drift just computed, is recorded by the next one)."""
        record = self.root / ".devenv" / "state" / "status.json"
        for _ in range(15):  # the drift's fingerprint waits 1 s after a lockfile's change
            time.sleep(0.2)
            self.devenv("status", DEVENV_STATUS_FULL="1")
            if record.exists():
                return
        pytest.fail("the full status wrote no record")

    def fast_equals_full(self) -> dict[str, str | None]:
        """The fast path answers, and says what the full path says, byte for byte."""
        self.settle()
        for _ in range(5):  # a running session may rewrite processes.json between the two
            out = self.both()
            assert out["fast False"] is not None and out["fast True"] is not None, out
            if (out["fast False"], out["fast True"]) == (out["full False"], out["full True"]):
                break
        assert out["fast False"] == out["full False"]
        assert out["fast True"] == out["full True"]
        assert self.taken()
        return out

    def falls_back(self) -> dict[str, str | None]:
        """The fast path declines (the full path then answers and records again)."""
        out = self.both()
        assert out["fast False"] is None and out["fast True"] is None, out
        return out

    def taken(self) -> bool:
        """Whether the real CLI answered from the record: none of the config code loaded."""
        code, loaded = self.run(sys.executable, "-c", TAKEN).stdout.split(" ", 1)
        assert code == "0"
        return loaded.strip() == "[]"


@pytest.fixture
def project(reachable_dir):
    root = reachable_dir / "shop"
    root.mkdir()
    (root / "devenv.toml").write_text(CONFIG)
    proj = Project(root, extra_path=reachable_dir / "bin")
    (reachable_dir / "bin").mkdir()
    yield proj
    subprocess.run(
        [sys.executable, "-m", "devenv", "down"], cwd=root, env=proj.env, capture_output=True
    )


def test_a_never_started_project_gets_no_record_and_no_devenv_folder(project):
    out = project.both()
    assert out["fast False"] is None
    assert "stopped" in out["full False"]
    assert not (project.root / ".devenv").exists()
    assert not project.taken()


def test_up_killed_down_edited_each_said_as_the_full_status_says_it(project):
    project.devenv("up", "-d")
    out = project.fast_equals_full()
    shown = json.loads(out["fast True"])
    assert {s["state"] for s in shown["services"].values()} == {"ready"}
    assert "you run 15." in out["fast False"]  # [prod] from the running server's binary
    # the CLI itself prints it so too
    cli = project.devenv("status").stdout
    assert cli == project.devenv("status", DEVENV_STATUS_FULL="1").stdout

    # PostgreSQL running without its pid record: the full path adopts it (and records it).
    (project.root / ".devenv" / "state" / "postgres.pid.json").unlink()
    out = project.falls_back()
    assert json.loads(out["full True"])["services"]["postgres"]["state"] == "ready"
    project.fast_equals_full()
    (project.root / ".devenv" / "state" / "redis.pid.json").unlink()  # its socket answers
    out = project.falls_back()
    assert json.loads(out["full True"])["services"]["redis"]["state"] == "ready"
    project.fast_equals_full()

    # Redis killed with SIGKILL: its pid record is stale, which the full path removes.
    redis_pid = shown["services"]["redis"]["pid"]
    os.kill(redis_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{redis_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    out = project.falls_back()
    assert '"redis": {\n      "state": "stopped"' in out["full True"]
    out = project.fast_equals_full()
    assert "you have 7." in out["fast False"]  # not running: the binaries' version

    # down: every service stopped; the parity now reads the binaries.
    project.devenv("down")
    project.falls_back()
    out = project.fast_equals_full()
    assert {s["state"] for s in json.loads(out["fast True"])["services"].values()} == {"stopped"}

    # up again: the services run; then the config's port changed.
    project.devenv("up", "-d")
    project.falls_back()  # the parity's variant (a running server) is not the record's
    project.fast_equals_full()
    project.devenv("down")
    port = free_port()
    (project.root / "devenv.toml").write_text(
        CONFIG.replace("[services.redis]\n", f"[services.redis]\nport = {port}\n")
    )
    project.falls_back()
    out = project.fast_equals_full()
    assert f'"port": {port}' in out["fast True"]


def test_a_server_found_elsewhere_on_path_is_not_answered_from_the_record(project):
    bin_dir = project.root.parent / "bin"
    project.devenv("up", "-d")
    project.devenv("down")
    project.fast_equals_full()
    # A copy of the server in a folder earlier on PATH: the record's binaries do not hold.
    found = shutil.which("redis-server", path=project.env["PATH"])
    assert found
    shutil.copy2(found, bin_dir / "redis-server")
    project.falls_back()
    project.fast_equals_full()
    (bin_dir / "redis-server").unlink()
    project.falls_back()


def test_a_record_tampered_with_is_not_used(project):
    project.devenv("up", "-d")
    project.fast_equals_full()
    record = project.root / ".devenv" / "state" / "status.json"
    assert record.stat().st_mode & 0o777 == 0o600
    good = record.read_bytes()
    record.chmod(0o666)
    project.falls_back()
    project.fast_equals_full()
    os.chown(record, 65534, -1)
    project.falls_back()
    project.fast_equals_full()
    record.write_text("{ not json")
    project.falls_back()
    project.fast_equals_full()
    data = json.loads(good)
    data["services"]["redis"]["version"] = "0.0.1"  # not what the full path says: a stale stamp
    data["stamps"][str(project.root / "devenv.toml")] = [1, 2, 3, 4]
    record.write_text(json.dumps(data))
    record.chmod(0o600)
    out = project.falls_back()
    assert "0.0.1" not in out["full False"]


def test_a_lockfile_edited_is_a_change_of_the_drift(tmp_path):
    root = tmp_path / "shop"
    root.mkdir()
    (root / "devenv.toml").write_text('[project]\nname = "shop"\n')
    (root / "requirements.lock").write_text("packaging==24.0\n")
    (root / ".devenv" / "state").mkdir(parents=True)
    project = Project(root)
    out = project.fast_equals_full()
    assert "requirements.lock: " in out["fast False"]
    (root / "requirements.lock").write_text("packaging==24.0\nidna==3.7\n")
    out = project.falls_back()
    assert "idna" in out["full True"]
    out = project.fast_equals_full()
    assert "idna" in out["fast True"]


PROCFILE = "web: python -m http.server $PORT --bind 127.0.0.1\nworker: sleep 300\n"


def test_processes_of_a_running_session_and_after_it(reachable_dir):
    root = reachable_dir / "shop"
    root.mkdir()
    (root / "devenv.toml").write_text('[project]\nname = "shop"\n\n[services.redis]\n')
    (root / "Procfile").write_text(PROCFILE)
    project = Project(root)
    project.env["PORT"] = str(free_port())
    up = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=root,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            shown = json.loads(project.devenv("status", "--json", DEVENV_STATUS_FULL="1").stdout)
            states = {info["state"] for info in shown["processes"].values()}
            if shown["processes"] and states <= {"running", "ready"} and shown["devenv"]["pid"]:
                break
            assert up.poll() is None and time.monotonic() < deadline, shown
            time.sleep(0.1)
        out = project.fast_equals_full()
        running = json.loads(out["fast True"])
        assert running["devenv"]["pid"] == up.pid
        assert {p["state"] for p in running["processes"].values()} <= {"running", "ready"}
        assert "restarts, up " in out["fast False"]
        # devenv killed: its processes.json stays, and says nothing runs any more.
        up.send_signal(signal.SIGKILL)
        up.wait(60)
        out = project.fast_equals_full()
        after = json.loads(out["fast True"])
        assert after["devenv"]["pid"] is None
        assert {p["state"] for p in after["processes"].values()} == {"stopped"}
    finally:
        up.kill()
        up.wait(60)
        project.devenv("down")  # what the killed devenv left


@pytest.mark.parametrize(
    "entry",
    [
        {"state": "ready", "pid": 0, "started_at": 1.8e9, "ports": [8000], "cpu_percent": 1.5},
        {"state": "nonsense", "pid": True, "pgid": "x", "create_time": float("inf")},
        {"state": 3, "started_at": "1800000000", "uptime": 4.0, "rss": 1 << 20, "ports": "80"},
        {"state": "crashed", "exit_code": 1, "restarts": 4, "recorded_by": 1, "kind": "web"},
    ],
)
@pytest.mark.parametrize("devenv_pid", [None, 1, 2])
def test_the_process_entries_equal_the_state_models(entry, devenv_pid, monkeypatch):
    """status_fast.process_status spells out Status.of_process_record(...).as_json()."""
    monkeypatch.setattr(time, "time", lambda: 1_900_000_000.0)
    from devenv.commands import services, status_fast

    record = {"web.1": {**entry, "pid": entry.get("pid", 42)}, "bad": "not a dict"}
    assert json.dumps(status_fast.process_status(record, devenv_pid)) == json.dumps(
        services.process_status(record, devenv_pid)  # the twin
    )
