"""PostgresService against the real PostgreSQL server: bootstrap, template cache, faults.

Runs as root (CI: the server then runs as the unprivileged service user) and as
a normal user. Every server started here is stopped by a finalizer, and the
module checks at the end that no postgres process of its projects is left.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from devenv.config import load_config
from devenv.errors import DevenvError
from devenv.events import Event, ServiceReady, StepDone
from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.services.base import ServiceContext, ServiceStartError
from devenv.services.installations import find_installation
from devenv.services.pgtemplate import MARKER, TemplateCache
from devenv.services.postgres import INITDB_ARGS, PostgresService, conf_value
from devenv.services.recipes import recipe_for
from tests.servers import free_port

_ROOTS: list[Path] = []  # every project folder this module made
_PIDS: list[int] = []  # every server pid it saw become ready


@dataclass
class Project:
    root: Path
    service: PostgresService
    events: list[Event] = field(default_factory=list)

    def steps(self) -> list[str]:
        return [e.step for e in self.events if isinstance(e, StepDone)]

    def query(self, text: str, dbname: str = "postgres", params: tuple = ()) -> list[tuple]:
        conn = self.service.superuser_connect(dbname)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(text, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def start(self) -> ServiceReady:
        ready = self.service.start()
        _PIDS.append(ready.pid)
        return ready

    def template(self) -> TemplateCache:
        svc = self.service
        return TemplateCache(
            svc.ctx.installation.version.major, INITDB_ARGS, svc.ctx.installation.binaries["server"]
        )


def _postmasters_of(root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and proc.cwd().startswith(str(root)):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module", autouse=True)
def _no_postgres_left_behind():
    yield
    left = [p for root in _ROOTS for p in _postmasters_of(root)]
    left += [p for p in map(_alive, _PIDS) if p is not None and p not in left]
    for proc in left:
        proc.kill()
    assert not left, f"postgres processes left running: {left}"


def _alive(pid: int) -> psutil.Process | None:
    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.Error:
        return None


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    """An empty template cache for this test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    return path


@pytest.fixture
def make_project(reachable_dir, cache_home):
    """make_project(name, body, files): a project, devenv.toml = [services.postgres] + body."""
    made: list[Project] = []
    user = privileges.service_user()

    def make(
        name: str = "app", body: str = "", files=None, parent: Path | None = None, readiness=None
    ) -> Project:
        root = (parent or reachable_dir) / name
        root.mkdir()
        _ROOTS.append(root)
        for rel, text in (files or {}).items():
            (root / rel).write_text(text)
        (root / "devenv.toml").write_text(
            f'[project]\nname = "{name}"\n\n[services.postgres]\n{body}\n'
        )
        config = load_config(root / "devenv.toml").services["postgres"]
        recipe = recipe_for(config)
        if readiness is not None:  # as a recipe's [readiness] table would say
            recipe = dataclasses.replace(recipe, readiness=readiness)
        installation = find_installation(recipe, config.version)
        layout = Layout(root)
        layout.ensure(runtime_owner=user.uid)
        events: list[Event] = []
        ctx = ServiceContext(
            name, config, recipe, installation, layout, free_port(), user, events.append
        )
        project = Project(root, PostgresService(ctx), events)
        made.append(project)
        return project

    yield make
    for project in made:
        try:
            project.service.stop()
        finally:
            for proc in _postmasters_of(project.root):
                proc.kill()
            shutil.rmtree(project.service.ctx.layout.runtime, ignore_errors=True)


# ---------------------------------------------------------------- bootstrap


