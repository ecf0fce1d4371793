import os
import subprocess
import sys
import uuid
from pathlib import Path

from demoapp.migrate import MIGRATIONS, migrate

ROOT = Path(__file__).resolve().parent.parent


def test_migrate_applies_each_migration_once(conn):
    schema = f"test_{uuid.uuid4().hex[:12]}"  # an empty schema of our own
    with conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(f"SET search_path TO {schema}")
    try:
        assert migrate(conn) == sorted(path.name for path in MIGRATIONS.glob("*.sql"))
        assert migrate(conn) == []
    finally:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_missing_database_url_is_explained():
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "demoapp.migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "DATABASE_URL is not set" in result.stderr
    assert "Traceback" not in result.stderr
