"""devenv's process supervisor against honcho and bare Popen, in the same run.

Run: .venv/bin/python benchmarks/supervisor.py [--runs N] [--idle S] [--flood S]
(5 runs, 10 s idle, 5 s flood; everything in a temporary folder)

Measured, each a median over N runs (the variants alternate their order, so all see
the same machine load):

1. start: a Procfile of 3 and of 10 processes (``sleep``), from launch until every
   process is running:
   - raw: ``subprocess.Popen(cmd, shell=True)`` N times, stdout to a pipe, each in a new
     session (what honcho and devenv do per process), nothing else;
   - the core ``Supervisor`` driven in-process on asyncio from ProcessSpecs built by
     hand (ProcessLog files, no printing), until ``on_change`` shows N "running";
   - ``python -m devenv up --no-tui`` in a project with that Procfile and no services,
     until the Nth "started (pid" line on its stdout. The untimed first run records the
     start's plan (devenv.project.procplan), so every timed one spawns from it, as a
     developer's every start after the first does;
   - the same with the plan removed before each run: the ordinary start (info);
   - ``honcho start -f Procfile``, until its Nth "started (pid=" line.
   Each is reported with its overhead above raw; the ratios are devenv's overhead over
   honcho's. Goals: the command <= 1.0x (issue 11), the core <= 0.3x. Both commands
   include the interpreter's start-up
   (``python -c pass`` is shown so that share can be read off). 0.3 s after the last
   "started" line (untimed) each gets SIGINT and is waited for; after every variant
   nothing of the run may be left running.
2. idle: ``devenv up --no-tui`` with 10 processes, the devenv process's CPU time (user +
   system, psutil; counted in clock ticks of 10 ms) over S seconds after every process
   started, as % of one core. Goal: well under 1 % (the verdict uses 0.5 %).
3. flood: one process writing numbered lines as fast as it can, one printing a
   timestamp every 0.5 s, for S seconds under ``devenv up --no-tui`` (its stdout a pipe
   drained by a thread here, as a terminal would). Reported: devenv's peak RSS (sampled
   every 100 ms), the quiet process's largest gap between lines and largest delay (its
   timestamp to arrival) on devenv's stdout and in its log file, and the flood's lines/s
   as its log files show them (the numbers on the lines and their times).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import itertools
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import _bench
import psutil

from devenv.state import State, Status
from devenv.supervisor.core import Supervisor
from devenv.supervisor.proclog import ProcessLog
from devenv.supervisor.spec import ProcessSpec

TIMEOUT = 30  # seconds: for everything to start, or to stop
# Between the last "started" line and the SIGINT (untimed). honcho 2.0 hangs when SIGINT
# lands while it prints (its handler prints too: "reentrant call inside BufferedWriter",
# then it waits forever for its per-process helpers, which ignore signals).
SETTLE = 0.3
PAUSE = 0.2  # before each timed start
SIZES = (3, 10)
DEVENV_STARTED = re.compile(rb"\| started \(pid \d+\)")
HONCHO_STARTED = re.compile(rb"\| \S+ started \(pid=\d+\)")
ANSI = re.compile(rb"\x1b\[[0-9;]*m")
CONSOLE_LINE = re.compile(rb"^\d\d:\d\d:\d\d (\S+)\s+\| (.*)$")
LOG_LINE = re.compile(rb"^(\S+) (\d+) some log line")
QUIET_LINE = re.compile(rb"tick (\d+\.\d+)")

FLOOD_PY = """\
import sys

out = sys.stdout.buffer
n = 0
while True:
    out.write(b"".join(b"%d some log line with text\\n" % i for i in range(n, n + 1000)))
    n += 1000
"""

QUIET_PY = """\
import time

while True:
    print(f"tick {time.time():.3f}", flush=True)
    time.sleep(0.5)
