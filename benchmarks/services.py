"""devenv's service commands against the raw commands a person would type, in the same run.

Run: .venv/bin/python benchmarks/services.py [--runs N] [--dir DIR]   (5 runs, in /tmp)

Measured, each a median over N runs (the raw baseline and devenv alternate, so both
see the same machine load):

1. warm start: ``devenv up -d`` on a bootstrapped, stopped project (postgres with one
   database, redis) vs ``pg_ctl start -w`` on an existing cluster, then ``redis-server``
   polled with ``redis-cli ping`` until PONG. Goal <= 0.9x (issue 11). devenv's start is
   the one a developer's every start after the first is: finished from the last start's
   record (devenv.services.warmstart). Also (info) the same start with that record removed
   first (the ordinary start, with the servers spawned early), and with the start plans
   removed (devenv.project.startplan: the servers are then spawned after devenv's imports).
2. cold start: ``devenv up -d`` on a new project (template cache warm, as for a
   developer's second project; plus one run with an empty cache) vs ``initdb`` +
   ``pg_ctl start -w`` + ``createdb`` + redis-server + ping. Goal <= 0.6x.
3. stop: ``devenv down`` vs ``pg_ctl stop -m fast`` + ``redis-cli shutdown``. Goal <= 1.0x.
4. restore: ``devenv restore s1 --yes`` of a database holding a 10k-row table.
   Goal: well under a second.

devenv is run as ``python -m devenv`` in the project folder, so its times include the
interpreter's start-up; ``python -c pass`` and ``python -m devenv --version`` are
reported so that share can be read off. As root, PostgreSQL (raw and devenv's) runs as
the unprivileged account devenv uses, in folders under /tmp that account can enter.
Servers are stopped after each measurement; every folder is removed at the end (deleting
clusters mid-run slows the file creation of the next runs on VM disks), also after an
error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _bench
from _bench import elapsed_ms

from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.resources import services_dir
from devenv.services.installations import Installation, find_installation
from devenv.services.recipes import load_recipe

TIMEOUT = 120  # seconds, for any one command
# The same initdb arguments devenv uses (devenv.services.postgres.INITDB_ARGS).
INITDB_ARGS = ("-N", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
ROWS = 10_000

PROJECT_CONFIG = """\
[project]
name = "{name}"

[services.postgres]
port = {pg_port}

[[services.postgres.databases]]
name = "app"

[services.redis]
port = {redis_port}
"""

REDIS_CONF = """\
bind 127.0.0.1
port {port}
dir {dir}
daemonize no
appendonly yes
save ""
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    return _bench.run(argv, what, TIMEOUT, **kwargs)


class Bench(_bench.BaseBench):
    """What the whole run shares: binaries, the service user, a base folder, the cleanup lists."""

    def __init__(self, parent: Path) -> None:
        self.user = privileges.service_user()
        self.pg = find_installation(load_recipe(services_dir() / "postgres.toml"), None)
        self.redis = find_installation(load_recipe(services_dir() / "redis.toml"), None)
        super().__init__("devenv-bench-", parent, drop=["NO_COLOR"])
        self.projects: list[Project] = []
        self.raws: list[RawServers] = []

    def folder(self, name: str, owner: privileges.ServiceUser | None = None) -> Path:
        path = self.base / name
        path.mkdir(mode=0o755)
        path.chmod(0o755)
        if owner is not None and privileges.is_root():
            os.chown(path, owner.uid, owner.gid)
        return path

    def cleanup(self) -> list[str]:
        """Stop everything started, remove every folder; return what could not be done."""
        problems: list[str] = []
        for project in self.projects:
            with contextlib.suppress(Exception):
                project.down()
        for raw in self.raws:
            try:
                raw.stop(force=True)
            except Exception as err:  # keep cleaning up the rest
                problems.append(f"{raw.folder}: {err}")
        for project in self.projects:
            shutil.rmtree(project.runtime, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)
        problems += leftover_servers(self.base)
        problems += [f"left behind: {p}" for p in (self.base, *self.runtimes()) if p.exists()]
        return problems

    def runtimes(self) -> list[Path]:
        return [project.runtime for project in self.projects]


