"""devenv.supervisor.hangup on real terminals (ptys) and real processes: no UI, no servers.

The TUI's own hang-up tests (tmux, the demo's servers) are in test_tui_tmux.py; these
pin down the pieces, including the last resort, which a clean stop never reaches.
"""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from devenv.supervisor.hangup import (
    TerminalOutput,
    is_terminal,
    silence_dead_terminal,
    terminal_gone,
)

DEADLINE = 30


def test_importing_it_imports_neither_textual_nor_psutil():
    """--no-tui uses it too, and the CLI must start fast: psutil only for the last resort."""
    code = (
        "import devenv.supervisor.hangup, sys;"
        "assert not {'textual', 'psutil'} & set(sys.modules), 'imported at start'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def dead_pty() -> int:
    """The terminal end of a pty whose far end was closed: a hung-up terminal."""
    master, slave = pty.openpty()
    os.close(master)
    return slave


def test_a_live_terminal_a_hung_up_one_and_a_pipe():
    master, slave = pty.openpty()
    read_end, write_end = os.pipe()
    dead = dead_pty()
    try:
        assert is_terminal(slave) and not terminal_gone(slave)
        assert not is_terminal(read_end) and not terminal_gone(read_end)
        assert not is_terminal(dead) and terminal_gone(dead)
    finally:
        for fd in (master, slave, read_end, write_end, dead):
            os.close(fd)


def test_silencing_a_dead_terminal_makes_writes_succeed_and_reads_wait():
    reading, writing = dead_pty(), dead_pty()
    live_master, live = pty.openpty()
    try:
        assert os.read(reading, 10) == b""  # end of file, at once and forever: a reader spins
        with pytest.raises(OSError):
            os.write(writing, b"x")
        silence_dead_terminal((reading, writing, live), reader=reading)  # reader: fd 0 in use
        assert os.write(writing, b"x") == 1
        assert select.select([reading], [], [], 0.2)[0] == []  # nothing to read: it waits
        assert is_terminal(live)  # a live terminal is left alone
    finally:
        for fd in (reading, writing, live_master, live):
            os.close(fd)


def test_terminal_output_survives_its_terminal_hanging_up():
    master, slave = pty.openpty()
    stream = io.TextIOWrapper(io.FileIO(slave, "w"), line_buffering=True)
    out = TerminalOutput(stream)
    try:
        out.write("before\n")
        assert b"before" in os.read(master, 100)
        os.close(master)
        out.write("after the hang-up\n")  # EIO underneath: quiet, and the fd now /dev/null
        out.flush()
        assert not terminal_gone(slave) and os.write(slave, b"x") == 1
    finally:
        stream.close()


CHILD = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from pathlib import Path
    from devenv.supervisor.hangup import Guard

    folder, mode = Path(sys.argv[1]), sys.argv[2]
    sleeper = subprocess.Popen(["sleep", "600"], start_new_session=True)
    (folder / "sleeper").write_text(str(sleeper.pid))

    def stop():
        with (folder / "stops").open("a") as stops:
            stops.write("stop\\n")
        if mode == "hang":
            time.sleep(600)
        sleeper.terminate()
        sleeper.wait()
        return 3

    guard = Guard(stop=stop, grace=1.0 if mode == "hang" else 60).install()
    (folder / "ready").write_text("")
    guard.stopped.wait()
    time.sleep(0.5)  # a second signal meanwhile must not stop twice
    sys.exit(5)  # its own way out: the terminal is alive
    """
)


class Child:
    """A Python process running CHILD on a pty of its own (a session of its own, so closing
    the pty sends it no SIGHUP)."""

    def __init__(self, folder: Path, mode: str) -> None:
        self.folder = folder
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(folder), mode],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        deadline = time.monotonic() + DEADLINE
        while not (folder / "ready").exists():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.05)
        self.sleeper = int((folder / "sleeper").read_text())

    def output(self) -> str:
        text = b""
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
        return text.decode(errors="replace")

    def stops(self) -> int:
        path = self.folder / "stops"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the child is still running {DEADLINE} s on:\n{self.output()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.master is not None:
            os.close(self.master)
        if psutil.pid_exists(self.sleeper):
            os.kill(self.sleeper, signal.SIGKILL)


def sleeper_gone(pid: int) -> bool:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_terminal_gone_without_sighup_stops_once_then_exits_with_the_stops_code(tmp_path):
    child = Child(tmp_path, "stop")
    try:
        os.close(child.master)  # the window closed
        child.master = None
        assert child.wait() == 3  # the guard's exit, with the stop's code: nothing to show
        assert child.stops() == 1
        assert sleeper_gone(child.sleeper)
    finally:
        child.close()


def test_sigterm_on_a_live_terminal_stops_once_and_leaves_the_exit_to_the_program(tmp_path):
    child = Child(tmp_path, "stop")
    try:
        child.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        child.proc.send_signal(signal.SIGHUP)  # the terminal lives: a SIGHUP like SIGTERM
        assert child.wait() == 5, child.output()
        assert child.stops() == 1
        assert sleeper_gone(child.sleeper)
    finally:
        child.close()


def test_a_stop_that_hangs_ends_in_the_last_resort(tmp_path):
    child = Child(tmp_path, "hang")
    try:
        child.proc.send_signal(signal.SIGTERM)
        assert child.wait() == 1, child.output()  # grace is 1 s here
        assert child.stops() == 1
        assert sleeper_gone(child.sleeper)  # what it started was killed on the way out
    finally:
        child.close()


def test_the_last_resort_waits_for_a_stop_timeout_the_project_asked_for(tmp_path):
    """`down` (SIGTERM) under `up --no-tui`: a process with stop_timeout = 10 that needs 8.5 s
    to shut down is let finish, not killed by the 7 s last resort."""
    from devenv.supervisor.hangup import GRACE, grace_for

    assert grace_for([]) == grace_for([5.0]) == GRACE
    assert grace_for([5.0, 10.0]) == 12.0
    slow = tmp_path / "slow.py"
    slow.write_text(
        textwrap.dedent(
            """
            import signal, sys, time
            def bye(*_):
                time.sleep(8.5)
                print("flushed and done", flush=True)
                sys.exit(0)
            signal.signal(signal.SIGTERM, bye)
            print("up", flush=True)
            while True:
                time.sleep(1)
            """
        )
    )
    (tmp_path / "devenv.toml").write_text(
        '[project]\nname = "slow"\n\n[processes.slow]\nstop_timeout = 10\n'
    )
    (tmp_path / "Procfile").write_text(f"slow: {sys.executable} -u {slow}\n")
    up = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = tmp_path / ".devenv" / "logs" / "slow.1.log"
    deadline = time.monotonic() + DEADLINE
    while not (log.exists() and "up" in log.read_text()):
        assert time.monotonic() < deadline and up.poll() is None, up.stdout.read()
        time.sleep(0.1)
    down = subprocess.run(
        [sys.executable, "-m", "devenv", "down"], cwd=tmp_path, capture_output=True, text=True
    )
    out, _ = up.communicate(timeout=DEADLINE)
    assert down.returncode == 0, down.stderr
    assert "flushed and done" in log.read_text(), out
    assert up.returncode == 0, out