"""


class Bench(_bench.BaseBench):
    """What the whole run shares: the base folder, the environment, a tag, the problems."""

    def __init__(self) -> None:
        # PYTHONUNBUFFERED dropped: as in a developer's shell.
        super().__init__("devenv-bench-supervisor-", drop=["PYTHONUNBUFFERED"])
        # A sleep only this run starts, so that a leftover is recognised by its command.
        self.sleep = f"sleep 1000.{os.getpid()}"
        self.problems: list[str] = []
        self._count = 0

    def project(self, procfile: str, files: dict[str, str] | None = None) -> Path:
        """A project folder: devenv.toml with [project] name only, the Procfile, files."""
        self._count += 1
        path = self.base / f"p{self._count}"
        path.mkdir()
        (path / "devenv.toml").write_text(f'[project]\nname = "bench{self._count}"\n')
        (path / "Procfile").write_text(procfile)
        for name, text in (files or {}).items():
            (path / name).write_text(text)
        return path

    def sleeps(self, n: int) -> str:
        return "".join(f"p{i}: {self.sleep}\n" for i in range(n))

    def leftovers(self) -> list[psutil.Process]:
        """Processes of this run still there: our sleep, or a working folder under base."""
        return _bench.processes_of(self.base, [self.sleep])

    def check_clean(self, what: str) -> None:
        deadline = time.monotonic() + 2  # a reaped child's pid may linger for a moment
        while (found := self.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.problems += [f"left running after {what}: {_bench.describe(p)}" for p in found]

    def cleanup(self) -> list[str]:
        for proc in self.leftovers():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)
        if self.base.exists():
            self.problems.append(f"left behind: {self.base}")
        return self.problems


# ---------------------------------------------------------------- a command, watched


class Watched:
    """A command (``devenv up --no-tui``, ``honcho start``) run with its stdout drained.

    A thread reads every line as it comes, noting its arrival (``time.time()``), and
    counts the lines ``started`` matches; ``wait_started(n)`` returns the
    ``time.perf_counter()`` when the nth arrived.
    """

    def __init__(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        started: re.Pattern[bytes],
        keep: Callable[[bytes], bool] = lambda line: False,
    ) -> None:
        self.started_re = started
        self.keep = keep
        self.kept: list[tuple[float, bytes]] = []  # (arrival, line) for the lines kept
        self.lines = 0
        self.tail: collections.deque[bytes] = collections.deque(maxlen=40)  # for errors
        self.starts: list[float] = []  # perf_counter of each "started" line
        self._cond = threading.Condition()
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as a terminal's job: our SIGINT reaches it alone
        )
        self.ps = psutil.Process(self.proc.pid)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.perf_counter()
            self.lines += 1
            self.tail.append(line)
            if self.started_re.search(line):
                with self._cond:
                    self.starts.append(now)
                    self._cond.notify_all()
            if self.keep(line):
                self.kept.append((time.time(), line))
        with self._cond:
            self._cond.notify_all()

    def output(self) -> str:
        return b"".join(self.tail).decode(errors="replace")

    def wait_started(self, n: int) -> float:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: len(self.starts) >= n or not self._reader.is_alive(), TIMEOUT
            )
        if not ok or len(self.starts) < n:
            self.stop()
            raise RuntimeError(
                f"{' '.join(map(str, self.proc.args))}: {len(self.starts)} of {n} processes "
                f"started (exit code {self.proc.returncode}); its last lines:\n{self.output()}"
            )
        return self.starts[n - 1]

    def stop(self) -> float:
        """SIGINT, as Ctrl-C would; wait for it to exit. The ms that took."""
        start = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise RuntimeError(
                f"{' '.join(map(str, self.proc.args))}: still running {TIMEOUT} s after SIGINT;"
                f" its last lines:\n{self.output()}"
            ) from None
        finally:
            self._reader.join(timeout=TIMEOUT)
        return (time.perf_counter() - start) * 1000


def devenv_up_unplanned(bench: Bench, project: Path) -> Watched:
    """``devenv up --no-tui`` without the last start's plan: the ordinary start."""
    (project / ".devenv" / "processes.plan.json").unlink(missing_ok=True)
    return devenv_up(bench, project)


def devenv_up(bench: Bench, project: Path, **kwargs) -> Watched:
    argv = [sys.executable, "-m", "devenv", "up", "--no-tui"]
    return Watched(argv, project, bench.env, DEVENV_STARTED, **kwargs)


def honcho_start(bench: Bench, project: Path) -> Watched:
    argv = [str(Path(sys.executable).with_name("honcho")), "start", "-f", "Procfile"]
    return Watched(argv, project, bench.env, HONCHO_STARTED)


# ---------------------------------------------------------------- 1. start


