"""What the dashboard's details pane shows beyond a row: a server's own figures, and what a
process or service runs with, its secrets masked.

``figures_of(service)`` asks a running PostgreSQL (connections, database sizes, the slowest
statements when ``pg_stat_statements`` is there) or Redis (memory, keys per database, ops/s)
over the project's socket, through devenv.services.pgwire and devenv.services.resp as
devenv's own probes do: one connection, a few catalogue reads, nothing written. Every
answer is a frozen record; a server that cannot answer now is ``Unavailable`` (why), never
an exception. ``mask_env`` hides what must not be on a screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from devenv.services import pgwire, resp
from devenv.services.password import mask_url

MASK = "***"
# Names whose values are secrets whatever they hold (SECRET_KEY, GITHUB_TOKEN, PGPASSWORD...).
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
STATEMENTS = 5  # the slowest statements shown
# The statement's text is shown on one line of the pane: no more is read of it.
STATEMENT_CHARS = 200


@dataclass(frozen=True)
class Statement:
    """One normalised statement pg_stat_statements tracks (``$1`` for its constants)."""

    query: str
    calls: int
    mean_ms: float  # mean execution time
    total_ms: float


@dataclass(frozen=True)
class PostgresFigures:
    """A PostgreSQL server now: its client connections (devenv's own question not counted)
    by state, its databases by size (largest first), its slowest statements."""

    connections: int
    max_connections: int
    by_state: tuple[tuple[str, int], ...]  # ("active", 1), ("idle", 3), most first
    databases: tuple[tuple[str, int], ...]  # (name, bytes), largest first
    statements: tuple[Statement, ...] | None  # slowest mean first; None: not available
    statements_note: str = ""  # why there are none (the extension is not there, not loaded)


@dataclass(frozen=True)
class RedisFigures:
    """A Redis server now (its INFO): memory, clients, operations per second, keys per db."""

    used_memory: int  # bytes
    peak_memory: int  # bytes
    maxmemory: int  # bytes; 0: no limit
    clients: int
    ops_per_sec: int  # the server's own instantaneous estimate
    keys: tuple[tuple[str, int], ...]  # ("db0", 12), as INFO keyspace lists them


@dataclass(frozen=True)
class Unavailable:
    """The server did not answer now (stopped, starting, refused); ``reason`` says so."""

    reason: str


Figures = PostgresFigures | RedisFigures | Unavailable


@dataclass(frozen=True)
class Launch:
    """What a process or service runs: its command line, and the variables devenv gives it
    (a process: those that differ from devenv's own environment; a service: those it gives
    the processes), as (name, value) sorted by name, secrets masked."""

    command: str
    env: tuple[tuple[str, str], ...]


def mask_env(env: Mapping[str, str], secrets: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """``env`` safe to show, sorted by name: a value whose name says it is a secret
    (``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ``*KEY*``) is ``***``; a URL's password is
    ``***`` (devenv.services.password.mask_url); any of ``secrets`` (the project's password)
    is ``***`` wherever it appears."""
    shown = []
    for name in sorted(env):
        value = env[name]
        if _SECRET_NAME.search(name):
            value = MASK if value else ""
        else:
            if "://" in value:
                value = mask_url(value)
            for secret in secrets:
                if secret:
                    value = value.replace(secret, MASK)
        shown.append((name, value))
    return tuple(shown)


# -- PostgreSQL ---------------------------------------------------------------------------

_CONNECTIONS = (
    "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "GROUP BY 1 ORDER BY 2 DESC, 1"
)
_DATABASES = (
    "SELECT datname, pg_database_size(oid) FROM pg_database "
    "WHERE datallowconn AND NOT datistemplate ORDER BY 2 DESC, 1"
)
_HAS_STATEMENTS = "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
# 13 renamed mean_time and total_time (planning is timed apart since).
_TIMES = {True: ("mean_exec_time", "total_exec_time"), False: ("mean_time", "total_time")}


def postgres(conn: pgwire.Connection) -> PostgresFigures:
    """The figures of the server ``conn`` is connected to; the statements are those of the
    database it is connected to that has ``pg_stat_statements`` (created there, and loaded by
    ``shared_preload_libraries``). Raises pgwire's errors and OSError."""
    by_state = tuple((str(state), int(count or 0)) for state, count in conn.query(_CONNECTIONS))
    (limit,), *_ = conn.query("SELECT current_setting('max_connections')")
    databases = tuple((str(name), int(size or 0)) for name, size in conn.query(_DATABASES))
    statements: tuple[Statement, ...] | None = None
    note = ""
    if not conn.query(_HAS_STATEMENTS):
        note = "pg_stat_statements is not installed in this database"
    else:
        try:
            statements = _slowest(conn)
        except pgwire.QueryError as err:  # created, but not in shared_preload_libraries
            note = err.message or str(err)
    return PostgresFigures(
        connections=sum(count for _, count in by_state),
        max_connections=int(limit or 0),
        by_state=by_state,
        databases=databases,
        statements=statements,
        statements_note=note,
    )


def _slowest(conn: pgwire.Connection) -> tuple[Statement, ...]:
    (version,), *_ = conn.query("SELECT current_setting('server_version_num')")
    mean, total = _TIMES[int(version or 0) >= 130000]
    rows = conn.query(
        f"SELECT left(query, {STATEMENT_CHARS}), calls, {mean}, {total} FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT ILIKE '%pg_stat_statements%' "
        f"ORDER BY {mean} DESC LIMIT {STATEMENTS}"
    )
    return tuple(
        Statement(" ".join(str(query).split()), int(calls or 0), float(m or 0), float(t or 0))
        for query, calls, m, t in rows
    )


# -- Redis --------------------------------------------------------------------------------


def redis(info: Mapping[str, str]) -> RedisFigures:
    """The figures in ``info``: a Redis server's ``INFO default`` as devenv.services.resp.info
    reads it (keys missing from an older server count as 0)."""

    def number(key: str) -> int:
        try:
            return int(info.get(key, "0"))
        except ValueError:
            return 0

    keys = []
    for name, value in info.items():
        if re.fullmatch(r"db\d+", name):
            fields = dict(part.partition("=")[::2] for part in value.split(","))
            keys.append((name, int(fields.get("keys", "0") or 0)))
    return RedisFigures(
        used_memory=number("used_memory"),
        peak_memory=number("used_memory_peak"),
        maxmemory=number("maxmemory"),
        clients=number("connected_clients"),
        ops_per_sec=number("instantaneous_ops_per_sec"),
        keys=tuple(sorted(keys, key=lambda item: int(item[0][2:]))),
    )


# -- a project's service ------------------------------------------------------------------


def figures_of(service: object, dbname: str | None = None) -> Figures | None:
    """What the running server of ``service`` (a devenv.services.base.Service) says of itself:
    PostgreSQL's figures or Redis's; None for a service devenv has no figures of. Blocking:
    one connection over its socket.

    ``dbname``: the database to read pg_stat_statements in; by default the first of the
    service's databases that is given the extension, else its first, else "postgres"."""
    from devenv.services.postgres import SUPERUSER, PostgresService
    from devenv.services.redis import RedisService

    if isinstance(service, PostgresService):
        if dbname is None:
            databases = service.ctx.config.databases
            given = [db.name for db in databases if "pg_stat_statements" in db.extensions]
            dbname = (*given, *(db.name for db in databases), "postgres")[0]
        try:
            with service.wire_connect(SUPERUSER, dbname) as conn:
                return postgres(conn)
        except pgwire.NeedsPassword:
            return Unavailable("its pg_hba.conf asks devenv for a password on the socket")
        except (pgwire.Error, OSError) as err:
            return Unavailable(f"no answer: {err}")
    if isinstance(service, RedisService):
        try:
            return redis(service.info("default"))
        except (resp.RespError, resp.ConnectionClosed, OSError) as err:
            return Unavailable(f"no answer: {err}")
    return None
