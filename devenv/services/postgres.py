"""PostgreSQL, owned by the project: data in ``.devenv/state/postgres``, sockets in the runtime dir.

A new cluster is copied from a per-user template cache (see
``devenv.services.pgtemplate``) or made with ``initdb``; ``postgresql.conf``
and ``pg_hba.conf`` are rendered on every start (and checked again by
``provision``, so a server that was already running gets them with a reload).
The server is the ``postgres`` binary itself (not ``pg_ctl``, which polls every
100 ms), stopped with SIGINT (fast shutdown). As root the server and its files
belong to the unprivileged ``ctx.user`` (see ``devenv.project.privileges``).

The owner's 0700 socket folder is trusted; TCP needs the project's password
(scram-sha-256, see devenv.services.password), which ``provision`` gives the
superuser and every database owner, and which DATABASE_URL and PGPASSWORD carry.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from devenv.config import Scalar
from devenv.errors import ConfigError, DevenvError
from devenv.events import StepDone
from devenv.files import write_atomic
from devenv.project import pidrecord, privileges
from devenv.resources import render_template, templates_dir
from devenv.services import pgwire
from devenv.services.base import Service, ServiceStartError
from devenv.services.password import project_password
from devenv.services.pgprovision import Provisioner, state_queries
from devenv.services.pgtemplate import TemplateCache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

SUPERUSER = "postgres"
INITDB_ARGS = ("-N", "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C")
# fsync off keeps a commit to a write() into the page cache: it survives a crash of
# PostgreSQL (kill -9), not one of the machine. synchronous_commit stays on, since with
# it off the last ~200 ms of commits live only in shared memory and die with the server.
FAST_DURABILITY = "fsync = off\nfull_page_writes = off\n"
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def conf_value(value: Scalar) -> str:
    """A value as postgresql.conf reads it: numbers and booleans bare, strings quoted."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    return f"'{conf_escape(value)}'"


def conf_escape(text: str) -> str:
    """The inside of a single-quoted postgresql.conf string."""
    text = text.replace("\\", "\\\\").replace("'", "''")
    return text.replace("\n", "\\n").replace("\r", "\\r")


# Settings devenv writes itself; a value here would break its socket, supervision or who gets in.
_OWNED = {
    "port": "set services.{name}.port instead",
    "listen_addresses": "devenv listens on 127.0.0.1 and its socket only, so no other machine "
    "gets in",
    "unix_socket_directories": "devenv keeps the socket in the project's runtime folder",
    "unix_socket_permissions": "the socket is the owner's alone (0700)",
    "data_directory": "the data lives in .devenv/state/{name}",
    "hba_file": "devenv writes pg_hba.conf from its template (TCP needs the project's password)",
    "ident_file": "devenv writes the server's files from its templates",
    "config_file": "devenv writes postgresql.conf from its template",
    "external_pid_file": "devenv finds the server by postmaster.pid in its data folder",
}