def raw_once(bench: Bench, project: Path, n: int) -> float:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            bench.sleep,
            shell=True,
            cwd=project,
            env=bench.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(n)
    ]
    took = (time.perf_counter() - start) * 1000
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=TIMEOUT)
        assert proc.stdout is not None
        proc.stdout.close()
    return took


def specs_for(bench: Bench, project: Path, n: int) -> list[ProcessSpec]:
    return [
        ProcessSpec(
            name=f"p{i}.1",
            kind=f"p{i}",
            command=bench.sleep,
            env={**bench.env, "PORT": str(5000 + 100 * i)},
            cwd=project,
            port=5000 + 100 * i,
        )
        for i in range(n)
    ]


async def supervisor_once(specs: list[ProcessSpec], logs: Path) -> float:
    """ms from ``run()`` until every process is "running"; then stop and check the exits."""
    all_running: list[float] = []

    def on_change(snapshot: dict[str, Status]) -> None:
        if not all_running and all(s.state is State.RUNNING for s in snapshot.values()):
            all_running.append(time.perf_counter())

    supervisor = Supervisor(
        specs,
        emit=lambda event: None,
        log_for=lambda name: ProcessLog(name, logs / f"{name}.log"),
        on_change=on_change,
    )
    start = time.perf_counter()
    running = asyncio.ensure_future(supervisor.run())
    deadline = start + TIMEOUT
    while not all_running:
        if running.done() or time.perf_counter() > deadline:
            await supervisor.stop()
            raise RuntimeError(f"the supervisor did not start them: {supervisor.snapshot()}")
        await asyncio.sleep(0.001)
    await supervisor.stop()
    await running
    states = {info.state for info in supervisor.snapshot().values()}
    if states != {"stopped"}:
        raise RuntimeError(f"after stop(), the processes are {states}")
    return (all_running[0] - start) * 1000


def command_once(bench: Bench, launch: Callable[[], Watched], n: int, what: str) -> float:
    watched = launch()
    try:
        at = watched.wait_started(n)
        time.sleep(SETTLE)
    finally:
        watched.stop()
    bench.check_clean(what)
    return (at - watched.launched) * 1000


def new_results() -> _bench.Table:
    return _bench.Table(52, 11, "above raw / ratio", 22)


def start_variants(bench: Bench, n: int) -> dict[str, Callable[[], float]]:
    """Each way of starting n processes: a call that does it once and returns its ms."""
    project = bench.project(bench.sleeps(n))
    logs = bench.base / f"supervisor-logs-{n}"
    specs = specs_for(bench, project, n)
    return {
        "raw": lambda: raw_once(bench, project, n),
        "core": lambda: asyncio.run(supervisor_once(specs, logs)),
        "devenv": lambda: command_once(bench, lambda: devenv_up(bench, project), n, "devenv"),
        "unplanned": lambda: command_once(
            bench, lambda: devenv_up_unplanned(bench, project), n, "devenv without a plan"
        ),
        "honcho": lambda: command_once(bench, lambda: honcho_start(bench, project), n, "honcho"),
    }


def start_overhead(bench: Bench, runs: int, results: _bench.Table) -> None:
    python = [sys.executable, "-c", "pass"]
    pass_ms: list[float] = []
    for n in SIZES:
        variants = start_variants(bench, n)
        for once in variants.values():  # once untimed: bytecode, page cache
            once()
        bench.check_clean(f"the warm-up with {n} processes")
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for i in range(runs):
            for name in order if i % 2 == 0 else reversed(order):
                time.sleep(PAUSE)  # the previous variant's processes are gone, not exiting
                times[name].append(variants[name]())
                bench.check_clean(f"{name}, run {i + 1} with {n} processes")
            pass_ms += _bench.timed_runs(python, 1, bench.env)

        median = {name: statistics.median(t) for name, t in times.items()}
        over = {name: median[name] - median["raw"] for name in variants}
        honcho = over["honcho"]

        label = f"start {n:>2}:"
        results.row(
            f"{label} raw Popen(shell=True) x{n}",
            f"{median['raw']:.1f} ms",
            "(baseline)",
            spread=_bench.spread(times["raw"]),
        )
        results.row(
            f"{label} honcho start -f Procfile",
            f"{median['honcho']:.1f} ms",
            f"+{honcho:.1f} ms",
            spread=_bench.spread(times["honcho"]),
        )
        for name, title, goal in (
            ("devenv", "python -m devenv up --no-tui", 1.0),  # issue 11: the whole command
            ("core", "Supervisor in-process (core only)", 0.3),
        ):
            ratio = over[name] / honcho
            results.row(
                f"{label} {title}",
                f"{median[name]:.1f} ms",
                f"+{over[name]:.1f} ms {ratio:5.2f}x",
                _bench.goal(f"<= {goal:.1f}x", ratio <= goal),
                _bench.spread(times[name]),
            )
        results.row(
            f"{label} devenv up --no-tui without a plan (info)",
            f"{median['unplanned']:.1f} ms",
            f"+{over['unplanned']:.1f} ms {over['unplanned'] / honcho:5.2f}x",
            spread=_bench.spread(times["unplanned"]),
        )
    results.row(
        "python -c pass (interpreter start-up; info)",
        f"{statistics.median(pass_ms):.1f} ms",
        spread=_bench.spread(pass_ms),
    )


