"""``devenv up --no-tui`` spawning from the last start's plan (devenv.project.procplan).

Real commands, real processes, real files. Whether a start spawned from the plan is read
from an audit hook on ``subprocess.Popen``: at the spawn of the Procfile's own command,
asyncio is not loaded yet only when the head start did it.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from devenv.supervisor.child import adopt
from tests.servers import free_port

MARK = f"sleep 1000.{os.getpid()}"  # only this file's processes run this

PROBE = textwrap.dedent(
    """\
    import runpy
    import sys

    out, marker = sys.argv[1], sys.argv[2]
    done = []

    def hook(event, args):
        if event == "subprocess.Popen" and not done and marker in str(args[1]):
            done.append(True)
            with open(out, "w") as f:
                f.write("ordinary" if "asyncio" in sys.modules else "early")

    sys.addaudithook(hook)
    sys.argv = ["devenv", "up", "--no-tui"]
    runpy.run_module("devenv", run_name="__main__", alter_sys=True)
    """
)

PROCFILE = f"""\
a: env > a.env; echo up $GREETING; exec {MARK}
b: echo b here; exec {MARK}
c: echo c here; test -e c.flag || {{ touch c.flag; exit 3; }}; exec {MARK}
"""

LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<name>\S+) +\| (?P<text>.*)$")
COLOURED = re.compile(
    r"^\x1b\[0m\x1b\[(?P<colour>[\d;]+)m\d\d:\d\d:\d\d (?P<column>(?P<name>\S+) *)\| \x1b\[0m"
    r"(?P<text>.*)$"
)


def environ(tmp_path: Path, port: int | None = None) -> dict[str, str]:
    """This test's environment: its own port registry; PORT set when ``port`` is given (else
    devenv allocates the processes' block)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "NO_COLOR")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    if port is not None:
        env["PORT"] = str(port)
    return env


def make_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "planned"\n')
    (project / "Procfile").write_text(PROCFILE)
    (project / ".env").write_text("GREETING=hello\n")
    (tmp_path / "probe.py").write_text(PROBE)
    return project


class Run:
    """One ``devenv up --no-tui`` (through the probe): its output lines as they come."""

    def __init__(self, project: Path, env: dict[str, str], tty: bool = False) -> None:
        self.project = project
        self.spawn_file = project.parent / "spawned-by.txt"
        self.spawn_file.unlink(missing_ok=True)
        (project / "c.flag").unlink(missing_ok=True)
        self.lines: list[str] = []
        self.tty = tty
        master = slave = -1
        if tty:  # stdout a terminal: the console's colours
            master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, str(project.parent / "probe.py"), str(self.spawn_file), MARK],
            cwd=project,
            env=env,
            stdout=slave if tty else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if tty:
            os.close(slave)
        self._reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self._reader.start()

    def _read(self, master: int) -> None:
        if not self.tty:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
            return
        rest = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end closed
                chunk = b""
            if not chunk:
                os.close(master)
                return
            *done, rest = (rest + chunk).split(b"\r\n")
            self.lines += [line.decode() for line in done]

    def wait_for(self, *texts: str, timeout: float = 30) -> None:
        """Until every one of ``texts`` is in a line (all of the output, when it ends first)."""
        deadline = time.monotonic() + timeout
        while not all(any(t in line for line in self.lines) for t in texts):
            if self.proc.poll() is not None:
                self._reader.join(5)
                return
            assert time.monotonic() < deadline, f"not seen {texts}:\n" + "\n".join(self.lines)
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(5)
        return code

    @property
    def spawned_by(self) -> str:
        return self.spawn_file.read_text() if self.spawn_file.exists() else "nothing"

    def by_name(self) -> dict[str, list[str]]:
        """Each name's lines in order, pids as N (the time and padding left out; on a
        terminal, each line's colour and name column kept, as "colour|name   |text")."""
        result: dict[str, list[str]] = {}
        for line in self.lines:
            match = (COLOURED if self.tty else LINE).match(line)
            assert match, f"not a console line: {line!r}"
            text = re.sub(r"\d{2,}", "N", match.group("text"))
            if self.tty:
                text = f"{match.group('colour')}|{match.group('column')}|{text}"
            result.setdefault(match.group("name"), []).append(text)
        return result


