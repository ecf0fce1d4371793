"""PostgreSQL, from DATABASE_URL."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions

from demoapp import setting


def connect() -> psycopg2.extensions.connection:
    """Open a new connection; the caller closes it."""
    return psycopg2.connect(setting("DATABASE_URL"), connect_timeout=5)
