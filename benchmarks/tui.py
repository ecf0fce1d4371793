"""The terminal UI of ``devenv up`` in a real terminal (tmux), read with ``capture-pane``.

Run: .venv/bin/python benchmarks/tui.py [--runs N] [--presses N] [--dir DIR]
     [--only first-frame|idle|keys] (5 runs, 10 presses, in /tmp; every part)

Measured (medians; the first of the first-frame runs is not counted: bytecode, cluster):

1. first frame: ``python -m devenv up`` started in a tmux pane on a copy of the demo
   project (``devenv demo``), until ``capture-pane`` first shows the header and the
   table's column titles (polled every 5 ms). Goal <= 300 ms (issue 12). devenv draws that
   frame itself before importing Textual (devenv.tui.first_paint); for context, until
   Textual's own frame is there (the footer's keys), until the header says "4/4 up", and
   from ``q`` until devenv has stopped everything and exited.
   A second figure, in-process: ``DevenvApp`` on a fake session under ``App.run_test``
   (Textual's headless driver): importing devenv.tui.app, then until the app is ready,
   in a fresh interpreter each run.
2. idle CPU: devenv's own CPU time (psutil; its threads, not its children) over 30 s
   with 5 quiet processes, 2 s after they all run. Goal <= 0.5 % of a core. For context:
   ``a`` pressed on that quiet screen, and the same 10 s with ``devenv up --no-tui``
   (the core alone).
3. key to screen during a log flood: a project without services whose Procfile has one
   process writing lines as fast as it can and 4 quiet ones. After a second of flood,
   ``a`` is pressed (it switches the log pane between "all" and the selected process:
   the pane's title changes) and the time until ``capture-pane`` shows the new title is
   taken, N presses. Goal <= 100 ms. Then the same with the flood held to 100k lines/s:
   goal < 50 ms.
4. peak RSS of devenv during those 10 s of flood, goal < 100 MiB (VmHWM where /proc has it, else
   sampled), with its CPU and the lines per second the flood got out.

Everything runs on one tmux server with a private socket. The tmux client calls
(send-keys, capture-pane) are in the key and frame times: a few ms, reported as the
"capture-pane alone" line. The servers, processes, tmux server and folders are removed
at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import _bench
import psutil

TIMEOUT = 60  # seconds for anything to show up
WIDTH, HEIGHT = 120, 36
FIRST_FRAME_POLL = 0.005
KEY_POLL = 0.005
WINDOW = 10.0  # seconds of flood measured
# Seconds of idle measured: CPU times come in 10 ms ticks, 0.1 % of a core over 10 s, the
# size of what is measured here (the goal is 0.5 %); over 30 s a tick is 0.03 %.
IDLE_WINDOW = 30.0
PARTS = ["first-frame", "idle", "keys"]  # what --only may name

FLOOD_PY = """\
import itertools
import sys
import time

rate = int(sys.argv[1])  # lines a second; 0: as fast as it can
write = sys.stdout.write
if not rate:
    for i in itertools.count():
        write(f"{i} GET /api/items/{i % 1000} 200 1.2 ms\\n")
