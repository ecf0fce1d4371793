"""Shared test fixtures. Being at the project root, this file also lets
`python -m pytest` import demoapp without installing it.

The tests run against the real PostgreSQL and Redis that `devenv up` starts:
they read DATABASE_URL and REDIS_URL, and fail (never skip) without them.
Each test uses its own Redis keys and rows, and removes them afterwards.
"""

from __future__ import annotations

import os
import uuid

import pytest

from demoapp import cache, db
from demoapp.migrate import migrate


def _require(name: str) -> None:
    if not os.environ.get(name):
        pytest.fail(
            f"{name} is not set: these tests need the project's PostgreSQL and Redis. "
            f'Run `devenv up -d` and `eval "$(devenv env)"`, then run the tests again.',
            pytrace=False,
        )


@pytest.fixture(scope="session")
def migrated() -> None:
    """The database, migrated to the latest schema."""
    _require("DATABASE_URL")
    conn = db.connect()
    try:
        migrate(conn)
    finally:
        conn.close()


@pytest.fixture
def conn(migrated):
    """A PostgreSQL connection to the migrated database."""
    conn = db.connect()
    yield conn
    conn.close()


@pytest.fixture
def r():
    """A Redis client."""
    _require("REDIS_URL")
    client = cache.connect()
    yield client
    client.close()


@pytest.fixture
def prefix(r) -> str:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)
