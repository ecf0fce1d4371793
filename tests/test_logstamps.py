"""devenv.services.logstamps: the servers' own stamps read into one clock.

The lines are copied from the logs of a real PostgreSQL 15 and Redis 7.0 that devenv
started; the last tests read the logs of servers started here and now.
"""

from __future__ import annotations

import calendar
import shutil
import subprocess
import time

import pytest

from devenv.services.logstamps import parse_stamp, timed
from tests.servers import free_port, reachable_tmpdir, start_servers

POSTGRES = [
    "2026-11-30 18:38:39.999 GMT [10398] LOG:  listening on Unix socket "
    '"/tmp/devenv-8c455c43d3f6/.s.PGSQL.5432"',
    "2026-11-30 18:38:40.005 GMT [10406] LOG:  database system was shut down at "
    "2026-11-30 18:38:32 GMT",
    "2026-11-30 18:38:40.010 GMT [10398] LOG:  database system is ready to accept connections",
]
REDIS = [
    "10399:M 30 Nov 2026 18:38:39.986 * DB loaded from append only file: 0.000 seconds",
    "10399:M 30 Nov 2026 18:38:39.986 * Ready to accept connections",
]


def utc(*fields: int) -> float:
    return calendar.timegm((*fields, 0, 0, 0))


def local(*fields: int) -> float:
    return time.mktime((*fields, 0, 0, -1))


def test_a_postgres_line_is_read_in_the_zone_it_names():
    when, rest = parse_stamp(POSTGRES[2])
    assert when == pytest.approx(utc(2026, 11, 30, 18, 38, 40) + 0.010)
    assert rest == "[10398] LOG:  database system is ready to accept connections"
    # Only the leading stamp is taken: the one inside the message stays.
    when, rest = parse_stamp(POSTGRES[1])
    assert when == pytest.approx(utc(2026, 11, 30, 18, 38, 40) + 0.005)
    assert rest.endswith("shut down at 2026-11-30 18:38:32 GMT")


def test_postgres_numeric_zones_and_no_milliseconds():
    when, _ = parse_stamp("2026-11-30 21:38:40.010 +03 [1] LOG:  x")
    assert when == pytest.approx(utc(2026, 11, 30, 18, 38, 40) + 0.010)
    when, _ = parse_stamp("2026-11-30 15:08:40 -0330 [1] LOG:  x")
    assert when == utc(2026, 11, 30, 18, 38, 40)
    # An abbreviation other than UTC/GMT: the server logs in this machine's zone.
    when, _ = parse_stamp("2026-11-30 18:38:40.000 CET [1] LOG:  x")
    assert when == local(2026, 11, 30, 18, 38, 40)


def test_a_redis_line_is_local_time_and_keeps_its_pid_and_role():
    when, rest = parse_stamp(REDIS[1])
    assert when == pytest.approx(local(2026, 11, 30, 18, 38, 39) + 0.986)
    assert rest == "10399:M * Ready to accept connections"


def test_devenvs_own_stamp():
    when, rest = parse_stamp("2026-11-30T18:38:40.005 tick 0")
    assert when == pytest.approx(local(2026, 11, 30, 18, 38, 40) + 0.005)
    assert rest == "tick 0"


@pytest.mark.parametrize(
    "line",
    [
        "",
        "tick 5",
        "Traceback (most recent call last):",
        "2026-11-30 18:38:40.005 GET /health",  # a date, but no zone: not PostgreSQL's
        "10399:Q 30 Nov 2026 18:38:39.986 * not a role",
        "10399:M 30 Foo 2026 18:38:39.986 * not a month",
        "12 apples",
    ],
)
def test_anything_else_is_left_as_it_is(line):
    assert parse_stamp(line) == (None, line)


def test_unstamped_lines_take_the_time_of_the_line_before():
    lines = ["before anything", POSTGRES[2], "\tcontinued", REDIS[1]]
    got = timed(lines)
    assert got[0] == (None, "before anything")
    assert got[1][0] == got[2][0] and got[2][1] == "\tcontinued"
    assert got[3][1].startswith("10399:M * Ready")


def test_every_line_of_real_servers_logs_is_read(tmp_path):
    """The logs of a PostgreSQL and a Redis started now: every line a server stamps is read,
    at the time it was written (within the minute this test takes)."""
    redis_bin = shutil.which("redis-server")
    assert redis_bin, "redis-server not found (run ./bootstrap.sh setup)"
    before = time.time() - 1
    servers = start_servers()
    try:
        pg_lines = (servers.base / "pg.log").read_text().splitlines()
    finally:
        servers.stop()
    redis_log = reachable_tmpdir("devenv-test-redislog-") / "redis.log"
    where = ["--appendonly", "no", "--dir", str(redis_log.parent), "--logfile", str(redis_log)]
    redis = subprocess.Popen(
        [redis_bin, "--port", str(free_port()), "--bind", "127.0.0.1", "--save", "", *where],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while "Ready to accept connections" not in (
            redis_log.read_text() if redis_log.exists() else ""
        ):
            assert time.monotonic() < deadline, "redis-server did not log that it is ready"
            time.sleep(0.02)
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    redis_lines = [line for line in redis_log.read_text().splitlines() if line.strip()]
    shutil.rmtree(redis_log.parent, ignore_errors=True)
    after = time.time() + 1
    for lines, stamped in ((pg_lines, "LOG:"), (redis_lines, ":M ")):
        read = [(when, line) for line, (when, _) in zip(lines, timed(lines), strict=True)]
        assert any(stamped in line for _, line in read), lines
        for when, line in read:
            if stamped in line[:40]:
                assert when is not None and before <= when <= after, (line, when, before)