batch = max(1, rate // 100)
start = time.monotonic()
for n in itertools.count():
    for i in range(n * batch, (n + 1) * batch):
        write(f"{i} GET /api/items/{i % 1000} 200 1.2 ms\\n")
    sys.stdout.flush()
    time.sleep(max(0.0, start + (n + 1) * batch / rate - time.monotonic()))
"""
FLOOD_LINE_BYTES = len("12345678 GET /api/items/123 200 1.2 ms\n")  # a typical line

QUIET = "sleep 1000000"

FAKE_APP = r"""
import asyncio, json, sys, time
t0 = time.perf_counter()
from devenv.state import State, Status
def Row(name, kind, state, pid, port, cpu, rss, restarts, uptime, detail):
    said = {"version": detail} if kind == "service" else {"command": detail}
    return Status(name, kind, State(state), pid=pid, port=port, restarts=restarts,
                  cpu_percent=cpu, rss=rss, uptime=uptime, **said)
from devenv.tui.app import DevenvApp
t1 = time.perf_counter()

ROWS = [
    Row("postgres", "service", "ready", 4242, 5432, 0.3, 24_500_000, None, 125.0, "15.4"),
    Row("redis", "service", "ready", 4243, 6379, 0.1, 8_200_000, None, 125.0, "7.0.15"),
    Row("web.1", "process", "ready", 5001, 5000, 1.5, 41_000_000, 0, 64.0, "python -m web"),
    Row("worker.1", "process", "running", 5002, None, 0.0, 30_100_000, 0, 64.0, "python -m w"),
]

class Fake:
    def __init__(self, *, on_event, on_lines):
        pass
    def rows(self):
        return list(ROWS)
    def names(self):
        return [row.name for row in ROWS]
    def urls(self):
        return {"DATABASE_URL": "postgresql://demo@127.0.0.1:5432/demo"}
    def start(self):
        pass
    def stop(self, on_progress=None):
        pass
    def force_stop(self):
        pass

async def main():
    app = DevenvApp("demo", Fake)
    async with app.run_test(size=(120, 36)):
        t2 = time.perf_counter()
        await app.workers.wait_for_complete()
    print(json.dumps({"import": t1 - t0, "ready": t2 - t1}))

asyncio.run(main())
"""


def ms(seconds: float) -> float:
    return seconds * 1000


class Tmux:
    """One tmux server (private socket, no config file), many sessions."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"devenv-bench-{secrets.token_hex(6)}"
        self.env = env
        self.started = False

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=check,
        )

    def start_server(self, cwd: Path) -> None:
        """A session that only holds the server up, so no measured start pays for it."""
        self.started = True
        self.new_session("hold", "sleep 1000000", cwd)

    def new_session(self, name: str, command: str, cwd: Path) -> None:
        size = ("-x", str(WIDTH), "-y", str(HEIGHT))
        self.run("new-session", "-d", "-s", name, *size, "-c", str(cwd), command)

    def capture(self, name: str) -> str:
        result = self.run("capture-pane", "-p", "-t", name, check=False)
        return result.stdout if result.returncode == 0 else ""

    def keys(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", name, *keys)

    def alive(self, name: str) -> bool:
        return self.run("has-session", "-t", name, check=False).returncode == 0

    def pane_pid(self, name: str) -> int:
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").stdout)

    def kill_server(self) -> None:
        if self.started:
            self.run("kill-server", check=False)
            self.started = False
            # tmux leaves its socket file behind.
            folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}")
            (folder / self.socket).unlink(missing_ok=True)


def wait_screen(
    tmux: Tmux, name: str, what: str, check: Callable[[str], bool], poll: float = 0.02
) -> str:
    deadline = time.monotonic() + TIMEOUT
    screen = ""
    while True:
        screen = tmux.capture(name) or screen
        if check(screen):
            return screen
        if not tmux.alive(name):
            raise RuntimeError(f"{name}: devenv exited waiting for {what}; last screen:\n{screen}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: no {what} after {TIMEOUT} s; last screen:\n{screen}")
        time.sleep(poll)


def first_frame(screen: str, project: str) -> bool:
    lines = screen.splitlines()
    return bool(
        lines
        and project in lines[0]
        and any(re.match(r"^ Name +State +Health", line) for line in lines)
    )


def textual_drew(screen: str) -> bool:
    """Textual's own frame is on screen: the footer's keys (devenv's first paint leaves the
    footer's row blank, as Textual's first frame does until its footer is laid out)."""
    lines = screen.rstrip("\n").splitlines()
    return bool(lines) and "Quit" in lines[-1]


def all_up(screen: str, count: int) -> bool:
    return re.search(rf"^  \S+  {count}/{count} up", screen, re.M) is not None


def log_title(screen: str) -> str | None:
    match = re.search(r"^ Logs: (\S+)", screen, re.M)
    return match[1] if match else None