def full_run(project: Path, env: dict[str, str], tty: bool = False) -> Run:
    run = Run(project, env, tty)
    run.wait_for("a.1", "up ", "b here", "c here", "restarting in")
    run.wait_for(*(f"{n}.1 " for n in "abc"))
    # c's second start, after its exit 3
    deadline = time.monotonic() + 30
    while sum("c.1" in line and "started (pid" in line for line in run.lines) < 2:
        assert run.proc.poll() is None and time.monotonic() < deadline, "\n".join(run.lines)
        time.sleep(0.02)
    run.wait_for("c here")
    time.sleep(0.3)  # the restarted c's output
    assert run.stop() == 0, "\n".join(run.lines)
    return run


def planned_run(project: Path, env: dict[str, str], tty: bool = False) -> Run:
    """A full run that leaves a plan: a start whose ports moved (it says so) records none, the
    next one in the same block does."""
    run = full_run(project, env, tty)
    if not plan_file(project).exists():
        run = full_run(project, env, tty)
    assert run.spawned_by == "ordinary"
    assert plan_file(project).exists(), "\n".join(run.lines)
    return run


def left_running() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if MARK in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def assert_nothing_left() -> None:
    deadline = time.monotonic() + 5
    while left_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left_running() == []


@pytest.fixture(autouse=True)
def nothing_left_after():
    yield
    for proc in left_running():
        proc.kill()


def plan_file(project: Path) -> Path:
    return project / ".devenv" / "processes.plan.json"


# ---------------------------------------------------------------- the head start holds


def test_the_next_start_spawns_from_the_plan_with_the_same_env_output_and_logs(tmp_path):
    project = make_project(tmp_path)
    env = environ(tmp_path)

    first = planned_run(project, env)
    assert plan_file(project).stat().st_mode & 0o777 == 0o600
    first_env = (project / "a.env").read_text()
    assert "GREETING=hello" in first_env.splitlines()

    second = full_run(project, env)
    assert second.spawned_by == "early"
    assert (project / "a.env").read_text() == first_env  # the whole environment, PORT too
    assert second.by_name() == first.by_name()  # the same lines, each name's in order
    said = second.by_name()
    assert said["a.1"][:2] == ["started (pid N)", "up hello"]
    assert said["c.1"][:4] == [
        "started (pid N)",
        "c here",
        "exited with code 3",
        "restarting in 0.5 s (attempt 1)",
    ]
    # The early "started" line is printed once, and its pid is the one the log names.
    started = [line for line in second.lines if "a.1" in line and "started (pid" in line]
    assert len(started) == 1
    pid = re.search(r"started \(pid (\d+)\)", started[0]).group(1)
    log = (project / ".devenv" / "logs" / "a.1.log").read_text()
    assert f"started (pid {pid})" in log
    assert "up hello" in log.splitlines()[-3]  # after that start: its output, then the stop
    assert_nothing_left()

    third = full_run(project, env)  # the plan recorded again holds again
    assert third.spawned_by == "early"
    assert_nothing_left()


def test_on_a_terminal_each_name_keeps_its_colour_and_column_as_without_the_plan(tmp_path):
    project = make_project(tmp_path)
    # Their output waits until every "started" line is out, with or without the plan: the
    # column widens with the names as they come.
    procfile = PROCFILE.replace("echo ", "sleep 0.5; echo ")
    (project / "Procfile").write_text(procfile + f"a_longer_name: echo long; exec {MARK}\n")
    env = environ(tmp_path)

    first = planned_run(project, env, tty=True)
    second = full_run(project, env, tty=True)

    assert second.spawned_by == "early"
    assert second.by_name() == first.by_name()
    colours = {
        name: {line.split("|")[0] for line in lines} for name, lines in first.by_name().items()
    }
    assert all(len(used) == 1 for used in colours.values()), colours
    assert_nothing_left()


# ---------------------------------------------------------------- the head start does not hold


