"""ProcessLog: lines from raw pipe chunks, a bounded ring, every line on disk, rotation."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from devenv.errors import DevenvError
from devenv.supervisor.proclog import LogLine, OwnLine, ProcessLog, strip_ansi

STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} ")


def file_texts(path: Path) -> list[str]:
    """The text of each line in a log file, without its timestamp."""
    lines = path.read_bytes().decode().splitlines()
    return [line.split(" ", 1)[1] for line in lines]


def texts(log: ProcessLog) -> list[str]:
    return [line.text for line in log.lines]


def test_lines_split_across_chunks(tmp_path):
    log = ProcessLog("web.1", tmp_path / "web.1.log")
    for chunk in (b"hel", b"lo\nwor", b"ld\n\nlast", b" one\n"):
        log.feed(chunk)
    assert texts(log) == ["hello", "world", "", "last one"]
    log.close()
    assert file_texts(tmp_path / "web.1.log") == ["hello", "world", "", "last one"]


def test_crlf_is_a_newline_even_split_between_chunks(tmp_path):
    log = ProcessLog("web.1", tmp_path / "log")
    log.feed(b"one\r\ntwo\r")
    log.feed(b"\nthree\r\n")
    assert texts(log) == ["one", "two", "three"]


def test_close_flushes_a_partial_last_line_and_is_idempotent(tmp_path):
    path = tmp_path / "log"
    log = ProcessLog("web.1", path)
    log.feed(b"complete\nno newline at the e")
    log.feed(b"nd")
    assert texts(log) == ["complete"]
    log.close()
    log.close()
    assert texts(log) == ["complete", "no newline at the end"]
    assert file_texts(path) == ["complete", "no newline at the end"]


def test_feed_after_close_reopens_and_appends(tmp_path):
    """A restarted process keeps writing to the same log."""
    path = tmp_path / "logs" / "worker.1.log"  # the folder is created
    log = ProcessLog("worker.1", path)
    log.feed(b"first run\n")
    log.close()
    log.system("restarting")
    log.feed(b"second run\n")
    log.close()
    assert file_texts(path) == ["first run", "restarting", "second run"]
    # A new ProcessLog (devenv itself restarted) continues the file too.
    again = ProcessLog("worker.1", path)
    again.feed(b"third run\n")
    again.close()
    assert file_texts(path)[-1] == "third run"


def test_ansi_colours_and_osc_titles_are_stripped(tmp_path):
    path = tmp_path / "log"
    log = ProcessLog("web.1", path)
    log.feed(
        b"\x1b[1;32mINFO\x1b[0m ready\n"
        b"\x1b]0;my window title\x07after title\n"
        b"\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ text\n"
        b"\x1b[2K\x1b[1Gprogress\x1b(B\x1b7 done\n"
        b"tab\tkept, bell\x07 and del\x7f gone\n"
    )
    log.close()
    expected = [
        "INFO ready",
        "after title",
        "link text",
        "progress done",
        "tab\tkept, bell and del gone",
    ]
    assert texts(log) == expected
    assert file_texts(path) == expected
    assert b"\x1b" not in path.read_bytes()


def test_strip_ansi_helper():
    assert strip_ansi("\x1b[31mred\x1b[0m\r\n\x1b]2;title\x1b\\plain\x00") == "red\nplain"
    assert strip_ansi("no escapes\there") == "no escapes\there"
    assert strip_ansi("lone escape at the end \x1b") == "lone escape at the end "


def test_invalid_utf8_is_replaced_without_raising(tmp_path):
    path = tmp_path / "log"
    log = ProcessLog("web.1", path)
    log.feed(b"bad \xff\xfe byte\ncut \xe2\x82")  # and a character cut by the chunk...
    log.feed(b"\xac euro\n")  # ...completed by the next one
    log.feed(b"\xc3\n")  # a truncated character before a newline
    log.close()
    assert texts(log) == ["bad \ufffd\ufffd byte", "cut € euro", "\ufffd"]
    assert file_texts(path) == texts(log)


def test_a_long_line_without_newline_is_cut_and_the_buffer_stays_bounded(tmp_path):
    max_line = 64 * 1024
    path = tmp_path / "log"
    log = ProcessLog("spinner.1", path, max_line=max_line)
    mib = 1024 * 1024
    tracemalloc.start()
    try:
        for _ in range(mib // 4096):  # 1 MiB, no newline, in pipe-sized reads
            log.feed(b"x" * 4096)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Everything but the last max_line bytes is already logged: the buffer
    # never held more than max_line bytes (plus one read).
    assert [len(line.text) for line in log.lines] == [max_line] * 15
    # The ring holds 15 lines of 64 KiB (~1 MiB); the buffer adds at most
    # max_line + 4 KiB. Keeping the whole line pending would add another MiB.
    assert peak < 1.5 * mib
    log.close()
    assert [len(line.text) for line in log.lines] == [max_line] * 16

    # The same megabyte in one chunk, then its newline.
    log = ProcessLog("spinner.2", tmp_path / "log2", max_line=max_line)
    log.feed(b"y" * mib)
    log.feed(b"\n")
    assert [len(line.text) for line in log.lines] == [max_line] * 16


def test_cutting_a_long_line_does_not_split_a_utf8_character(tmp_path):
    log = ProcessLog("web.1", tmp_path / "log", max_line=10)
    log.feed("aaaaaaaa€€€\n".encode())  # € is 3 bytes: the cut at byte 10 would split it
    assert texts(log) == ["aaaaaaaa", "€€€"]
    assert "\ufffd" not in "".join(texts(log))


def test_timestamps_come_from_the_injected_clock(tmp_path):
    path = tmp_path / "log"
    times = iter([1_800_000_000.123, 1_800_000_061.5, 1_800_000_100.0])
    log = ProcessLog("web.1", path, clock=lambda: next(times))
    log.feed(b"one\ntwo\n")  # one read, one clock() call: both lines share it
    log.feed(b"three\n")
    log.system("exited with code 1")
    log.close()
    assert list(log.lines) == [
        LogLine(1_800_000_000.123, "one"),
        LogLine(1_800_000_000.123, "two"),
        LogLine(1_800_000_061.5, "three"),
        OwnLine(1_800_000_100.0, "exited with code 1"),
    ]

    def stamp(seconds: int, ms: str) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(seconds)) + f".{ms} "

    assert path.read_text().splitlines() == [
        stamp(1_800_000_000, "123") + "one",
        stamp(1_800_000_000, "123") + "two",
        stamp(1_800_000_061, "500") + "three",
        stamp(1_800_000_100, "000") + "exited with code 1",
    ]


def test_subscribers_get_one_batch_per_feed(tmp_path):
    log = ProcessLog("web.1", tmp_path / "log")
    batches: list[list[LogLine]] = []
    unsubscribe = log.subscribe(batches.append)
    log.feed(b"a\nb\nc\n")
    log.feed(b"partial")  # no complete line: no call
    log.feed(b" line\nd\n")
    log.system("started (pid 12)")
    assert [[line.text for line in batch] for batch in batches] == [
        ["a", "b", "c"],
        ["partial line", "d"],
        ["started (pid 12)"],
    ]
    unsubscribe()
    unsubscribe()  # harmless twice
    log.feed(b"e\n")
    assert len(batches) == 3


def test_devenvs_own_lines_are_told_apart_from_the_processs_output(tmp_path):
    """The supervisor's "started (pid 12)" is devenv's line (OwnLine, which a screen sets
    apart); what the process printed, even the same words, is the process's."""
    log = ProcessLog("web.1", tmp_path / "log")
    batches: list[list[LogLine]] = []
    log.subscribe(batches.append)
    log.feed(b"started (pid 12)\n")
    log.system("started (pid 13)\nsecond line")
    kinds = [(type(line), line.text) for batch in batches for line in batch]
    assert kinds == [
        (LogLine, "started (pid 12)"),
        (OwnLine, "started (pid 13)"),
        (OwnLine, "second line"),
    ]
    assert [type(line) for line in log.tail(3)] == [LogLine, OwnLine, OwnLine]


