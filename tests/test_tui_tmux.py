"""`devenv up` in a real terminal: tmux runs it on the demo project, capture-pane reads it.

The one test here drives the whole path a developer takes: the TUI starts the demo's
PostgreSQL, Redis, web and worker; a key restarts web; `q` stops everything; and then
psutil finds nothing of the project still running.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devenv.layout import Layout

DEADLINE = 60  # seconds for any one thing to show up
POLL = 0.1


class Terminal:
    """A tmux server of its own (private socket), one session 120x36 running one command."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"devenv-test-{secrets.token_hex(6)}"
        self.env = env
        self.last = ""  # the last screen read that was not blank, for failure messages

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=check,
        )

    def start(self, command: str, cwd: Path) -> None:
        # cwd: where the tmux server lives, outside the project (its processes are counted).
        self.tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "36", "-c", str(cwd), command)

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "t", check=False).returncode == 0

    def screen(self) -> str:
        result = self.tmux("capture-pane", "-p", "-t", "t", check=False)
        screen = result.stdout if result.returncode == 0 else ""
        if screen.strip():
            self.last = screen
        return screen

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        # tmux leaves its socket file behind.
        Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket).unlink(
            missing_ok=True
        )

    def wait_until(self, what: str, check, timeout: float = DEADLINE):
        """Poll the screen until ``check(screen)`` is truthy; return what it returned."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = check(screen)
            if found:
                return found
            if not self.alive():
                pytest.fail(
                    f"the session ended while waiting for {what}; last screen:\n{self.last}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"not on screen after {timeout} s: {what}; last screen:\n{self.last}")
            time.sleep(POLL)


def table(screen: str) -> dict[str, tuple[int, str, str]]:
    """The dashboard's rows: name -> (index, state, whole line), from the header to the rule."""
    rows: dict[str, tuple[int, str, str]] = {}
    inside = False
    for line in screen.splitlines():
        if re.match(r"^ Name +State +Health", line):
            inside = True
            continue
        if not inside:
            continue
        if line.startswith("─"):
            break
        match = re.match(r"^ (\S+) +(\S+)", line)
        if match:
            rows[match[1]] = (len(rows), match[2], line)
    return rows


def devenv_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}"
    for name in ("PORT", "NO_COLOR", "TMUX", "TMUX_PANE"):
        env.pop(name, None)
    env.setdefault("TERM", "xterm-256color")  # tmux needs one, even detached (CI has none)
    return env


def status(demo: Path, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "devenv", "status", "--json"],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def tree(pid: int) -> list[int]:
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


def inside(path: Path) -> list[psutil.Process]:
    """Live processes whose working folder is ``path`` or below (zombies do not count)."""
    found = []
    for proc in psutil.process_iter(["pid", "name", "cwd", "status", "cmdline"]):
        info = proc.info
        cwd = info.get("cwd")
        if not cwd or info.get("status") in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            continue
        if Path(cwd) == path or path in Path(cwd).parents:
            found.append(proc)
    return found


def describe(procs: list[psutil.Process]) -> list[str]:
    return [f"pid {p.pid} {p.info['name']} in {p.info['cwd']}: {p.info['cmdline']}" for p in procs]


@pytest.fixture
def demo(reachable_dir):
    """The demo project, copied out with `devenv demo` (devenv.toml, Procfile, migrations)."""
    path = reachable_dir / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "devenv", "demo", str(path)],
        env=devenv_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return path.resolve()


@pytest.fixture
def terminal(demo):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (`./bootstrap.sh test` installs it)")
    term = Terminal(devenv_env())
    try:
        yield term
    finally:
        alive = term.alive()
        term.kill()  # SIGHUP to devenv: it stops everything it started, like `q`
        if alive or inside(demo):
            # A failed test: make sure nothing of the demo outlives it.
            subprocess.run(
                [sys.executable, "-m", "devenv", "down"],
                cwd=demo,
                env=term.env,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=DEADLINE,
            )
            for proc in inside(demo):
                with contextlib.suppress(psutil.Error):
                    proc.kill()
        shutil.rmtree(Layout(demo).runtime, ignore_errors=True)