class Bench(_bench.BaseBench):
    def __init__(self, parent: Path) -> None:
        # base is 0755: the demo's PostgreSQL runs as an unprivileged user when root.
        super().__init__(
            "devenv-bench-tui-", parent, drop=["PORT", "NO_COLOR", "TMUX", "TMUX_PANE"]
        )
        self.env.setdefault("TERM", "xterm-256color")
        self.tmux = Tmux(self.env)
        self.projects: list[Path] = []
        self.sessions = 0

    # -- projects ------------------------------------------------------------------

    def devenv(self, project: Path | None, *args: str, check: bool = True):
        result = subprocess.run(
            [sys.executable, "-m", "devenv", *args],
            cwd=project or self.base,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"devenv {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def demo(self) -> Path:
        path = self.base / "demo"
        self.devenv(None, "demo", str(path))
        _bench.mark_onboarded(path)
        self.projects.append(path)
        return path

    def procfile_project(self, name: str, procfile: str, files: dict[str, str]) -> Path:
        path = self.base / name
        path.mkdir()
        (path / "devenv.toml").write_text(f'[project]\nname = "{name}"\n')
        (path / "Procfile").write_text(procfile)
        for file, text in files.items():
            (path / file).write_text(text)
        self.projects.append(path)
        return path

    def up(self, project: Path) -> str:
        """``devenv up`` in a new tmux session (the pane's process is devenv itself)."""
        self.sessions += 1
        name = f"s{self.sessions}"
        command = f"exec {shlex.quote(sys.executable)} -m devenv up"
        self.tmux.new_session(name, command, project)
        return name

    def quit(self, name: str) -> float:
        """Press q; return the seconds until the session has ended (devenv exited)."""
        start = time.perf_counter()
        self.tmux.keys(name, "q")
        deadline = time.monotonic() + TIMEOUT
        while self.tmux.alive(name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: devenv did not quit:\n{self.tmux.capture(name)}")
            time.sleep(0.01)
        return time.perf_counter() - start

    # -- cleanup -------------------------------------------------------------------

    def cleanup(self) -> list[str]:
        problems: list[str] = []
        self.tmux.kill_server()  # any devenv still up gets SIGHUP and stops what it runs
        deadline = time.monotonic() + TIMEOUT
        while self.inside() and time.monotonic() < deadline:
            time.sleep(0.1)
        for project in self.projects:
            with contextlib.suppress(Exception):
                self.devenv(project, "down", check=False)
        for proc in self.inside():
            problems.append(f"left running: {_bench.describe(proc)} (killed)")
            with contextlib.suppress(psutil.Error):
                proc.kill()
        from devenv.project.layout import Layout

        for project in self.projects:
            shutil.rmtree(Layout(project).runtime, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.base.exists():
            problems.append(f"left behind: {self.base}")
        return problems

    def inside(self) -> list[psutil.Process]:
        """Live processes working in this run's folder (zombies do not count)."""
        return _bench.processes_of(self.base)


# ---------------------------------------------------------------- the measurements


class Results(_bench.Table):
    def __init__(self) -> None:
        super().__init__(66, 12)

    def add(self, name: str, values: list[float], unit: str = "ms", goal: str = "") -> None:
        median = statistics.median(values)
        value = f"{median:9.1f} {unit}" if unit != "%" else f"{median:9.2f} % "
        self.row(name, value, "", goal, _bench.spread(values))

    def check(self, name: str, values: list[float], unit: str, limit: float, strict=False):
        median = statistics.median(values)
        met = median < limit if strict else median <= limit
        sign = "<" if strict else "<="
        self.add(name, values, unit, _bench.goal(f"{sign} {limit:g} {unit}", met))


def interpreter(bench: Bench, runs: int, results: Results) -> None:
    python, version = _bench.interpreter(bench.env, runs)
    results.add("python -c pass", python)
    results.add("python -m devenv --version", version)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        bench.tmux.capture("hold")
        times.append(ms(time.perf_counter() - start))
    results.add("tmux capture-pane alone (in every frame and key time below)", times)


def first_frames(bench: Bench, runs: int, results: Results) -> None:
    demo = bench.demo()
    frames, textuals, ups, quits = [], [], [], []
    for run in range(runs + 1):  # the first run is not counted: bytecode, cluster copy
        start = time.perf_counter()
        name = bench.up(demo)
        while not first_frame(bench.tmux.capture(name), "demo"):
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"no first frame:\n{bench.tmux.capture(name)}")
            time.sleep(FIRST_FRAME_POLL)
        frame = time.perf_counter() - start
        while not textual_drew(bench.tmux.capture(name)):
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"no footer:\n{bench.tmux.capture(name)}")
            time.sleep(FIRST_FRAME_POLL)
        textual = time.perf_counter() - start
        wait_screen(bench.tmux, name, "4/4 up", lambda s: all_up(s, 4), poll=0.01)
        up = time.perf_counter() - start
        took = bench.quit(name)
        if run:
            frames.append(ms(frame))
            textuals.append(ms(textual))
            ups.append(ms(up))
            quits.append(ms(took))
    results.check("first frame: devenv up on the demo in tmux (header + table)", frames, "ms", 300)
    results.add("  Textual's own frame (its footer's keys drawn)", textuals)
    results.add("  until '4/4 up' (postgres, redis, web.1 ready, worker.1)", ups)
    results.add("  q until devenv has stopped everything and exited", quits)

    imports, ready = [], []
    for _ in range(runs + 1):
        result = subprocess.run(
            [sys.executable, "-c", FAKE_APP],
            env=bench.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=bench.base,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the fake-session app failed:\n{result.stderr}")
        times = json.loads(result.stdout.splitlines()[-1])
        imports.append(ms(times["import"]))
        ready.append(ms(times["ready"]))
    imports, ready = imports[1:], ready[1:]
    total = [a + b for a, b in zip(imports, ready, strict=True)]
    results.add("fake session, headless run_test: import + DevenvApp ready", total)
    results.add("  import devenv.tui.app (Textual)", imports)
    results.add("  DevenvApp until run_test is ready (first frame, headless)", ready)


def press_and_time(bench: Bench, name: str, presses: int) -> list[float]:
    """Press ``a`` ``presses`` times; each time, ms until the log pane's title has changed."""
    times = []
    for _ in range(presses):
        before = log_title(bench.tmux.capture(name))
        start = time.perf_counter()
        bench.tmux.keys(name, "a")
        while log_title(bench.tmux.capture(name)) in (before, None):
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"'a' changed nothing:\n{bench.tmux.capture(name)}")
            time.sleep(KEY_POLL)
        times.append(ms(time.perf_counter() - start))
        time.sleep(0.3)  # a person's pace
    return times


def running(screen: str, names: list[str]) -> bool:
    return all(re.search(rf"^ {re.escape(n)} +running", screen, re.M) for n in names)


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def peak_rss(proc: psutil.Process) -> int | None:
    """VmHWM: the most resident memory the process has had (Linux)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def idle(bench: Bench, presses: int, results: Results) -> None:
    names = [f"quiet{i}" for i in range(1, 6)]
    procfile = "".join(f"{n}: {QUIET}\n" for n in names)
    project = bench.procfile_project("quiet", procfile, {})
    rows = [f"{n}.1" for n in names]
    name = bench.up(project)
    wait_screen(bench.tmux, name, "5 processes running", lambda s: running(s, rows))
    devenv = psutil.Process(bench.tmux.pane_pid(name))
    cpu, rss = idle_cpu(devenv)
    title = f"idle CPU of devenv up, 5 quiet processes, {IDLE_WINDOW:g} s"
    results.check(title, [cpu], "%", 0.5)
    results.add("  RSS of devenv up, idle", [rss / 2**20], "MiB")
    times = press_and_time(bench, name, presses)
    results.add(f"  key 'a' to screen, idle ({presses} presses)", times)
    # The details pane open on the first process: its graphs follow every sample.
    bench.tmux.keys(name, "d")
    wait_screen(bench.tmux, name, "the details pane", lambda s: "· process ·" in s)
    cpu_open, _ = idle_cpu(devenv)
    results.add("  the same with the details pane open (d)", [cpu_open], "%")
    bench.tmux.keys(name, "d")  # (not Esc: an Esc then q reads as alt+q)
    bench.quit(name)

    # The same without the TUI: what the core (supervisor, stats sampling) costs alone.
    plain = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "--no-tui"],
        cwd=project,
        env=bench.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            state = json.loads(bench.devenv(project, "status", "--json").stdout)["processes"]
            if all(state.get(row, {}).get("state") == "running" for row in rows):
                break
            if time.monotonic() > deadline or plain.poll() is not None:
                raise RuntimeError(f"devenv up --no-tui: not all running: {state}")
            time.sleep(0.05)
        cpu, rss = idle_cpu(psutil.Process(plain.pid))
        results.add("  the same with devenv up --no-tui (no TUI)", [cpu], "%")
        results.add("  RSS of devenv up --no-tui, idle", [rss / 2**20], "MiB")
    finally:
        plain.send_signal(signal.SIGINT)
        plain.wait(timeout=TIMEOUT)


def idle_cpu(devenv: psutil.Process) -> tuple[float, int]:
    """% of a core devenv used over IDLE_WINDOW seconds, 2 s after its processes all run; its
    RSS."""
    time.sleep(2.0)  # past the start
    cpu0, t0 = cpu_seconds(devenv), time.perf_counter()
    time.sleep(IDLE_WINDOW)
    cpu = (cpu_seconds(devenv) - cpu0) / (time.perf_counter() - t0) * 100
    return cpu, devenv.memory_info().rss


def flood(bench: Bench, presses: int, results: Results, rate: int) -> None:
    label = "as fast as it can" if not rate else f"{rate / 1000:g}k lines/s"
    quiet = [f"quiet{i}" for i in range(1, 5)]
    procfile = f"flood: python flood.py {rate}\n" + "".join(f"{n}: {QUIET}\n" for n in quiet)
    project = bench.procfile_project(f"flood{rate}", procfile, {"flood.py": FLOOD_PY})
    name = bench.up(project)
    everything = ["flood.1", *(f"{n}.1" for n in quiet)]
    wait_screen(bench.tmux, name, "all running", lambda s: running(s, everything))
    devenv = psutil.Process(bench.tmux.pane_pid(name))
    state = json.loads(bench.devenv(project, "status", "--json").stdout)
    flooder = psutil.Process(state["processes"]["flood.1"]["pid"])
    flooders = [flooder, *flooder.children(recursive=True)]

    def written() -> int:
        total = 0
        for proc in flooders:
            with contextlib.suppress(psutil.Error, AttributeError):
                total += proc.io_counters().write_chars
        return total

    time.sleep(1.0)  # the log pane is full and scrolling
    cpu0, bytes0, t0 = cpu_seconds(devenv), written(), time.perf_counter()
    sampled = devenv.memory_info().rss
    times = press_and_time(bench, name, presses)
    while time.perf_counter() - t0 < WINDOW:
        sampled = max(sampled, devenv.memory_info().rss)
        time.sleep(0.1)
    elapsed = time.perf_counter() - t0
    cpu = (cpu_seconds(devenv) - cpu0) / elapsed * 100
    lines = (written() - bytes0) / FLOOD_LINE_BYTES / elapsed
    peak = peak_rss(devenv)
    how = "VmHWM" if peak is not None else "sampled every 100 ms"
    rss = devenv.memory_info().rss
    title = f"flood {label}, 4 quiet:"
    # Issue 12: a key < 50 ms (median) while a process floods 100k lines/s; at full speed
    # (a pathological flood) <= 100 ms.
    limit, strict = (50, True) if rate else (100, False)
    results.check(f"{title} key 'a' to screen ({presses} presses)", times, "ms", limit, strict)
    peak_title = f"  peak RSS of devenv up, since its start ({how})"
    results.check(peak_title, [(peak or sampled) / 2**20], "MiB", 100, True)
    results.add(f"  RSS of devenv up after {WINDOW:g} s of flood", [rss / 2**20], "MiB")
    results.add("  CPU of devenv up during the flood", [cpu], "%")
    results.add(
        "  lines the flood process wrote (~ devenv read), thousands/s", [lines / 1000], "k/s"
    )
    bench.quit(name)


# ---------------------------------------------------------------- main


def machine_facts(bench: Bench) -> list[str]:
    import textual

    tmux = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    others = _bench.count_processes(["postgres", "redis-server"])
    return [
        *_bench.machine_facts(f"{others} other postgres/redis-server processes running"),
        f"Textual:     {textual.__version__}",
        f"terminal:    {tmux}, {WIDTH}x{HEIGHT}, TERM in the pane: "
        + bench.tmux.run("show-options", "-gv", "default-terminal").stdout.strip(),
        f"folders:     {bench.base}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="first-frame runs (default 5)")
    parser.add_argument("--presses", type=int, default=10, help="key presses (default 10)")
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only this part (repeatable; default: every part; keys: the floods)",
    )
    _bench.dir_option(parser, "the projects")
    args = parser.parse_args()
    parts = args.only or PARTS
    _bench.positive(parser, args, "runs", "presses")
    if shutil.which("tmux") is None:
        parser.error("tmux is not installed (./bootstrap.sh test installs it)")

    bench = Bench(args.dir)
    results = Results()

    def measure() -> None:
        bench.tmux.start_server(bench.base)
        _bench.print_header(
            [
                *machine_facts(bench),
                f"runs:        {args.runs} first frames (after one uncounted), {args.presses} "
                "presses; medians, [min-max] after the goal",
            ],
            bench,
        )
        interpreter(bench, args.runs, results)
        if "first-frame" in parts:
            first_frames(bench, args.runs, results)
        if "idle" in parts:
            idle(bench, args.presses, results)
        if "keys" in parts:
            flood(bench, args.presses, results, rate=0)
            flood(bench, args.presses, results, rate=100_000)

    return _bench.main_loop(
        bench,
        results,
        measure,
        "tmux server killed, every process stopped, every folder removed",
    )


if __name__ == "__main__":
    sys.exit(main())