def test_a_slow_subscriber_slows_the_producer(tmp_path):
    """Backpressure: feed() returns only after every subscriber has taken its batch."""
    log = ProcessLog("web.1", tmp_path / "log")
    seen: list[str] = []

    def slow(batch: list[LogLine]) -> None:
        time.sleep(0.05)
        seen.extend(line.text for line in batch)

    log.subscribe(slow)
    log.feed(b"one\n")
    assert seen == ["one"]  # delivered before feed() returned: nothing queued


def test_ring_and_tail(tmp_path):
    log = ProcessLog("web.1", tmp_path / "log", ring=5)
    log.feed(b"".join(b"%d\n" % i for i in range(12)))
    assert texts(log) == ["7", "8", "9", "10", "11"]
    assert [line.text for line in log.tail(2)] == ["10", "11"]
    assert [line.text for line in log.tail(50)] == ["7", "8", "9", "10", "11"]
    assert log.tail(0) == []
    log.close()
    assert len(file_texts(tmp_path / "log")) == 12


def test_rotation_keeps_at_most_backups_old_files(tmp_path):
    path = tmp_path / "web.1.log"
    log = ProcessLog("web.1", path, max_bytes=300, backups=2)
    for i in range(100):
        log.feed(b"line %03d\n" % i)  # 33 bytes a line with its timestamp
    log.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["web.1.log", "web.1.log.1", "web.1.log.2"]
    rotated = [path.with_name("web.1.log.2"), path.with_name("web.1.log.1"), path]
    for file in rotated:
        assert 0 < file.stat().st_size <= 300
        assert all(STAMP.match(line) for line in file.read_bytes().splitlines())
    kept = [text for file in rotated for text in file_texts(file)]
    # The newest lines, in order and whole: 9 lines of 33 bytes fill a file.
    assert kept == [f"line {i:03d}" for i in range(100 - len(kept), 100)]
    assert len(kept) > 18


