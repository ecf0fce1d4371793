"""How ``devenv up`` ends when nobody is there to quit it: SIGHUP, SIGTERM, its terminal gone.

Both faces of ``devenv up`` use this module; it imports no Textual.

What a caller may rely on:

- ``Guard(stop=..., quit=..., on_gone=...).install(loop)`` (on the main thread): from then
  on SIGHUP, SIGTERM and, with ``watch_terminal``, a terminal that hung up (closed window,
  killed tmux, closed pty: its descriptors report POLLHUP, reads return nothing,
  ``tcgetattr`` fails with EIO) each lead to one clean stop. ``stop`` (blocking, once,
  returns the exit code) is called on the guard's own thread, so the stop happens even when
  the UI's loop is stuck; on that loop, ``quit`` is called to show the stop while the
  terminal lives, ``on_gone`` once it is gone (nothing can be shown: close the UI).
- A terminal that hung up is first pointed at /dev/null and at a pipe that never speaks
  (``silence_dead_terminal``): a UI that keeps writing to it no longer fails, and one that
  keeps reading it no longer spins on end-of-file.
- The process exits once the stop is done if the terminal is gone; else the caller exits
  its own way. Either way, ``grace`` seconds (GRACE) after the first signal or hang-up at
  the latest, ``Deadline`` sends what this process started SIGTERM, then SIGKILL, and
  exits with ``os._exit``.

A Python signal handler runs on the main thread even while it waits on a lock, which is
where a UI stuck writing to a dead terminal waits; the handler only writes a byte to a
pipe, and everything else happens on the guard's thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import termios
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import asyncio
    from types import FrameType

    # What signal.signal takes and returns: a function, SIG_DFL or SIG_IGN, or None (a
    # handler that was not installed from Python).
    SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None

GRACE = 7.0
"""Seconds from the first SIGHUP/SIGTERM/hang-up to the last resort (the stop's own budget)."""
KILL_WAIT = 1.0
"""Seconds the last resort waits between SIGTERM and SIGKILL."""
CHECK_EVERY = 1.0
"""Seconds between two looks at the terminal where poll cannot see a hang-up (macOS ttys)."""
STD_FDS = (0, 1, 2)


def grace_for(stop_timeouts: Iterable[float]) -> float:
    """GRACE, or longer when a process asks for more time to stop (its ``stop_timeout``):
    the last resort never cuts short a grace period the project asked for."""
    return max([GRACE, *(timeout + 2.0 for timeout in stop_timeouts)])


SIGNALS = (signal.SIGHUP, signal.SIGTERM)
_CLOSE = b"\0"  # on the wake-up pipe: the guard is closed (signal numbers are never 0)
# What a terminal that hung up answers: EIO on Linux, ENXIO ("Device not configured") on macOS.
_GONE = frozenset({errno.EIO, errno.ENXIO})


def is_terminal(fd: int) -> bool:
    """True when ``fd`` is a terminal that still answers (a hung-up one does not)."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return True


def terminal_gone(fd: int) -> bool:
    """True when ``fd`` is a terminal that hung up (EIO); False for a live one or a non-tty."""
    try:
        termios.tcgetattr(fd)
    except termios.error as err:
        return bool(err.args) and err.args[0] in _GONE
    except OSError as err:
        return err.errno in _GONE
    return False


_quiet_pipe: tuple[int, int] | None = None


def silence_dead_terminal(
    fds: tuple[int, ...] = STD_FDS, *, all_of_them: bool = False, reader: int = 0
) -> None:
    """Point the descriptors whose terminal hung up at nothing (``all_of_them``: each of ``fds``).

    ``reader`` (standard input) becomes the read end of a pipe whose write end stays open
    and silent: a reader waits instead of reading end-of-file over and over. The others
    become /dev/null: writes succeed and go nowhere. Descriptors that are not a dead
    terminal are left alone.
    """
    global _quiet_pipe
    for fd in fds:
        if not (all_of_them or terminal_gone(fd)):
            continue
        with contextlib.suppress(OSError):
            if fd == reader:
                if _quiet_pipe is None:
                    _quiet_pipe = os.pipe()  # both ends kept for the life of the process
                os.dup2(_quiet_pipe[0], fd)
            else:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)


class TerminalOutput:
    """A text stream over ``stream`` (say ``sys.stdout``) that survives its terminal hanging up.

    A write or flush failing with EIO or ENXIO (the terminal is gone) points the descriptor
    at /dev/null and carries on, so a thread printing a process's output never fails because
    the window was closed.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _guarded(self, call: Callable[[], object]) -> None:
        try:
            call()
        except OSError as err:
            if err.errno not in _GONE:
                raise
            with contextlib.suppress(OSError, ValueError):
                silence_dead_terminal((self._stream.fileno(),), all_of_them=True)
            with contextlib.suppress(OSError):
                self._stream.flush()  # what was buffered goes to /dev/null

    def write(self, text: str) -> int:
        self._guarded(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


def kill_children(wait: float = KILL_WAIT) -> list[int]:
    """SIGTERM every process this one started (and their process groups), SIGKILL what is left
    after ``wait`` seconds; return the pids that were found. For the last resort only: the
    clean stop asks each server to shut down its own way."""
    import psutil

    me = psutil.Process()
    try:
        children = me.children(recursive=True)
    except psutil.Error:
        return []
    own_group = os.getpgrp()
    found = [child.pid for child in children]

    def send(sig: int) -> None:
        groups: set[int] = set()
        for child in children:
            with contextlib.suppress(OSError):
                group = os.getpgid(child.pid)
                if group != own_group and group not in groups:
                    groups.add(group)
                    os.killpg(group, sig)  # the process's helpers with it (postgres backends)
            with contextlib.suppress(psutil.Error):
                child.send_signal(sig)

    send(signal.SIGTERM)
    _, alive = psutil.wait_procs(children, timeout=wait)
    if alive:
        children = alive
        send(signal.SIGKILL)
        psutil.wait_procs(alive, timeout=wait)
    return found


class Deadline:
    """Once armed, ends the process ``seconds`` later unless it has exited by then: what it
    started gets SIGTERM, then SIGKILL (``kill_children``), and ``os._exit(code())``."""

    def __init__(self, code: Callable[[], int] = lambda: 1) -> None:
        self._code = code
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()  # re-entered by a signal handler that interrupts arm()

    def arm(self, seconds: float) -> None:
        """Start the countdown (a second call changes nothing)."""
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(seconds, self._expire)
                self._timer.name = "devenv-deadline"
                self._timer.daemon = True  # a process that exits in time is not held back
                self._timer.start()

    def _expire(self) -> None:
        try:
            kill_children()
        finally:
            os._exit(self._code())


class Guard:
    """Turns SIGHUP, SIGTERM and a hung-up terminal into one clean stop, then an exit.

    ``stop()``: blocking, safe from any thread, does the work once (a second call waits for
    the first and returns); returns the exit code. ``quit()``: called on ``loop`` (the UI's
    event loop) to show that devenv is stopping; it may stop too, through the same ``stop``.
    ``on_gone()``: called on ``loop`` once the terminal hung up, instead of ``quit``.
    ``watch_terminal``: also stop when the terminal hangs up (the descriptors 0-2 that are
    terminals when installed), even when no SIGHUP comes (devenv is not the terminal's
    session). After the stop the guard exits the process itself only when the terminal is
    gone (nothing could be shown, and a UI would wait forever on it); otherwise the caller
    exits its own way, within ``grace`` seconds of the first signal or ``Deadline`` does.
    """

    def __init__(
        self,
        *,
        stop: Callable[[], int],
        quit: Callable[[], object] | None = None,
        on_gone: Callable[[], object] | None = None,
        watch_terminal: bool = True,
        grace: float = GRACE,
    ) -> None:
        self._stop = stop
        self._quit = quit
        self._on_gone = on_gone
        self._watch_terminal = watch_terminal
        self._grace = grace
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)  # a signal handler must never block
        self._previous: dict[int, SignalHandler] = {}
        self._ttys: tuple[int, ...] = ()
        self._watcher: threading.Thread | None = None
        self._triggered = threading.Lock()
        self._code: int | None = None
        self.reason: str | None = None
        """What started the stop: "SIGHUP", "SIGTERM" or "terminal gone"; None until then."""
        self.gone = threading.Event()
        """Set once the terminal hung up."""
        self.stopped = threading.Event()
        """Set once ``stop`` returned on the guard's thread."""
        self.deadline = Deadline(self._exit_code)

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> Guard:
        """Handle the signals (on the main thread only) and start watching; ``loop``: where
        ``quit`` and ``on_gone`` run (the UI's running loop), None to not call them."""
        self._loop = loop
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        if self._watch_terminal:
            self._ttys = tuple(fd for fd in STD_FDS if is_terminal(fd))
        self._watcher = threading.Thread(target=self._watch, name="devenv-hangup", daemon=True)
        self._watcher.start()
        return self

    def close(self) -> None:
        """Give the signals back and stop watching. An armed deadline stays armed: a stop
        under way still ends the process in time."""
        if threading.current_thread() is threading.main_thread():
            for signum, previous in self._previous.items():
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(signum, previous)
        self._previous.clear()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, _CLOSE)

    def _on_signal(self, signum: int, frame: object) -> None:
        with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
            os.write(self._wake_w, bytes([signum]))

    # -- the guard's thread --------------------------------------------------------------

    def _watch(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        for fd in self._ttys:
            poller.register(fd, 0)  # 0: only POLLHUP/POLLERR/POLLNVAL, never "input ready"
        while True:
            hung_up = False
            for fd, mask in poller.poll(CHECK_EVERY * 1000 if self._ttys else None):
                if fd == self._wake_r:
                    for byte in os.read(self._wake_r, 64):
                        if byte == _CLOSE[0]:
                            return
                        self._trigger(signal.Signals(byte).name)
                elif mask & (select.POLLHUP | select.POLLERR):
                    hung_up = True
                elif mask & select.POLLNVAL:
                    poller.unregister(fd)  # cannot be polled (a macOS tty): CHECK_EVERY looks
            if self._ttys and (hung_up or any(terminal_gone(fd) for fd in self._ttys)):
                for fd in self._ttys:
                    with contextlib.suppress(KeyError):
                        poller.unregister(fd)
                self._ttys = ()
                self._hung_up()

    def _hung_up(self) -> None:
        self._mark_gone()
        self._trigger("terminal gone")

    def _mark_gone(self) -> None:
        silence_dead_terminal()  # before anything else writes to it or reads it
        if self.gone.is_set():
            return
        self.gone.set()
        if self.stopped.is_set():
            os._exit(self._exit_code())  # see _stop_all
        self._on_loop(self._on_gone)

    def _on_loop(self, callback: Callable[[], object] | None) -> None:
        if callback is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the UI is gone already
                self._loop.call_soon_threadsafe(callback)

    def _exit_code(self) -> int:
        return 1 if self._code is None else self._code

    def _trigger(self, reason: str) -> None:
        if reason == "SIGHUP" and any(terminal_gone(fd) for fd in STD_FDS):
            self._mark_gone()
        if not self._triggered.acquire(blocking=False):
            return  # stopping already: a second signal changes nothing (the deadline holds)
        self.reason = reason
        self.deadline.arm(self._grace)
        threading.Thread(target=self._stop_all, name="devenv-stop", daemon=True).start()

    def _stop_all(self) -> None:
        if not self.gone.is_set():
            self._on_loop(self._quit)  # there is someone to show the stop to
        try:
            self._code = self._stop()
        except BaseException:
            self._code = 1
            kill_children()  # a stop that failed half-way leaves no orphans either
            raise  # its traceback, for whoever still reads stderr
        finally:
            self.stopped.set()
            # With the terminal gone nothing can be shown any more, and a UI's own exit would
            # wait on it (Textual's writer thread dies on EIO and its queue fills): exit now.
            # (_mark_gone does the same when the terminal goes after the stop.)
            if self.gone.is_set():
                os._exit(self._exit_code())
