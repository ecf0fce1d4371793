"""Just enough of Redis's protocol (RESP2) to probe and stop a server over its socket.

devenv asks a Redis server a few things: PING, INFO, CONFIG SET and SHUTDOWN.
redis-py costs ~45 ms to import (it pulls in asyncio), more than Redis takes
to start, and its default client retries with backoff; this takes none of
that. Nothing here retries: a refused connection is an answer.

The server wants the project's password even over its socket (``requirepass``
covers every connection): pass ``password`` and it is sent with AUTH in the
same write as the command, so it costs no round trip. A server that has no
password yet (one started before devenv gave it one) refuses that AUTH and
answers the command all the same.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import BinaryIO


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


def _read(stream: BinaryIO) -> object:
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


def command(
    path: Path | str, *args: str, timeout: float = 0.5, password: str | None = None
) -> object:
    """Send one command over the unix socket at ``path`` and return the decoded reply.

    With ``password``, AUTH goes first; when the command is then refused for want of it
    (NOAUTH), the AUTH's own refusal (WRONGPASS ...) is raised, which says more.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        auth = _encode(("AUTH", password)) if password is not None else b""
        sock.sendall(auth + _encode(args))
        with sock.makefile("rb") as stream:
            refused: RespError | None = None
            if auth:
                try:
                    _read(stream)
                except RespError as err:  # wrong, or no password configured: see below
                    refused = err
            try:
                return _read(stream)
            except RespError as err:
                if refused is not None and str(err).startswith("NOAUTH"):
                    raise refused from None
                raise


def info(
    path: Path | str, section: str = "server", timeout: float = 0.5, password: str | None = None
) -> dict[str, str]:
    """``INFO section`` as a dict of its ``key:value`` lines."""
    text = command(path, "INFO", section, timeout=timeout, password=password)
    result: dict[str, str] = {}
    for line in str(text).splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            result[key] = value
    return result
