"""The worker: takes jobs off a Redis list and records each one in PostgreSQL.

The web app pushes jobs with POST /jobs. Stop the worker with SIGTERM or
Ctrl-C: it finishes the job in hand and exits.
"""

from __future__ import annotations

import signal
import sys

import psycopg2

from demoapp import MissingSetting, cache, db

QUEUE = "demo:jobs"


def process(conn, payload: str) -> int:
    """Record one job; return its row id."""
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO jobs (payload) VALUES (%s) RETURNING id", (payload,))
        (job_id,) = cur.fetchone()
    return job_id


def work_once(r, conn, queue: str = QUEUE, timeout: float = 1) -> int | None:
    """Wait up to ``timeout`` seconds for a job and process it; return its id, or None."""
    item = r.blpop([queue], timeout=timeout)
    if item is None:
        return None
    _, payload = item
    job_id = process(conn, payload)
    print(f"worker: job {job_id} done: {payload}", flush=True)
    return job_id


def main() -> None:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        r = cache.connect()
        conn = db.connect()
    except (MissingSetting, psycopg2.OperationalError) as err:
        sys.exit(f"worker: {err}")
    print(f"worker: waiting for jobs on {QUEUE}", flush=True)
    try:
        while not stopping:
            work_once(r, conn)
    finally:
        conn.close()
        r.close()
    print("worker: stopped", flush=True)


if __name__ == "__main__":
    main()
