"""Database snapshots inside the project's own PostgreSQL, as template databases.

``CREATE DATABASE copy TEMPLATE original`` copies a database's files inside the
server: for a development database it takes milliseconds, far less than a
dump and restore. A snapshot named NAME holds one such copy per configured
database, marked as a template that nobody can connect to, and a small JSON
record in ``.devenv/snapshots/NAME.json`` says which copy belongs to which
database. Restoring first takes a snapshot of the current state, so nothing
is lost by a restore either.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.errors import DevenvError, UsageError
from devenv.files import write_atomic

if TYPE_CHECKING:
    from psycopg2.extensions import connection, cursor
    from psycopg2.sql import Composed

# A database's name -> a new psycopg2 connection to it, as a superuser.
Connect = Callable[[str], "connection"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Snapshot:
    name: str
    created: str
    databases: dict[str, str]  # database -> the template database holding its copy


def default_name() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"'{name}' is not a usable snapshot name: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit (at most 64 characters)"
        )
    return name


def _copy_name(snapshot: str, database: str) -> str:
    digest = hashlib.sha256(f"{snapshot}\0{database}".encode()).hexdigest()[:16]
    return f"devenv_snap_{digest}"


class Snapshots:
    """Snapshots of one project's databases; ``connect`` opens a superuser connection."""

    def __init__(self, folder: Path, connect: Connect, databases: dict[str, str]) -> None:
        self.folder = folder
        self._connect = connect
        self.databases = databases  # database -> owner

    def connect(self, dbname: str) -> connection:
        conn = self._connect(dbname)
        conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
        return conn

    def _record(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def list(self) -> list[Snapshot]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                found.append(Snapshot(data["name"], data["created"], dict(data["databases"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda s: s.created)

    def get(self, name: str) -> Snapshot:
        for snap in self.list():
            if snap.name == name:
                return snap
        record = self._record(name)
        if _NAME.fullmatch(name) and (record.exists() or record.is_symlink()):
            raise DevenvError(
                f"{record}: the record of snapshot '{name}' cannot be read (damaged or not "
                "devenv's); remove it to forget the snapshot"
            )
        names = ", ".join(s.name for s in self.list()) or "none yet (`devenv snapshot NAME`)"
        raise UsageError(f"no snapshot named '{name}'; snapshots: {names}")

    def take(self, name: str) -> Snapshot:
        """Copy every database into snapshot ``name``. All or nothing: a copy that fails drops
        the copies made so far, and copies a killed earlier attempt left (same name, no
        record) are dropped first, so trying again works."""
        from psycopg2 import Error

        check_name(name)
        if self._record(name).exists():
            raise UsageError(
                f"a snapshot named '{name}' exists already; choose another name "
                "(snapshots are never overwritten)"
            )
        copies = {db: _copy_name(name, db) for db in self.databases}
        conn = self.connect("postgres")
        made: list[str] = []
        current = None
        try:
            with conn.cursor() as cur:
                for copy in copies.values():
                    _drop_copy(cur, copy)  # no record names it: a killed snapshot's leftover
                try:
                    for db, copy in copies.items():
                        current = db
                        _copy_database(cur, db, copy)
                        made.append(copy)
                        cur.execute(
                            _sql(
                                "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
                                copy,
                            )
                        )
                except BaseException:
                    for copy in made:
                        _drop_copy(cur, copy)
                    raise
        except Error as err:
            raise _server_error(err, f"snapshot '{name}' was not taken", current) from None
        finally:
            conn.close()
        snap = Snapshot(name, datetime.datetime.now().isoformat(timespec="seconds"), copies)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self._record(name), json.dumps(snap.__dict__, indent=2) + "\n", mode=0o644)
        return snap

    def restore(self, name: str) -> Snapshot:
        """Put every database back as it was in snapshot ``name``; returns the safety snapshot."""
        from psycopg2 import Error

        snap = self.get(name)
        safety = self.take(f"before-restore-{default_name()}")
        conn = self.connect("postgres")
        try:
            with conn.cursor() as cur:
                for db, copy in snap.databases.items():
                    owner = self.databases.get(db)
                    _terminate(cur, db)
                    cur.execute(_sql("DROP DATABASE IF EXISTS {}", db))
                    _copy_database(cur, copy, db, owner)
        except Error as err:
            raise _server_error(
                err,
                f"snapshot '{name}' was not restored completely; the data from before is in "
                f"snapshot '{safety.name}'",
            ) from None
        finally:
            conn.close()
        return safety


def _sql(template: str, *names: str) -> Composed:
    from psycopg2 import sql

    return sql.SQL(template).format(*(sql.Identifier(n) for n in names))


def _drop_copy(cur: cursor, copy: str) -> None:
    """Drop a snapshot's copy if it is there (a template must stop being one first)."""
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (copy,))
    if cur.fetchone() is None:
        return
    cur.execute(_sql("ALTER DATABASE {} WITH IS_TEMPLATE false", copy))
    cur.execute(_sql("DROP DATABASE IF EXISTS {}", copy))


def _server_error(err: Exception, what: str, database: str | None = None) -> DevenvError:
    """A PostgreSQL error during a snapshot or restore, in words, with what to do."""
    from psycopg2 import errors

    if isinstance(err, errors.InvalidCatalogName) and database is not None:
        return DevenvError(
            f"{what}: database '{database}' is in devenv.toml but not in the server yet; run "
            "`devenv up -d` to create it, then try again"
        )
    message = (getattr(err, "pgerror", None) or str(err)).strip().replace("\n", " ")
    return DevenvError(f"{what}: PostgreSQL said: {message}")


def _terminate(cur: cursor, database: str) -> None:
    cur.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )


def _copy_database(cur: cursor, source: str, target: str, owner: str | None = None) -> None:
    """CREATE DATABASE target TEMPLATE source, closing the sessions that would block it.

    An app that reconnects at once can slip in between; a few tries cover that.
    """
    from psycopg2 import errors

    if owner:
        statement = _sql("CREATE DATABASE {} TEMPLATE {} OWNER {}", target, source, owner)
    else:
        statement = _sql("CREATE DATABASE {} TEMPLATE {}", target, source)
    for attempt in range(5):
        _terminate(cur, source)
        try:
            cur.execute(statement)
            return
        except errors.ObjectInUse:
            if attempt == 4:
                raise DevenvError(
                    f"could not copy database '{source}': clients keep connecting to it; "
                    "stop them (`devenv down` stops the processes) and try again"
                ) from None
