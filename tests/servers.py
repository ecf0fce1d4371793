"""Real PostgreSQL and Redis servers for tests, started by hand on free ports.

This is test plumbing, not product code: it lets the demo's own test suite run
against real servers. It runs PostgreSQL through devenv.project.privileges, so it
works as root (CI) and as a normal user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devenv.project import privileges


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable_tmpdir(prefix: str) -> Path:
    """A temporary folder that an unprivileged service user can enter.

    pytest's tmp_path sits below a root-only 0700 folder when tests run as root.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def pg_bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found (run ./bootstrap.sh setup)")
    return Path(candidates[0]).parent


def _wait(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready in {timeout}s")
        time.sleep(0.01)


@dataclass
class Servers:
    base: Path
    pg_port: int
    redis_port: int
    pg: subprocess.Popen
    redis: subprocess.Popen

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": f"postgresql://demo@127.0.0.1:{self.pg_port}/demo",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
        }

    def stop(self) -> None:
        for proc, sig in ((self.pg, signal.SIGINT), (self.redis, signal.SIGTERM)):
            if proc.poll() is None:
                proc.send_signal(sig)
        for proc in (self.pg, self.redis):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def start_servers(database: str = "demo", owner: str = "demo") -> Servers:
    import psycopg2
    import redis

    user = privileges.service_user()
    base = reachable_tmpdir("devenv-test-servers-")
    data = base / "pg"
    sock = base / "run"
    sock.mkdir()
    privileges.give_to(base, user)
    bindir = pg_bindir()
    subprocess.run(
        [
            bindir / "initdb",
            "-N",
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "-D",
            data,
        ],
        check=True,
        capture_output=True,
        **user.popen_kwargs(),
    )
    pg_port, redis_port = free_port(), free_port()
    with open(base / "pg.log", "wb") as log:
        pg = subprocess.Popen(
            [
                bindir / "postgres",
                "-D",
                data,
                "-p",
                str(pg_port),
                "-k",
                sock,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            **user.popen_kwargs(),
        )
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        pg.send_signal(signal.SIGINT)
        raise RuntimeError("redis-server not found (run ./bootstrap.sh setup)")
    rd = subprocess.Popen(
        [
            redis_bin,
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers = Servers(base, pg_port, redis_port, pg, rd)

    def pg_ready() -> bool:
        psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres").close()
        return True

    try:
        _wait(pg_ready, "PostgreSQL")
        client = redis.Redis(port=redis_port, retry=None)
        _wait(client.ping, "Redis")
        conn = psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE ROLE "{owner}" LOGIN')
            cur.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        conn.close()
    except BaseException:
        servers.stop()
        raise
    return servers


def environ_with(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