def test_up_in_a_terminal_restart_a_process_then_quit_leaves_nothing_running(
    demo, terminal, reachable_dir
):
    env = terminal.env
    rc_file = reachable_dir / "exit-code"
    python = shlex.quote(sys.executable)
    up = f"env -u PORT -u NO_COLOR PATH={shlex.quote(env['PATH'])} {python} -m devenv up"
    terminal.start(
        f"cd {shlex.quote(str(demo))} && {up}; echo $? > {shlex.quote(str(rc_file))}; exit",
        cwd=reachable_dir,
    )

    want = {"postgres": "ready", "redis": "ready", "web.1": "ready", "worker.1": "running"}

    def everything_up(screen: str):
        rows = table(screen)
        ok = all(rows.get(name, (0, ""))[1] == state for name, state in want.items())
        return rows if ok and re.search(r"^  demo  4/4 up", screen, re.M) else None

    rows = terminal.wait_until(f"{want} and '4/4 up' in the header", everything_up)
    screen = terminal.last
    assert re.search(r"DATABASE_URL=postgresql://demo@127\.0\.0\.1:\d+/demo", screen), screen
    assert re.search(r"REDIS_URL=redis://127\.0\.0\.1:\d+/0", screen), screen
    assert list(rows) == ["postgres", "redis", "web.1", "worker.1"], screen  # services first

    state = status(demo, env)
    web, worker = state["processes"]["web.1"], state["processes"]["worker.1"]
    assert str(web["pid"]) in rows["web.1"][2], screen
    assert str(worker["pid"]) in rows["worker.1"][2], screen
    devenv_pid = state["devenv"]["pid"]
    watched = [*tree(web["pid"]), *tree(worker["pid"])]

    # Move the cursor to web.1 and open its log (Enter): the log pane's title proves the row.
    terminal.keys(*["Down"] * rows["web.1"][0], "Enter")
    terminal.wait_until("the log pane showing web.1", lambda s: "Logs: web.1" in s)

    terminal.keys("r")
    deadline = time.monotonic() + DEADLINE
    while True:
        now = status(demo, env)["processes"]
        new = now.get("web.1", {})
        if new.get("pid") not in (None, web["pid"]) and new.get("state") in ("ready", "running"):
            break
        terminal.screen()
        assert time.monotonic() < deadline, f"web.1 not restarted: {now}\n{terminal.last}"
        time.sleep(POLL)
    assert now["worker.1"]["pid"] == worker["pid"], now  # only the selected process restarted
    watched += tree(new["pid"])
    terminal.wait_until(
        f"web.1's new pid {new['pid']} in the table",
        lambda s: str(new["pid"]) in table(s).get("web.1", (0, "", ""))[2],
    )

    terminal.keys("q")
    deadline = time.monotonic() + DEADLINE
    while terminal.alive():
        terminal.screen()
        assert time.monotonic() < deadline, f"devenv did not quit:\n{terminal.last}"
        time.sleep(POLL)

    last = terminal.last
    assert rc_file.read_text().strip() == "0", f"devenv up's exit code; last screen:\n{last}"
    assert gone(devenv_pid), last
    left = [pid for pid in watched if not gone(pid)]
    assert left == [], f"still running after q: {left}; last screen:\n{last}"
    assert describe(inside(demo)) == [], f"last screen:\n{last}"


def test_drift_banner_in_a_terminal_then_the_sync_key(tmp_path, offline):
    """A lockfile bumped under a running `devenv up`: the banner shows, S syncs, it goes."""
    from tests.test_tui_drift import make_project

    root = make_project(tmp_path / "app", "alpha==1.0\n").resolve()
    env = {**offline, "TERM": os.environ.get("TERM") or "xterm-256color"}
    term = Terminal(env)
    rc_file = tmp_path / "exit-code"
    up = f"{shlex.quote(sys.executable)} -m devenv up"
    try:
        term.start(
            f"cd {shlex.quote(str(root))} && {up}; echo $? > {shlex.quote(str(rc_file))}; exit",
            cwd=tmp_path,
        )
        term.wait_until(
            "app.1 running and '1/1 up'",
            lambda s: (
                table(s).get("app.1", (0, ""))[1] == "running"
                and re.search(r"^  drifty  1/1 up", s, re.M)
            ),
        )
        pid = status(root, env)["processes"]["app.1"]["pid"]

        (root / "requirements.lock").write_text("alpha==2.0\n")
        screen = term.wait_until(
            "the drift banner",
            lambda s: s if "Dependencies differ from the lockfiles" in s else None,
        )
        assert "requirements.lock: 1 wrong (alpha 2.0 locked, 1.0 installed)" in screen, screen
        assert "S  sync deps" in screen, screen

        term.keys("S")
        term.wait_until(
            "the banner gone and app.1 restarted",
            lambda s: (
                "Dependencies differ" not in s
                and "Installing the project's packages" not in s
                and status(root, env)["processes"]["app.1"]["pid"] not in (None, pid)
            ),
        )
        term.wait_until("the restart's notice", lambda s: "restarting after the sync" in s)

        term.keys("q")
        deadline = time.monotonic() + DEADLINE
        while term.alive():
            term.screen()
            assert time.monotonic() < deadline, f"devenv did not quit:\n{term.last}"
            time.sleep(POLL)
        assert rc_file.read_text().strip() == "0", term.last
    finally:
        term.kill()
        if inside(root):
            subprocess.run(
                [sys.executable, "-m", "devenv", "down"],
                cwd=root,
                env=env,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=DEADLINE,
            )
        shutil.rmtree(Layout(root).runtime, ignore_errors=True)