@pytest.mark.parametrize("change", ["procfile", "dotenv", "environ", "config"])
def test_a_change_since_the_plan_is_not_spawned_from_it(tmp_path, change):
    project = make_project(tmp_path)
    env = environ(tmp_path)
    planned_run(project, env)

    if change == "procfile":
        (project / "Procfile").write_text(PROCFILE.replace("echo up", "echo now up"))
        seen = "now up hello"
    elif change == "dotenv":
        (project / ".env").write_text("GREETING=bonjour\n")
        seen = "up bonjour"
    elif change == "environ":
        env = {**env, "GREETING": "ignored by .env", "DEVENV_TEST_EXTRA": "x"}
        seen = "up hello"
    else:
        (project / "devenv.toml").write_text(
            '[project]\nname = "planned"\n\n[processes.a.env]\nGREETING = "hi there"\n'
        )
        seen = "up hi there"

    second = full_run(project, env)
    assert second.spawned_by == "ordinary"
    assert any(line.endswith(f"a.1      | {seen}") for line in second.lines), second.lines
    if change == "environ":
        assert "DEVENV_TEST_EXTRA=x" in (project / "a.env").read_text().splitlines()
    assert_nothing_left()


def tamper(project: Path, how: str) -> None:
    path = plan_file(project)
    plan = json.loads(path.read_text())
    # What a plan someone else wrote might ask for: never run.
    plan["processes"][0]["command"] = f"touch {project / 'PWNED'}; exec {MARK}"
    if how == "another account":
        path.write_text(json.dumps(plan))
        os.chown(path, 12345, 12345)
    elif how == "group-writable":
        path.write_text(json.dumps(plan))
        path.chmod(0o620)
    elif how == "a symlink":
        elsewhere = project.parent / "elsewhere.json"
        elsewhere.write_text(json.dumps(plan))
        elsewhere.chmod(0o600)
        path.unlink()
        path.symlink_to(elsewhere)
    elif how == "truncated":
        path.write_text(json.dumps(plan)[:100])
    elif how == "wrong types":
        plan["processes"][0]["set"] = ["not", "a", "table"]
        path.write_text(json.dumps(plan))
    elif how == "not a table":
        path.write_text("[1, 2]")
    elif how == "nested too deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "a base port not a number":
        plan["base_port"] = "5000"
        path.write_text(json.dumps(plan))


@pytest.mark.parametrize(
    "how",
    [
        "another account",
        "group-writable",
        "a symlink",
        "truncated",
        "wrong types",
        "not a table",
        "nested too deep",
        "a base port not a number",
    ],
)
def test_a_plan_someone_else_wrote_or_damaged_is_ignored(tmp_path, how):
    project = make_project(tmp_path)
    env = environ(tmp_path, port=free_port())
    first = planned_run(project, env)
    tamper(project, how)

    second = full_run(project, env)
    assert second.spawned_by == "ordinary"
    assert not (project / "PWNED").exists()
    assert second.by_name() == first.by_name()
    assert_nothing_left()


def test_an_early_process_the_start_would_not_spawn_is_stopped_and_replaced(tmp_path):
    project = make_project(tmp_path)
    env = environ(tmp_path)
    planned_run(project, env)
    path = plan_file(project)
    plan = json.loads(path.read_text())
    plan["processes"][0]["command"] = f"echo impostor; exec {MARK}"  # ours, but stale
    path.write_text(json.dumps(plan))

    run = Run(project, env)
    run.wait_for("its settings changed since the last start", "up hello")
    running = left_running()
    run.stop()

    assert run.spawned_by == "early"
    said = run.by_name()["a.1"]
    assert said[:3] == [
        "started (pid N)",
        "stopped pid N: its settings changed since the last start",
        "started (pid N)",
    ]
    assert "impostor" not in "\n".join(run.lines)
    assert len(running) == 3  # a (the real one), b, c: the impostor is gone
    assert_nothing_left()


# ---------------------------------------------------------------- failures after the head start