def leftover_servers(base: Path) -> list[str]:
    """Processes (postgres, redis-server...) still running from a folder of this run."""
    return [f"left running: {_bench.describe(p)}" for p in _bench.processes_of(base, [str(base)])]


class Project:
    """A devenv project (postgres with database 'app', redis) on free ports."""

    def __init__(self, bench: Bench, name: str, env: dict[str, str] | None = None) -> None:
        self.bench = bench
        self.path = bench.folder(name)
        self.env = env or bench.env
        (self.path / "devenv.toml").write_text(
            PROJECT_CONFIG.format(name=name, pg_port=free_port(), redis_port=free_port())
        )
        self.runtime = Layout(self.path).runtime  # sockets live outside the project
        bench.projects.append(self)

    def devenv(self, *args: str) -> subprocess.CompletedProcess:
        return run(
            [sys.executable, "-m", "devenv", *args],
            f"devenv {' '.join(args)} in {self.path}",
            cwd=self.path,
            env=self.env,
        )

    def up(self) -> None:
        self.devenv("up", "-d")

    def down(self) -> None:
        if (self.path / "devenv.toml").exists():
            self.devenv("down")

    def psql(self, sql: str) -> str:
        return self.devenv("psql", "-q", "-At", "-c", sql).stdout.strip()


