"""Readiness probes for supervised processes: an HTTP GET, a TCP connect, or a log line.

``watch(probe, log)`` must be called before the process's output is read (a
log probe subscribes to the log right away, so it sees every line of this
run and none of an earlier one); ``await Watch.wait(clock)`` then returns
True once the probe passes, False when ``probe.timeout`` runs out.

HTTP and TCP poll every ``POLL`` seconds with asyncio streams (no threads, so
cancelling a probe leaves nothing behind). HTTP counts a 2xx or 3xx status as
ready (a redirect is not followed); HTTPS certificates are not verified,
because a probe only asks whether the server answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from devenv.config import ReadyProbe

POLL = 0.05  # seconds between two attempts
ATTEMPT_TIMEOUT = 1.0  # one connect or request, at most


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class Subscribable(Protocol):
    def subscribe(self, callback: Callable[[list], object]) -> object: ...


def describe(probe: ReadyProbe) -> str:
    """``probe`` for people: "http http://127.0.0.1:5000/", "tcp 5000", "log ^ready"."""
    return f"{probe.kind} {probe.target}"


class Watch:
    """One run's probe; see the module docstring."""

    def __init__(
        self,
        probe: ReadyProbe,
        log: Subscribable,
        *,
        owner: int | None = None,
        note: Callable[[str], object] | None = None,
    ) -> None:
        """``owner``: the process whose tree must be the one listening (tcp and http probes);
        ``note`` is told, once, when another program answers on the port instead."""
        self.probe = probe
        self.owner = owner
        self._note = note
        self._noted = False
        self._matched = asyncio.Event()
        self._closed = False
        self._unsubscribe: Callable[[], object] | None = None
        if probe.kind == "log":
            self._pattern = re.compile(str(probe.target))
            loop = asyncio.get_running_loop()

            def on_lines(lines: list) -> None:
                if self._closed or self._matched.is_set():
                    return
                if any(self._pattern.search(line.text) for line in lines):
                    # The log may be fed from another thread: set it from the loop.
                    loop.call_soon_threadsafe(self._matched.set)

            unsubscribe = log.subscribe(on_lines)
            if callable(unsubscribe):
                self._unsubscribe = unsubscribe

    async def wait(self, clock: Clock) -> bool:
        """True once the probe passes; False after ``probe.timeout`` seconds of ``clock``."""
        check = asyncio.ensure_future(self._check(clock))
        expiry = asyncio.ensure_future(clock.sleep(self.probe.timeout))
        try:
            await asyncio.wait({check, expiry}, return_when=asyncio.FIRST_COMPLETED)
            return check.done() and not check.cancelled() and check.result()
        finally:
            check.cancel()
            expiry.cancel()
            self.close()

    def close(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def _check(self, clock: Clock) -> bool:
        kind, target = self.probe.kind, self.probe.target
        if kind == "log":
            await self._matched.wait()
            return True
        if kind == "tcp":
            attempt = functools.partial(tcp_open, int(target))
        elif kind == "http":
            attempt = functools.partial(http_ok, str(target))
        else:
            raise ValueError(f"unknown readiness probe {kind!r}")
        port = int(target) if kind == "tcp" else _port_of(str(target))
        while True:
            with contextlib.suppress(OSError, asyncio.TimeoutError, ValueError):
                if await asyncio.wait_for(attempt(), ATTEMPT_TIMEOUT):
                    stranger = foreign_listener(self.owner, port)
                    if stranger is None:
                        return True
                    if self._note is not None and not self._noted:
                        self._noted = True
                        self._note(
                            f"port {port} answers, but {stranger} holds it, not this process: "
                            "not ready until this process listens there"
                        )
            await clock.sleep(POLL)


async def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts a connection on ``host:port``."""
    _reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def http_ok(url: str) -> bool:
    """True when a GET of ``url`` answers with a 2xx or 3xx status."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = None
    if secure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = parts.netloc.rpartition("@")[2]
        request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode("ascii", errors="strict"))
        await writer.drain()
        status = await reader.readline()
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    fields = status.split()
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return False
    return 200 <= int(fields[1]) < 400


def _port_of(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None  # not on this machine: whoever answers is who was asked for
    return parts.port or (443 if parts.scheme == "https" else 80)


def foreign_listener(owner: int | None, port: int | None) -> str | None:
    """Who listens on ``port`` if it is not ``owner``'s process tree ("redis-server (pid 9)").

    None when the tree holds it, or when that cannot be told (no owner, the port
    is not local, or the system does not let us see the sockets).
    """
    if owner is None or port is None:
        return None
    import psutil

    try:
        root = psutil.Process(owner)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    for proc in tree:
        try:
            if any(
                c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                for c in proc.net_connections(kind="tcp")
            ):
                return None
        except psutil.Error:
            return None  # cannot look: do not block readiness on what we cannot see
    from devenv.project.ports import port_holder

    holder = port_holder(port)
    return str(holder) if holder is not None else None
