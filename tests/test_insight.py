"""devenv.services.insight against real PostgreSQL and Redis servers of a real project (a Stack),
and its masking of secrets."""

from __future__ import annotations

import textwrap

import pytest

from devenv.config import load_config
from devenv.services import insight
from devenv.services.insight import (
    Launch,
    PostgresFigures,
    RedisFigures,
    Unavailable,
    figures_of,
    mask_env,
)
from devenv.services.stack import Stack

pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A project with PostgreSQL (pg_stat_statements loaded, created in 'shop' only) and Redis,
    running; stopped afterwards."""
    import shutil

    from tests.servers import reachable_tmpdir

    root = reachable_tmpdir("devenv-insight-")
    (root / "devenv.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "shop"

            [services.postgres]
            settings = { shared_preload_libraries = "pg_stat_statements" }

            [[services.postgres.databases]]
            name = "shop"
            extensions = ["pg_stat_statements"]

            [services.redis]
            """
        )
    )
    stack = Stack(load_config(root / "devenv.toml"))
    with pytest.MonkeyPatch.context() as patch:  # its own template cache, as private_cache
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()
            shutil.rmtree(stack.layout.runtime, ignore_errors=True)
            shutil.rmtree(root, ignore_errors=True)


def sql(stack: Stack, dbname: str, text: str) -> list[tuple]:
    with stack.service("postgres").wire_connect("postgres", dbname) as conn:
        return conn.query(text)


def test_postgres_figures_count_connections_size_databases_and_find_the_slowest(stack):
    service = stack.service("postgres")
    sql(stack, "shop", "CREATE TABLE IF NOT EXISTS items AS SELECT generate_series(1, 20000) AS n")
    sql(stack, "shop", "SELECT pg_sleep(0.05)")
    sql(stack, "shop", "SELECT count(*) FROM items WHERE n > 10")
    with service.wire_connect("postgres", "shop") as idle:  # a client that stays connected
        idle.query("SELECT 1")
        figures = figures_of(service, "shop")

    assert isinstance(figures, PostgresFigures)
    assert figures.connections >= 1  # the idle client, not devenv's own question
    assert dict(figures.by_state).get("idle", 0) >= 1
    assert figures.connections == sum(n for _, n in figures.by_state)
    assert figures.max_connections == int(sql(stack, "postgres", "SHOW max_connections")[0][0])
    sizes = dict(figures.databases)
    assert {"postgres", "shop"} <= set(sizes)
    assert sizes["shop"] > sizes["postgres"]  # it holds the table
    assert [size for _, size in figures.databases] == sorted(sizes.values(), reverse=True)
    assert figures.statements is not None, figures.statements_note
    assert figures.statements[0].query == "SELECT pg_sleep($1)"  # slowest mean first
    assert figures.statements[0].mean_ms >= 50
    assert figures.statements[0].calls >= 1
    means = [s.mean_ms for s in figures.statements]
    assert means == sorted(means, reverse=True)
    assert not any("pg_stat_statements" in s.query for s in figures.statements)


def test_postgres_statements_are_read_where_the_config_gives_the_extension(stack):
    figures = figures_of(stack.service("postgres"))
    assert isinstance(figures, PostgresFigures)
    assert figures.statements is not None, figures.statements_note


def test_postgres_without_pg_stat_statements_says_so(stack):
    # The server loads it, but the database asked was not given the extension.
    figures = figures_of(stack.service("postgres"), "postgres")
    assert isinstance(figures, PostgresFigures)
    assert figures.statements is None
    assert figures.statements_note == "pg_stat_statements is not installed in this database"
    assert dict(figures.databases).keys() >= {"postgres", "shop"}


def test_postgres_with_the_extension_created_but_not_loaded_says_what_the_server_says(
    reachable_dir, tmp_path, monkeypatch
):
    import shutil

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (reachable_dir / "devenv.toml").write_text(
        '[project]\nname = "unloaded"\n\n[services.postgres]\n\n'
        '[[services.postgres.databases]]\nname = "shop"\nextensions = ["pg_stat_statements"]\n'
    )
    stack = Stack(load_config(reachable_dir / "devenv.toml"))
    try:
        stack.start()
        figures = figures_of(stack.service("postgres"))
    finally:
        stack.stop()
        shutil.rmtree(stack.layout.runtime, ignore_errors=True)
    assert isinstance(figures, PostgresFigures)
    assert figures.statements is None
    assert "shared_preload_libraries" in figures.statements_note
    assert "shop" in dict(figures.databases)


def test_postgres_that_does_not_answer_is_unavailable(stack):
    figures = figures_of(stack.service("postgres"), "no_such_database")
    assert isinstance(figures, Unavailable)
    assert "no_such_database" in figures.reason


