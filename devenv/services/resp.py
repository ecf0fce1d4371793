"""Just enough of Redis's protocol (RESP2) to probe and stop a server over its socket.

devenv asks a Redis server three things: PING, INFO and SHUTDOWN. redis-py
costs ~45 ms to import (it pulls in asyncio), more than Redis takes to
start, and its default client retries with backoff; this takes none of that.
Nothing here retries: a refused connection is an answer.
"""

from __future__ import annotations

import socket
from pathlib import Path


class RespError(Exception):
    """The server answered with an error reply (``-ERR ...``)."""


class ConnectionClosed(Exception):
    """The server closed the connection without answering (as SHUTDOWN does)."""


def _encode(args: tuple[str, ...]) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read(stream) -> object:
    line = stream.readline()
    if not line:
        raise ConnectionClosed("the server closed the connection")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RespError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:-2].decode("utf-8", "replace")
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read(stream) for _ in range(count)]
    raise RespError(f"unexpected reply {line[:40]!r}")


def command(path: Path | str, *args: str, timeout: float = 0.5) -> object:
    """Send one command over the unix socket at ``path`` and return the decoded reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(_encode(args))
        with sock.makefile("rb") as stream:
            return _read(stream)


def info(path: Path | str, section: str = "server", timeout: float = 0.5) -> dict[str, str]:
    """``INFO section`` as a dict of its ``key:value`` lines."""
    text = command(path, "INFO", section, timeout=timeout)
    result: dict[str, str] = {}
    for line in str(text).splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            result[key] = value
    return result