# ---------------------------------------------------------------- 2. idle


def idle_cpu(bench: Bench, runs: int, seconds: float, results: _bench.Table) -> None:
    project = bench.project(bench.sleeps(10))
    percents, cpu_ms = [], []
    for _ in range(runs):
        watched = devenv_up(bench, project)
        try:
            watched.wait_started(10)
            # The start's own work is done, and the first stats sample (1 s in, which loads
            # psutil) is taken: the window measures the steady state.
            time.sleep(1.5)
            before, wall = watched.ps.cpu_times(), time.perf_counter()
            time.sleep(seconds)
            after, wall = watched.ps.cpu_times(), time.perf_counter() - wall
        finally:
            watched.stop()
        bench.check_clean("the idle run")
        cpu = (after.user + after.system) - (before.user + before.system)
        percents.append(cpu / wall * 100)
        cpu_ms.append(cpu * 1000)
    results.row(
        f"idle: devenv up --no-tui, 10 processes, {seconds:g} s",
        f"{statistics.median(percents):.3f} %",
        f"of a core ({statistics.median(cpu_ms):.0f} ms CPU)",
        _bench.goal("< 0.5 %", round(statistics.median(percents), 3) < 0.5),
        _bench.spread(percents, ".3f"),
    )


# ---------------------------------------------------------------- 3. flood


def log_time(stamp: bytes) -> float:
    return datetime.datetime.fromisoformat(stamp.decode()).timestamp()


def flood_log_rate(logs: Path) -> tuple[float, int, bool]:
    """(lines/s, lines counted, contiguous) from the flood's log files still on disk."""
    files = sorted(logs.glob("flood.1.log*"), key=lambda p: (len(p.name), p.name), reverse=True)
    first = last = None
    count = 0
    for path in files:  # oldest first: flood.1.log.3, .2, .1, then flood.1.log
        for line in path.read_bytes().splitlines():
            if m := LOG_LINE.match(line):
                count += 1
                if first is None:
                    first = m
                last = m
    if first is None or last is None:
        return 0.0, 0, False
    lines = int(last[2]) - int(first[2]) + 1
    took = log_time(last[1]) - log_time(first[1])
    return (lines / took if took > 0 else 0.0), count, lines == count


def quiet_delays(logs: Path, kept: list[tuple[float, bytes]]) -> tuple[float, float, float]:
    """(max gap, max delay) on devenv's stdout, and max delay in quiet.1.log; seconds."""
    arrivals = []
    console_delay = 0.0
    for arrival, line in kept:
        m = CONSOLE_LINE.match(ANSI.sub(b"", line.rstrip(b"\n")))
        if m and m[1] == b"quiet.1" and (tick := QUIET_LINE.search(m[2])):
            arrivals.append(arrival)
            console_delay = max(console_delay, arrival - float(tick[1]))
    gap = max((b - a for a, b in itertools.pairwise(arrivals)), default=0.0)
    file_delay = 0.0
    for line in (logs / "quiet.1.log").read_bytes().splitlines():
        stamp, _, text = line.partition(b" ")
        if tick := QUIET_LINE.match(text):
            file_delay = max(file_delay, log_time(stamp) - float(tick[1]))
    return gap, console_delay, file_delay