def test_redis_figures_count_keys_per_database_and_memory(stack):
    service = stack.service("redis")
    from devenv.services import resp

    password = service.password
    socket = service.socket_path
    for i in range(7):
        resp.command(socket, "SET", f"k{i}", "v" * 100, password=password)
    resp.command(socket, "MOVE", "k6", "3", password=password)  # each command: a connection

    figures = figures_of(service)
    assert isinstance(figures, RedisFigures)
    assert dict(figures.keys) == {"db0": 6, "db3": 1}
    assert figures.used_memory > 0
    assert figures.peak_memory > 0
    assert figures.maxmemory == 0
    assert figures.ops_per_sec >= 0
    assert figures.clients >= 1  # the INFO's own connection


def test_a_stopped_server_is_unavailable_and_others_have_no_figures(tmp_path):
    assert figures_of(object()) is None  # a recipe's own server, say: nothing to ask it
    root = tmp_path / "p"
    root.mkdir()
    (root / "devenv.toml").write_text('[project]\nname = "p"\n\n[services.redis]\n')
    stopped = Stack(load_config(root / "devenv.toml")).service("redis")
    figures = figures_of(stopped)
    assert isinstance(figures, Unavailable)
    assert figures.reason.startswith("no answer")


def test_redis_info_of_an_older_server_reads_as_zeros():
    figures = insight.redis({"used_memory": "1024", "db0": "keys=2,expires=0,avg_ttl=0"})
    assert figures == RedisFigures(1024, 0, 0, 0, 0, (("db0", 2),))


def test_mask_env_hides_secrets_by_name_in_urls_and_the_project_password():
    env = {
        "DATABASE_URL": "postgresql://shop:pw-123456789012345@127.0.0.1:5432/shop",
        "OTHER_URL": "https://user:hunter2@example.com/x",
        "SECRET_KEY": "abc",
        "API_TOKEN": "t",
        "PGPASSWORD": "pw-123456789012345",
        "aws_access_key_id": "AKIA",
        "EMPTY_PASSWORD": "",
        "REDISCLI_AUTH": "pw-123456789012345",
        "NOTE": "the password is pw-123456789012345 here",
        "PORT": "5000",
    }
    shown = dict(mask_env(env, ("pw-123456789012345",)))
    assert shown == {
        "API_TOKEN": "***",
        "DATABASE_URL": "postgresql://shop:***@127.0.0.1:5432/shop",
        "EMPTY_PASSWORD": "",
        "NOTE": "the password is *** here",
        "OTHER_URL": "https://user:***@example.com/x",
        "PGPASSWORD": "***",
        "PORT": "5000",
        "REDISCLI_AUTH": "***",
        "SECRET_KEY": "***",
        "aws_access_key_id": "***",
    }
    assert [name for name, _ in mask_env(env)] == sorted(env)
    assert Launch("x", mask_env({"A": "1"})).env == (("A", "1"),)


def test_a_session_says_what_each_row_runs_secrets_masked_and_asks_its_servers(reachable_dir):
    from devenv.errors import DevenvError
    from devenv.services.password import read_password
    from devenv.session import Session

    (reachable_dir / "devenv.toml").write_text(
        '[project]\nname = "shop"\n\n[[services.postgres.databases]]\nname = "app"\n\n'
        '[services.redis]\n\n[processes.web]\nenv = { API_TOKEN = "tok", MODE = "dev" }\n'
    )
    (reachable_dir / "Procfile").write_text("web: sleep 1000\n")
    (reachable_dir / ".env").write_text("SECRET_KEY=abc\nCACHE_URL=redis://:pw@cache:6379/0\n")
    session = Session(
        load_config(reachable_dir / "devenv.toml"), on_event=lambda e: None, on_lines=print
    )
    session.start()
    try:
        password = read_password(session.layout)
        web = session.launch("web.1")
        assert web.command == "sleep 1000"
        env = dict(web.env)
        assert env["API_TOKEN"] == env["SECRET_KEY"] == "***"
        assert env["MODE"] == "dev"
        assert env["CACHE_URL"] == "redis://:***@cache:6379/0"
        assert env["DATABASE_URL"].startswith("postgresql://app:***@127.0.0.1:")
        assert "HOME" not in env  # devenv's own environment, not what it gives
        assert password and not any(password in value for _, value in web.env)

        postgres = session.launch("postgres")
        assert "postgres" in postgres.command and str(session.layout.root) in postgres.command
        assert dict(postgres.env)["PGPASSWORD"] == "***"
        assert not any(password in value for _, value in postgres.env)
        with pytest.raises(DevenvError, match="no process or service named nope"):
            session.launch("nope")

        figures = session.insight("postgres")
        assert isinstance(figures, PostgresFigures)
        assert "app" in dict(figures.databases)
        assert figures.statements is None  # not given the extension
        assert isinstance(session.insight("redis"), RedisFigures)
        assert session.insight("web.1") is None
    finally:
        session.stop()