class PostgresService(Service):
    # The connection of the probe that found a server this object spawned ready, kept for
    # provision() (one connection fewer on every start, ~5 ms); None once provision took it.
    _spare: pgwire.Connection | None = None
    _new_cluster = False  # prepare() made the cluster: provisioning has work to do
    _keep_probe = False  # set while a spawned server starts: keep the next good probe's

    # -- files ---------------------------------------------------------------

    def prepare(self) -> None:
        self.ctx.layout.check_socket_path(f".s.PGSQL.{self.port}")
        if self.ctx.user.uid != os.geteuid():  # root runs it as ctx.user: can it get there?
            privileges.ensure_reachable(self.data_dir, self.ctx.user, "PostgreSQL's data")
            privileges.ensure_reachable(self.ctx.layout.runtime, self.ctx.user, "its sockets")
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.exists():
            self._create_cluster()
        else:
            self._check_cluster(version_file)
        self._render()

    def _create_cluster(self) -> None:
        import shutil  # a new cluster only: with bz2 and lzma ~2.5 ms a warm start does not pay

        self._new_cluster = True
        user, data = self.ctx.user, self.data_dir
        if data.is_dir() and not data.is_symlink() and not any(data.iterdir()):
            data.rmdir()
        elif data.exists() or data.is_symlink():
            raise DevenvError(
                f"{self.name}: {data} exists but holds no PostgreSQL cluster (no PG_VERSION). "
                "Move it away (devenv never deletes data) and start again."
            )
        data.parent.mkdir(parents=True, exist_ok=True)
        for leftover in data.parent.glob(f".{self.name}.init-*"):  # an interrupted bootstrap
            shutil.rmtree(leftover, ignore_errors=True)
        import tempfile  # a new cluster only: ~4 ms that a warm start does not pay

        work = Path(tempfile.mkdtemp(prefix=f".{self.name}.init-", dir=data.parent))
        try:
            privileges.give_to(work, user)
            target = work / "data"
            self._bootstrap(target)
            if target.stat().st_uid != user.uid:  # a template made for another service user
                privileges.give_to(target, user)
            target.chmod(0o700)
            os.rename(target, data)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _bootstrap(self, target: Path) -> None:
        """Fill ``target`` (which does not exist) with a fresh cluster: cached, else initdb."""
        major = self.ctx.installation.version.major
        cache = TemplateCache(major, INITDB_ARGS, self.binary("server"))
        cached = True
        with contextlib.ExitStack() as stack:
            try:
                if self._copy_template(cache, target):
                    return
                stack.enter_context(cache.locked(exclusive=True))  # one initdb at a time
                if self._copy_template(cache, target, lock=False):  # someone else just made it
                    return
            except OSError:
                cached = False  # no cache here: only slower
            self._initdb(target)
            if cached:
                with contextlib.suppress(OSError):
                    cache.store(target)

    def _copy_template(self, cache: TemplateCache, target: Path, lock: bool = True) -> bool:
        import shutil

        started = time.perf_counter()
        try:
            if not cache.copy_to(target, lock=lock):
                return False
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            return False
        self.ctx.emit(StepDone(self.name, "copied template cluster", time.perf_counter() - started))
        return True

    def _initdb(self, target: Path) -> None:
        started = time.perf_counter()
        argv = [str(self.binary("init")), *INITDB_ARGS, "-D", str(target)]
        try:
            result = subprocess.run(
                argv,
                cwd=target.parent,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                **self.ctx.user.popen_kwargs(),
            )
        except OSError as err:
            raise ServiceStartError(self.name, f"could not run {argv[0]}: {err}") from err
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            raise ServiceStartError(
                self.name, f"initdb failed with exit code {result.returncode}", output[-15:]
            )
        self.ctx.emit(StepDone(self.name, "initdb", time.perf_counter() - started))

    def _check_cluster(self, version_file: Path) -> None:
        found = version_file.read_text().strip()
        major = self.ctx.installation.version.major
        if found != str(major):
            raise DevenvError(
                f"{self.name}: the data in {self.data_dir} was made by PostgreSQL {found}, but "
                f"this is PostgreSQL {self.version}. Install PostgreSQL {found} (or set "
                f'services.{self.name}.version = "{found}"), or move the data away to start over.'
            )
        st = self.data_dir.stat()
        if privileges.is_root() and st.st_uid != self.ctx.user.uid:
            privileges.give_to(self.data_dir, self.ctx.user)

    def _render(self) -> bool:
        """Write postgresql.conf and pg_hba.conf from the templates; True when one changed."""
        config = self.ctx.config
        lines = []
        for key, value in config.settings.items():
            if not _SETTING_NAME.fullmatch(key):
                raise DevenvError(
                    f"services.{self.name}.settings: {key!r} is not a PostgreSQL setting name"
                )
            if key.lower() in _OWNED:
                reason = _OWNED[key.lower()].format(name=self.name)
                raise ConfigError(
                    f"devenv sets '{key}' itself ({reason})",
                    key=f"services.{self.name}.settings.{key}",
                )
            lines.append(f"{key} = {conf_value(value)}")
        values = {
            "project": " ".join(self.ctx.project.split()),
            "port": str(self.port),
            "socket_dir": conf_escape(str(self.ctx.layout.runtime)),
            "durability": "" if config.prod_like else FAST_DURABILITY,
            "settings": "\n".join(lines),
        }
        recipe = self.ctx.recipe
        changed = False
        for which, name, default in (
            ("config", "postgresql.conf", "postgres/postgresql.conf"),
            ("hba", "pg_hba.conf", "postgres/pg_hba.conf"),
        ):
            template = recipe.template_path(which) or templates_dir() / default
            text = render_template(template, values)
            changed |= self._write_if_changed(self.data_dir / name, text)
        return changed

    def _write_if_changed(self, path: Path, text: str) -> bool:
        with contextlib.suppress(OSError):
            if path.read_text() == text:
                return False
        user = self.ctx.user
        owner = (user.uid, user.gid) if privileges.is_root() and user.uid != 0 else None
        write_atomic(path, text, owner=owner)
        return True

    # -- the server ----------------------------------------------------------

    def argv(self) -> list[str]:
        return [str(self.binary("server")), "-D", str(self.data_dir)]

    def early_start_files(self) -> tuple[list[Path], list[Path]]:
        sock = self.ctx.layout.socket(f".s.PGSQL.{self.port}")
        reads = [self.data_dir / "postgresql.conf", self.data_dir / "pg_hba.conf"]
        return reads, [self.data_dir / "postmaster.pid", sock, sock.with_name(sock.name + ".lock")]

    def early_probe(self) -> dict:
        # The login is_ready makes, made by the early start while devenv loads.
        return {
            "kind": "pgwire",
            "ready_file": str(self.data_dir / "postmaster.pid"),
            "socket": str(self.ctx.layout.socket(f".s.PGSQL.{self.port}")),
            "user": SUPERUSER,
            "dbname": "postgres",
        }

    def warm_finish(self) -> dict | None:
        # The answers Provisioner.settled reads, as they are now that it is settled: the next
        # warm start that gets the same ones has nothing to provision either.
        checks = []
        try:
            for dbname, sql in state_queries(self.ctx.config.databases):
                with self.wire_connect(SUPERUSER, dbname) as conn:
                    checks.append({"dbname": dbname, "sql": sql, "rows": conn.query(sql)})
        except (pgwire.Error, pgwire.NeedsPassword, OSError):
            return None  # a hba of the recipe's own, or gone meanwhile: start the ordinary way
        return {"ready": {"kind": "pgwire"}, "checks": checks, "reads": [str(self._passwords)]}

    def while_starting(self) -> None:
        if self._new_cluster:  # it will be provisioned through psycopg2: import it meanwhile
            import psycopg2  # noqa: F401 - ~15 ms, spent while the postmaster starts
        self._keep_probe = True

    def is_ready(self) -> bool:
        # The postmaster writes its state into postmaster.pid (line 8, as pg_ctl reads it);
        # connecting before it says "ready" only fills the log with "starting up" errors.
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        if len(lines) < 8 or lines[7].strip() != "ready":
            return False
        query = self.ctx.recipe.readiness.get("query", "SELECT 1")
        try:
            conn = self.early.connection() if self.early is not None else None
            if conn is None:
                conn = self.wire_connect(SUPERUSER, "postgres")
        except pgwire.NeedsPassword:  # a pg_hba.conf of the recipe's own: libpq logs in
            return self._ready_by_psycopg2(query)
        assert conn is not None
        try:
            conn.query(query)
            if self._keep_probe:
                self._keep_probe, self._spare, conn = False, conn, None
        finally:
            if conn is not None:
                conn.close()
        return True

    def _ready_by_psycopg2(self, query: str) -> bool:
        conn = self.superuser_connect(connect_timeout=1)
        try:
            with conn.cursor() as cur:
                cur.execute(query)
        finally:
            conn.close()
        return True

    def wire_connect(self, user: str, dbname: str) -> pgwire.Connection:
        """A devenv.services.pgwire session over the project's socket (no psycopg2 import)."""
        return pgwire.Connection(self.ctx.layout.socket(f".s.PGSQL.{self.port}"), user, dbname)

    stop_signal = signal.SIGINT  # fast shutdown

    def request_stop(self, pid: int) -> None:
        os.kill(pid, self.stop_signal)

    def find_running(self) -> int | None:
        pid = super().find_running()
        if pid is not None:
            return pid
        pid = _first_line_pid(self.data_dir / "postmaster.pid")
        if pid is None or not self._is_our_postmaster(pid):
            return None
        import psutil

        # Adopt it (a killed devenv, or started by hand); if it is gone meanwhile or the record
        # cannot be written, it is still the running one for now.
        with contextlib.suppress(psutil.Error, OSError):
            pidrecord.write(self.pid_file, pidrecord.PidRecord.of(pid))
        return pid

    def _is_our_postmaster(self, pid: int) -> bool:
        import psutil

        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False
            argv = proc.cmdline()
            if not argv or os.path.basename(argv[0]) != "postgres":
                return False  # not a postgres, or a backend ("postgres: checkpointer")
            try:
                where = proc.cwd()  # the postmaster chdirs into its data dir
            except psutil.AccessDenied:
                where = argv[argv.index("-D") + 1] if "-D" in argv[:-1] else ""
        except psutil.Error:
            return False
        return os.path.realpath(where) == os.path.realpath(self.data_dir)

    def clean_stale(self) -> None:
        lock = self.data_dir / "postmaster.pid"
        if lock.exists():
            pid = _first_line_pid(lock)
            if pid is None or not self._is_our_postmaster(pid):
                lock.unlink(missing_ok=True)
                self._wait_orphans()
        sock = self.ctx.layout.socket(f".s.PGSQL.{self.port}")
        sock_lock = sock.with_name(sock.name + ".lock")
        pid = _first_line_pid(sock_lock)
        if pid is None or not self._is_our_postmaster(pid):
            sock.unlink(missing_ok=True)
            sock_lock.unlink(missing_ok=True)

    def _wait_orphans(self, timeout: float = 5.0) -> None:
        """Backends of a killed postmaster exit by themselves; wait (then kill) so none is left."""
        import psutil

        ours = os.path.realpath(self.data_dir)
        orphans = []
        for proc in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if proc.info["name"] == "postgres" and proc.cwd() == ours:
                    orphans.append(proc)
        _gone, alive = psutil.wait_procs(orphans, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=timeout)

    # -- inside the server ---------------------------------------------------

    def superuser_connect(self, dbname: str = "postgres", connect_timeout: int = 5) -> Connection:
        """A psycopg2 connection as the superuser, over this project's socket."""
        return self._connect(SUPERUSER, dbname, connect_timeout)

    def _connect(self, user: str, dbname: str, connect_timeout: int = 5) -> Connection:
        import psycopg2

        return psycopg2.connect(
            host=str(self.ctx.layout.runtime),
            port=self.port,
            user=user,
            dbname=dbname,
            connect_timeout=connect_timeout,
        )

    def provision(self) -> None:
        """The project's password for the superuser and the owners, then the configured roles,
        databases, extensions and init_sql (see ``pgprovision``).

        A server that was running before (adopted) first gets this devenv's config files
        and reloads them: one started by a devenv that trusted TCP stops trusting it now.
        """
        if self._render():
            conn = self.superuser_connect()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_reload_conf()")
            finally:
                conn.close()
        major = self.ctx.installation.version.major
        provisioner = Provisioner(
            self.name, major, SUPERUSER, self._connect, self.ctx.emit, record=self._passwords
        )
        databases, password = self.ctx.config.databases, self.password
        if not provisioner.settled(self._spare_connect, databases, password):
            provisioner.run(databases, password)

    @property
    def _passwords(self) -> Path:
        """The record of the verifiers given (see devenv.services.pgprovision)."""
        return self.ctx.layout.state / f"{self.name}.passwords.json"

    def _spare_connect(self, user: str, dbname: str) -> pgwire.Connection:
        """``wire_connect``, that first hands out the start's probe connection when it fits."""
        spare, self._spare = self._spare, None
        if spare is not None:
            if user == SUPERUSER and dbname == "postgres":
                return spare
            spare.close()
        return self.wire_connect(user, dbname)

    @property
    def password(self) -> str:
        """The project's password (made on first use): every role devenv makes logs in with it
        over TCP."""
        return project_password(self.ctx.layout)

    # -- for people and processes ----------------------------------------------

    def _target(self) -> tuple[str, str]:
        """(user, database) a process connects as: the first database's owner, else postgres."""
        databases = self.ctx.config.databases
        return (databases[0].owner, databases[0].name) if databases else (SUPERUSER, SUPERUSER)

    def env(self) -> dict[str, str]:
        """DATABASE_URL (TCP, with the password) and the PG* variables of libpq's tools: the
        socket, so `psql` connects without a prompt, and PGPASSWORD for the same tools over
        TCP (`psql -h 127.0.0.1`). Neither puts the password on a command line."""
        user, dbname = self._target()
        password = self.password
        login = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return {
            "DATABASE_URL": f"postgresql://{login}@127.0.0.1:{self.port}/{quote(dbname, safe='')}",
            "PGHOST": str(self.ctx.layout.runtime),
            "PGPORT": str(self.port),
            "PGUSER": user,
            "PGDATABASE": dbname,
            "PGPASSWORD": password,
        }

    def client_argv(self, args: Sequence[str]) -> list[str]:
        user, dbname = self._target()
        host, port = str(self.ctx.layout.runtime), str(self.port)
        client = str(self.binary("client"))
        return [client, "-h", host, "-p", port, "-U", user, "-d", dbname, *args]


def _first_line_pid(path: Path) -> int | None:
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None