def test_cold_start_runs_initdb_fills_the_cache_and_the_next_project_copies_it(make_project):
    first = make_project("first")
    ready = first.start()
    assert first.steps() == ["initdb"]
    assert not ready.adopted
    assert first.template().valid()
    user = first.service.ctx.user
    data = first.service.data_dir
    assert data.stat().st_uid == user.uid
    assert data.stat().st_mode & 0o777 == 0o700
    assert first.query("SHOW port") == [(str(first.service.port),)]
    assert first.query("SHOW fsync") == [("off",)]
    assert first.query("SHOW synchronous_commit") == [("on",)]
    assert first.query("SHOW unix_socket_directories") == [(str(first.service.ctx.layout.runtime),)]
    conf = data / "postgresql.conf"
    assert conf.stat().st_uid == user.uid
    assert (data / "pg_hba.conf").stat().st_uid == user.uid

    second = make_project("second")
    second.start()
    assert second.steps() == ["copied template cluster"]
    assert second.service.data_dir.stat().st_uid == user.uid
    assert second.query("SELECT 1") == [(1,)]
    assert not (second.service.data_dir / MARKER).exists()

    # warm start: nothing to bootstrap, config files untouched
    before = conf.stat().st_mtime_ns
    assert first.service.stop()
    first.events.clear()
    ready = first.start()
    assert first.steps() == []
    assert not ready.adopted
    assert conf.stat().st_mtime_ns == before


def test_settings_are_rendered_quoted_and_prod_like_keeps_durability(make_project):
    project = make_project(
        "settings",
        "prod_like = true\n"
        'settings = { application_name = "it\'s a \\\\ test", work_mem = "8MB", '
        "log_connections = true, max_connections = 50 }",
    )
    project.start()
    assert project.query("SHOW application_name") == [("it's a \\ test",)]
    assert project.query("SHOW work_mem") == [("8MB",)]
    assert project.query("SHOW log_connections") == [("on",)]
    assert project.query("SHOW max_connections") == [("50",)]
    assert project.query("SHOW fsync") == [("on",)]
    assert project.query("SHOW full_page_writes") == [("on",)]


def test_conf_values():
    assert conf_value(True) == "on"
    assert conf_value(False) == "off"
    assert conf_value(3) == "3"
    assert conf_value(0.5) == "0.5"
    assert conf_value("a'b\\c\nd") == "'a''b\\\\c\\nd'"


def test_a_bad_setting_fails_with_the_log_tail_naming_it(make_project):
    project = make_project("badsetting", 'settings = { shared_buffers = "nonsense" }')
    with pytest.raises(ServiceStartError) as caught:
        project.start()
    assert "shared_buffers" in "\n".join(caught.value.log_tail)
    assert "shared_buffers" in str(caught.value)
    assert not project.service.pid_file.exists()
    assert project.service.find_running() is None


def test_the_recipe_readiness_query_is_what_ready_means(make_project):
    """[readiness] query is run by the probe: one that can never succeed is raised at once."""
    project = make_project("readyquery", readiness={"kind": "sql", "query": "SELECT * FROM nope"})
    from devenv.services import pgwire

    with pytest.raises(pgwire.QueryError, match="nope") as caught:
        project.start()
    assert caught.value.code == "42P01"  # undefined_table
    assert "readiness probe of postgres" in "\n".join(getattr(caught.value, "__notes__", []))


def test_an_unreachable_project_folder_as_root_gives_a_clear_message(tmp_path, cache_home):
    if not privileges.is_root():
        pytest.skip("only root runs PostgreSQL as another user")
    user = privileges.service_user()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "devenv.toml").write_text("[services.postgres]\n")
    config = load_config(root / "devenv.toml").services["postgres"]
    recipe = recipe_for(config)
    layout = Layout(root)
    layout.ensure(runtime_owner=user.uid)
    ctx = ServiceContext(
        "proj",
        config,
        recipe,
        find_installation(recipe, config.version),
        layout,
        free_port(),
        user,
    )
    service = PostgresService(ctx)
    with pytest.raises(DevenvError) as caught:
        service.start()
    message = str(caught.value)
    assert f"'{user.name}' cannot enter" in message
    assert "chmod o+x" in message
    assert not service.data_dir.exists()
    shutil.rmtree(layout.runtime, ignore_errors=True)


