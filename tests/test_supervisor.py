"""The supervisor with real processes (/bin/sh, python -c), real pipes and real clocks.

Short timeouts throughout; what is left running is checked with psutil.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import psutil

from devenv.config import Dependency, ReadyProbe
from devenv.supervisor.core import Supervisor
from devenv.supervisor.events import (
    ProcessCrashed,
    ProcessExited,
    ProcessProbeTimedOut,
    ProcessReady,
    ProcessRestarting,
    ProcessStarted,
    ProcessStarting,
)
from devenv.supervisor.proclog import ProcessLog
from devenv.supervisor.spec import ProcessSpec

PY = sys.executable


def make_spec(name: str, command: str, cwd: Path, **settings) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        kind=name.rsplit(".", 1)[0],
        command=command,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=cwd,
        **settings,
    )


def python(code: str) -> str:
    """A shell command running ``code`` with this interpreter."""
    quoted = code.replace("'", "'\\''")
    return f"'{PY}' -c '{quoted}'"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Harness:
    def __init__(self, tmp_path: Path, specs: list[ProcessSpec]) -> None:
        self.events: list = []
        self.logs: dict[str, ProcessLog] = {}
        self.tmp_path = tmp_path
        self.sup = Supervisor(specs, emit=self.events.append, log_for=self._log_for)

    def _log_for(self, name: str) -> ProcessLog:
        self.logs[name] = ProcessLog(name, self.tmp_path / "logs" / f"{name}.log")
        return self.logs[name]

    def of(self, name: str, kind: type) -> list:
        return [e for e in self.events if e.name == name and isinstance(e, kind)]

    def index(self, kind: type, name: str) -> int:
        return next(i for i, e in enumerate(self.events) if isinstance(e, kind) and e.name == name)

    def text(self, name: str) -> list[str]:
        return [line.text for line in self.logs[name].lines]


async def until(condition, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


def run_async(coro, timeout: float = 30.0):
    async def guarded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_crashing_process_is_restarted_with_backoff_then_crashed(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1", "echo boom; exit 1", tmp_path, max_restarts=2)])
    code = run_async(h.sup.run())
    assert code == 1
    assert [(e.attempt, e.delay) for e in h.of("web.1", ProcessRestarting)] == [(1, 0.5), (2, 1)]
    assert h.of("web.1", ProcessCrashed) == [ProcessCrashed("web.1", 2)]
    assert [e.returncode for e in h.of("web.1", ProcessExited)] == [1, 1, 1]
    snapshot = h.sup.snapshot()["web.1"]
    assert (snapshot.state, snapshot.restarts, snapshot.exit_code) == ("crashed", 2, 1)
    assert h.text("web.1").count("boom") == 3


def test_a_tcp_probe_gates_dependants(tmp_path):
    port = free_port()
    server = python(
        "import socket, time\n"
        "time.sleep(0.3)\n"
        f"s = socket.create_server(('127.0.0.1', {port}))\n"
        "print('listening', flush=True)\n"
        "while True: s.accept()[0].close()\n"
    )
    specs = [
        make_spec("api.1", server, tmp_path, ready=ReadyProbe("tcp", port, timeout=10)),
        make_spec(
            "web.1",
            "sleep 30",
            tmp_path,
            depends_on=(Dependency("api", "process", "ready"),),
        ),
    ]
    h = Harness(tmp_path, specs)

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == "running", what="web running")
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    assert h.index(ProcessReady, "api.1") < h.index(ProcessStarting, "web.1")
    assert "listening" in h.text("api.1")


def test_an_http_probe_gates_dependants(tmp_path):
    port = free_port()
    (tmp_path / "index.html").write_text("hello")
    specs = [
        make_spec(
            "api.1",
            f"sleep 0.2; exec '{PY}' -m http.server {port} --bind 127.0.0.1",
            tmp_path,
            ready=ReadyProbe("http", f"http://127.0.0.1:{port}/index.html", timeout=10),
        ),
        make_spec(
            "web.1", "sleep 30", tmp_path, depends_on=(Dependency("api", "process", "ready"),)
        ),
    ]
    h = Harness(tmp_path, specs)

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == "running", what="web running")
        states = h.sup.state("api.1")
        await h.sup.stop()
        await runner
        return states

    assert run_async(scenario()) == "ready"
    assert h.index(ProcessReady, "api.1") < h.index(ProcessStarting, "web.1")


def test_an_http_probe_waits_for_a_2xx_or_3xx(tmp_path):
    """A 404 is an answer, not readiness: the probe times out."""
    port = free_port()
    spec = make_spec(
        "api.1",
        f"exec '{PY}' -m http.server {port} --bind 127.0.0.1",
        tmp_path,
        ready=ReadyProbe("http", f"http://127.0.0.1:{port}/missing", timeout=1),
    )
    h = Harness(tmp_path, [spec])

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: any("timed out" in t for t in h.text("api.1")), what="timeout")
        state = h.sup.state("api.1")
        await h.sup.stop()
        await runner
        return state

    assert run_async(scenario()) == "running"
    assert h.of("api.1", ProcessReady) == []


def test_a_log_probe_gates_dependants(tmp_path):
    server = "echo booting; sleep 0.3; echo 'ready to accept connections'; sleep 30"
    specs = [
        make_spec("db.1", server, tmp_path, ready=ReadyProbe("log", r"ready to \w+", timeout=10)),
        make_spec(
            "web.1", "sleep 30", tmp_path, depends_on=(Dependency("db", "process", "ready"),)
        ),
    ]
    h = Harness(tmp_path, specs)

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == "running", what="web running")
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    assert h.index(ProcessReady, "db.1") < h.index(ProcessStarting, "web.1")
    assert "ready to accept connections" in h.text("db.1")


def test_a_migration_completes_before_web_and_the_stack_keeps_running(tmp_path):
    specs = [
        make_spec("migrate.1", "sleep 0.2; echo migrated", tmp_path),
        make_spec(
            "web.1",
            "sleep 30",
            tmp_path,
            depends_on=(Dependency("migrate", "process", "completed"),),
        ),
    ]
    h = Harness(tmp_path, specs)

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == "running", what="web running")
        await asyncio.sleep(0.3)
        alive = not runner.done() and h.sup.state("web.1") == "running"
        await h.sup.stop()
        return alive, await runner

    assert run_async(scenario()) == (True, 0)
    assert h.sup.state("migrate.1") == "completed"


def test_stop_kills_the_whole_tree_even_what_ignores_sigterm(tmp_path):
    # sh ignores SIGTERM and so does the sleep it starts (an ignored signal stays ignored
    # across exec); a second grandchild leaves the process group with setsid.
    command = "trap '' TERM; sleep 1000 & setsid sleep 1001 & echo up; wait"
    h = Harness(tmp_path, [make_spec("web.1", command, tmp_path, stop_timeout=0.5)])

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: "up" in h.text("web.1"), what="started")
        pid = h.sup.snapshot()["web.1"].pid
        await until(lambda: len(psutil.Process(pid).children()) == 2, what="two children")
        tree = [pid] + [p.pid for p in psutil.Process(pid).children(recursive=True)]
        await h.sup.stop()
        await runner
        return tree

    tree = run_async(scenario())
    assert len(tree) == 3
    assert all(gone(pid) for pid in tree), [psutil.Process(p) for p in tree if not gone(p)]
    assert h.sup.state("web.1") == "stopped"
    assert h.of("web.1", ProcessExited)[-1].returncode == -signal.SIGKILL


def test_a_polite_process_stops_at_once(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1", "sleep 1000", tmp_path, stop_timeout=5)])

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == "running")
        pid = h.sup.snapshot()["web.1"].pid
        await h.sup.stop()
        await runner
        return pid

    pid = run_async(scenario())
    assert gone(pid)
    # SIGTERM was enough: it never came to the SIGKILL that follows stop_timeout.
    assert h.of("web.1", ProcessExited)[-1].returncode == -signal.SIGTERM


def test_what_a_process_leaves_in_its_group_dies_with_it(tmp_path):
    """A leader that exits on its own does not leave its background children behind."""
    h = Harness(
        tmp_path, [make_spec("job.1", "sleep 1000 & echo $!; exit 0", tmp_path, restart="never")]
    )
    assert run_async(h.sup.run()) == 0
    pid = int(h.text("job.1")[1])
    deadline = time.monotonic() + 2
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(pid)


def test_a_flood_does_not_hold_up_another_process(tmp_path):
    flood = "yes 'a line of output that goes on and on and on'"
    ticker = python(
        "import time\nfor i in range(1000):\n    print(i, flush=True)\n    time.sleep(0.02)"
    )
    h = Harness(
        tmp_path,
        [make_spec("flood.1", flood, tmp_path), make_spec("ticker.1", ticker, tmp_path)],
    )
    counts = {"flood.1": 0, "ticker.1": 0}

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        for name in counts:
            h.logs[name].subscribe(
                lambda lines, name=name: counts.__setitem__(name, counts[name] + len(lines))
            )
        await asyncio.sleep(1.0)
        seen = dict(counts)
        await h.sup.stop()
        await runner
        return seen

    seen = run_async(scenario())
    assert seen["flood.1"] > 10_000
    assert seen["ticker.1"] >= 20  # ~50 at 20 ms each, on a loaded machine fewer


def test_send_signal_reaches_the_process(tmp_path):
    command = "trap 'echo got HUP' HUP; echo armed; while :; do sleep 0.05; done"
    h = Harness(tmp_path, [make_spec("web.1", command, tmp_path)])

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: "armed" in h.text("web.1"), what="armed")
        first = h.sup.snapshot()["web.1"].pid
        assert await h.sup.send_signal("web.1", signal.SIGHUP)
        await until(lambda: "got HUP" in h.text("web.1"), what="HUP handled")
        # SIGTERM sent by the user is not a stop: on-failure restarts it
        await h.sup.send_signal("web.1", signal.SIGTERM)
        await until(lambda: len(h.of("web.1", ProcessStarted)) == 2, what="restarted")
        await h.sup.stop()
        await runner
        return first

    first = run_async(scenario())
    assert h.of("web.1", ProcessExited)[0].returncode == -signal.SIGTERM
    assert h.of("web.1", ProcessRestarting)[0].attempt == 1
    assert gone(first)


def test_stop_process_and_restart_process(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("web.1", "sleep 1000", tmp_path), make_spec("other.1", "sleep 1000", tmp_path)],
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.sup.state("web.1") == h.sup.state("other.1") == "running")
        first = h.sup.snapshot()["web.1"].pid
        await h.sup.restart_process("web.1")
        await until(lambda: h.sup.state("web.1") == "running")
        second = h.sup.snapshot()["web.1"].pid
        await h.sup.stop_process("web.1")
        stopped = h.sup.state("web.1"), h.sup.state("other.1")
        await h.sup.stop()
        await runner
        return first, second, stopped

    first, second, stopped = run_async(scenario())
    assert first != second
    assert gone(first) and gone(second)
    assert stopped == ("stopped", "running")


def test_a_command_that_cannot_start(tmp_path):
    spec = make_spec("web.1", "true", tmp_path / "nowhere", restart="never")
    h = Harness(tmp_path, [spec])
    assert run_async(h.sup.run()) == 1
    assert h.of("web.1", ProcessExited)[0].returncode == 127
    assert any(text.startswith("could not start") for text in h.text("web.1"))


def test_a_probe_answered_by_another_program_does_not_make_it_ready(tmp_path):
    """Another project's server on the port must not pass for this process being up."""
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", 0))
    stranger.listen()
    port = stranger.getsockname()[1]
    specs = [
        make_spec("web.1", "sleep 30", tmp_path, ready=ReadyProbe("tcp", port, timeout=1)),
    ]
    h = Harness(tmp_path, specs)

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await until(lambda: h.of("web.1", ProcessProbeTimedOut), what="probe timed out")
        state = h.sup.state("web.1")
        await h.sup.stop()
        await runner
        return state

    try:
        assert run_async(scenario()) == "running"
    finally:
        stranger.close()
    assert h.of("web.1", ProcessReady) == []
    me = f"{psutil.Process().name()} (pid {os.getpid()})"
    assert f"port {port} answers, but {me} holds it, not this process" in "\n".join(h.text("web.1"))


def test_a_log_file_that_cannot_be_written_never_stalls_supervision(tmp_path):
    """A full disk (/dev/full: every write fails with ENOSPC) while a process runs, restarts
    and crashes: the lines still reach the ring and the screen, and supervision ends."""
    spec = make_spec("web.1", "echo hello; exit 1", tmp_path, max_restarts=1)
    h = Harness(tmp_path, [])
    h.sup = Supervisor(
        [spec],
        emit=h.events.append,
        log_for=lambda name: h.logs.setdefault(name, ProcessLog(name, "/dev/full")),
    )

    code = run_async(h.sup.run(), timeout=20)

    assert code == 1
    assert h.of("web.1", ProcessCrashed) == [ProcessCrashed("web.1", 1)]
    lines = h.text("web.1")
    assert lines.count("hello") == 2
    assert any(
        line.startswith("devenv: cannot write /dev/full (No space left on device)")
        for line in lines
    ), lines