def test_a_line_larger_than_max_bytes_gets_a_file_to_itself(tmp_path):
    path = tmp_path / "log"
    log = ProcessLog("web.1", path, max_bytes=100, backups=5)
    log.feed(b"short\n" + b"z" * 500 + b"\nafter\n")
    log.close()
    assert file_texts(path.with_name("log.2")) == ["short"]
    assert file_texts(path.with_name("log.1")) == ["z" * 500]
    assert file_texts(path) == ["after"]


def test_no_backups_truncates(tmp_path):
    path = tmp_path / "log"
    log = ProcessLog("web.1", path, max_bytes=100, backups=0)
    for i in range(20):
        log.feed(b"line %d\n" % i)
    log.close()
    assert [p.name for p in tmp_path.iterdir()] == ["log"]
    assert file_texts(path)[-1] == "line 19"
    assert path.stat().st_size <= 100


def flood(lines: int, chunk: int = 64 * 1024):
    """A child's output of ``lines`` numbered lines, in pipe reads of ``chunk`` bytes.

    Generated a read at a time, so the test itself holds no more than one chunk.
    """
    pending = b""
    batch = 2000
    for first in range(0, lines, batch):
        pending += b"".join(
            b"\x1b[32mINFO\x1b[0m request %d done\n" % i
            for i in range(first, min(first + batch, lines))
        )
        while len(pending) >= chunk:
            yield pending[:chunk]
            pending = pending[chunk:]
    if pending:
        yield pending


def test_a_million_line_flood_keeps_memory_bounded_and_every_line_on_disk(tmp_path):
    total = 1_000_000
    path = tmp_path / "flood.log"
    # ~43 MB of log: 4 MB files and 20 backups keep all of it while rotating ~10 times.
    log = ProcessLog("flood.1", path, max_bytes=4 * 1024 * 1024, backups=20)
    calls = 0
    received = 0

    def count(batch: list[LogLine]) -> None:
        nonlocal calls, received
        calls += 1
        received += len(batch)

    log.subscribe(count)
    feeds = 0
    tracemalloc.start()
    try:
        for chunk in flood(total):
            log.feed(chunk)
            feeds += 1
        log.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(log.lines) == 10_000
    assert log.lines[-1].text == f"INFO request {total - 1} done"
    assert calls == feeds  # every 64 KiB read ends some line: one batch per feed
    assert received == total
    # The ring: 10,000 LogLines of ~30 characters, ~1.5 MB. One feed adds its
    # 64 KiB read, ~1,800 lines as bytes, str and LogLine (~0.4 MB) and the
    # timestamped block written (~100 KB): ~2.3 MB measured. 8 MB leaves room for
    # other Pythons; keeping every line (or every batch queued) would take > 40 MB.
    assert peak < 8 * 1024 * 1024

    files = [path.with_name(f"flood.log.{i}") for i in range(20, 0, -1)] + [path]
    files = [file for file in files if file.exists()]
    assert len(files) > 5  # it did rotate
    assert not path.with_name("flood.log.21").exists()
    expected = 0
    for file in files:
        assert file.stat().st_size <= 4 * 1024 * 1024
        for line in file.read_bytes().splitlines():
            assert line.endswith(b"INFO request %d done" % expected)
            expected += 1
    assert expected == total


def test_core_module_does_not_import_textual():
    code = (
        "import sys, devenv.supervisor.proclog;"
        " assert 'textual' not in sys.modules, 'textual imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_invalid_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError):
        ProcessLog("web.1", tmp_path / "log", ring=0)


def test_open_makes_the_file_now_and_a_log_that_cannot_be_written_says_where(tmp_path):
    log = ProcessLog("web.1", tmp_path / "logs" / "web.1.log")
    log.open()
    log.open()  # open already: nothing happens
    assert (tmp_path / "logs" / "web.1.log").read_bytes() == b""
    log.feed(b"hello\n")
    log.close()
    assert file_texts(tmp_path / "logs" / "web.1.log") == ["hello"]

    (tmp_path / "blocked").write_text("a file where a folder belongs")
    with pytest.raises(DevenvError, match=r"web\.1: .*/blocked is not a folder.*move it away"):
        ProcessLog("web.1", tmp_path / "blocked" / "web.1.log").open()
    (tmp_path / "web.1.log").mkdir()
    with pytest.raises(DevenvError, match=r"web\.1: .*/web\.1\.log is a folder where devenv"):
        ProcessLog("web.1", tmp_path / "web.1.log").open()