def test_an_unreachable_socket_folder_as_root_gives_a_clear_message(make_project, monkeypatch):
    if not privileges.is_root():
        pytest.skip("only root runs PostgreSQL as another user")
    private = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))  # 0700, root's
    try:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(private))
        project = make_project("sockets")
        with pytest.raises(DevenvError, match=f"cannot enter {private} .*its sockets"):
            project.start()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_a_cluster_of_another_major_version_is_refused(make_project):
    project = make_project("oldmajor")
    project.start()
    project.service.stop()
    (project.service.data_dir / "PG_VERSION").write_text("9\n")
    with pytest.raises(DevenvError, match="made by PostgreSQL 9"):
        project.start()


# ---------------------------------------------------------------- template cache


@pytest.mark.parametrize("damage", ["marker", "pg_version", "pg_control"])
def test_a_corrupted_template_is_not_used_and_is_rebuilt(make_project, damage):
    first = make_project("first")
    first.service.prepare()
    cache = first.template()
    assert cache.valid()
    if damage == "marker":
        (cache.entry / MARKER).unlink()
    elif damage == "pg_version":
        (cache.cluster / "PG_VERSION").write_text("9\n")
    else:
        (cache.cluster / "global" / "pg_control").unlink()
    assert not cache.valid()

    second = make_project("second")
    second.start()
    assert second.steps() == ["initdb"]
    assert cache.valid()
    assert json.loads((cache.entry / MARKER).read_text())["key"] == cache.key

    third = make_project("third")
    third.service.prepare()
    assert third.steps() == ["copied template cluster"]


