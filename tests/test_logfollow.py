"""Following a log across rotation and truncation: real files, real ProcessLog rotation, the CLI.

No test waits for a length of time. Writers that race the follower keep a
bounded lead over what it has seen (so the rotated files it still needs are
never deleted, whatever the scheduling); single-thread tests drive the
generator by hand between the writer's steps.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devenv.supervisor.logfollow import follow, tail_start
from devenv.supervisor.proclog import ProcessLog

DEADLINE = 30.0  # seconds: only so that a broken follower fails instead of hanging
NUMBER = re.compile(rb"line (-?\d+)$")


def numbers(data: bytes) -> list[int]:
    """The numbers of the complete 'line N' lines in ``data``, in order."""
    found = []
    for line in data.split(b"\n")[:-1]:
        match = NUMBER.search(line)
        assert match, f"not a numbered line: {line!r}"
        found.append(int(match.group(1)))
    return found


class Looks(threading.Event):
    """A stop event that counts the follower's idle looks (each one is a ``wait``)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._changed = threading.Condition()

    def wait(self, timeout: float | None = None) -> bool:
        with self._changed:
            self.count += 1
            self._changed.notify_all()
        return super().wait(timeout)

    def after(self, count: int) -> None:
        """Return once the follower has looked more than ``count`` times."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.count > count, DEADLINE), "no look"


class Collector:
    """Runs ``follow`` in a thread and keeps what it yields."""

    def __init__(self, path: Path, **kw) -> None:
        self.stop = kw.pop("stop", None) or threading.Event()
        self.data = bytearray()
        self._seen = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, args=(path,), kwargs={"poll": 0.001, **kw}, daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, **kw) -> None:
        for chunk in follow(path, stop=self.stop, **kw):
            with self._seen:
                self.data += chunk
                self._seen.notify_all()

    def seen(self) -> list[int]:
        with self._seen:
            return numbers(bytes(self.data))

    def wait_for(self, count: int) -> None:
        """Return once ``count`` lines were seen (fail after DEADLINE)."""
        with self._seen:
            ok = self._seen.wait_for(lambda: self.data.count(b"\n") >= count, DEADLINE)
        assert ok, f"saw only {self.seen()}"

    def finish(self) -> list[int]:
        self.stop.set()
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive()
        return self.seen()


def next_lines(gen: Iterator[bytes], count: int, into: bytearray) -> None:
    """Pull chunks from ``gen`` until ``into`` holds ``count`` lines."""
    while into.count(b"\n") < count:
        into += next(gen)


def watchdog(stop: threading.Event) -> threading.Timer:
    """Stop a generator driven in the test's own thread if it would block forever."""
    timer = threading.Timer(DEADLINE, stop.set)
    timer.daemon = True
    timer.start()
    return timer


def rotated(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".*"))


# ------------------------------------------------------------------ rotation by renaming


def test_all_lines_once_in_order_across_real_proclog_rotations(tmp_path):
    path = tmp_path / "web.1.log"
    log = ProcessLog("web.1", path, max_bytes=120, backups=3)  # ~3 lines a file
    log.feed(b"line 0\n")
    looks = Looks()
    follower = Collector(path, stop=looks)
    looks.after(0)  # it has the file open, at its end
    for number in range(1, 101):
        # At most 6 lines ahead of the follower: two files, fewer than the backups kept.
        follower.wait_for(number - 6)
        log.feed(f"line {number}\n".encode())
    log.close()
    follower.wait_for(100)
    assert follower.finish() == list(range(1, 101))
    assert len(rotated(path)) == 3  # it did rotate, again and again


def test_several_rotations_between_two_looks_lose_nothing(tmp_path):
    """The follower reads the rest of its file, then the newer rotated ones, then the new one."""
    path = tmp_path / "worker.1.log"
    log = ProcessLog("worker.1", path, max_bytes=100, backups=3)
    log.feed(b"line 1\nline 2\n")
    stop = threading.Event()
    timer = watchdog(stop)
    gen = follow(path, last=2, poll=0.001, stop=stop)
    got = bytearray()
    next_lines(gen, 2, got)
    log.feed(b"line 3\n")
    for number in range(4, 12):  # three rotations while the follower does not look
        log.feed(f"line {number}\n".encode())
    assert len(rotated(path)) == 3
    next_lines(gen, 11, got)
    gen.close()
    timer.cancel()
    assert numbers(bytes(got)) == list(range(1, 12))


def test_a_missing_path_is_waited_for_then_read_from_its_start(tmp_path):
    path = tmp_path / "web.1.log"
    path.write_bytes(b"line 1\n")
    looks = Looks()
    follower = Collector(path, last=10, stop=looks)
    follower.wait_for(1)
    os.replace(path, tmp_path / "web.1.log.1")  # rotated away, no new file yet
    looks.after(looks.count + 1)  # it has looked at the missing path at least once
    path.write_bytes(b"line 2\nline 3\n")
    follower.wait_for(3)
    assert follower.finish() == [1, 2, 3]


def test_a_path_that_does_not_exist_yet_is_read_from_its_start(tmp_path):
    path = tmp_path / "logs" / "web.1.log"
    looks = Looks()
    follower = Collector(path, stop=looks)  # last=0, but a new file is read whole
    looks.after(0)
    path.parent.mkdir()
    path.write_bytes(b"line 1\nline 2\n")
    follower.wait_for(2)
    assert follower.finish() == [1, 2]


