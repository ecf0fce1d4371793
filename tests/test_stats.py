"""StatsSampler against real processes: memory, CPU, listening ports (also a grandchild's),
uptime, vanished and recycled pids."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time

import psutil
import pytest

from devenv.supervisor.stats import ProcessStats, StatsSampler

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024

LISTENER = """
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)
"""


@pytest.fixture
def spawn():
    """Start a child in its own process group, wait for its first stdout line; all are killed."""
    children: list[subprocess.Popen] = []

    def start(argv: list[str]) -> tuple[subprocess.Popen, str]:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
        children.append(child)
        line = child.stdout.readline().strip()
        assert child.poll() is None, f"{argv} exited early"
        return child, line

    yield start
    for child in children:
        kill(child)


def kill(child: subprocess.Popen) -> None:
    """Kill the child's whole group (an sh -c wrapper's python too) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    if child.stdout:
        child.stdout.close()


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


SLEEPER = python("print('ready', flush=True); import time; time.sleep(120)")


def test_rss_counts_memory_the_process_touched(spawn):
    code = (
        "data = b'x' * (50 * 1024 * 1024); print('ready', flush=True); import time; time.sleep(120)"
    )
    child, _ = spawn(python(code))

    stats = StatsSampler().sample({"hog": child.pid})

    assert isinstance(stats["hog"], ProcessStats)
    assert stats["hog"].rss >= 50 * MB
    assert stats["hog"].processes == 1


def test_busy_loop_cpu_is_a_delta_since_the_previous_sample(spawn):
    child, _ = spawn(python("print('ready', flush=True)\nwhile True: pass"))
    sampler = StatsSampler()

    first = sampler.sample({"busy": child.pid, "alias": child.pid})
    time.sleep(0.5)
    second = sampler.sample({"busy": child.pid, "alias": child.pid})

    assert first["busy"].cpu_percent == 0.0  # nothing to compare with yet
    assert second["busy"].cpu_percent > 50
    # One process under two names is measured once, not split between them.
    assert second["alias"].cpu_percent == second["busy"].cpu_percent


def test_idle_process_uses_almost_no_cpu(spawn):
    child, _ = spawn(SLEEPER)
    sampler = StatsSampler()
    sampler.sample({"idle": child.pid})
    time.sleep(0.3)
    assert sampler.sample({"idle": child.pid})["idle"].cpu_percent < 10


def test_listening_port_of_the_process(spawn):
    child, port = spawn(python(LISTENER))

    stats = StatsSampler().sample({"web": child.pid})

    assert stats["web"].ports == (int(port),)


def test_listening_port_of_a_grandchild_and_the_tree_is_summed(spawn):
    # The trailing ":" keeps sh from exec'ing python in its own place: python is a grandchild.
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(LISTENER)}; :"
    child, port = spawn(["sh", "-c", command])
    sampler = StatsSampler()

    stats = sampler.sample({"web": child.pid})["web"]

    assert stats.ports == (int(port),)
    assert stats.processes == 2
    assert stats.rss > psutil.Process(child.pid).memory_info().rss  # sh + python, not sh alone
    listener = psutil.Process(child.pid).children()[0]
    assert listener.pid != child.pid
    assert sampler.sample({"python": listener.pid})["python"].ports == (int(port),)


def test_ports_with_one_system_wide_call_and_its_access_denied_fallback(spawn, monkeypatch):
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(LISTENER)}; :"
    child, port = spawn(["sh", "-c", command])
    sampler = StatsSampler()
    sampler.ports_strategy = "system"
    assert sampler.sample({"web": child.pid})["web"].ports == (int(port),)

    def denied(kind="inet"):
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", denied)  # macOS without root
    assert sampler.sample({"web": child.pid})["web"].ports == (int(port),)
    assert sampler._system_ports_denied


def test_a_process_without_listening_socket_has_no_ports(spawn):
    child, _ = spawn(SLEEPER)
    assert StatsSampler().sample({"idle": child.pid})["idle"].ports == ()


def test_uptime_grows(spawn):
    child, _ = spawn(SLEEPER)
    sampler = StatsSampler()

    first = sampler.sample({"p": child.pid})["p"].uptime
    time.sleep(0.3)
    second = sampler.sample({"p": child.pid})["p"].uptime

    assert 0 <= first < 60
    assert second >= first + 0.2


