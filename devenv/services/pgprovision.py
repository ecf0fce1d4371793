"""Provisioning inside a running PostgreSQL: the configured roles, databases, extensions, init_sql.

``PostgresService.provision()`` hands its work to a ``Provisioner``, which needs
only a way to connect, the databases' configuration and a place to report
steps. It is idempotent: roles and databases are made when missing, extensions
every time they are missing, and init_sql only for a database it just created.

Every run also makes sure the superuser and each database's owner have the
project's password (TCP logins need it; the socket is trusted), given as a SCRAM
verifier computed on this side, so the password itself is never in a statement
the server could log; and each owner may create databases (CREATEDB), as the test
runners of Django and Rails do for their test database.

Giving a password costs a PBKDF2 and an ALTER ROLE (~7 ms a role, on every warm
start), so a small record (``record``, mode 0600 beside the pid files) keeps the
verifiers devenv gave and a digest of the password they were made from. A role
whose stored verifier (``pg_authid.rolpassword``) is the one recorded for the
current password keeps it; a new role, a changed password file, a new or reset
cluster, or a password changed by hand all differ, and get the password again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devenv.config import DatabaseConfig
from devenv.errors import DevenvError
from devenv.events import Emit, StepDone
from devenv.files import write_atomic
from devenv.services import pgwire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

_NOT_INSTALLED = ("0A000", "58P01")  # "extension ... is not available" (15), older: no file


def state_queries(databases: Sequence[DatabaseConfig]) -> list[tuple[str, str]]:
    """(database, query) pairs whose answers hold everything ``Provisioner.settled`` reads:
    each role's CREATEDB flag and a digest of its password verifier, the databases, the
    extensions of each database that wants some. The same answers, with the same config,
    password file and record, mean ``settled`` is still true (devenv.services.warmstart)."""
    queries = [
        ("postgres", "SELECT rolname, rolcreatedb, md5(rolpassword) FROM pg_authid ORDER BY 1"),
        ("postgres", "SELECT datname FROM pg_database ORDER BY 1"),
    ]
    extensions = "SELECT extname FROM pg_extension ORDER BY 1"
    queries += [(db.name, extensions) for db in databases if db.extensions]
    return queries


class Provisioner:
    """Makes a service's databases, as ``superuser`` through ``connect(user, dbname)``."""

    def __init__(
        self,
        name: str,
        major: int,
        superuser: str,
        connect: Callable[[str, str], Any],
        emit: Emit,
        record: Path | None = None,
    ) -> None:
        self.name = name  # the service's, for messages and steps
        self.major = major  # PostgreSQL's major version, for the missing-extension hint
        self.superuser = superuser
        self._connect = connect  # callable(user, dbname) -> psycopg2 connection
        self._emit = emit
        self._record = record  # the verifiers given, see the module's docstring; None: none kept

    def settled(
        self,
        connect: Callable[[str, str], pgwire.Connection],
        databases: Sequence[DatabaseConfig],
        password: str,
    ) -> bool:
        """Whether ``run`` would change nothing (the usual warm start), asked through
        ``connect(user, dbname)``'s devenv.services.pgwire sessions, so that psycopg2 is not
        imported to find that out. False as well when it cannot tell (the server asks for a
        password, an error): then ``run`` does the work and reports what goes wrong."""
        given = self._read_record(hashlib.sha256(password.encode()).hexdigest())
        try:
            with connect(self.superuser, "postgres") as conn:
                rows = conn.query("SELECT rolname, rolcreatedb, rolpassword FROM pg_authid")
                names = {row[0] for row in conn.query("SELECT datname FROM pg_database")}
            createdb = {name: flag == "t" for name, flag, _ in rows}
            stored = {name: verifier for name, _, verifier in rows}
            for role in {self.superuser, *(db.owner for db in databases)}:
                if stored.get(role) is None or given.get(role) != stored[role]:
                    return False  # run() gives it the password
            for db in databases:
                if not createdb.get(db.owner) or db.name not in names:
                    return False  # run() makes the role, grants CREATEDB, makes the database
                if db.extensions:
                    with connect(self.superuser, db.name) as conn:
                        present = {row[0] for row in conn.query("SELECT extname FROM pg_extension")}
                    if not set(db.extensions) <= present:
                        return False
        except (pgwire.Error, pgwire.NeedsPassword, OSError):
            return False
        return True

    def run(self, databases: Sequence[DatabaseConfig], password: str) -> None:
        """Make what ``databases`` declare; the superuser and the owners get ``password``."""
        from psycopg2 import sql

        conn = self._connect(self.superuser, "postgres")
        digest = hashlib.sha256(password.encode()).hexdigest()
        given = self._read_record(digest)
        kept = dict(given)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT rolname, rolcreatedb, rolpassword FROM pg_authid")
                rows = cur.fetchall()
                roles = {name: createdb for name, createdb, _ in rows}
                stored = {name: verifier for name, _, verifier in rows}
                cur.execute("SELECT datname FROM pg_database")
                names = {row[0] for row in cur.fetchall()}

                def give(role: str) -> None:
                    if stored.get(role) is None or given.get(role) != stored[role]:
                        given[role] = self._give_password(cur, role, password)

                give(self.superuser)
                done = {self.superuser}
                for db in databases:
                    started = time.perf_counter()
                    role = sql.Identifier(db.owner)
                    if db.owner not in roles:
                        cur.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(role))
                        roles[db.owner] = True
                        self._step(f"created role {db.owner}", started)
                    elif not roles[db.owner]:  # made by a devenv that did not grant it
                        cur.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(role))
                        roles[db.owner] = True
                    if db.owner not in done:
                        give(db.owner)
                        done.add(db.owner)
                    created = db.name not in names
                    if created:
                        cur.execute(
                            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                                sql.Identifier(db.name), sql.Identifier(db.owner)
                            )
                        )
                        names.add(db.name)
                    try:
                        self._fill(db, created)
                    except BaseException:
                        if created:  # so that the next start runs everything again
                            cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(db.name)))
                        raise
                    if created:
                        self._step(f"created database {db.name}", started)
        finally:
            conn.close()
            if given != kept:  # what was given is committed (autocommit), even on a failure
                self._write_record(digest, given)

    @staticmethod
    def _give_password(cur: Cursor, role: str, password: str) -> str:
        """``ALTER ROLE role PASSWORD``, with the SCRAM verifier libpq computes here; returns
        the verifier."""
        from psycopg2 import sql
        from psycopg2.extensions import encrypt_password

        verifier = encrypt_password(password, role, cur.connection, "scram-sha-256")
        cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role)), (verifier,))
        return verifier

    def _read_record(self, digest: str) -> dict[str, str]:
        """{role: verifier} given for the password whose digest is ``digest``; {} when there is
        no record, it cannot be read, or it was made for another password."""
        if self._record is None:
            return {}
        try:
            data = json.loads(self._record.read_text(encoding="utf-8"))
            verifiers = data["verifiers"] if data["password"] == digest else {}
            return {str(role): str(v) for role, v in verifiers.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _write_record(self, digest: str, given: dict[str, str]) -> None:
        if self._record is None:
            return
        text = json.dumps({"password": digest, "verifiers": given}, sort_keys=True)
        with contextlib.suppress(OSError):  # only a cache: the next start gives them again
            write_atomic(self._record, text)

    def _step(self, what: str, started: float) -> None:
        self._emit(StepDone(self.name, what, time.perf_counter() - started))

    def _fill(self, db: DatabaseConfig, created: bool) -> None:
        """Extensions (every time, if missing), then init_sql (only for a new database)."""
        import psycopg2
        from psycopg2 import sql

        if db.extensions:
            conn = self._connect(self.superuser, db.name)
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT extname FROM pg_extension")
                    present = {row[0] for row in cur.fetchall()}
                    for ext in db.extensions:
                        if ext in present:
                            continue
                        try:
                            cur.execute(
                                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                                    sql.Identifier(ext)
                                )
                            )
                        except psycopg2.Error as err:
                            raise DevenvError(self._extension_error(db, ext, err)) from None
            finally:
                conn.close()
        if created and db.init_sql is not None:
            self._run_init_sql(db, db.init_sql)

    def _extension_error(self, db: DatabaseConfig, ext: str, err: Exception) -> str:
        text = (
            f"{self.name}: database '{db.name}': could not create extension '{ext}': "
            f"{_pg_message(err)}"
        )
        if getattr(err, "pgcode", None) in _NOT_INSTALLED:
            major = self.major
            text += (
                f". It is not installed for PostgreSQL {major}: extensions outside the core "
                "need their package (the contrib package, e.g. postgresql-contrib, or one of "
                f"their own, e.g. postgresql-{major}-postgis-3)"
            )
        return text

    def _run_init_sql(self, db: DatabaseConfig, path: Path) -> None:
        import psycopg2

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DevenvError(
                f"{self.name}: database '{db.name}': cannot read {path}: {err}"
            ) from None
        if not text.strip():
            return
        conn = self._connect(db.owner, db.name)  # as the owner: the app owns what it makes
        try:
            with conn.cursor() as cur:
                cur.execute(text)  # one transaction: all of the file or nothing
            conn.commit()
        except psycopg2.Error as err:
            where = ""
            position = getattr(getattr(err, "diag", None), "statement_position", None)
            if position and position.isdigit():
                where = f" (line {text.count(chr(10), 0, int(position) - 1) + 1})"
            raise DevenvError(
                f"{self.name}: database '{db.name}': init_sql {path}{where} failed: "
                f"{_pg_message(err)}"
            ) from None
        finally:
            conn.close()


def _pg_message(err: Exception) -> str:
    """PostgreSQL's message and its detail, on one line."""
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return " ".join(str(err).split()) or type(err).__name__
    detail = getattr(diag, "message_detail", None)
    return f"{primary} ({detail.rstrip('.')})" if detail else primary