def test_a_file_moved_out_of_the_names_is_left_for_the_new_one(tmp_path):
    """Another rotation scheme (dateext): like tail -F, the new file at the path is followed."""
    path = tmp_path / "app.log"
    path.write_bytes(b"line 1\n")
    (tmp_path / "app.log.1").write_bytes(b"line 99\n")  # stale, from long ago: not replayed
    stop = threading.Event()
    timer = watchdog(stop)
    gen = follow(path, last=5, poll=0.001, stop=stop)
    got = bytearray()
    next_lines(gen, 1, got)
    with open(path, "ab") as old:
        old.write(b"line 2\n")
        os.replace(path, tmp_path / "app.log-20261130")
        path.write_bytes(b"line 3\n")
    next_lines(gen, 3, got)
    gen.close()
    timer.cancel()
    assert numbers(bytes(got)) == [1, 2, 3]


# ------------------------------------------------------------------ truncation


def test_copytruncate_is_read_again_from_the_start_even_once_it_has_grown_past(tmp_path):
    path = tmp_path / "redis.log"
    stop = threading.Event()
    timer = watchdog(stop)
    with open(path, "ab", buffering=0) as writer:  # O_APPEND, like a server's log
        writer.write(b"".join(b"line %d\n" % n for n in range(1, 51)))
        gen = follow(path, last=1000, poll=0.001, stop=stop)
        got = bytearray()
        next_lines(gen, 50, got)
        shutil.copy(path, tmp_path / "redis.log.1")  # logrotate's copytruncate
        os.truncate(path, 0)
        # Larger than before the truncation when the follower next looks: a size
        # check alone would read on from the old offset.
        writer.write(b"".join(b"line %d\n" % n for n in range(51, 101)))
        assert path.stat().st_size > len(got)
        next_lines(gen, 100, got)
    gen.close()
    timer.cancel()
    assert numbers(bytes(got)) == list(range(1, 101))


def test_a_file_truncated_to_less_is_read_from_its_start(tmp_path):
    path = tmp_path / "redis.log"
    path.write_bytes(b"line 1\nline 2\nline 3\n")
    looks = Looks()
    follower = Collector(path, last=3, stop=looks)
    follower.wait_for(3)
    with open(path, "wb") as f:  # a writer starting over ("w")
        f.write(b"line 4\n")
    follower.wait_for(4)
    assert follower.finish() == [1, 2, 3, 4]


def test_proclog_without_backups_truncates_in_place_and_nothing_is_lost(tmp_path):
    """backups=0: ProcessLog reopens the same file with "w"; the follower starts it over."""
    path = tmp_path / "web.1.log"
    log = ProcessLog("web.1", path, max_bytes=80, backups=0)
    log.feed(b"line 0\n")
    looks = Looks()
    follower = Collector(path, stop=looks)
    looks.after(0)
    for number in range(1, 41):
        follower.wait_for(number - 1)  # the file's old content is gone once it rotates
        log.feed(f"line {number}\n".encode())
    log.close()
    follower.wait_for(40)
    assert follower.finish() == list(range(1, 41))
    assert rotated(path) == []


# ------------------------------------------------------------------ the tail


@pytest.mark.parametrize(
    ("text", "lines", "expected"),
    [
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc", 2, b"b\nc"),  # no final newline
        (b"a\nb\nc\n", 5, b"a\nb\nc\n"),
        (b"a\nb\nc\n", 0, b""),
        (b"", 3, b""),
        (b"\n\n", 1, b"\n"),
    ],
)
def test_tail_start(tmp_path, text, lines, expected):
    path = tmp_path / "log"
    path.write_bytes(text)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert text[tail_start(fd, len(text), lines) :] == expected
    finally:
        os.close(fd)


def test_tail_start_across_read_blocks(tmp_path):
    path = tmp_path / "log"
    text = b"".join(b"%06d %s\n" % (n, b"x" * 200) for n in range(2000))  # ~400 KB
    path.write_bytes(text)
    fd = os.open(path, os.O_RDONLY)
    try:
        tail = text[tail_start(fd, len(text), 700) :]
    finally:
        os.close(fd)
    assert tail.count(b"\n") == 700
    assert tail.startswith(b"001300 ")


# ------------------------------------------------------------------ the command


def test_devenv_logs_follow_keeps_going_across_rotations(tmp_path):
    project = tmp_path / "shop"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "shop"\n')
    path = project / ".devenv" / "logs" / "web.1.log"
    log = ProcessLog("web.1", path, max_bytes=150, backups=3)
    log.feed(b"line -3\nline -2\nline -1\nline 0\n")  # one file still
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devenv", "logs", "web", "-f", "-n", "3"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: list[bytes] = []
    seen = threading.Condition()

    def read() -> None:
        for line in proc.stdout:
            with seen:
                out.append(line)
                seen.notify_all()

    def wait_for(count: int) -> None:
        with seen:
            ok = seen.wait_for(lambda: len(out) >= count or proc.poll() is not None, DEADLINE)
            if not ok or len(out) < count:
                proc.kill()
                pytest.fail(f"saw {out}; devenv said: {proc.communicate()[1]!r}")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(3)  # `web` means web.1; -n 3 shows the last three lines first
        for number in range(1, 101):
            wait_for(3 + number - 6)
            log.feed(f"line {number}\n".encode())
        log.close()
        wait_for(103)
        assert len(rotated(path)) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(DEADLINE)
        reader.join(DEADLINE)
    assert code == 0, proc.stderr.read()
    assert numbers(b"".join(out)) == [-2, -1, 0, *range(1, 101)]
