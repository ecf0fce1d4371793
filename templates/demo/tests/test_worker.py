import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from demoapp.worker import work_once

ROOT = Path(__file__).resolve().parent.parent


def test_a_queued_job_is_recorded(r, conn, prefix):
    queue = f"{prefix}:jobs"
    payload = f"job {uuid.uuid4().hex}"
    r.rpush(queue, payload)
    job_id = work_once(r, conn, queue=queue)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT payload FROM jobs WHERE id = %s", (job_id,))
            assert cur.fetchone() == (payload,)
        assert r.llen(queue) == 0
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM jobs WHERE id = %s", (job_id,))


def test_no_job_means_none(r, conn, prefix):
    assert work_once(r, conn, queue=f"{prefix}:jobs", timeout=0.1) is None


def test_sigterm_stops_the_worker_cleanly(r, migrated):
    worker = subprocess.Popen(
        [sys.executable, "-m", "demoapp.worker"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert worker.stdout.readline().startswith("worker: waiting for jobs")
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=10)
    finally:
        worker.kill()
    assert worker.returncode == 0
    assert "worker: stopped" in out
