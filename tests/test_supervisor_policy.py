"""The supervisor's policy, with a fake clock and fake children: no process, no sleeping.

The fake clock jumps to the next sleeper's deadline as soon as the loop has
nothing else to do (like trio's autojump clock), so minutes of backoff take
milliseconds and every time below is exact.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from devenv.config import Dependency, ReadyProbe
from devenv.supervisor import policy
from devenv.supervisor.core import Supervisor
from devenv.supervisor.events import (
    ProcessCompleted,
    ProcessCrashed,
    ProcessDependencyFailed,
    ProcessExited,
    ProcessProbeTimedOut,
    ProcessReady,
    ProcessRestarting,
    ProcessSignalled,
    ProcessStarted,
    ProcessStarting,
    ProcessStopped,
    ProcessWaiting,
)
from devenv.supervisor.proclog import ProcessLog
from devenv.supervisor.spec import ProcessSpec

# -- fakes -------------------------------------------------------------------------------------


class FakeClock:
    """Virtual time: ``sleep`` returns when the clock reaches its deadline, which happens
    as soon as every task is blocked (the clock then jumps to the earliest deadline)."""

    IDLE_TICKS = 30

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._jumper: asyncio.Task | None = None

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + max(0.0, seconds), next(self._seq), future))
        if self._jumper is None or self._jumper.done():
            self._jumper = asyncio.ensure_future(self._jump())
        await future

    async def _jump(self) -> None:
        while True:
            for _ in range(self.IDLE_TICKS):
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                return
            deadline, _, future = heapq.heappop(self._sleepers)
            self.t = max(self.t, deadline)
            future.set_result(None)


@dataclass(frozen=True)
class Run:
    """What one spawn of a fake child does."""

    runtime: float | None = None  # None: runs until a signal ends it
    returncode: int = 0
    output: bytes = b""
    output_after: float = 0.0
    ignore_term: bool = False


class FakeChild:
    def __init__(self, pid: int, run: Run, clock: FakeClock, journal: list) -> None:
        self.pid = pid
        self.run = run
        self.signals: list[int] = []
        self._clock = clock
        self._journal = journal
        self._exit: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._output = run.output
        self._timer = None
        if run.runtime is not None:
            self._timer = asyncio.ensure_future(self._exit_after(run.runtime))

    async def _exit_after(self, seconds: float) -> None:
        await self._clock.sleep(seconds)
        self._end(self.run.returncode)

    def _end(self, returncode: int) -> None:
        if not self._exit.done():
            self._exit.set_result(returncode)
            self._journal.append(("exit", self.pid, self._clock.now()))
        if self._timer is not None:
            self._timer.cancel()

    @property
    def exited(self) -> bool:
        return self._exit.done()

    async def read(self, n: int) -> bytes:
        if self._output:
            if self.run.output_after:
                await self._clock.sleep(self.run.output_after)
            chunk, self._output = self._output[:n], self._output[n:]
            return chunk
        await asyncio.shield(self._exit)
        return b""

    async def wait(self) -> int:
        return await asyncio.shield(self._exit)

    def signal_group(self, sig: int) -> None:
        self._journal.append(("signal", self.pid, sig))
        if self._exit.done():
            return
        self.signals.append(sig)
        if sig == signal.SIGKILL or (
            sig in (signal.SIGTERM, signal.SIGINT) and not self.run.ignore_term
        ):
            self._end(-sig)


class FakeSpawn:
    """Spawns fake children following ``scripts[name]``: a Run, or a list (the last repeats)."""

    def __init__(self, clock: FakeClock, scripts: dict[str, Run | list[Run]]) -> None:
        self.clock = clock
        self.scripts = scripts
        self.pids = itertools.count(1000)
        self.children: dict[str, list[FakeChild]] = {}
        self.times: dict[str, list[float]] = {}
        self.journal: list[tuple] = []
        self.fail: set[str] = set()

    async def __call__(self, spec: ProcessSpec) -> FakeChild:
        await asyncio.sleep(0)
        if spec.name in self.fail:
            raise FileNotFoundError(f"no such directory: {spec.cwd}")
        script = self.scripts.get(spec.name, Run())
        runs = script if isinstance(script, list) else [script]
        done = len(self.children.get(spec.name, []))
        run = runs[min(done, len(runs) - 1)]
        child = FakeChild(next(self.pids), run, self.clock, self.journal)
        self.children.setdefault(spec.name, []).append(child)
        self.times.setdefault(spec.name, []).append(self.clock.now())
        self.journal.append(("spawn", spec.name, self.clock.now()))
        return child

    def count(self, name: str) -> int:
        return len(self.children.get(name, []))

    def last(self, name: str) -> FakeChild:
        return self.children[name][-1]


def make_spec(
    name: str,
    *,
    restart: str = "on-failure",
    max_restarts: int = 5,
    depends_on: tuple[Dependency, ...] = (),
    ready: ReadyProbe | None = None,
    stop_timeout: float = 5.0,
    port: int | None = None,
) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        kind=name.rsplit(".", 1)[0],
        command=f"run {name}",
        env={},
        cwd=Path("/nonexistent"),
        restart=restart,
        max_restarts=max_restarts,
        depends_on=depends_on,
        ready=ready,
        stop_timeout=stop_timeout,
        port=port,
    )


def needs(name: str, condition: str, kind: str = "process") -> Dependency:
    return Dependency(name=name, kind=kind, condition=condition)


class Harness:
    def __init__(
        self,
        tmp_path: Path,
        specs: list[ProcessSpec],
        scripts: dict[str, Run | list[Run]],
        services_ready: frozenset[str] = frozenset(),
    ) -> None:
        self.clock = FakeClock()
        self.spawn = FakeSpawn(self.clock, scripts)
        self.events: list = []
        self.snapshots: list[dict] = []
        self.logs: dict[str, ProcessLog] = {}
        self.tmp_path = tmp_path
        self.sup = Supervisor(
            specs,
            emit=self.events.append,
            log_for=self._log_for,
            services_ready=services_ready,
            clock=self.clock,
            spawn=self.spawn,
            on_change=self.snapshots.append,
        )

    def _log_for(self, name: str) -> ProcessLog:
        self.logs[name] = ProcessLog(name, self.tmp_path / f"{name}.log")
        return self.logs[name]

    def of(self, name: str, kind: type | None = None) -> list:
        return [e for e in self.events if e.name == name and (kind is None or isinstance(e, kind))]

    def index(self, event_type: type, name: str) -> int:
        for i, event in enumerate(self.events):
            if isinstance(event, event_type) and event.name == name:
                return i
        raise AssertionError(f"no {event_type.__name__} for {name}: {self.events}")

    def log_text(self, name: str) -> list[str]:
        return [line.text for line in self.logs[name].lines]

    async def settle(self, seconds: float = 0.0) -> None:
        """Let fake time pass (and everything due happen)."""
        await self.clock.sleep(seconds)


def run_async(coro, timeout: float = 10.0):
    """Run a test coroutine; the real-time timeout only catches a hang."""

    async def guarded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


# -- the pure policy -----------------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second_and_is_capped_at_30():
    delays = [policy.backoff_delay(attempt) for attempt in range(1, 11)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert policy.backoff_delay(10_000) == 30


@pytest.mark.parametrize(
    ("restart", "returncode", "one_off", "outcome"),
    [
        ("on-failure", 0, False, "completed"),
        ("on-failure", 1, False, "backoff"),
        ("on-failure", -9, False, "backoff"),
        ("always", 0, False, "backoff"),
        ("always", 1, False, "backoff"),
        ("always", 0, True, "completed"),
        ("never", 0, False, "completed"),
        ("never", 2, False, "exited"),
        ("never", 2, True, "exited"),
    ],
)
def test_what_follows_an_exit(restart, returncode, one_off, outcome):
    decision = policy.after_exit(
        policy=restart,
        returncode=returncode,
        restarts=0,
        max_restarts=5,
        uptime=1.0,
        one_off=one_off,
    )
    assert decision.outcome == outcome


def test_too_many_restarts_crash_and_ten_seconds_up_resets_the_count():
    args = {"policy": "on-failure", "returncode": 1, "max_restarts": 3}
    assert policy.after_exit(**args, restarts=2, uptime=1.0) == policy.Decision("backoff", 3, 2.0)
    assert policy.after_exit(**args, restarts=3, uptime=9.9) == policy.Decision("crashed", 3)
    assert policy.after_exit(**args, restarts=3, uptime=10.0) == policy.Decision("backoff", 1, 0.5)
    assert policy.after_exit(**{**args, "max_restarts": 0}, restarts=0, uptime=1.0).outcome == (
        "crashed"
    )


# -- restarts ------------------------------------------------------------------------------------


def test_crash_loop_backs_off_then_crashes_and_spawns_no_more(tmp_path):
    h = Harness(
        tmp_path, [make_spec("web.1", max_restarts=4)], {"web.1": Run(runtime=0.1, returncode=1)}
    )

    async def scenario():
        code = await h.sup.run()
        spawned = h.spawn.count("web.1")
        await h.settle(3600)  # an hour later: nothing was spawned again
        return code, spawned

    code, spawned = run_async(scenario())
    assert code == 1
    assert spawned == 5 == h.spawn.count("web.1")
    restarting = h.of("web.1", ProcessRestarting)
    assert [(e.attempt, e.delay) for e in restarting] == [(1, 0.5), (2, 1), (3, 2), (4, 4)]
    assert h.of("web.1", ProcessCrashed) == [ProcessCrashed("web.1", restarts=4)]
    # each spawn comes exactly one backoff delay after the previous run's exit (0.1 s long)
    times = h.spawn.times["web.1"]
    gaps = [round(b - a - 0.1, 6) for a, b in itertools.pairwise(times)]
    assert gaps == [0.5, 1, 2, 4]
    assert h.sup.snapshot()["web.1"].state == "crashed"
    assert h.sup.snapshot()["web.1"].restarts == 4
    assert h.sup.snapshot()["web.1"].exit_code == 1
    assert "crashed: 4 restarts without staying up; not restarted" in h.log_text("web.1")


def test_backoff_grows_to_the_cap(tmp_path):
    h = Harness(
        tmp_path, [make_spec("web.1", max_restarts=9)], {"web.1": Run(runtime=0.0, returncode=1)}
    )
    run_async(h.sup.run())
    delays = [e.delay for e in h.of("web.1", ProcessRestarting)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_ten_seconds_up_resets_the_restart_count(tmp_path):
    fast = Run(runtime=0.1, returncode=1)
    h = Harness(
        tmp_path,
        [make_spec("web.1", max_restarts=3)],
        {"web.1": [fast, fast, fast, Run(runtime=12, returncode=1), fast]},
    )
    code = run_async(h.sup.run())
    assert code == 1
    delays = [e.delay for e in h.of("web.1", ProcessRestarting)]
    assert delays == [0.5, 1, 2, 0.5, 1, 2]  # the 12 s run started the count afresh
    assert h.of("web.1", ProcessCrashed) == [ProcessCrashed("web.1", restarts=3)]
    assert h.spawn.count("web.1") == 7


def test_always_restarts_even_after_exit_zero(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("clock.1", restart="always", max_restarts=2)],
        {"clock.1": Run(runtime=1, returncode=0)},
    )
    assert run_async(h.sup.run()) == 1
    assert len(h.of("clock.1", ProcessRestarting)) == 2
    assert h.sup.state("clock.1") == "crashed"


def test_never_leaves_a_failed_process_exited(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("job.1", restart="never"), make_spec("ok.1", restart="never")],
        {"job.1": Run(runtime=1, returncode=3), "ok.1": Run(runtime=1, returncode=0)},
    )
    assert run_async(h.sup.run()) == 1
    assert h.sup.state("job.1") == "exited"
    assert h.sup.state("ok.1") == "completed"
    assert h.of("job.1", ProcessExited)[-1].returncode == 3
    assert isinstance(h.of("job.1")[-1], ProcessExited)  # its last event says "exited"
    assert h.of("job.1", ProcessRestarting) == []
    assert h.spawn.count("job.1") == 1


def test_on_failure_exit_zero_is_completed_and_run_returns_zero(tmp_path):
    h = Harness(tmp_path, [make_spec("task.1")], {"task.1": Run(runtime=2, returncode=0)})
    assert run_async(h.sup.run()) == 0
    assert h.sup.state("task.1") == "completed"
    assert [type(e).__name__ for e in h.of("task.1")] == [
        "ProcessStarting",
        "ProcessStarted",
        "ProcessExited",
        "ProcessCompleted",
    ]


def test_a_spawn_that_fails_counts_as_a_failed_run(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1", max_restarts=2)], {})
    h.spawn.fail.add("web.1")
    assert run_async(h.sup.run()) == 1
    assert [e.returncode for e in h.of("web.1", ProcessExited)] == [127, 127, 127]
    assert h.sup.state("web.1") == "crashed"
    assert any(
        text.startswith("could not start: no such directory") for text in h.log_text("web.1")
    )


def test_every_state_change_reaches_on_change_with_a_snapshot(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1", port=5000)], {"web.1": Run(runtime=1, returncode=0)})
    run_async(h.sup.run())
    states = [snap["web.1"].state for snap in h.snapshots]
    assert states == ["starting", "running", "completed"]
    running = h.snapshots[1]["web.1"]
    assert set(running.as_json()) == {
        "state",
        "pid",
        "pgid",
        "restarts",
        "started_at",
        "exit_code",
        "kind",
        "port",
    }
    assert running.pid == running.pgid == 1000
    assert running.process_type == "web" and running.port == 5000
    assert running.as_json()["kind"] == "web"
    assert isinstance(running.started_at, float)
    assert h.snapshots[-1]["web.1"].pid is None
    assert h.snapshots[-1]["web.1"].exit_code == 0


# -- dependencies --------------------------------------------------------------------------------


def test_a_migration_runs_first_and_its_exit_does_not_stop_the_stack(tmp_path):
    specs = [
        make_spec("migrate.1", restart="always"),  # "completed" wins over "always"
        make_spec("web.1", depends_on=(needs("migrate", "completed"),)),
        make_spec("worker.1"),
    ]
    h = Harness(tmp_path, specs, {"migrate.1": Run(runtime=3, returncode=0)})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(60)
        assert not runner.done()  # the stack keeps running: not honcho's behaviour
        states = {name: snap.state for name, snap in h.sup.snapshot().items()}
        await h.sup.stop()
        return await runner, states

    code, states = run_async(scenario())
    assert states == {"migrate.1": "completed", "web.1": "running", "worker.1": "running"}
    assert code == 0
    assert h.spawn.count("migrate.1") == 1
    assert h.spawn.times["web.1"] == [3.0]
    assert h.spawn.times["worker.1"] == [0.0]
    assert h.index(ProcessCompleted, "migrate.1") < h.index(ProcessStarting, "web.1")
    assert h.of("web.1", ProcessWaiting) == [ProcessWaiting("web.1", ("migrate completed",))]
    assert h.sup.snapshot()["migrate.1"].state == "completed"
    assert h.sup.snapshot()["web.1"].state == "stopped"


def test_a_failed_dependency_blocks_its_dependants_with_an_event(tmp_path):
    specs = [
        make_spec("migrate.1", restart="never"),
        make_spec("web.1", depends_on=(needs("migrate", "completed"),)),
        make_spec("worker.1", depends_on=(needs("web", "started"),)),
    ]
    h = Harness(tmp_path, specs, {"migrate.1": Run(runtime=1, returncode=1)})
    assert run_async(h.sup.run()) == 1
    assert h.spawn.count("web.1") == h.spawn.count("worker.1") == 0
    failed = h.of("web.1", ProcessDependencyFailed)
    assert failed == [ProcessDependencyFailed("web.1", "migrate", "migrate.1 exited with code 1")]
    assert h.of("worker.1", ProcessDependencyFailed)[0].dependency == "web"
    assert h.sup.state("web.1") == h.sup.state("worker.1") == "crashed"
    assert "not started: migrate.1 exited with code 1" in h.log_text("web.1")


def test_dependants_wait_through_backoff_and_fail_when_it_crashes(tmp_path):
    specs = [
        make_spec("migrate.1", max_restarts=2),
        make_spec("web.1", depends_on=(needs("migrate", "completed"),)),
    ]
    h = Harness(tmp_path, specs, {"migrate.1": Run(runtime=1, returncode=1)})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(2)  # first restart pending
        waiting = h.sup.state("web.1")
        return waiting, await runner

    waiting, code = run_async(scenario())
    assert waiting == "waiting"
    assert code == 1
    assert h.sup.state("web.1") == "crashed"
    assert "crashed" in h.of("web.1", ProcessDependencyFailed)[0].reason
    assert h.spawn.count("web.1") == 0


def test_a_succeeding_retry_lets_the_dependants_start(tmp_path):
    specs = [
        make_spec("migrate.1"),
        make_spec("web.1", depends_on=(needs("migrate", "completed"),)),
    ]
    h = Harness(
        tmp_path,
        specs,
        {"migrate.1": [Run(runtime=1, returncode=1), Run(runtime=1, returncode=0)], "web.1": Run()},
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(10)
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    assert h.spawn.times["web.1"] == [2.5]  # 1 s run, 0.5 s backoff, 1 s run


def test_service_dependencies_gate_on_services_ready(tmp_path):
    dep = needs("postgres", "ready", kind="service")
    h = Harness(tmp_path, [make_spec("web.1", depends_on=(dep,))], {})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(100)
        before = h.spawn.count("web.1")
        h.sup.mark_service_ready("postgres")
        await h.settle(1)
        after = h.spawn.count("web.1")
        await h.sup.stop()
        await runner
        return before, after

    assert run_async(scenario()) == (0, 1)
    assert h.of("web.1", ProcessWaiting) == [ProcessWaiting("web.1", ("postgres ready",))]

    ready = Harness(
        tmp_path,
        [make_spec("web.1", depends_on=(dep,))],
        {},
        services_ready=frozenset({"postgres"}),
    )

    async def already_ready():
        runner = asyncio.ensure_future(ready.sup.run())
        await ready.settle(0.1)
        await ready.sup.stop()
        await runner

    run_async(already_ready())
    assert ready.spawn.times["web.1"] == [0.0]
    assert ready.of("web.1", ProcessWaiting) == []


def test_ready_waits_for_the_probe_and_started_does_not(tmp_path):
    probe = ReadyProbe("log", r"listening on \d+", timeout=30)
    specs = [
        make_spec("api.1", ready=probe),
        make_spec("api.2", ready=probe),
        make_spec("web.1", depends_on=(needs("api", "ready"),)),
        make_spec("early.1", depends_on=(needs("api", "started"),)),
        make_spec("plain.1"),
        make_spec("late.1", depends_on=(needs("plain", "ready"),)),
    ]
    out = b"booting\nlistening on 5000\n"
    h = Harness(
        tmp_path,
        specs,
        {"api.1": Run(output=out, output_after=2), "api.2": Run(output=out, output_after=4)},
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(10)
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    assert h.spawn.times["early.1"] == [0.0]
    assert h.spawn.times["web.1"] == [4.0]  # every instance must be ready
    assert h.spawn.times["late.1"] == [0.0]  # no probe: ready once started
    assert [e.seconds for e in h.of("api.2", ProcessReady)] == [4.0]
    assert h.index(ProcessReady, "api.2") < h.index(ProcessStarting, "web.1")
    assert h.of("plain.1", ProcessReady) == []


def test_a_probe_that_times_out_leaves_it_running_and_dependants_waiting(tmp_path):
    probe = ReadyProbe("log", "never printed", timeout=5)
    specs = [
        make_spec("api.1", ready=probe),
        make_spec("web.1", depends_on=(needs("api", "ready"),)),
    ]
    h = Harness(tmp_path, specs, {"api.1": Run(output=b"booting\n")})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(60)
        states = (h.sup.state("api.1"), h.sup.state("web.1"))
        await h.sup.stop()
        await runner
        return states

    assert run_async(scenario()) == ("running", "waiting")
    assert h.of("api.1", ProcessProbeTimedOut) == [
        ProcessProbeTimedOut("api.1", "log never printed", 5)
    ]
    assert h.of("api.1", ProcessReady) == []
    assert h.spawn.count("web.1") == 0


def test_a_dependency_on_one_instance(tmp_path):
    specs = [
        make_spec("web.1"),
        make_spec("web.2", restart="never"),
        make_spec("check.1", depends_on=(needs("web.1", "completed"),)),
    ]
    scripts = {"web.1": Run(runtime=1), "web.2": Run(runtime=1, returncode=1), "check.1": Run(1)}
    h = Harness(tmp_path, specs, scripts)
    assert run_async(h.sup.run()) == 1  # web.2 "exited"
    assert h.sup.state("check.1") == "completed"
    assert h.spawn.times["check.1"] == [1.0]  # web.2's failure does not concern it


# -- control -------------------------------------------------------------------------------------


def test_a_user_stop_is_not_a_failure_and_start_brings_it_back(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1"), make_spec("worker.1")], {})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(1)
        first = h.spawn.last("web.1")
        await h.sup.stop_process("web.1")
        stopped = h.sup.state("web.1")
        await h.settle(100)
        assert not runner.done()  # a stopped process may be started again: run goes on
        spawned = h.spawn.count("web.1")
        assert await h.sup.start_process("web.1")
        assert not await h.sup.start_process("web.1")  # already active
        await h.settle(1)
        again = h.sup.state("web.1")
        await h.sup.stop()
        return await runner, first, stopped, spawned, again

    code, first, stopped, spawned, again = run_async(scenario())
    assert code == 0
    assert first.signals == [signal.SIGTERM]
    assert (stopped, spawned, again) == ("stopped", 1, "running")
    assert h.spawn.count("web.1") == 2
    assert h.of("web.1", ProcessRestarting) == []
    stops = h.of("web.1", ProcessStopped)
    assert stops[0] == ProcessStopped("web.1", pid=first.pid)
    assert h.sup.state("worker.1") == "stopped"


def test_stop_escalates_to_sigkill_after_stop_timeout(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("web.1", stop_timeout=3)],
        {"web.1": Run(ignore_term=True)},
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(1)
        began = h.clock.now()
        await h.sup.stop()
        took = h.clock.now() - began
        await runner
        return took

    took = run_async(scenario())
    assert took == 3
    assert h.spawn.last("web.1").signals == [signal.SIGTERM, signal.SIGKILL]
    assert h.of("web.1", ProcessExited)[-1].returncode == -signal.SIGKILL
    assert h.sup.state("web.1") == "stopped"
    assert "still running 3 s after SIGTERM: SIGKILL" in h.log_text("web.1")


def test_stop_is_idempotent_and_stops_dependants_first(tmp_path):
    specs = [
        make_spec("db.1"),
        make_spec("api.1", depends_on=(needs("db", "started"),)),
        make_spec("web.1", depends_on=(needs("api", "started"),)),
        make_spec("solo.1"),
    ]
    h = Harness(tmp_path, specs, {})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(1)
        await asyncio.gather(h.sup.stop(), h.sup.stop())
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    pids = {name: h.spawn.last(name).pid for name in ("db.1", "api.1", "web.1", "solo.1")}
    order = [entry[1] for entry in h.spawn.journal if entry[0] == "signal"]
    assert order.index(pids["web.1"]) < order.index(pids["api.1"]) < order.index(pids["db.1"])
    assert len(order) == 4  # one SIGTERM each, however many stop() calls
    assert h.spawn.count("db.1") == 1


def test_stop_cancels_waiting_and_backoff(tmp_path):
    specs = [
        make_spec("flaky.1"),
        make_spec("web.1", depends_on=(needs("postgres", "ready", "service"),)),
    ]
    h = Harness(tmp_path, specs, {"flaky.1": Run(runtime=0.1, returncode=1)})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(0.2)  # flaky is in backoff, web waits for postgres
        states = (h.sup.state("flaky.1"), h.sup.state("web.1"))
        await h.sup.stop()
        await h.settle(100)
        return states, await runner

    states, code = run_async(scenario())
    assert states == ("backoff", "waiting")
    assert code == 0
    assert h.sup.state("flaky.1") == h.sup.state("web.1") == "stopped"
    assert h.spawn.count("flaky.1") == 1
    assert h.spawn.count("web.1") == 0


def test_restart_process_replaces_the_run_and_skips_backoff(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("web.1"), make_spec("flaky.1", max_restarts=10)],
        {"flaky.1": [Run(runtime=0.1, returncode=1)] * 5 + [Run()]},
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(1)
        old = h.spawn.last("web.1")
        await h.sup.restart_process("web.1")
        await h.settle(5)  # flaky: 0.5 + 1 + 2 ... it is in a 4 s backoff now
        assert h.sup.state("flaky.1") == "backoff"
        at = h.clock.now()
        await h.sup.restart_process("flaky.1")  # now, not after the backoff
        await h.settle(0)
        restarted_at = h.spawn.times["flaky.1"][-1]
        await h.sup.stop()
        await runner
        return old, at, restarted_at

    old, at, restarted_at = run_async(scenario())
    assert old.signals == [signal.SIGTERM]
    assert h.spawn.count("web.1") == 2
    assert h.sup.snapshot()["web.1"].state == "stopped"
    assert restarted_at == at
    names = [type(e).__name__ for e in h.of("web.1")]
    assert names[:6] == [
        "ProcessStarting",
        "ProcessStarted",
        "ProcessExited",
        "ProcessStopped",
        "ProcessStarting",
        "ProcessStarted",
    ]


def test_restart_all_runs_the_migration_again_before_web(tmp_path):
    specs = [
        make_spec("migrate.1"),
        make_spec("web.1", depends_on=(needs("migrate", "completed"),)),
    ]
    h = Harness(tmp_path, specs, {"migrate.1": Run(runtime=2)})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(5)
        await h.sup.restart_all()
        assert h.sup.state("web.1") == "waiting"
        await h.settle(5)
        await h.sup.stop()
        return await runner

    assert run_async(scenario()) == 0
    spawns = [entry[1] for entry in h.spawn.journal if entry[0] == "spawn"]
    assert spawns == ["migrate.1", "web.1", "migrate.1", "web.1"]
    assert h.spawn.times["web.1"] == [2.0, 7.0]
    assert h.sup.snapshot()["web.1"].restarts == 0  # a user restart is not counted


def test_restart_all_revives_crashed_processes(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("web.1", max_restarts=1), make_spec("ok.1")],
        {"web.1": [Run(runtime=0, returncode=1)] * 2 + [Run()]},
    )

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(5)
        crashed = h.sup.state("web.1")
        await h.sup.restart_all()
        await h.settle(1)
        state = h.sup.state("web.1")
        await h.sup.stop()
        await runner
        return crashed, state

    assert run_async(scenario()) == ("crashed", "running")


def test_send_signal_reaches_the_group_and_is_not_a_stop(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1")], {"web.1": Run()})

    async def scenario():
        runner = asyncio.ensure_future(h.sup.run())
        await h.settle(1)
        first = h.spawn.last("web.1")
        assert await h.sup.send_signal("web.1", signal.SIGHUP)
        await h.sup.send_signal("web.1", signal.SIGTERM)  # it dies: on-failure restarts it
        await h.settle(1)
        await h.sup.stop()
        assert not await h.sup.send_signal("web.1", signal.SIGHUP)
        await runner
        return first

    first = run_async(scenario())
    assert first.signals[:2] == [signal.SIGHUP, signal.SIGTERM]
    assert h.of("web.1", ProcessSignalled)[0] == ProcessSignalled("web.1", first.pid, "SIGHUP")
    assert h.of("web.1", ProcessRestarting) == [ProcessRestarting("web.1", 1, 0.5)]
    assert h.spawn.count("web.1") == 2
    assert "sent SIGHUP" in h.log_text("web.1")


def test_unknown_names_are_refused(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1")], {})

    async def scenario():
        with pytest.raises(KeyError, match="no process named 'db'"):
            await h.sup.stop_process("db")

    run_async(scenario())


def test_stop_before_run_and_an_empty_supervisor(tmp_path):
    h = Harness(tmp_path, [make_spec("web.1")], {})

    async def scenario():
        await h.sup.stop()
        return await h.sup.run()

    assert run_async(scenario()) == 0
    assert h.spawn.count("web.1") == 0
    assert run_async(Harness(tmp_path, [], {}).sup.run()) == 0


def test_the_output_goes_to_the_log_with_the_supervisors_lines(tmp_path):
    h = Harness(
        tmp_path,
        [make_spec("web.1", restart="never")],
        {"web.1": Run(runtime=1, returncode=2, output=b"hello\nno newline")},
    )
    run_async(h.sup.run())
    assert h.log_text("web.1") == [
        "started (pid 1000)",
        "hello",
        "no newline",
        "exited with code 2",
    ]
    assert ProcessStarted("web.1", 1000) in h.events


def test_the_supervisor_is_core_and_never_imports_textual():
    import subprocess
    import sys

    code = (
        "import sys, devenv.supervisor.core, devenv.supervisor.probes\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
