"""`devenv up` in a real terminal: tmux runs it on the demo project, capture-pane reads it.

The first test drives the whole path a developer takes: the TUI starts the demo's
PostgreSQL, Redis, web and worker; a key restarts web; `q` stops everything; and then
psutil finds nothing of the project still running. The hang-up tests end `devenv up`
without `q`, on a busy machine (where the bug showed): the terminal closed (tmux killed,
three times over), SIGTERM, and a pty whose other end closes with no SIGHUP at all; each
time nothing of the project may be left, the stop must be the clean one, and devenv must
sit idle (not spin on its dead terminal) while that stop waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import secrets
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import psutil
import pytest

from devenv.project.layout import Layout

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
    """The dashboard's rows: name -> (index, state, whole line), from the header to the first
    line that is not a row (the notices under the table, the log pane's rule)."""
    from devenv.state import State

    rows: dict[str, tuple[int, str, str]] = {}
    inside = False
    for line in screen.splitlines():
        if re.match(r"^ Name +State +Health", line):
            inside = True
            continue
        if not inside:
            continue
        match = re.match(r"^ (\S+) +(\S+)", line)
        if not match or match[2] not in set(State):
            break
        rows[match[1]] = (len(rows), match[2], line)
    return rows


def devenv_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}"
    for name in ("PORT", "NO_COLOR", "TMUX", "TMUX_PANE"):
        env.pop(name, None)
    env.setdefault("TERM", "xterm-256color")  # tmux needs one, even detached (CI has none)
    return env