def test_two_fresh_projects_at_once_both_start(make_project):
    projects = [make_project(f"p{i}") for i in range(2)]
    errors: list[BaseException] = []

    def run(project: Project) -> None:
        try:
            project.start()
            project.service.provision()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(s for p in projects for s in p.steps()) == ["copied template cluster", "initdb"]
    for project in projects:
        assert project.query("SELECT 1") == [(1,)]
    assert projects[0].template().valid()
    leftovers = [p.name for p in projects[0].template().root.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


# ---------------------------------------------------------------- provisioning

INIT_SQL = """\
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
INSERT INTO notes (body) VALUES ('hello');
"""

DATABASES = """
[[services.postgres.databases]]
name = "shop"
owner = "shopper"
extensions = ["pg_trgm", "citext"]
init_sql = "init.sql"

[[services.postgres.databases]]
name = "other"
"""


def test_databases_roles_and_extensions_are_made_once(make_project):
    project = make_project("prov", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.events.clear()
    project.service.provision()
    assert project.steps() == [
        "created role shopper",
        "created database shop",
        "created role other",
        "created database other",
    ]
    assert project.query(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop'"
    ) == [("shopper",)]
    assert project.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'other'") == [(True,)]
    extensions = {row[0] for row in project.query("SELECT extname FROM pg_extension", "shop")}
    assert {"pg_trgm", "citext"} <= extensions
    assert project.query("SELECT body FROM notes", "shop") == [("hello",)]
    # init_sql ran as the owner: the app owns its tables
    assert project.query("SELECT tableowner FROM pg_tables WHERE tablename = 'notes'", "shop") == [
        ("shopper",)
    ]

    project.events.clear()
    project.service.provision()
    assert project.steps() == []
    assert project.query("SELECT count(*) FROM notes", "shop") == [(1,)]


def test_a_new_extension_is_added_without_rerunning_init_sql(make_project):
    project = make_project("ext", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.service.provision()
    project.service.stop()
    toml = project.root / "devenv.toml"
    toml.write_text(toml.read_text().replace('"citext"]', '"citext", "hstore"]'))
    old = project.service.ctx
    config = load_config(toml).services["postgres"]
    ctx = ServiceContext(
        old.project, config, old.recipe, old.installation, old.layout, old.port, old.user, old.emit
    )
    project.service = PostgresService(ctx)
    project.start()
    project.events.clear()
    project.service.provision()
    assert project.steps() == []
    extensions = {row[0] for row in project.query("SELECT extname FROM pg_extension", "shop")}
    assert "hstore" in extensions
    assert project.query("SELECT count(*) FROM notes", "shop") == [(1,)]


def test_env_and_client_reach_the_first_database(make_project):
    project = make_project("envs", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.service.provision()
    env = project.service.env()
    port = project.service.port
    password = project.service.password
    assert env["DATABASE_URL"] == f"postgresql://shopper:{password}@127.0.0.1:{port}/shop"
    assert env["PGHOST"] == str(project.service.ctx.layout.runtime)
    assert (env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (str(port), "shopper", "shop")
    assert env["PGPASSWORD"] == password

    import psycopg2

    conn = psycopg2.connect(env["DATABASE_URL"])
    with conn.cursor() as cur:
        cur.execute("SELECT current_user, current_database()")
        assert cur.fetchone() == ("shopper", "shop")
    conn.close()

    argv = project.service.client_argv(["-Atc", "SELECT current_user || '@' || current_database()"])
    assert password not in " ".join(argv)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "shopper@shop"


def test_tcp_needs_the_password_and_the_socket_does_not(make_project):
    project = make_project("locked", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.service.provision()
    port, password = project.service.port, project.service.password
    hba = (project.service.data_dir / "pg_hba.conf").read_text()
    rules = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert rules == [
        ["local", "all", "all", "trust"],  # the owner's 0700 socket folder
        ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
        ["host", "all", "all", "::1/128", "scram-sha-256"],
    ]
    assert project.query("SHOW password_encryption") == [("scram-sha-256",)]
    stored = project.query(
        "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('postgres', 'shopper')"
    )
    assert len(stored) == 2
    assert all(verifier.startswith("SCRAM-SHA-256$") for _, verifier in stored)

    import psycopg2

    tcp = {"host": "127.0.0.1", "port": port, "dbname": "postgres"}
    for user in ("postgres", "shopper", "other"):
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(**tcp, user=user, password="x")
        with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
            psycopg2.connect(**tcp, user=user)
    psycopg2.connect(**tcp, user="postgres", password=password).close()


def test_the_dev_role_creates_a_test_database_as_django_does(make_project):
    """Django's and Rails' test runners connect to the ``postgres`` database as the app's role
    and CREATE DATABASE test_<name>: the owner may (CREATEDB), over TCP with DATABASE_URL."""
    project = make_project("testdb", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.service.provision()
    import psycopg2

    url = project.service.env()["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE test_shop")
            cur.execute("SELECT datdba::regrole::text FROM pg_database WHERE datname = 'test_shop'")
            assert cur.fetchone() == ("shopper",)
            cur.execute("DROP DATABASE test_shop")
    finally:
        conn.close()


def test_a_server_from_before_passwords_moves_to_them_keeping_its_data(make_project):
    """A cluster made when devenv trusted TCP (roles without passwords, a trusting pg_hba.conf),
    still running or stopped: the next start and provision give it the password, data kept."""
    project = make_project("legacy", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    project.service.provision()
    service = project.service
    layout = service.ctx.layout
    trusting = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"

    def make_it_old() -> None:
        project.query("ALTER ROLE postgres PASSWORD NULL")
        project.query("ALTER ROLE shopper PASSWORD NULL NOCREATEDB")
        (service.data_dir / "pg_hba.conf").write_text(trusting)
        project.query("SELECT pg_reload_conf()")
        (layout.base / "password").unlink()

    import psycopg2

    old_url = f"postgresql://shopper@127.0.0.1:{service.port}/shop"
    for running in (True, False):
        make_it_old()
        assert _eventually(lambda: _login(old_url) == "in")  # trusted, as before
        if not running:
            assert service.stop()
        fresh = PostgresService(service.ctx)
        ready = fresh.start()
        assert ready.adopted is running
        fresh.provision()
        project.service = fresh
        assert (layout.base / "password").stat().st_mode & 0o777 == 0o600
        assert _eventually(lambda: "no password supplied" in _login(old_url))
        conn = psycopg2.connect(fresh.env()["DATABASE_URL"])
        with conn.cursor() as cur:
            cur.execute("SELECT body FROM notes")
            assert cur.fetchall() == [("hello",)]
            cur.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'shopper'")
            assert cur.fetchone() == (True,)
        conn.close()


def test_a_password_given_before_is_not_given_again_until_it_changes(make_project):
    """A warm start skips the ALTER ROLE round when each role still holds the verifier devenv
    recorded for this password; a password changed by hand or a new password file is given
    again."""
    project = make_project("kept", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    service = project.service
    query = "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('postgres', 'shopper')"

    service.provision()
    first = dict(project.query(query))
    service.provision()
    assert dict(project.query(query)) == first  # a new verifier has a new salt: none given

    project.query("ALTER ROLE shopper PASSWORD 'by hand'")
    service.provision()
    now = dict(project.query(query))
    assert now["postgres"] == first["postgres"]
    assert now["shopper"] not in (first["shopper"], None)
    assert _login(service.env()["DATABASE_URL"]) == "in"

    password_file = service.ctx.layout.base / "password"
    password_file.write_text("a-new-password-of-the-project\n")
    service.provision()
    again = dict(project.query(query))
    assert again["postgres"] != now["postgres"] and again["shopper"] != now["shopper"]
    assert service.password == "a-new-password-of-the-project"
    assert _login(service.env()["DATABASE_URL"]) == "in"


def _login(url: str) -> str:
    """ "in", or why the server refused."""
    import psycopg2

    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError as err:
        return str(err)
    return "in"


def _eventually(check, timeout: float = 10.0) -> bool:
    """Whether ``check()`` holds within ``timeout`` (a reload is signalled, not awaited)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_env_without_databases_uses_postgres(make_project):
    project = make_project("plain")
    env = project.service.env()
    assert (env["PGUSER"], env["PGDATABASE"]) == ("postgres", "postgres")
    password = project.service.password
    assert env["DATABASE_URL"] == (
        f"postgresql://postgres:{password}@127.0.0.1:{project.service.port}/postgres"
    )
    project.start()
    project.service.provision()  # no databases: the superuser still gets the password

    import psycopg2

    psycopg2.connect(env["DATABASE_URL"]).close()


def test_a_missing_extension_names_database_extension_and_package(make_project):
    body = '[[services.postgres.databases]]\nname = "shop"\nextensions = ["no_such_ext"]\n'
    project = make_project("badext", body)
    project.start()
    with pytest.raises(DevenvError) as caught:
        project.service.provision()
    message = str(caught.value)
    assert "'shop'" in message
    assert "'no_such_ext'" in message
    assert "extension control file" in message  # PostgreSQL's own words
    assert "contrib" in message
    # the half-made database is gone, so a fixed config starts over cleanly
    assert project.query("SELECT count(*) FROM pg_database WHERE datname = 'shop'") == [(0,)]


def test_failing_init_sql_names_the_file_line_and_error(make_project):
    bad = "CREATE TABLE t (i int);\nSELECT no_such_function();\n"
    body = '[[services.postgres.databases]]\nname = "shop"\ninit_sql = "bad.sql"\n'
    project = make_project("badsql", body, {"bad.sql": bad})
    project.start()
    with pytest.raises(DevenvError) as caught:
        project.service.provision()
    message = str(caught.value)
    assert "'shop'" in message
    assert "bad.sql (line 2)" in message
    assert "no_such_function() does not exist" in message
    assert project.query("SELECT count(*) FROM pg_database WHERE datname = 'shop'") == [(0,)]


# ---------------------------------------------------------------- data and faults


def _insert_rows(project: Project, *values: str) -> None:
    project.query("CREATE TABLE IF NOT EXISTS kept (v text)")
    for value in values:
        project.query("INSERT INTO kept VALUES (%s)", params=(value,))


def _rows(project: Project) -> list[str]:
    return [row[0] for row in project.query("SELECT v FROM kept ORDER BY v")]


def test_committed_rows_survive_stop_and_start(make_project):
    project = make_project("keep")
    project.start()
    _insert_rows(project, "a", "b")
    assert project.service.stop()
    assert project.service.find_running() is None
    project.start()
    assert _rows(project) == ["a", "b"]


def test_kill_9_of_the_postmaster_recovers_with_committed_rows(make_project):
    project = make_project("crash")
    ready = project.start()
    _insert_rows(project, "x", "y")
    os.kill(ready.pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(ready.pid)], timeout=5)
    assert (project.service.data_dir / "postmaster.pid").exists()  # stale now

    again = project.start()
    assert again.pid != ready.pid
    assert not again.adopted
    assert _rows(project) == ["x", "y"]
    assert len([p for p in _postmasters_of(project.root) if _is_postmaster(p)]) == 1


def _is_postmaster(proc: psutil.Process) -> bool:
    try:
        return os.path.basename(proc.cmdline()[0]) == "postgres"
    except (psutil.Error, IndexError):
        return False


def test_a_server_whose_pid_record_was_lost_is_adopted_not_started_twice(make_project):
    project = make_project("adopt")
    ready = project.start()
    project.service.pid_file.unlink()  # as after devenv was SIGKILLed mid-write, or by hand

    fresh = PostgresService(project.service.ctx)
    again = fresh.start()
    assert again.adopted
    assert again.pid == ready.pid
    assert fresh.pid_file.exists()
    assert len([p for p in _postmasters_of(project.root) if _is_postmaster(p)]) == 1
    assert fresh.stop()
    assert _alive(ready.pid) is None
    assert not (fresh.data_dir / "postmaster.pid").exists()


def test_stale_lock_files_and_sockets_are_cleaned(make_project):
    project = make_project("stale")
    project.start()
    project.service.stop()
    layout = project.service.ctx.layout
    port = project.service.port
    # a postmaster.pid naming a live process that is not a postgres (this test)
    (project.service.data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n/elsewhere\n")
    sock = layout.socket(f".s.PGSQL.{port}")
    sock.write_text("")
    sock.with_name(sock.name + ".lock").write_text(f"{os.getpid()}\n")
    assert project.service.find_running() is None
    project.start()
    assert project.query("SELECT 1") == [(1,)]


# ---------------------------------------------------------------- pgwire


def test_pgwire_reads_what_psycopg2_reads(make_project):
    """devenv.services.pgwire, which answers a warm start's questions without psycopg2: the
    same rows (text, NULL as None), the server's errors with their SQLSTATE."""
    from devenv.services import pgwire

    project = make_project("wire")
    project.start()
    service = project.service
    sql = "SELECT 'é' || 1, NULL::text, true, '' UNION ALL SELECT 'two', 'x', false, 'y'"
    with service.wire_connect("postgres", "postgres") as conn:
        rows = conn.query(sql)
        assert rows == [("é1", None, "t", ""), ("two", "x", "f", "y")]
        assert [tuple(str(v) for v in row) for row in project.query(sql)] == [
            ("é1", "None", "True", ""),
            ("two", "x", "False", "y"),
        ]
        with pytest.raises(pgwire.QueryError) as refused:
            conn.query("SELEC 1")
        assert refused.value.code == "42601"  # syntax_error
        assert conn.query("SELECT 2") == [("2",)]  # the session goes on after an error
    with pytest.raises(pgwire.OperationalError) as no_database:
        service.wire_connect("postgres", "no_such_database")
    assert no_database.value.code == "3D000"


def test_a_provision_with_everything_in_place_makes_nothing_and_a_dropped_db_comes_back(
    make_project,
):
    project = make_project("settle", DATABASES, {"init.sql": INIT_SQL})
    project.start()
    service = project.service
    service.provision()
    provisioner_steps = len(project.steps())
    service.provision()  # settled: no step, nothing made
    assert len(project.steps()) == provisioner_steps
    project.query("DROP DATABASE other")
    service.provision()
    assert ("other",) in project.query("SELECT datname FROM pg_database")
    assert project.steps()[-1] == "created database other"
