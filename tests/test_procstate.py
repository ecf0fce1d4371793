"""What a SIGKILLed devenv leaves behind is found and stopped; a recycled pid is not."""

from __future__ import annotations

import json
import os
import subprocess
import time

import psutil

from devenv.project.layout import Layout
from devenv.state import State, Status
from devenv.supervisor import procstate


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def spawn_tree() -> subprocess.Popen:
    """A shell in its own session with a child that ignores SIGTERM, like a stubborn app."""
    proc = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"],
        start_new_session=True,
    )
    deadline = time.monotonic() + 5
    while len(psutil.Process(proc.pid).children()) < 2:
        assert time.monotonic() < deadline, "the shell did not start its children"
        time.sleep(0.01)
    return proc


def test_leftovers_of_a_killed_devenv_are_stopped_with_their_children(tmp_path):
    layout = Layout(tmp_path)
    layout.base.mkdir()
    proc = spawn_tree()
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    web = Status("web.1", "process", State.RUNNING, pid=proc.pid, pgid=proc.pid, restarts=0)
    procstate.StateWriter(layout)({"web.1": web})

    stopped = procstate.stop_leftovers(layout, grace=0.5)
    proc.wait(timeout=5)

    assert stopped == ["web.1"]
    assert all(gone(pid) for pid in [proc.pid, *children])
    assert procstate.read(layout) == {}


def test_a_recycled_pid_is_never_signalled(tmp_path):
    layout = Layout(tmp_path)
    layout.base.mkdir()
    stranger = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        real_create_time = psutil.Process(stranger.pid).create_time()
        # The record says this pid, but a process that started at another time.
        entry = {"state": "running", "pid": stranger.pid, "pgid": stranger.pid}
        entry["create_time"] = real_create_time - 100
        procstate.path(layout).write_text(json.dumps({"web.1": entry}))

        assert procstate.stop_leftovers(layout, grace=0.2) == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_status_reads_what_the_writer_wrote(tmp_path):
    layout = Layout(tmp_path)
    layout.base.mkdir()
    writer = procstate.StateWriter(layout)
    crashed = Status("worker.1", "process", State.CRASHED, restarts=5, exit_code=1)
    writer({"worker.1": crashed, "web.1": Status("web.1", "process", State.READY, port=5000)})
    # Numbers sampled of the pid a process has now are written with it.
    web = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        writer.stats = {"web.1": {"pid": web.pid, "cpu_percent": 1.5, "rss": 10, "ports": [5000]}}
        running = Status(
            "web.1", "process", State.READY, pid=web.pid, port=5000, process_type="web"
        )
        writer({"worker.1": crashed, "web.1": running})
        recorded = procstate.read(layout)
        create_time = psutil.Process(web.pid).create_time()
    finally:
        web.kill()
        web.wait()

    assert recorded == {
        "worker.1": {
            "state": "crashed",
            "pid": None,
            "pgid": None,
            "restarts": 5,
            "started_at": None,
            "exit_code": 1,
            "kind": None,
            "port": None,
            "recorded_by": os.getpid(),  # status trusts only the running devenv's record
        },
        "web.1": {
            "state": "ready",
            "pid": web.pid,
            "pgid": None,
            "restarts": None,
            "started_at": None,
            "exit_code": None,
            "kind": "web",
            "port": 5000,
            "cpu_percent": 1.5,
            "rss": 10,
            "ports": [5000],
            "create_time": create_time,
            "recorded_by": os.getpid(),
        },
    }
    writer.clear()
    assert procstate.read(layout) == {}


def test_a_damaged_record_is_read_without_its_bad_parts_and_the_good_entries_still_stop(tmp_path):
    layout = Layout(tmp_path)
    layout.base.mkdir()
    proc = spawn_tree()
    good = {"state": "running", "pid": proc.pid, "pgid": proc.pid}
    good["create_time"] = psutil.Process(proc.pid).create_time()
    procstate.path(layout).write_text(
        json.dumps(
            {
                "web.1": good,
                "worker.1": {"state": "running", "pid": "abc", "pgid": [1], "create_time": "x"},
                "clock.1": {"state": "running", "pid": True, "create_time": 1.0},
                "beat.1": "running",
            }
        )
    )

    recorded = procstate.read(layout)
    assert sorted(recorded) == ["clock.1", "web.1", "worker.1"]  # not an object: dropped
    assert recorded["worker.1"] == {
        "state": "running",
        "pid": None,
        "pgid": None,
        "create_time": None,
    }
    assert recorded["clock.1"]["pid"] is None
    assert recorded["web.1"] == good

    assert procstate.stop_leftovers(layout, grace=0.5) == ["web.1"]
    proc.wait(timeout=5)