def run_devenv(demo: Path, env: dict[str, str], *args: str) -> str:
    """`devenv ARGS` in the demo (not in a terminal); its output, once it succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", "devenv", *args],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def status(demo: Path, env: dict[str, str]) -> dict:
    return json.loads(run_devenv(demo, env, "status", "--json"))


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
    return make_demo(reachable_dir / "demo")


def make_demo(path: Path) -> Path:
    """`devenv demo PATH`, its person onboarded already; the project's real path."""
    result = subprocess.run(
        [sys.executable, "-m", "devenv", "demo", str(path)],
        env=devenv_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # These tests are about the dashboard: the person is onboarded already, so that the
    # onboarding screen does not open by itself over it (tests/test_tui_onboarding.py).
    from devenv.onboarding.progress import Progress, who

    progress = Progress.load(path, who(path))
    progress.finished_at = time.time()
    progress.save()
    return path.resolve()


def leave_nothing(term: Terminal | None, demo: Path) -> None:
    """After a test: close its terminal, and make sure nothing of the demo outlives it."""
    alive = term is not None and term.alive()
    if term is not None:
        term.kill()  # SIGHUP to devenv: it stops everything it started, like `q`
    if alive or inside(demo):
        subprocess.run(
            [sys.executable, "-m", "devenv", "down"],
            cwd=demo,
            env=devenv_env(),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=DEADLINE,
        )
        for proc in inside(demo):
            with contextlib.suppress(psutil.Error):
                proc.kill()
    shutil.rmtree(Layout(demo).runtime, ignore_errors=True)


def needs_tmux() -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (`./bootstrap.sh test` installs it)")


@pytest.fixture
def terminal(demo):
    needs_tmux()
    term = Terminal(devenv_env())
    try:
        yield term
    finally:
        leave_nothing(term, demo)


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
    # The servers' generated password is in the URLs, masked on screen.
    assert re.search(r"DATABASE_URL=postgresql://demo:\*\*\*@127\.0\.0\.1:\d+/demo", screen), screen
    assert re.search(r"REDIS_URL=redis://:\*\*\*@127\.0\.0\.1:\d+/0", screen), screen
    assert (demo / ".devenv" / "password").read_text().strip() not in screen
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
    # The supervisor's own line about the restart is devenv's, marked », not the app's |.
    terminal.wait_until(
        f"web.1's log saying '» started (pid {new['pid']})'",
        lambda s: f"» started (pid {new['pid']})" in s,
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


# -- when nobody presses q: the terminal closed, SIGTERM, the tty gone ------------------

# The contract is 10 s (devenv.supervisor.hangup.GRACE, then SIGKILL and exit). The tests
# allow more, so that a loaded machine cannot fail them, while a devenv stuck for good still
# does; that the stop was the clean one is checked on its own (the project lock released).
STOP_DEADLINE = 20
STUBBORN_STOP = 3  # stop_timeout of a process that ignores SIGTERM: the stop waits this long
IDLE_FROM, IDLE_TO = 0.5, 2.5  # seconds after the hang-up: devenv only waits for `stubborn`
PROCESSES = ("web.1", "worker.1", "stubborn.1")


@pytest.fixture
def cpu_load():
    """Both cores busy for the whole test (`yes > /dev/null`, twice): the bug showed only then."""
    load = [
        subprocess.Popen(["yes"], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        yield
    finally:
        for proc in load:
            proc.kill()
            proc.wait()


@pytest.fixture
def stubborn_demo(demo):
    """The demo plus `stubborn`, which ignores SIGTERM: a stop waits STUBBORN_STOP s for it."""
    with (demo / "Procfile").open("a") as procfile:
        procfile.write("stubborn: trap '' TERM; while :; do sleep 1; done\n")
    with (demo / "devenv.toml").open("a") as toml:
        toml.write(f"\n[processes.stubborn]\nstop_timeout = {STUBBORN_STOP}\n")
    try:
        yield demo
    finally:
        leave_nothing(None, demo)


def everything_running(demo: Path, env: dict[str, str], last_screen=lambda: "") -> dict:
    """Poll `devenv status --json` until both services are ready and the processes run."""
    deadline = time.monotonic() + DEADLINE
    while True:
        state = status(demo, env)
        services = state.get("services", {})
        procs = state.get("processes", {})
        if (
            state.get("devenv", {}).get("pid")
            and len(services) == 2
            and all(info["state"] == "ready" for info in services.values())
            and sorted(procs) == sorted(PROCESSES)
            and all(info["state"] in ("ready", "running") for info in procs.values())
        ):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"not all up after {DEADLINE} s: {state}\n{last_screen()}")
        time.sleep(0.3)


def project_pids(state: dict) -> list[int]:
    """devenv, its servers and its processes, with everything below them."""
    pids = [state["devenv"]["pid"]]
    for group in ("services", "processes"):
        for info in state[group].values():
            pids += tree(info["pid"])
    return pids


def busy_threads(pid: int) -> int | None:
    """How many of ``pid``'s threads are running or waiting for a CPU now; None: it is gone."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    busy = 0
    for task in tasks:
        with contextlib.suppress(OSError, IndexError):
            stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
            busy += stat.rsplit(")", 1)[1].split()[0] == "R"
    return busy


def stops_cleanly(demo: Path, state: dict, what: str, last_screen=lambda: "") -> None:
    """After ``what`` ended devenv's life: wait until nothing of the project runs, watching
    that devenv sits idle while its stop waits for `stubborn`; then check the stop was clean."""
    devenv = state["devenv"]["pid"]
    watched = project_pids(state)
    ended = time.monotonic()
    samples: list[int] = []
    while True:
        since = time.monotonic() - ended
        busy = busy_threads(devenv)
        if busy is not None and IDLE_FROM <= since <= IDLE_TO:
            samples.append(busy)
        left = [pid for pid in watched if not gone(pid)]
        if not left and not inside(demo):
            break
        if since > STOP_DEADLINE:
            pytest.fail(
                f"{STOP_DEADLINE} s after {what}, still running: {left} "
                f"{describe(inside(demo))}\n{last_screen()}"
            )
        time.sleep(0.05)
    # A thread spinning on the dead terminal is always runnable; waiting, devenv's are not.
    assert samples, f"devenv ended before its stop could wait for stubborn ({what})"
    spinning = sum(busy > 0 for busy in samples) / len(samples)
    assert spinning < 0.5, f"devenv busy in {spinning:.0%} of {len(samples)} looks after {what}"
    # The clean stop released the project lock; a killed or hard-exited devenv leaves it.
    assert not Layout(demo).stack_file.exists(), f"the stop after {what} was not the clean one"


def up_command(env: dict[str, str], *args: str) -> str:
    python = shlex.quote(sys.executable)
    path = shlex.quote(env["PATH"])
    return " ".join([f"env -u PORT -u NO_COLOR PATH={path} {python} -m devenv up", *args])


def test_closing_the_terminal_stops_everything_every_time(stubborn_demo, reachable_dir, cpu_load):
    """A person's tmux window, closed: an interactive shell passes SIGHUP on to devenv."""
    needs_tmux()
    demo = stubborn_demo
    env = devenv_env()
    for attempt in range(3):
        term = Terminal(env)
        try:
            term.start("bash --norc --noprofile -i", cwd=reachable_dir)
            term.keys(f"cd {shlex.quote(str(demo))} && {up_command(env)}", "Enter")
            state = everything_running(demo, env, lambda t=term: t.last)
            term.wait_until("the dashboard", lambda s: "stubborn.1" in table(s))
            term.kill()
            stops_cleanly(demo, state, f"closing the terminal (attempt {attempt + 1})")
        finally:
            leave_nothing(term, demo)


def test_sigterm_stops_everything_and_exits_0(stubborn_demo, reachable_dir, cpu_load):
    needs_tmux()
    demo = stubborn_demo
    env = devenv_env()
    rc_file = reachable_dir / "exit-code"
    term = Terminal(env)
    try:
        term.start(
            f"(cd {shlex.quote(str(demo))} && {up_command(env)}); "
            f"echo $? > {shlex.quote(str(rc_file))}; sleep 600",  # the pane stays to be read
            cwd=reachable_dir,
        )
        state = everything_running(demo, env, lambda: term.last)
        term.wait_until("the dashboard", lambda s: "stubborn.1" in table(s))
        os.kill(state["devenv"]["pid"], signal.SIGTERM)
        stops_cleanly(demo, state, "SIGTERM", lambda: term.screen() or term.last)
        term.wait_until("devenv's exit code", lambda s: rc_file.exists() and rc_file.read_text())
        assert rc_file.read_text().strip() == "0", term.last
    finally:
        leave_nothing(term, demo)


class Pty:
    """A pseudo-terminal 120x36 whose far end (the master) this test holds and drains."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)

    def _drain(self) -> None:
        # What devenv draws is read and dropped: a full pty would block its writes.
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    if not os.read(self.master, 65536):
                        return
                except OSError:
                    return

    def start(self) -> None:
        self._reader.start()
        os.close(self.slave)  # devenv holds its own copies

    def close(self) -> None:
        """Close the far end: devenv's terminal hangs up, and no SIGHUP is sent (it is not
        the session this terminal controls)."""
        self._stop.set()
        self._reader.join()
        os.close(self.master)


def test_a_terminal_gone_without_sighup_stops_everything(stubborn_demo, cpu_load):
    demo = stubborn_demo
    env = devenv_env()
    term = Pty()
    # A session of its own and no controlling terminal: the hang-up brings no SIGHUP,
    # only reads that return nothing and writes that fail (EIO).
    proc = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up"],
        cwd=demo,
        env=env,
        stdin=term.slave,
        stdout=term.slave,
        stderr=term.slave,
        start_new_session=True,
    )
    try:
        term.start()
        state = everything_running(demo, env)
        assert state["devenv"]["pid"] == proc.pid
        time.sleep(1)  # the dashboard drawn, its input thread reading the terminal
        term.close()
        stops_cleanly(demo, state, "closing the pty")
        assert proc.wait(timeout=DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_tui_stops_everything_when_its_terminal_closes(stubborn_demo, reachable_dir):
    """`devenv up --no-tui` in a terminal that closes: SIGHUP stops it like SIGTERM, and
    printing to the dead terminal (EIO) breaks nothing on the way."""
    needs_tmux()
    demo = stubborn_demo
    env = devenv_env()
    term = Terminal(env)
    try:
        term.start(f"cd {shlex.quote(str(demo))} && {up_command(env, '--no-tui')}", reachable_dir)
        state = everything_running(demo, env, lambda: term.last)
        term.kill()
        stops_cleanly(demo, state, "closing the terminal of --no-tui")
    finally:
        leave_nothing(term, demo)


def test_quitting_prints_what_was_stopped_and_what_was_left_running(demo, terminal, reachable_dir):
    """After `q` the terminal keeps a summary: the processes and services stopped, the services
    left running because `devenv up -d` had started them, where the logs are; and its settings
    (echo, line editing) are as they were."""
    env = terminal.env
    python = shlex.quote(sys.executable)
    devenv = f"env -u PORT -u NO_COLOR PATH={shlex.quote(env['PATH'])} {python} -m devenv"
    run_devenv(demo, env, "up", "-d")
    rc_file = reachable_dir / "exit-code"
    # The shell waits for a key after devenv exits, so that the screen can be read.
    rc = shlex.quote(str(rc_file))
    # The terminal's settings before and after: devenv's first paint turns echo and line
    # editing off until Textual takes the terminal; both give them back.
    stty = [reachable_dir / "stty-before", reachable_dir / "stty-after"]
    before, after = (shlex.quote(str(path)) for path in stty)
    terminal.start(
        f"cd {shlex.quote(str(demo))} && stty -g > {before} && {devenv} up; echo $? > {rc}; "
        f"stty -g > {after}; read x",
        reachable_dir,
    )
    terminal.wait_until("4/4 up", lambda s: re.search(r"^  demo  4/4 up", s, re.M))
    terminal.keys("q")
    deadline = time.monotonic() + DEADLINE
    while not rc_file.exists() or not rc_file.read_text().strip():
        assert time.monotonic() < deadline, f"devenv did not quit:\n{terminal.screen()}"
        time.sleep(POLL)
    screen = terminal.wait_until(
        "the summary", lambda s: s if "devenv stopped demo:" in s else None
    )
    assert "stopped the processes: web.1, worker.1" in screen, screen
    assert "left running, as `devenv up -d` started them: postgres, redis" in screen, screen
    assert f"logs: {demo / '.devenv' / 'logs'}" in screen.replace("\n", ""), screen
    assert rc_file.read_text().strip() == "0"
    terminal.wait_until("stty -g", lambda s: stty[1].exists() and stty[1].read_text())
    assert stty[1].read_text() == stty[0].read_text()


def test_question_mark_opens_the_help_and_escape_closes_it(demo, terminal, reachable_dir):
    """The keys are one key away on the real `devenv up`: ? shows them all, Esc goes back."""
    python = shlex.quote(sys.executable)
    up = f"env -u PORT -u NO_COLOR PATH={shlex.quote(terminal.env['PATH'])} {python} -m devenv up"
    terminal.start(f"cd {shlex.quote(str(demo))} && {up}", cwd=reachable_dir)
    terminal.wait_until("4/4 up", lambda s: re.search(r"^  demo  4/4 up", s, re.M))
    assert "? Help" in terminal.last, terminal.last  # the footer says where the keys are

    terminal.keys("?")
    screen = terminal.wait_until("the help", lambda s: s if "Processes and services" in s else None)
    for line in ("restart it", "psql on PostgreSQL", "filter the log", "stop all and quit"):
        assert line in screen, screen

    terminal.keys("Escape")
    screen = terminal.wait_until(
        "the dashboard again", lambda s: s if "Processes and services" not in s else None
    )
    assert list(table(screen)) == ["postgres", "redis", "web.1", "worker.1"], screen


TICKER = (
    'ticker: python -u -c "import itertools, time; '
    "[print('tick', i, flush=True) or time.sleep(0.2) for i in itertools.count()]\"\n"
)


def test_after_a_resize_the_log_keeps_showing_the_newest_line(demo, terminal, reachable_dir):
    """The window resized (smaller, smaller, larger, taller) while a process prints: after each
    resize, lines printed later still reach the screen, the newest at the bottom."""
    with open(demo / "Procfile", "a") as procfile:
        procfile.write(TICKER)
    env = terminal.env
    python = shlex.quote(sys.executable)
    up = f"env -u PORT -u NO_COLOR PATH={shlex.quote(env['PATH'])} {python} -m devenv up"
    terminal.start(f"cd {shlex.quote(str(demo))} && {up}; read x", cwd=reachable_dir)
    log_file = demo / ".devenv" / "logs" / "ticker.1.log"

    def ticks(screen: str) -> list[int]:
        return [int(n) for n in re.findall(r"\| tick (\d+)\b", screen)]  # (a scrollbar may follow)

    terminal.wait_until("the ticker's lines", lambda s: ticks(s))
    for width, height in [(80, 24), (60, 20), (120, 36), (120, 50)]:
        terminal.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))
        written = re.findall(r" tick (\d+)$", log_file.read_text(), re.M)
        later = int(written[-1]) + 5  # five lines printed after the resize

        def newest_at_the_bottom(screen: str, later=later) -> bool:
            shown = ticks(screen)
            return bool(shown) and shown[-1] >= later and shown == sorted(shown)

        terminal.wait_until(f"tick {later} at {width}x{height}", newest_at_the_bottom)
        screen = terminal.last
        assert max(len(line) for line in screen.splitlines()) <= width, screen


def test_filter_then_a_services_log_followed_live(demo, terminal, reachable_dir):
    """`/` filters the log as the person types; a filter nothing matches says so; Ctrl+L clears
    it. Then postgres's log, shown with Enter, gets the server's new lines as it writes them."""
    env = terminal.env
    python = shlex.quote(sys.executable)
    up = f"env -u PORT -u NO_COLOR PATH={shlex.quote(env['PATH'])} {python} -m devenv up"
    terminal.start(f"cd {shlex.quote(str(demo))} && {up}", cwd=reachable_dir)
    terminal.wait_until("4/4 up", lambda s: re.search(r"^  demo  4/4 up", s, re.M))

    def log_lines(screen: str) -> list[str]:
        lines = screen.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(" Logs:"))
        return [line for line in lines[start + 1 : -1] if re.match(r"\d\d:\d\d:\d\d ", line)]

    terminal.keys("/", *"worker.1", "Enter")

    def only_workers(screen: str) -> bool:
        lines = log_lines(screen)
        every = all("worker.1" in line for line in lines)
        return every and any("waiting for jobs" in line for line in lines)

    terminal.wait_until("only worker.1's lines, its 'waiting for jobs' too", only_workers)
    terminal.keys("/", *"zz-nothing", "Enter")
    terminal.wait_until("no line matches", lambda s: "no line matches" in s)
    terminal.keys("C-l")  # clears the filter first
    terminal.wait_until("every source again", lambda s: "web.1" in "".join(log_lines(s)))

    rows = table(terminal.last)
    terminal.keys(*["Up"] * 5, *["Down"] * rows["postgres"][0], "Enter")
    terminal.wait_until("postgres's log", lambda s: "Logs: postgres" in s)
    # A statement that fails is one the server writes to its log file.
    url = subprocess.run(
        [sys.executable, "-m", "devenv", "env"], cwd=demo, env=env, capture_output=True, text=True
    ).stdout
    database_url = re.search(r"DATABASE_URL=(\S+)", url)[1].strip("'\"")
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    subprocess.run([psql, database_url, "-c", "select 1/0 as seen_live"], capture_output=True)
    terminal.wait_until("postgres's new line", lambda s: "select 1/0 as seen_live" in s)