def flood(bench: Bench, runs: int, seconds: float, results: _bench.Table) -> None:
    procfile = f"flood: {sys.executable} flood.py\nquiet: {sys.executable} quiet.py\n"
    peaks, idle_rss, gaps, console_delays, file_delays, rates, shown = [], [], [], [], [], [], []
    contiguous = True
    for _ in range(runs):
        project = bench.project(procfile, {"flood.py": FLOOD_PY, "quiet.py": QUIET_PY})
        watched = devenv_up(bench, project, keep=lambda line: b"quiet.1" in line)
        peak = [0]
        done = threading.Event()

        def sample(
            ps: psutil.Process = watched.ps, peak: list[int] = peak, done: threading.Event = done
        ) -> None:
            while not done.is_set():
                with contextlib.suppress(psutil.Error):
                    peak[0] = max(peak[0], ps.memory_info().rss)
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        try:
            watched.wait_started(2)
            idle_rss.append(watched.ps.memory_info().rss)
            sampler.start()
            lines_before, start = watched.lines, time.perf_counter()
            time.sleep(seconds)
            lines, took = watched.lines - lines_before, time.perf_counter() - start
        finally:
            done.set()
            watched.stop()
            sampler.join()
        bench.check_clean("the flood")
        logs = project / ".devenv" / "logs"
        rate, _count, whole = flood_log_rate(logs)
        contiguous = contiguous and whole
        gap, console_delay, file_delay = quiet_delays(logs, watched.kept)
        peaks.append(peak[0] / 2**20)
        gaps.append(gap * 1000)
        console_delays.append(console_delay * 1000)
        file_delays.append(file_delay * 1000)
        rates.append(rate)
        shown.append(lines / took)
        shutil.rmtree(project)  # up to 40 MB of logs each

    label = f"flood {seconds:g} s:"
    results.row(
        f"{label} devenv RSS once started (info)",
        f"{statistics.median(idle_rss) / 2**20:.1f} MB",
        spread=_bench.spread([r / 2**20 for r in idle_rss]),
    )
    results.row(
        f"{label} devenv peak RSS",
        f"{statistics.median(peaks):.1f} MB",
        spread=_bench.spread(peaks),
    )
    results.row(
        f"{label} quiet: max gap between lines (stdout)",
        f"{statistics.median(gaps):.0f} ms",
        "(prints every 500 ms)",
        spread=_bench.spread(gaps),
    )
    results.row(
        f"{label} quiet: max delay to devenv's stdout",
        f"{statistics.median(console_delays):.0f} ms",
        spread=_bench.spread(console_delays),
    )
    results.row(
        f"{label} quiet: max delay to quiet.1.log",
        f"{statistics.median(file_delays):.0f} ms",
        "(ms-resolution stamps)",
        spread=_bench.spread(file_delays),
    )
    results.row(
        f"{label} flood lines/s in its log files",
        f"{statistics.median(rates):,.0f}",
        "" if contiguous else "GAPS in the numbers",
        spread=_bench.spread(rates, ",.0f"),
    )
    results.row(
        f"{label} lines/s on devenv's stdout (info)",
        f"{statistics.median(shown):,.0f}",
        spread=_bench.spread(shown, ",.0f"),
    )


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds (default 10)")
    parser.add_argument("--flood", type=float, default=5.0, help="flood seconds (default 5)")
    args = parser.parse_args()
    _bench.positive(parser, args, "runs")

    bench = Bench()
    results = new_results()

    def measure() -> None:
        from importlib.metadata import version

        _bench.print_header(
            [
                *_bench.machine_facts(python_note=f"; honcho {version('honcho')}"),
                f"folder:      {bench.base}",
                f"runs:        {args.runs} per measurement (medians; [min-max] last)",
            ],
            bench,
            'start = launch until every process is running (the Nth "started" line);\n'
            "             devenv and honcho include the interpreter's start-up, the core "
            "does not",
        )
        start_overhead(bench, args.runs, results)
        idle_cpu(bench, args.runs, args.idle, results)
        flood(bench, args.runs, args.flood, results)

    return _bench.main_loop(bench, results, measure, "nothing left running, every folder removed")


if __name__ == "__main__":
    sys.exit(main())
