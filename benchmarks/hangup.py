"""How long ``devenv up`` (the TUI) takes to stop everything when nobody presses q.

Run: .venv/bin/python benchmarks/hangup.py [--runs N] [--load N] [--dir DIR]
     (3 runs of each way, 2 busy loops for the loaded half, in /tmp)

On a copy of the demo project (``devenv demo``: PostgreSQL, Redis, web, worker), for
each way of ending it, ``devenv up`` is started, and once ``devenv status --json`` says
that everything runs, the time is taken from the action until no process of the project
is left (devenv, the servers and every process below them; psutil, polled every 10 ms):

- ``q`` pressed (tmux send-keys): the baseline, the clean stop a person asks for;
- the terminal closed (tmux kill-session: SIGHUP, the tty hung up);
- ``kill -TERM`` on devenv, its terminal alive;
- a pty whose far end is closed, devenv not its session (no SIGHUP, only EOF and EIO).

Each way runs on a quiet machine and again with ``--load`` busy loops (``yes >
/dev/null``), where the old bug showed: Textual's input thread spun on the dead terminal
and devenv never exited. Goal: every way <= 10 s (devenv.supervisor.hangup.GRACE, then SIGKILL and
exit), and the same order as ``q`` (the ratio column), since it is the same clean stop.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pty
import secrets
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import _bench
import psutil

GOAL = 10.0  # seconds from the action to nothing left
WIDTH, HEIGHT = 120, 36


class Bench(_bench.BaseBench):
    def __init__(self, parent: Path) -> None:
        # base is 0755: the demo's PostgreSQL runs as an unprivileged user when root.
        super().__init__(
            "devenv-bench-hangup-", parent, drop=["PORT", "NO_COLOR", "TMUX", "TMUX_PANE"]
        )
        self.env.setdefault("TERM", "xterm-256color")
        self.socket = f"devenv-bench-{secrets.token_hex(6)}"
        self.project = self.base / "demo"
        self.load: list[subprocess.Popen] = []
        self.ptys: list[subprocess.Popen] = []

    def devenv(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return _bench.run(
            [sys.executable, "-m", "devenv", *args],
            f"devenv {' '.join(args)}",
            cwd=cwd or self.project,
            env=self.env,
        )

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
            timeout=_bench.TIMEOUT,
            check=check,
        )

    # -- load ------------------------------------------------------------------------

    def busy(self, loops: int) -> None:
        self.load = [
            subprocess.Popen(["yes"], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            for _ in range(loops)
        ]

    def quiet(self) -> None:
        for proc in self.load:
            proc.kill()
            proc.wait()
        self.load = []

    # -- one run -----------------------------------------------------------------------

    def in_tmux(self) -> str:
        """``devenv up`` as the pane's own process (its terminal's session leader)."""
        name = f"s{secrets.token_hex(3)}"
        size = ("-x", str(WIDTH), "-y", str(HEIGHT))
        command = f"exec {shlex.quote(sys.executable)} -m devenv up"
        self.tmux("new-session", "-d", "-s", name, *size, "-c", str(self.project), command)
        return name

    def in_pty(self) -> tuple[subprocess.Popen, int]:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
        proc = subprocess.Popen(
            [sys.executable, "-m", "devenv", "up"],
            cwd=self.project,
            env=self.env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,  # no controlling terminal: its hang-up sends no SIGHUP
        )
        os.close(slave)
        self.ptys.append(proc)
        return proc, master

    def running(self) -> list[int]:
        """Wait until everything runs; return the project's pids (devenv first)."""
        deadline = time.monotonic() + _bench.TIMEOUT
        while True:
            state = json.loads(self.devenv("status", "--json").stdout)
            services, procs = state.get("services", {}), state.get("processes", {})
            if (
                state.get("devenv", {}).get("pid")
                and services
                and all(info["state"] == "ready" for info in services.values())
                and procs
                and all(info["state"] in ("ready", "running") for info in procs.values())
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all up after {_bench.TIMEOUT} s: {state}")
            time.sleep(0.2)
        pids = [state["devenv"]["pid"]]
        for info in [*services.values(), *procs.values()]:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(info["pid"])
                pids += [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        return pids

    def time_until_gone(self, pids: list[int], action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        deadline = time.monotonic() + _bench.TIMEOUT
        while any(alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                left = [pid for pid in pids if alive(pid)]
                raise RuntimeError(f"still running {_bench.TIMEOUT} s on: {left}")
            time.sleep(0.01)
        return time.perf_counter() - start

    def one(self, way: str) -> float:
        if way == "pty closed":
            proc, master = self.in_pty()
            drain = Drain(master)
            pids = self.running()
            time.sleep(0.5)  # the dashboard drawn, its input thread reading
            seconds = self.time_until_gone(pids, drain.close)
            proc.wait(timeout=_bench.TIMEOUT)
            return seconds
        name = self.in_tmux()
        pids = self.running()
        time.sleep(0.5)
        actions = {
            "q": lambda: self.tmux("send-keys", "-t", name, "q"),
            "terminal closed (SIGHUP)": lambda: self.tmux("kill-session", "-t", name),
            "SIGTERM": lambda: os.kill(pids[0], signal.SIGTERM),
        }
        seconds = self.time_until_gone(pids, actions[way])
        self.tmux("kill-session", "-t", name, check=False)
        return seconds

    # -- cleanup -----------------------------------------------------------------------

    def cleanup(self) -> list[str]:
        problems: list[str] = []
        self.quiet()
        self.tmux("kill-server", check=False)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}")
        (folder / self.socket).unlink(missing_ok=True)
        for proc in self.ptys:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.project.exists():
            with contextlib.suppress(Exception):
                self.devenv("down")
        for proc in _bench.processes_of(self.base):
            problems.append(f"left running: {_bench.describe(proc)} (killed)")
            with contextlib.suppress(psutil.Error):
                proc.kill()
        from devenv.project.layout import Layout

        shutil.rmtree(Layout(self.project).runtime, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.base.exists():
            problems.append(f"left behind: {self.base}")
        return problems


class Drain:
    """Reads and drops what devenv draws on a pty (a full pty would block it) until closed."""

    def __init__(self, master: int) -> None:
        self.master = master
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    if not os.read(self.master, 65536):
                        return
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False


WAYS = ("q", "terminal closed (SIGHUP)", "SIGTERM", "pty closed")


def measure_all(bench: Bench, runs: int, loops: int, results: _bench.Table) -> None:
    for loaded in (False, True):
        if loaded:
            bench.busy(loops)
        baseline = None
        for way in WAYS:
            values = [bench.one(way) for _ in range(runs)]
            median = statistics.median(values)
            baseline = baseline or median
            name = f"{way}{f', {loops} busy loops' if loaded else ''}"
            results.row(
                name,
                f"{median * 1000:8.0f} ms",
                f"{median / baseline:5.2f}x",
                _bench.goal(f"<= {GOAL:g} s", max(values) <= GOAL),
                _bench.spread([v * 1000 for v in values], ".0f"),
            )
        bench.quiet()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each way (default 3)")
    parser.add_argument("--load", type=int, default=2, help="busy loops when loaded (default 2)")
    _bench.dir_option(parser, "the project")
    args = parser.parse_args()
    _bench.positive(parser, args, "runs", "load")
    if shutil.which("tmux") is None:
        parser.error("tmux is not installed (./bootstrap.sh test installs it)")

    bench = Bench(args.dir)
    results = _bench.Table(40, 11, "vs q", 6)

    def measure() -> None:
        others = _bench.count_processes(["postgres", "redis-server"])
        _bench.print_header(
            [
                *_bench.machine_facts(f"{others} other postgres/redis-server processes running"),
                f"folders:     {bench.base}",
                f"runs:        {args.runs} of each way; medians, the goal on the slowest run, "
                "[min-max] in ms",
            ],
            bench,
        )
        bench.devenv("demo", str(bench.project), cwd=bench.base)
        _bench.mark_onboarded(bench.project)
        bench.one("q")  # the first start installs the demo's packages: not counted
        measure_all(bench, args.runs, args.load, results)

    return _bench.main_loop(
        bench, results, measure, "tmux server killed, every process stopped, folder removed"
    )


if __name__ == "__main__":
    sys.exit(main())