def test_vanished_process_disappears(spawn):
    gone, _ = spawn(SLEEPER)
    stays, _ = spawn(SLEEPER)
    sampler = StatsSampler()
    assert set(sampler.sample({"gone": gone.pid, "stays": stays.pid})) == {"gone", "stays"}

    kill(gone)

    assert set(sampler.sample({"gone": gone.pid, "stays": stays.pid})) == {"stays"}
    assert all(key[0] != gone.pid for key in sampler._procs)  # forgotten, not kept


def test_dead_child_of_a_tree_is_no_longer_counted(spawn):
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(LISTENER)}; sleep 120"
    child, _ = spawn(["sh", "-c", command])
    sampler = StatsSampler()
    assert sampler.sample({"web": child.pid})["web"].processes == 2
    listener = psutil.Process(child.pid).children()[0]

    listener.kill()
    psutil.wait_procs([listener], timeout=5)  # sh reaps it and starts sleep
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stats = sampler.sample({"web": child.pid})["web"]
        if stats.ports == ():
            break
        time.sleep(0.05)
    assert stats.ports == ()


def test_missing_pid_has_no_entry():
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that existed and no longer does
    assert StatsSampler().sample({"dead": dead.pid, "zero": 0}) == {}


def test_killed_pid_is_dropped_on_the_next_sample(spawn):
    child, _ = spawn(SLEEPER)
    sampler = StatsSampler()
    assert "p" in sampler.sample({"p": child.pid})

    kill(child)

    assert sampler.sample({"p": child.pid}) == {}


class Poisoned:
    """Stands for the kept Process of an earlier process that had the same pid."""

    def __getattr__(self, name):
        raise AssertionError(f"the old process's object was used ({name})")


def test_recycled_pid_is_a_new_process_not_the_old_one(spawn):
    child, _ = spawn(SLEEPER)
    sampler = StatsSampler()
    sampler.sample({"p": child.pid})
    [(key, _kept)] = sampler._procs.items()
    assert key == (child.pid, psutil.Process(child.pid).create_time())

    # Pretend the kept object was an older process with the same pid: the kernel recycled it.
    sampler._procs = {(child.pid, key[1] - 100.0): Poisoned()}
    stats = sampler.sample({"p": child.pid})["p"]

    assert stats.cpu_percent == 0.0  # a fresh baseline: first sample of a new process
    [(new_key, new)] = sampler._procs.items()
    assert new_key == key
    assert not isinstance(new, Poisoned)  # the old process's is dropped, not used

    # Same pid and create time: kept under the same key (what makes CPU a delta, see
    # test_busy_loop_cpu_is_a_delta_since_the_previous_sample).
    assert sampler.sample({"p": child.pid})
    assert list(sampler._procs) == [key]


def test_a_process_read_from_proc_is_what_psutil_says(spawn):
    """devenv.project.procfs.usage (the sampler's one read per process on Linux) against
    psutil's create_time, status, cpu_times and memory_info."""
    from devenv.project import procfs

    if not procfs.HAS_PROC:
        pytest.skip("no /proc here: the sampler uses psutil")
    code = "data = b'x' * (20 * 1024 * 1024); print('ready', flush=True); import time\n"
    code += "end = time.time() + 0.3\nwhile time.time() < end: pass\ntime.sleep(120)"
    child, _ = spawn(python(code))
    time.sleep(0.5)
    create_time, state, cpu, rss = procfs.usage(child.pid)
    proc = psutil.Process(child.pid)
    assert create_time == proc.create_time()
    assert state == "S" and proc.status() == psutil.STATUS_SLEEPING
    times = proc.cpu_times()
    assert cpu == pytest.approx(times.user + times.system, abs=0.02)
    assert rss == pytest.approx(proc.memory_info().rss, rel=0.05)
    kill(child)
    assert procfs.usage(child.pid) is None or procfs.usage(child.pid)[1] == "Z"


def test_a_child_older_than_its_parent_is_a_recycled_pid_and_not_in_the_tree(spawn):
    child, _ = spawn(SLEEPER)
    sampler = StatsSampler()
    current: dict = {}
    root = sampler._lookup(child.pid, {}, current)
    assert root is not None

    # A stale parent map claims pid 1 (older than our child) is the child's child.
    assert sampler._tree(root, {child.pid: [1]}, {}, current) == [root]
