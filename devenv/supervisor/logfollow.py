"""Following a log file the way ``tail -F`` does: across rotation and truncation.

``follow(path)`` yields the bytes written to ``path`` as they arrive, in
order, each byte once:

- **Rotation by renaming** (devenv.supervisor.proclog renames ``web.1.log`` to
  ``web.1.log.1``, ``.1`` to ``.2`` and so on, then starts a new file): when
  the file at ``path`` is another one than the one being read, the rest of the
  old one is read first, then the rotated files newer than it (found by the
  ``.N`` names, so a writer that rotated twice between two looks loses
  nothing), then the new file from its start.
- **Truncation in place** (copytruncate, or a writer reopening with "w"): the
  file is read again from its start. It is noticed even when the file has
  grown past the old position again before the next look, because the last
  bytes read must still be where they were.
- **A missing path** (between a rename and the new file, or before the first
  line) is waited for.

Chunks are what one read returned: a line may be split across two chunks.
Nothing here imports more than the standard library.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

DEFAULT_POLL = 0.1  # seconds between looks when nothing new was read
CHUNK = 64 * 1024
_ANCHOR = 64  # bytes: the end of what was read, which must stay put unless truncated
_MAX_BACKUPS = 64  # how far the search for rotated files goes (.1 ... .64)


def follow(
    path: str | os.PathLike[str],
    *,
    last: int = 0,
    poll: float = DEFAULT_POLL,
    stop: threading.Event | None = None,
) -> Iterator[bytes]:
    """Yield the last ``last`` lines of ``path``, then everything written to it after.

    When ``path`` does not exist yet it is waited for, then read from its
    start. Runs until ``stop`` is set (checked between reads and at every
    ``poll``) or the generator is closed; open files are closed either way.
    """
    path = Path(path)
    stop = stop if stop is not None else threading.Event()
    current = _open(path)
    if current is not None:
        current.seek(tail_start(current.fd, os.fstat(current.fd).st_size, last))
    else:
        current = _wait_open(path, poll, stop)  # a file that appears is read from its start
        if current is None:
            return
    pending: list[_Reader] = []  # newer files still to read, oldest first
    try:
        while not stop.is_set():
            data = current.read()
            if data:
                yield data
                continue
            newer = _replaced(path, current)
            if newer is None:
                stop.wait(poll)
                continue
            # A renamed file is complete (the writer closed it first): read its rest,
            # then each newer one, then follow the newest.
            pending = newer
            yield from current.drain()
            current.close()
            while len(pending) > 1:
                yield from pending[0].drain()
                pending.pop(0).close()
            current = pending.pop()
    finally:
        for reader in (current, *pending):
            reader.close()


def tail_start(fd: int, size: int, lines: int) -> int:
    """The offset where the last ``lines`` lines of the first ``size`` bytes of ``fd`` begin.

    A final newline ends the last line rather than starting an empty one;
    ``lines <= 0`` gives ``size``.
    """
    if lines <= 0:
        return size
    end = size - 1 if size and os.pread(fd, 1, size - 1) == b"\n" else size
    found = 0
    while end > 0:
        start = max(0, end - CHUNK)
        block = os.pread(fd, end - start, start)
        at = len(block)
        while (at := block.rfind(b"\n", 0, at)) >= 0:
            found += 1
            if found == lines:
                return start + at + 1
        end = start
    return 0


class _Reader:
    """One open file, read by offset; knows the file it is (device, inode)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        st = os.fstat(fd)
        self.identity = (st.st_dev, st.st_ino)
        self.pos = 0
        self.anchor = b""  # the last bytes read, as they were read

    def seek(self, pos: int) -> None:
        self.anchor = os.pread(self.fd, min(pos, _ANCHOR), pos - min(pos, _ANCHOR))
        self.pos = pos

    def read(self) -> bytes:
        """What follows what was read; from the start again if the file was truncated."""
        data = os.pread(self.fd, CHUNK, self.pos)
        # Checked after the read: if the truncation came before it, the anchor is gone
        # and ``data`` (read from the new content at the old offset) is dropped.
        if self._truncated():
            self.pos, self.anchor = 0, b""
            data = os.pread(self.fd, CHUNK, 0)
        if data:
            self.pos += len(data)
            self.anchor = (self.anchor + data)[-_ANCHOR:]
        return data

    def _truncated(self) -> bool:
        if not self.anchor:
            return False
        return os.pread(self.fd, len(self.anchor), self.pos - len(self.anchor)) != self.anchor

    def drain(self) -> Iterator[bytes]:
        while data := self.read():
            yield data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _open(path: Path) -> _Reader | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return _Reader(fd)


def _wait_open(path: Path, poll: float, stop: threading.Event) -> _Reader | None:
    while not stop.is_set():
        reader = _open(path)
        if reader is not None:
            return reader
        stop.wait(poll)
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_dev, st.st_ino


def _replaced(path: Path, current: _Reader) -> list[_Reader] | None:
    """The files that came after ``current``, oldest first; None while it is still ``path``.

    None too while ``path`` is missing (a rotation half done): it is waited for.
    """
    now = _identity(path)
    if now is None or now == current.identity:
        return None
    chain = _rotated_chain(path, current.identity)
    ids = [reader.identity for reader in chain]
    if current.identity in ids:
        at = ids.index(current.identity)
        newer, done = chain[at + 1 :], chain[: at + 1]
    elif os.fstat(current.fd).st_nlink == 0:
        # Deleted: rotated past the last backup kept, so every file left is newer.
        newer, done = chain, []
    else:
        # Moved somewhere these names do not reach (another rotation scheme): like
        # tail -F, go on with the file at the path only.
        newest = chain[-1] if chain and chain[-1].identity == now else None
        newer = [newest] if newest is not None else []
        done = [reader for reader in chain if reader is not newest]
    for reader in done:
        reader.close()
    return newer or None


def _rotated_chain(path: Path, stop_at: tuple[int, int]) -> list[_Reader]:
    """``path``, ``path.1``, ``path.2`` ... opened, oldest first, each file once.

    They are opened newest name first: a rotation meanwhile only moves files
    to older names, so a file may be met twice (kept once) but never skipped,
    and the order stays right. The search ends at the file ``stop_at``, or at
    two missing names in a row (one may be missing while a rotation shifts them).
    """
    found: list[_Reader] = []
    seen: set[tuple[int, int]] = set()
    missing = 0
    for index in range(_MAX_BACKUPS + 1):
        name = path if index == 0 else path.with_name(f"{path.name}.{index}")
        reader = _open(name)
        if reader is None:
            missing += 1
            if missing == 2 and index > 0:
                break
            continue
        missing = 0
        if reader.identity in seen:
            reader.close()
            continue
        seen.add(reader.identity)
        found.append(reader)
        if reader.identity == stop_at:
            break
    found.reverse()
    return found
