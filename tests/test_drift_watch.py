"""Drift seen live: real file writes, watchdog, one recompute per burst; and under `devenv up`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devenv.environment.model import Drift
from devenv.environment.project import ProjectEnv
from devenv.environment.watch import DriftWatcher
from tests.test_sync import project


def wait_for(check, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def env_for(root: Path, names: list[str]) -> ProjectEnv:
    return ProjectEnv(
        root=root,
        venv=root / ".venv",
        lockfiles=tuple(root / n for n in names),
        state_file=root / ".devenv" / "deps.json",
    )


def test_a_burst_of_writes_gives_one_recompute(tmp_path):
    names = [f"requirements-{i}.lock" for i in range(10)]
    for name in names:
        (tmp_path / name).write_text("a==1\n")
    computed: list[float] = []
    seen = threading.Event()

    def compute(env):
        computed.append(time.monotonic())
        return {p: Drift(p, "drift", missing=("a",)) for p in env.lockfiles}

    watcher = DriftWatcher(
        env_for(tmp_path, names), lambda drifts: seen.set(), quiet=0.2, compute=compute
    ).start()
    try:
        for name in names:  # as a `git checkout` rewrites them: one after another
            (tmp_path / name).write_text("a==2\n")
        assert seen.wait(10)
        (tmp_path / "unrelated.txt").write_text("x")  # not a lockfile: no recompute
        time.sleep(0.6)
        assert len(computed) == 1
        os.replace(tmp_path / names[0], tmp_path / "tmp")  # renames count too (editors, git)
        os.replace(tmp_path / "tmp", tmp_path / names[0])
        wait_for(lambda: len(computed) == 2, what="a second recompute")
    finally:
        watcher.stop()


def test_while_paused_nothing_is_recomputed_and_resume_recomputes_once(tmp_path):
    (tmp_path / "requirements.lock").write_text("a==1\n")
    computed: list[int] = []
    watcher = DriftWatcher(
        env_for(tmp_path, ["requirements.lock"]),
        lambda drifts: None,
        quiet=0.05,
        compute=lambda env: computed.append(1) or {},
    ).start()
    try:
        watcher.pause()
        for i in range(5):
            (tmp_path / "requirements.lock").write_text(f"a=={i}\n")
        time.sleep(0.4)
        assert computed == []
        watcher.resume()
        wait_for(lambda: computed == [1], what="the recompute after resume")
    finally:
        watcher.stop()


def run_up(root: Path, env: dict) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=root,
        env={**env, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def app_said(lines: list[str], text: str) -> bool:
    """The app process printed ``text`` (not devenv's own lines about it)."""
    for line in lines:
        name, _, said = line.partition("|")
        if "app." in name and text in said:
            return True
    return False


PRINTER = "import alpha, time\nwhile True:\n    print('alpha', alpha.__version__, flush=True)\n"
PRINTER += "    time.sleep(0.2)\n"


@contextlib.contextmanager
def app_then_bump(tmp_path: Path, offline: dict, toml: str = ""):
    """`devenv up --no-tui` of an app printing alpha's version; once it has printed 1.0, the
    lock is bumped to 2.0. Yields (project root, output lines so far); stops it afterwards."""
    root = project(tmp_path / "app", "alpha==1.0\n", toml, "app: python app.py\n")
    (root / "app.py").write_text(PRINTER)
    proc, lines = run_up(root, offline)
    try:
        wait_for(lambda: app_said(lines, "alpha 1.0"), what="the app's output")
        (root / "requirements.lock").write_text("alpha==2.0\n")
        yield root, lines
    finally:
        stop(proc)


def test_up_no_tui_prints_one_line_on_drift(tmp_path, offline):
    with app_then_bump(tmp_path, offline) as (_, lines):
        wait_for(lambda: any("dependencies drifted" in line for line in lines), what="drift")
        time.sleep(0.5)
        drift_lines = [line for line in lines if "dependencies drifted" in line]
        assert len(drift_lines) == 1
        assert "alpha 2.0 locked, 1.0 installed" in drift_lines[0]
        assert "`devenv sync` installs them" in drift_lines[0]
        assert not app_said(lines, "alpha 2.0")  # warned, not synced


def test_on_drift_sync_installs_and_restarts_the_process(tmp_path, offline):
    with app_then_bump(tmp_path, offline, '[environment]\non_drift = "sync"\n') as (_, lines):
        wait_for(lambda: app_said(lines, "alpha 2.0"), what="the restarted app")
        text = "\n".join(lines)
        assert "restarting after the sync: app.1" in text
        assert text.index("dependencies drifted") < text.rindex("packages installed")


def test_devenv_sync_elsewhere_restarts_the_running_processes(tmp_path, offline):
    with app_then_bump(tmp_path, offline) as (root, lines):
        wait_for(lambda: any("dependencies drifted" in line for line in lines), what="drift")
        synced = subprocess.run(
            [sys.executable, "-m", "devenv", "sync"],
            cwd=root,
            env=offline,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert "the running devenv (pid" in synced.stdout
        wait_for(lambda: app_said(lines, "alpha 2.0"), what="the restarted app")
        assert any("dependencies in sync with the lockfiles again" in line for line in lines)


def test_an_included_file_is_watched_too(tmp_path):
    """requirements.lock pulls in base.txt with -r: a change there is a change of the lock."""
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text("a==1\n")
    (tmp_path / "requirements.lock").write_text("-r reqs/base.txt\n")
    seen: list[dict] = []
    watcher = DriftWatcher(
        env_for(tmp_path, ["requirements.lock"]), seen.append, quiet=0.05
    ).start()
    try:
        watcher.changed()  # the first recompute learns the includes
        wait_for(lambda: len(seen) == 1, what="the first recompute")
        (tmp_path / "reqs" / "base.txt").write_text("a==2\n")
        wait_for(lambda: len(seen) == 2, what="a recompute after the included file changed")
    finally:
        watcher.stop()


def test_an_install_writing_thousands_of_files_gives_one_recompute(tmp_path):
    (tmp_path / "requirements.lock").write_text("a==1\n")
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    computed: list[int] = []
    watcher = DriftWatcher(
        env_for(tmp_path, ["requirements.lock"]),
        lambda drifts: None,
        quiet=0.5,  # a busy machine may pause the writer; never 0.5 s here
        compute=lambda env: computed.append(1) or {},
    ).start()
    try:
        for i in range(300):  # as an installer unpacks: a package folder and its metadata
            package = site / f"pkg{i}"
            package.mkdir()
            for n in range(5):
                (package / f"m{n}.py").write_text("x = 1\n")
            info = site / f"pkg{i}-1.0.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Name: pkg{i}\nVersion: 1.0\n")
        wait_for(lambda: computed, what="the recompute")
        time.sleep(1.0)
        assert computed == [1]
    finally:
        watcher.stop()
