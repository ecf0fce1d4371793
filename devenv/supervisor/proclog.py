"""The log of one supervised process: a bounded ring in memory, every line on disk.

The supervisor hands ``ProcessLog.feed`` the raw bytes it reads from a child's
stdout pipe. They become plain-text lines (UTF-8 with replacement characters,
escape sequences and control characters removed, so Textual's ``Log`` can show
them as they are), each stamped with the time it arrived. The last ``ring``
lines stay in memory; the file gets every line, rotated by size.

Memory stays bounded whatever the child writes: a line longer than ``max_line``
bytes is cut into pieces, so a process that never writes a newline cannot grow
the buffer, and the ring drops its oldest lines.

Subscribers are called synchronously, once per ``feed`` with that call's lines.
A slow subscriber therefore slows the reader of the pipe, which in turn makes
the child block on a full pipe: backpressure instead of a queue without bound.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line: ``time`` is seconds since the epoch (from the log's clock), ``text`` is plain."""

    time: float
    text: str


@dataclass(frozen=True, slots=True)
class OwnLine(LogLine):
    """A line devenv wrote itself about the process ("started (pid 12)", "sent SIGTERM"), not
    the process's own output: screens set it apart."""


Subscriber = Callable[[list[LogLine]], object]

# Both are applied to a whole block of decoded lines at once; neither can match
# "\n", so line boundaries survive. Escapes go first: ESC is a control character.
_ESCAPES = re.compile(
    r"\x1b(?:"
    r"\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, erase line
    r"|\][^\x07\x1b\n]*(?:\x07|\x1b\\)"  # OSC: window title, hyperlinks (BEL or ST ends it)
    r"|[PX^_][^\x1b\n]*\x1b\\"  # DCS, SOS, PM, APC strings
    r"|[ -/]*[0-~]"  # other escapes: ESC ( B, ESC 7, ESC =, a lone ESC ]
    r")"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline

# Bytes that need no cleaning. Output that is only these (most logs) skips both
# regular expressions: bytes.translate finds out at memchr-like speed.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n"
WRITE_RETRY = 5.0  # seconds before a log file that failed to be written is tried again


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (CSI, OSC and others) or control characters.

    Tab and newline are kept; everything else below U+0020, DEL and the C1
    range U+0080-U+009F are removed (so "\\r\\n" reads as "\\n").
    """
    if "\x1b" in text:
        text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


class ProcessLog:
    """The log of the process ``name``, written to ``path``.

    ``path`` is opened for appending by ``open`` or on the first line (its folder is
    created), so a log that already exists, from an earlier run, is continued. When a
    write would take it past ``max_bytes`` it is renamed ``path.1`` (``path.1``
    to ``path.2`` and so on; ``backups`` old files are kept, the oldest
    removed) and a new file is started. A line is never split across files; a
    single line larger than ``max_bytes`` gets a file to itself.

    Each line in the file reads ``2026-11-26T06:10:00.123 text`` (local time,
    milliseconds). The file is flushed at the end of every ``feed``/``system``
    call, not after every line.

    Lines that arrive in one ``feed`` call share one timestamp: one ``clock()``
    call per read, which is when they reached devenv.

    Use it from one thread (the supervisor's loop). ``tail`` may be called from
    any thread; iterating ``lines`` from another thread may not.
    """

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        ring: int = 10_000,
        max_line: int = 64 * 1024,
        max_bytes: int = 10 * 1024 * 1024,
        backups: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ring < 1 or max_line < 1 or max_bytes < 1 or backups < 0:
            raise ValueError("ring, max_line and max_bytes must be positive, backups >= 0")
        self.name = name
        self.path = Path(path)
        self.max_line = max_line
        self.max_bytes = max_bytes
        self.backups = backups
        self._clock = clock
        self._ring_size = ring
        self._ring: collections.deque[LogLine] = collections.deque(maxlen=ring)
        self._partial = bytearray()  # an incomplete last line, never longer than max_line
        self._file: BinaryIO | None = None
        self._size = 0
        self._write_again_at = float("-inf")  # after a failed write: not before this time
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()  # guards the ring against tail() from another thread
        self._stamp_second: int | None = None
        self._stamp_prefix = ""

    # -- reading ----------------------------------------------------------------

    @property
    def lines(self) -> collections.deque[LogLine]:
        """The last ``ring`` lines, oldest first (the ring itself: do not modify it)."""
        return self._ring

    def tail(self, n: int) -> list[LogLine]:
        """The last ``n`` lines (fewer if the ring holds fewer), oldest first."""
        if n <= 0:
            return []
        with self._lock:
            if n >= len(self._ring):
                return list(self._ring)
            newest_first = [self._ring[-i] for i in range(1, n + 1)]
        newest_first.reverse()
        return newest_first

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(lines)`` with every later batch of lines; returns an unsubscribe.

        One call per ``feed`` (or ``system``, or ``close`` flushing a partial
        line) that produced lines, never one call per line. Callbacks run
        synchronously in the producer's thread, after the lines are in the
        ring and on disk; an exception from one propagates to the producer.
        The list is shared between subscribers: do not modify it.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # -- writing ----------------------------------------------------------------

    def open(self) -> None:
        """Open the file now (creating it and its folder), not on the first line.

        A log that cannot be written then fails here, before its process is started, with a
        DevenvError that names the path and what to do; left to the first line, the failure
        would come in the middle of supervising. Does nothing while the file is open.
        """
        if self._file is not None:
            return
        try:
            self._open()
        except OSError as err:
            from devenv.errors import DevenvError, describe_os_error

            raise DevenvError(
                f"cannot write the log of {self.name}: {describe_os_error(err)}"
            ) from None

    def feed(self, data: bytes) -> None:
        """Take a chunk read from the child's output; complete lines are logged now.

        An incomplete last line waits for the next chunk (or ``close``); once it
        exceeds ``max_line`` bytes it is logged in pieces of at most
        ``max_line`` bytes (a piece is cut a few bytes short rather than inside
        a UTF-8 character). Invalid UTF-8 never raises. After ``close`` the
        file is reopened and appended to: a restarted process keeps its log.
        """
        if not data:
            return
        newline = data.rfind(b"\n")
        if newline < 0:
            self._partial += data
            if len(self._partial) <= self.max_line:
                return
            pieces, rest = _cut(bytes(self._partial), self.max_line)
            self._partial = bytearray(rest)
            self._log(pieces)
            return
        complete = bytes(self._partial) + data[:newline] if self._partial else data[:newline]
        raw = complete.split(b"\n")
        rest = data[newline + 1 :]
        if len(rest) > self.max_line:
            pieces, rest = _cut(rest, self.max_line)
        else:
            pieces = []
        self._partial = bytearray(rest)
        if max(map(len, raw)) > self.max_line:
            raw = _cut_all(raw, self.max_line)
        raw.extend(pieces)
        self._log(raw)

    def system(self, text: str) -> None:
        """Log a line written by devenv itself ("started (pid 12)", "exited with code 1").

        It is stored like the child's lines (a newline in ``text`` makes more
        than one). A partial line from the child stays pending: call ``close``
        first when the child's output has ended, so its last line comes before.
        """
        texts = strip_ansi(text).split("\n")
        self._emit(texts, self._clock(), OwnLine)

    def close(self) -> None:
        """Log a pending partial line, then flush and close the file. Safe to call twice.

        A later ``feed`` or ``system`` reopens the file and appends to it.
        """
        try:
            if self._partial:
                partial, self._partial = bytes(self._partial), bytearray()
                self._log([partial])
        finally:  # even if a subscriber raised: the line is on disk by then
            file, self._file = self._file, None
            if file is not None:
                with contextlib.suppress(OSError):  # already reported when its write failed
                    file.close()

    # -- the plumbing -----------------------------------------------------------

    def _log(self, raw: list[bytes]) -> None:
        # One decode and one regex pass for the whole batch: "\n" is never part
        # of a multi-byte sequence, so joining, decoding and splitting again
        # gives the same lines as decoding them one by one, much faster.
        data = b"\n".join(raw)
        text = data.decode("utf-8", errors="replace")
        if data.translate(None, _PLAIN_BYTES):
            text = strip_ansi(text)
        self._emit(text.split("\n"), self._clock())

    def _emit(self, texts: list[str], now: float, kind: type[LogLine] = LogLine) -> None:
        prefix = self._prefix(now)
        block = prefix + ("\n" + prefix).join(texts) + "\n"
        subscribers = tuple(self._subscribers)
        # Without subscribers only what the ring keeps needs to become LogLines.
        kept = texts if subscribers else texts[-self._ring_size :]
        batch = [kind(now, text) for text in kept]
        with self._lock:
            self._ring.extend(batch)
        if now >= self._write_again_at:
            try:
                self._write(block.encode("utf-8", errors="replace"))
            except OSError as err:
                batch.append(self._write_failed(err, now))
        for callback in subscribers:
            callback(batch)

    def _write_failed(self, err: OSError, now: float) -> LogLine:
        """The file cannot be written (a full disk, the folder removed): the lines stay in
        memory and reach the screen, supervision goes on, and the file is tried again later.
        """
        self._write_again_at = now + WRITE_RETRY
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        line = OwnLine(
            now,
            f"devenv: cannot write {self.path} ({err.strerror or err}); its lines are kept "
            f"in memory only, trying again in {WRITE_RETRY:g} s",
        )
        with self._lock:
            self._ring.append(line)
        return line

    def _prefix(self, now: float) -> str:
        millis = round(now * 1000)
        second, ms = divmod(millis, 1000)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second))
        return f"{self._stamp_prefix}.{ms:03d} "

    def _write(self, block: bytes) -> None:
        file = self._file if self._file is not None else self._open()
        while self._size + len(block) > self.max_bytes:
            room = self.max_bytes - self._size
            fits = block.rfind(b"\n", 0, room) + 1 if room > 0 else 0
            if not fits and self._size == 0:
                fits = block.find(b"\n") + 1  # one line larger than a whole file
            if fits:
                file.write(block[:fits])
                self._size += fits
                block = block[fits:]
            if not block:
                break
            file = self._rotate(file)
        if block:
            file.write(block)
            self._size += len(block)
        file.flush()

    def _open(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self._file = _private(self.path, "ab")
        self._size = os.fstat(file.fileno()).st_size
        return file

    def _rotate(self, file: BinaryIO) -> BinaryIO:
        """``file`` (the open log) closed and moved to the first backup; the new log, open."""
        file.close()
        if self.backups:
            for index in range(self.backups - 1, 0, -1):
                older = self._backup(index)
                if older.exists():
                    os.replace(older, self._backup(index + 1))
            os.replace(self.path, self._backup(1))
        file = self._file = _private(self.path, "wb")
        self._size = 0
        return file

    def _backup(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")


def _cut(line: bytes, limit: int) -> tuple[list[bytes], bytes]:
    """Pieces of at most ``limit`` bytes taken off the front of ``line``, and what is left.

    What is left is at most ``limit`` bytes. A cut backs off (up to 3 bytes)
    rather than land inside a UTF-8 character.
    """
    pieces = []
    start = 0
    while len(line) - start > limit:
        end = start + limit
        while end > start + 1 and end > start + limit - 3 and line[end] & 0xC0 == 0x80:
            end -= 1
        pieces.append(line[start:end])
        start = end
    return pieces, line[start:]


def _cut_all(lines: Iterable[bytes], limit: int) -> list[bytes]:
    out: list[bytes] = []
    for line in lines:
        if len(line) > limit:
            pieces, rest = _cut(line, limit)
            out.extend(pieces)
            out.append(rest)
        else:
            out.append(line)
    return out


def _private(path: Path, mode: Literal["ab", "wb"]) -> BinaryIO:
    """``path`` opened for writing (``mode`` "ab" or "wb"), readable by its owner only: a
    process's output may hold anything it prints, secrets included."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # a file made before, by an older devenv
    return os.fdopen(fd, mode, buffering=64 * 1024)
