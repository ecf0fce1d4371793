"""Apply migrations/*.sql in name order, each once.

Applied files are recorded in the schema_migrations table, so running this
again applies only what is new. devenv runs it after the services are ready
(hooks.after_ready in devenv.toml); run it by hand with `python -m demoapp.migrate`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg2

from demoapp import MissingSetting, db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Any constant will do: it keeps two migrate runs from racing each other.
_LOCK_ID = 4711


def migrate(conn, directory: Path = MIGRATIONS) -> list[str]:
    """Apply the migrations not applied yet, in one transaction; return their names."""
    applied = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute("SELECT name FROM schema_migrations")
        done = {name for (name,) in cur.fetchall()}
        for path in sorted(directory.glob("*.sql")):
            if path.name in done:
                continue
            cur.execute(path.read_text())
            cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
            applied.append(path.name)
    return applied


def main() -> None:
    try:
        conn = db.connect()
    except (MissingSetting, psycopg2.OperationalError) as err:
        sys.exit(f"migrate: {err}")
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    for name in applied:
        print(f"migrate: applied {name}")
    if not applied:
        print("migrate: nothing to apply, the database is up to date")


if __name__ == "__main__":
    main()