class RawServers:
    """A cluster and a redis-server run by hand, as a person would type the commands."""

    def __init__(self, bench: Bench, name: str) -> None:
        self.bench = bench
        self.user = bench.user
        self.folder = bench.folder(name, owner=self.user)
        self.data = self.folder / "pg"
        self.sockets = self.folder / "run"
        self.redis_dir = self.folder / "redis"
        for path in (self.sockets, self.redis_dir):
            path.mkdir(mode=0o755)
            if privileges.is_root():
                os.chown(path, self.user.uid, self.user.gid)
        self.pg_port, self.redis_port = free_port(), free_port()
        self.redis_conf = self.folder / "redis.conf"
        self.redis_conf.write_text(REDIS_CONF.format(port=self.redis_port, dir=self.redis_dir))
        self.redis_proc: subprocess.Popen | None = None
        bench.raws.append(self)

    def _pg(self, role: str) -> Path:
        if role == "control":  # pg_ctl: devenv never runs it, so its recipe does not list it
            return self.bench.pg.bindir / "pg_ctl"
        return self.bench.pg.binaries[role]

    def _as_user(self, argv: list, what: str) -> None:
        run(argv, what, cwd=self.folder, **self.user.popen_kwargs())

    # -- the commands a person types -----------------------------------------

    def initdb(self) -> None:
        self._as_user([self._pg("init"), *INITDB_ARGS, "-D", self.data], "initdb")

    def pg_start(self) -> None:
        options = f"-p {self.pg_port} -k {self.sockets} -c listen_addresses=127.0.0.1"
        argv = [self._pg("control"), "start", "-w", "-D", self.data, "-l", self.folder / "pg.log"]
        self._as_user([*argv, "-o", options], "pg_ctl start")

    def createdb(self) -> None:
        createdb = self.bench.pg.bindir / "createdb"
        argv = [createdb, "-h", self.sockets, "-p", self.pg_port, "-U", "postgres", "app"]
        run(argv, "createdb")

    def redis_start(self) -> None:
        """``redis-server redis.conf &``, then ``until redis-cli ping; do :; done``."""
        with open(self.folder / "redis.log", "ab") as log:
            self.redis_proc = subprocess.Popen(
                [str(self.bench.redis.server), str(self.redis_conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self.user.popen_kwargs(),
            )
        cli = [str(self.bench.redis.binaries["client"]), "-p", str(self.redis_port), "ping"]
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = subprocess.run(cli, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if answer.stdout.strip() == "PONG":
                return
            if self.redis_proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.redis_proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING in time")

    def pg_stop(self) -> None:
        self._as_user([self._pg("control"), "stop", "-m", "fast", "-D", self.data], "pg_ctl stop")

    def redis_shutdown(self) -> None:
        cli = self.bench.redis.binaries["client"]
        # SHUTDOWN's answer is the connection closing; redis-cli may report that as an error.
        subprocess.run(
            [str(cli), "-p", str(self.redis_port), "shutdown"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
        )

    # -- the sequences measured ------------------------------------------------

    def start(self) -> None:
        self.pg_start()
        self.redis_start()

    def stop(self, force: bool = False) -> None:
        if (self.data / "postmaster.pid").exists():
            mode = "immediate" if force else "fast"
            argv = [self._pg("control"), "stop", "-m", mode, "-D", self.data]
            self._as_user(argv, "pg_ctl stop")
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_shutdown()
            try:
                self.redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis_proc.kill()
                self.redis_proc.wait()
        self.redis_proc = None


# ---------------------------------------------------------------- the measurements


class Results(_bench.Table):
    def __init__(self) -> None:
        super().__init__(58, 10, "ratio", 12)

    def add(self, name: str, times: list[float], ratio: str = "", goal: str = "") -> float:
        median = statistics.median(times)
        self.row(
            name, f"{median:7.1f} ms", ratio or "(baseline)", goal, _bench.spread(times, ".0f")
        )
        return median

    def versus(self, name: str, times: list[float], baseline: float, goal: float | None) -> None:
        ratio = statistics.median(times) / baseline
        verdict = "" if goal is None else _bench.goal(f"<= {goal:.1f}x", ratio <= goal)
        self.add(name, times, f"{ratio:5.2f}x", verdict)


def interpreter(bench: Bench, runs: int, results: Results) -> None:
    python, version = _bench.interpreter(bench.env, runs)
    base = results.add("python -c pass", python)
    results.versus("python -m devenv --version", version, base, None)


def warm_and_stop(bench: Bench, runs: int, results: Results) -> None:
    project = Project(bench, "warm")
    project.up()  # bootstraps the project (and fills the template cache if it was empty)
    project.down()
    project.up()  # the first warm start: recorded for the next (devenv.services.warmstart)
    project.down()
    raw = RawServers(bench, "raw-warm")
    raw.initdb()
    raw.start()  # once untimed, as devenv's first start was
    raw.stop()

    def up_without_plans() -> None:
        for plan in (project.path / ".devenv" / "state").glob("*.plan.json"):
            plan.unlink()
        project.up()

    def up_without_record() -> None:
        (project.path / ".devenv" / "state" / "up.warm.json").unlink(missing_ok=True)
        project.up()

    dev_up, dev_down, raw_up, raw_down, unplanned_up, unplanned_down = [], [], [], [], [], []
    ordinary_up, ordinary_down = [], []
    for i in range(runs):
        triples = [
            (dev_up, dev_down, project.up, project.down),
            (raw_up, raw_down, raw.start, raw.stop),
            (unplanned_up, unplanned_down, up_without_plans, project.down),
            (ordinary_up, ordinary_down, up_without_record, project.down),
        ]
        for ups, downs, up, down in triples if i % 2 == 0 else reversed(triples):
            ups.append(elapsed_ms(up))
            downs.append(elapsed_ms(down))

    base = results.add("warm start: pg_ctl start -w + redis-server, ping", raw_up)
    results.versus("warm start: devenv up -d", dev_up, base, 0.9)
    name = "warm start: devenv up -d, no warm record (info)"
    results.versus(name, ordinary_up, base, None)
    name = "warm start: devenv up -d, no start plans (info)"
    results.versus(name, unplanned_up, base, None)
    base = results.add("stop: pg_ctl stop -m fast + redis-cli shutdown", raw_down)
    results.versus("stop: devenv down", dev_down, base, 1.0)
    project.down()
    raw.stop()


def cold(bench: Bench, runs: int, results: Results) -> None:
    """New folders each run. They are removed only at the end: on this kind of VM disk,
    deleting a cluster's ~1000 files (and writing back the last one's) slows the file
    creation of the next run by up to 10x, so each timed run starts after a sync."""
    dev_times, raw_times = [], []

    def devenv_once(index: int) -> None:
        project = Project(bench, f"cold-{index}")
        os.sync()
        dev_times.append(elapsed_ms(project.up))
        project.down()

    def raw_once(index: int) -> None:
        raw = RawServers(bench, f"raw-cold-{index}")

        def by_hand() -> None:
            raw.initdb()
            raw.pg_start()
            raw.createdb()
            raw.redis_start()

        os.sync()
        raw_times.append(elapsed_ms(by_hand))
        raw.stop()

    for i in range(runs):
        for once in (devenv_once, raw_once) if i % 2 == 0 else (raw_once, devenv_once):
            once(i)

    base = results.add("cold start: initdb + pg_ctl start -w + createdb + redis", raw_times)
    results.versus("cold start: devenv up -d (template cache warm)", dev_times, base, 0.6)

    cache = bench.folder("empty-cache")
    project = Project(bench, "cold-empty-cache", env={**bench.env, "XDG_CACHE_HOME": str(cache)})
    os.sync()
    empty = elapsed_ms(project.up)
    project.down()
    name = "cold start: devenv up -d (empty cache, 1 run; info)"
    results.versus(name, [empty], base, None)


def restore(bench: Bench, runs: int, results: Results) -> None:
    project = Project(bench, "restore")
    project.up()
    project.psql(
        "CREATE TABLE items AS SELECT g AS id, md5(g::text) AS body "
        f"FROM generate_series(1, {ROWS}) AS g"
    )
    project.devenv("snapshot", "s1")
    times = []
    for _ in range(runs):
        project.psql("DELETE FROM items WHERE id % 2 = 0")
        # The safety snapshot each restore takes is named by the second: one restore a second.
        time.sleep(1.05 - time.time() % 1)
        times.append(elapsed_ms(lambda: project.devenv("restore", "s1", "--yes")))
        count = project.psql("SELECT count(*) FROM items")
        if count != str(ROWS):
            raise RuntimeError(f"after devenv restore the table holds {count} rows, not {ROWS}")
    results.add(f"restore: devenv restore s1 --yes ({ROWS} rows)", times, "-", "well under 1 s")
    project.down()


# ---------------------------------------------------------------- main


def template_cache_root() -> Path:
    from devenv.services.pgtemplate import cache_root

    return cache_root()


def machine_facts(bench: Bench) -> list[str]:
    # Servers of other runs (tests, other projects) on this machine add noise.
    others = _bench.count_processes(["postgres", "redis-server", "initdb"])

    def where(inst: Installation) -> str:
        return f"{inst.version} ({inst.bindir})"

    runner = bench.user.name
    if privileges.is_root():
        runner += " (devenv and the raw commands run the servers as this user, since root)"
    return [
        *_bench.machine_facts(f"{others} other postgres/redis/initdb processes running"),
        f"PostgreSQL:  {where(bench.pg)}",
        f"Redis:       {where(bench.redis)}",
        f"folders:     {bench.base} (projects and raw clusters; the template cache is in "
        f"{template_cache_root()})",
        f"servers run as: {runner}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    _bench.dir_option(parser, "the projects and raw clusters")
    args = parser.parse_args()
    _bench.positive(parser, args, "runs")

    bench = Bench(args.dir)
    results = Results()

    def measure() -> None:
        _bench.print_header(
            [
                *machine_facts(bench),
                f"runs:        {args.runs} per measurement (medians; [min-max] after the goal)",
            ],
            bench,
            "devenv is timed as `python -m devenv ...` (interpreter start "
            "included);\n             cold runs use a new project folder each time with "
            "devenv's PostgreSQL\n             template cache warm (a developer's second "
            "project), plus one run with\n             an empty cache (XDG_CACHE_HOME "
            "pointed at a fresh folder:\n             initdb, then the cache is filled).",
        )
        interpreter(bench, args.runs, results)
        warm_and_stop(bench, args.runs, results)
        cold(bench, args.runs, results)
        restore(bench, args.runs, results)

    return _bench.main_loop(bench, results, measure, "every server stopped, every folder removed")


if __name__ == "__main__":
    sys.exit(main())
