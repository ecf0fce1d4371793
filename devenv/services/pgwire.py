"""Just enough of PostgreSQL's protocol (v3, simple queries, text results) for devenv's
own questions to its server over the project's trusted unix socket.

A warm ``devenv up -d`` asks PostgreSQL three things (is it ready, which roles and
databases exist) and usually has nothing to change; psycopg2 costs ~15 ms to import
for that, more than the rest of the answer. Like devenv.services.resp for Redis, this
speaks the protocol itself. It only logs in where no password is asked (the socket's
``trust``); ``NeedsPassword`` says otherwise, and the caller uses psycopg2. Anything
that changes the server (roles, databases, passwords) still goes through psycopg2.

Errors follow DB-API names, so devenv.services.readiness reads them as it reads
psycopg2's: ``OperationalError`` for a server that does not take the connection (still
starting, shutting down), ``QueryError`` for a statement the server refused.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

PROTOCOL_3 = 196608


class Error(Exception):
    """An error the server sent: ``code`` is its SQLSTATE, ``message`` its text."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.code = fields.get("C", "")
        self.message = fields.get("M", "")
        super().__init__(f"{self.message} (SQLSTATE {self.code})" if self.code else self.message)


class OperationalError(Error):
    """The server did not take the connection (starting up, shutting down, no such role)."""


class QueryError(Error):
    """The server refused a statement."""


class NeedsPassword(Exception):
    """The server asks for a password: this client does not log in that way."""


class Connection:
    """One session as ``user`` on ``dbname``; ``query`` runs one simple query."""

    def __init__(self, socket_path: Path, user: str, dbname: str, timeout: float = 1.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(str(socket_path))
            self._buffer = b""
            self._login(user, dbname)
        except BaseException:
            self._sock.close()
            raise

    def _login(self, user: str, dbname: str) -> None:
        params = {"user": user, "database": dbname, "client_encoding": "UTF8"}
        body = struct.pack("!i", PROTOCOL_3)
        body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items())
        body += b"\0"
        self._sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            kind, data = self._read()
            if kind == b"R":
                (code,) = struct.unpack("!i", data[:4])
                if code != 0:  # 0: AuthenticationOk; anything else wants a password
                    raise NeedsPassword(f"the server asks for a password (method {code})")
            elif kind == b"E":
                raise OperationalError(_fields(data))
            elif kind == b"Z":
                return
            # S (ParameterStatus), K (BackendKeyData), N (NoticeResponse): nothing to do

    def query(self, sql: str) -> list[tuple[str | None, ...]]:
        """The rows of ``sql`` (text values, None for NULL); raises QueryError."""
        payload = sql.encode() + b"\0"
        self._sock.sendall(b"Q" + struct.pack("!i", len(payload) + 4) + payload)
        rows: list[tuple[str | None, ...]] = []
        error: dict[str, str] | None = None
        while True:
            kind, data = self._read()
            if kind == b"D":
                rows.append(_row(data))
            elif kind == b"E":
                error = _fields(data)
            elif kind == b"Z":
                if error is not None:
                    raise QueryError(error)
                return rows
            # T (RowDescription), C (CommandComplete), I (empty query), N (notice): skip

    def close(self) -> None:
        try:
            self._sock.sendall(b"X" + struct.pack("!i", 4))  # Terminate
        except OSError:
            pass
        finally:
            self._sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> tuple[bytes, bytes]:
        head = self._exactly(5)
        (length,) = struct.unpack("!i", head[1:])
        return head[:1], self._exactly(length - 4)

    def _exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("PostgreSQL closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data


def _fields(data: bytes) -> dict[str, str]:
    """An ErrorResponse's fields by their one-letter codes (C: SQLSTATE, M: message)."""
    fields = {}
    for part in data.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


def _row(data: bytes) -> tuple[str | None, ...]:
    (count,) = struct.unpack("!h", data[:2])
    values: list[str | None] = []
    at = 2
    for _ in range(count):
        (size,) = struct.unpack("!i", data[at : at + 4])
        at += 4
        if size < 0:
            values.append(None)
        else:
            values.append(data[at : at + size].decode("utf-8"))
            at += size
    return tuple(values)