def test_a_start_that_fails_after_the_early_spawn_leaves_nothing_running(tmp_path):
    project = make_project(tmp_path)
    env = environ(tmp_path)
    planned_run(project, env)
    log = project / ".devenv" / "logs" / "b.1.log"
    log.unlink()
    log.mkdir()  # b's log cannot be opened: the start fails once the processes are built

    run = Run(project, env)
    run.wait_for("no such text: until it ends")
    code = run.stop()

    assert run.spawned_by == "early"
    assert code == 1, run.lines
    assert sum("started (pid" in line for line in run.lines) == 3  # the early ones
    assert_nothing_left()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_right_after_the_early_spawn_leaves_nothing_running(tmp_path, sig):
    project = make_project(tmp_path)
    env = environ(tmp_path)
    planned_run(project, env)

    run = Run(project, env)
    run.wait_for("b.1 ")  # devenv is still loading
    run.stop(sig)

    assert run.spawned_by == "early"
    assert_nothing_left()


# ---------------------------------------------------------------- adoption


def test_an_adopted_process_is_read_and_awaited_as_a_spawned_one():
    async def main() -> tuple[bytes, int]:
        proc = subprocess.Popen(
            "echo early output; exit 3",
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child = await adopt(proc, stop_timeout=1)
        assert child.pid == child.pgid == proc.pid
        output = b""
        while chunk := await child.read(1024):
            output += chunk
        code = await child.wait()
        child.close()
        return output, code

    assert asyncio.run(main()) == (b"early output\n", 3)


def test_adopted_processes_hold_the_lock_restart_stop_and_start_as_spawned_ones(
    tmp_path, monkeypatch
):
    """In this process: a Session records the plan, the head start spawns from it (the same
    environment here), and the next Session runs what it spawned."""
    from devenv.config import load_config
    from devenv.project import procplan
    from devenv.project.runlock import AlreadyRunning
    from devenv.session import Session

    monkeypatch.delenv("PORT", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "adopted"\n')
    (project / "Procfile").write_text(f"a: echo a here; exec {MARK}\nb: exec {MARK}\n")
    config = load_config(project / "devenv.toml")

    def row(session: Session, name: str):
        return next(r for r in session.rows() if r.name == name)

    def until(check, what: str):
        deadline = time.monotonic() + 20
        while not (result := check()):
            assert time.monotonic() < deadline, what
            time.sleep(0.02)
        return result

    for _ in range(2):  # a start whose ports moved records no plan: the next one does
        first = Session(config, on_event=lambda e: None, on_lines=lambda n, b: None)
        first.start()
        first.stop()
        if plan_file(project).exists():
            break
    assert plan_file(project).exists()

    procplan.spawn_early(str(project))
    try:
        early = procplan.printed()
        assert list(early) == ["a.1", "b.1"] and procplan.pending()
        lines: dict[str, list[str]] = {}
        session = Session(
            load_config(project / "devenv.toml"),
            on_event=lambda e: None,
            on_lines=lambda name, batch: lines.setdefault(name, []).extend(
                line.text for line in batch
            ),
        )
        session.start()
        try:
            assert not procplan.pending()  # both taken
            until(lambda: row(session, "b.1").state == "running", "b running")
            assert {name: row(session, name).pid for name in early} == early
            with pytest.raises(AlreadyRunning):  # the lock taken early is the session's
                Session(config, on_event=print, on_lines=print).start()
            until(lambda: "a here" in lines.get("a.1", []), "a's early output")
            assert lines["a.1"][0] == f"started (pid {early['a.1']})"

            session.restart("a.1")
            again = until(lambda: row(session, "a.1").pid not in (None, early["a.1"]), "a back")
            assert psutil.pid_exists(again) and not psutil.pid_exists(early["a.1"])
            session.stop_process("b.1")
            assert row(session, "b.1").state == "stopped"
            assert not psutil.pid_exists(early["b.1"])
            session.start_process("b.1")
            until(lambda: row(session, "b.1").state == "running", "b started again")
        finally:
            session.stop()
        assert session.layout.stack_file.exists() is False  # the lock is released
    finally:
        procplan.abandon()
    assert_nothing_left()
