"""Pid records: the /proc reading that keeps psutil off `devenv up -d`'s start path makes the
same record psutil does (alive() compares create times psutil reports)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devenv.project import procfs
from devenv.project.pidrecord import PidRecord

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc here")


def from_proc(pid: int) -> PidRecord | None:
    """The record from what /proc says (devenv.project.procfs), as PidRecord.of makes it."""
    found = procfs.started(pid)
    return PidRecord(pid, found[0], found[1]) if found is not None else None


def _as_psutil_makes_it(pid: int) -> PidRecord:
    proc = psutil.Process(pid)
    return PidRecord(pid, proc.create_time(), (proc.cmdline() or [""])[0])


def _check_against_psutil(proc: subprocess.Popen) -> None:
    found = from_proc(proc.pid)
    assert found is not None
    assert found == _as_psutil_makes_it(proc.pid)
    assert found == PidRecord.of(proc.pid)
    assert found.alive()
    proc.kill()
    proc.wait()
    assert not found.alive()


@pytest.fixture
def spawned():
    """Popen, and every process it started is killed at the end, whatever the test did."""
    started: list[subprocess.Popen] = []

    def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
        started.append(subprocess.Popen(argv, **kwargs))
        return started[-1]

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@needs_proc
def test_the_record_read_from_proc_is_the_one_psutil_makes(spawned):
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    _check_against_psutil(spawned(sleeper))


@needs_proc
def test_a_server_that_rewrote_its_title_gets_the_record_psutil_makes(tmp_path, spawned):
    """redis-server writes its title over its argv (words joined by spaces, NUL padding):
    the /proc reading splits it as psutil does."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    argv = [server, "--port", "0", "--unixsocket", str(tmp_path / "r.sock"), "--save", ""]
    proc = spawned(argv, cwd=tmp_path, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    while b"\0--port\0" in cmdline.read_bytes():  # not retitled yet
        assert time.monotonic() < deadline, "redis-server never rewrote its title"
        time.sleep(0.005)
    assert from_proc(proc.pid).argv0.startswith(server)  # the whole title, as psutil says
    _check_against_psutil(proc)


@needs_proc
def test_a_process_that_is_gone_gives_no_recordfrom_proc():
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert from_proc(proc.pid) is None


@needs_proc
def test_alive_from_proc_says_what_psutil_says(spawned):
    """A live process is alive; a record with another create time (a recycled pid) is not; a
    zombie (killed, not reaped yet) is not."""
    proc = spawned([sys.executable, "-c", "import time; time.sleep(30)"])
    record = PidRecord.of(proc.pid)
    assert record.alive()
    assert not PidRecord(proc.pid, record.create_time - 1.0, record.argv0).alive()
    proc.kill()
    deadline = time.monotonic() + 5
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not record.alive()
    proc.wait()
    assert not record.alive()


@needs_proc
def test_works_under_reads_the_folder_and_the_command_line_as_psutil_does(tmp_path, spawned):
    """The working folder counts, an absolute path on the command line counts, others do not."""
    from devenv.project.pidrecord import works_under

    inside, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (inside / "data").mkdir(parents=True)
    elsewhere.mkdir()
    sleep = "import time, sys; time.sleep(30)"
    by_cwd = spawned([sys.executable, "-c", sleep], cwd=inside / "data")
    by_argv = spawned([sys.executable, "-c", sleep, str(inside / "data")], cwd=elsewhere)
    neither = spawned([sys.executable, "-c", sleep, "data"], cwd=elsewhere)
    for proc, expected in ((by_cwd, True), (by_argv, True), (neither, False)):
        assert works_under(proc.pid, inside) is expected
        places = [psutil.Process(proc.pid).cwd(), *psutil.Process(proc.pid).cmdline()]
        assert any(str(p).startswith(str(inside)) for p in places) is expected
    by_cwd.kill()
    by_cwd.wait()
    assert not works_under(by_cwd.pid, inside)


@needs_proc
def test_wait_gone_reaps_our_exited_child_and_waits_for_a_live_one(spawned):
    """devenv.services.base.wait_gone reads /proc: an exited child of ours (a zombie) is gone
    and reaped; a live process is not gone when the time is up; a pid nobody has is gone."""
    import os

    from devenv.services.base import wait_gone

    quick = spawned([sys.executable, "-c", "pass"])
    assert wait_gone(quick.pid, 10.0)
    with pytest.raises(ChildProcessError):
        os.waitpid(quick.pid, os.WNOHANG)  # reaped by wait_gone
    slow = spawned([sys.executable, "-c", "import time; time.sleep(30)"])
    started = time.monotonic()
    assert not wait_gone(slow.pid, 0.2)
    assert time.monotonic() - started >= 0.2
    assert wait_gone(quick.pid, 1.0)  # gone for good


@needs_proc
def test_wait_gone_waits_for_the_threads_of_a_zombie_leader(spawned):
    """A threaded server whose main thread exited is a zombie while its other threads still
    run (and hold its sockets): not gone until they end."""
    from devenv.services.base import wait_gone

    code = (
        "import ctypes, threading, time, os\n"
        "threading.Thread(target=lambda: (time.sleep(1.0), os._exit(0))).start()\n"
        "ctypes.CDLL(None).pthread_exit(None)\n"  # the leader thread ends, the process not
    )
    proc = spawned([sys.executable, "-c", code])
    deadline = time.monotonic() + 5
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not wait_gone(proc.pid, 0.1)  # the leader is a zombie, a thread still runs
    assert wait_gone(proc.pid, 10.0)
