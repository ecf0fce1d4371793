"""devenv.toml / [tool.devenv] loading, against real files in temporary projects."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devenv.config import (
    Config,
    Dependency,
    ReadyProbe,
    bundled_service_names,
    detect_lockfiles,
    find_config,
    load_config,
    load_project,
)
from devenv.config.tomlpos import find_line, find_nearest_line, format_key
from devenv.config.versions import Version
from devenv.errors import ConfigError, DevenvError
from devenv.resources import services_dir

FULL_EXAMPLE = """\
[project]
name = "shop"
procfile = "Procfile"
env_file = ".env"

[services.postgres]
version = ">=14,<17"
port = 5433
prod_like = true
settings = { work_mem = "64MB", max_connections = 50, jit = false }

[[services.postgres.databases]]
name = "shop"
extensions = ["pg_trgm", "citext"]
init_sql = "db/init.sql"

[[services.postgres.databases]]
name = "shop_test"
owner = "tester"

[services.redis]
version = "7"
port = 6380
settings = { maxmemory = "64mb" }

[services.memcached]
recipe = "devenv/memcached.toml"

[processes.web]
env = { DEBUG = "1", WORKERS = 2, VERBOSE = true, RATIO = 0.5 }
restart = "always"
max_restarts = 3
depends_on = ["postgres", "migrate"]
ready = { http = "http://127.0.0.1:$PORT/health", timeout = 10 }
stop_timeout = 2.5
concurrency = 2

[processes.worker]
depends_on = { redis = "started", migrate = "completed" }
ready = { log = "worker ready" }

[lockfiles]
watch = ["requirements.lock"]
[lockfiles.sync]
"requirements.lock" = "pip install -r requirements.lock"

[prod]
postgres = "15.4"
python = "3.11"

[onboarding]
test = "python -m pytest -q"
lint = "ruff check ."
[onboarding.first_change]
title = "Change the greeting"
file = "demoapp/greeting.py"
hint = "Look for HELLO"

[hooks]
after_ready = ["python -m demoapp.migrate", "python -m demoapp.seed"]
"""

PROCFILE = """\
# the app
web: gunicorn app:app --bind 127.0.0.1:$PORT

worker: python -m jobs
migrate: python -m demoapp.migrate
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def config_error(root: Path, toml: str, files: dict[str, str]) -> str:
    """Write devenv.toml and ``files``, load the config, return the error's text."""
    write(root, {"devenv.toml": toml, **files})
    with pytest.raises(ConfigError) as caught:
        load_config(root / "devenv.toml")
    return str(caught.value)


@pytest.fixture
def full_project(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "devenv.toml": FULL_EXAMPLE,
            "Procfile": PROCFILE,
            "db/init.sql": "CREATE TABLE t (id int);\n",
            "devenv/memcached.toml": 'name = "memcached"\n',
            "demoapp/greeting.py": "HELLO = 'hi'\n",
            "requirements.lock": "flask==3.0.0\n",
        },
    )
    return tmp_path


# ---------------------------------------------------------------- good configs


def test_bundled_service_names_are_the_recipe_files():
    names = bundled_service_names()
    assert {"postgres", "redis"} <= names
    assert names == {path.stem for path in services_dir().glob("*.toml")}


def test_full_example_parses_into_typed_values(full_project: Path):
    config = load_config(full_project / "devenv.toml")

    assert config.root == full_project.resolve()
    assert config.source == full_project.resolve() / "devenv.toml"
    assert config.project.name == "shop"
    assert config.project.procfile == full_project / "Procfile"
    assert config.project.env_file == full_project / ".env"

    assert list(config.services) == ["postgres", "redis", "memcached"]
    postgres = config.services["postgres"]
    assert str(postgres.version) == ">=14,<17"
    assert postgres.version.matches("16.2") and not postgres.version.matches("17.0")
    assert postgres.port == 5433
    assert postgres.prod_like is True
    assert dict(postgres.settings) == {"work_mem": "64MB", "max_connections": 50, "jit": False}
    assert postgres.bundled is True
    assert postgres.recipe == services_dir() / "postgres.toml"
    shop, shop_test = postgres.databases
    assert (shop.name, shop.owner, shop.extensions) == ("shop", "shop", ("pg_trgm", "citext"))
    assert shop.init_sql == full_project / "db/init.sql"
    assert (shop_test.name, shop_test.owner, shop_test.init_sql) == ("shop_test", "tester", None)

    redis = config.services["redis"]
    assert (str(redis.version), redis.port, redis.databases) == ("7", 6380, ())
    memcached = config.services["memcached"]
    assert memcached.bundled is False
    assert memcached.recipe == full_project / "devenv/memcached.toml"
    assert memcached.port is None and memcached.version is None

    assert list(config.processes) == ["web", "worker", "migrate"]
    web = config.processes["web"]
    assert web.command == "gunicorn app:app --bind 127.0.0.1:$PORT"
    assert dict(web.env) == {"DEBUG": "1", "WORKERS": "2", "VERBOSE": "true", "RATIO": "0.5"}
    assert (web.restart, web.max_restarts, web.stop_timeout, web.concurrency) == (
        "always",
        3,
        2.5,
        2,
    )
    assert web.depends_on == (
        Dependency("postgres", "service", "ready"),
        Dependency("migrate", "process", "started"),
    )
    assert web.ready == ReadyProbe("http", "http://127.0.0.1:$PORT/health", 10.0)
    worker = config.processes["worker"]
    assert worker.depends_on == (
        Dependency("redis", "service", "started"),
        Dependency("migrate", "process", "completed"),
    )
    assert worker.ready == ReadyProbe("log", "worker ready", 30.0)

    assert config.lockfiles.watch == (full_project / "requirements.lock",)
    assert dict(config.lockfiles.sync) == {
        full_project / "requirements.lock": "pip install -r requirements.lock"
    }
    assert dict(config.prod) == {"postgres": Version((15, 4)), "python": Version((3, 11))}
    assert config.onboarding is not None
    assert config.onboarding.test == "python -m pytest -q"
    assert config.onboarding.lint == "ruff check ."
    assert config.onboarding.ship == "git push -u origin HEAD"
    first = config.onboarding.first_change
    assert first is not None
    assert (first.title, first.file, first.hint) == (
        "Change the greeting",
        full_project / "demoapp/greeting.py",
        "Look for HELLO",
    )
    assert config.hooks.after_ready == ("python -m demoapp.migrate", "python -m demoapp.seed")


def test_defaults_for_an_almost_empty_config(tmp_path: Path):
    project = tmp_path / "my-shop"
    write(project, {"devenv.toml": "[services.postgres]\n", "Procfile": "web: run-web\n"})

    config = load_config(project / "devenv.toml")

    assert config.project.name == "my-shop"
    assert config.project.procfile == project / "Procfile"
    assert config.project.env_file == project / ".env"
    postgres = config.services["postgres"]
    assert (postgres.version, postgres.port, postgres.prod_like) == (None, None, False)
    assert (dict(postgres.settings), postgres.databases) == ({}, ())
    web = config.processes["web"]
    assert web.command == "run-web"
    assert dict(web.env) == {}
    assert (web.restart, web.max_restarts, web.depends_on, web.ready) == ("on-failure", 5, (), None)
    assert (web.stop_timeout, web.concurrency) == (5.0, 1)
    assert config.lockfiles.watch == ()
    assert dict(config.lockfiles.sync) == {}
    assert dict(config.prod) == {}
    assert config.onboarding is None
    assert config.hooks.after_ready == ()


def test_an_empty_config_without_procfile_is_fine(tmp_path: Path):
    write(tmp_path, {"devenv.toml": ""})
    config = load_config(tmp_path / "devenv.toml")
    assert dict(config.services) == {}
    assert dict(config.processes) == {}


def test_project_name_defaults_to_the_pyproject_name(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "", "pyproject.toml": '[project]\nname = "billing-api"\n'})
    assert load_config(tmp_path / "devenv.toml").project.name == "billing-api"


def test_onboarding_ship_and_ready_defaults(tmp_path: Path):
    toml = """\
        [processes.web]
        ready = { tcp = 8000 }
        [onboarding]
        test = "make test"
        ship = "git push"
        """
    write(tmp_path, {"devenv.toml": toml, "Procfile": "web: serve\n"})
    config = load_config(tmp_path / "devenv.toml")
    assert config.processes["web"].ready == ReadyProbe("tcp", 8000, 30.0)
    assert config.onboarding is not None
    assert (config.onboarding.test, config.onboarding.ship) == ("make test", "git push")
    assert (config.onboarding.lint, config.onboarding.first_change) == (None, None)


def test_pyproject_variant(tmp_path: Path):
    pyproject = """\
        [project]
        name = "from-pyproject"

        [tool.ruff]
        line-length = 100

        [tool.devenv.services.redis]
        port = 6390

        [tool.devenv.processes.web]
        depends_on = ["redis"]
        """
    write(tmp_path, {"pyproject.toml": pyproject, "Procfile": "web: serve\n"})

    config = load_project(tmp_path)

    assert config.source == tmp_path.resolve() / "pyproject.toml"
    assert config.project.name == "from-pyproject"
    assert config.services["redis"].port == 6390
    assert config.processes["web"].depends_on == (Dependency("redis", "service", "ready"),)


def test_find_config_walks_up_from_a_subfolder(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "", "src/app/deep/x.py": ""})
    assert find_config(tmp_path / "src/app/deep") == tmp_path.resolve() / "devenv.toml"
    assert find_config(tmp_path / "src/app/deep/x.py") == tmp_path.resolve() / "devenv.toml"
    assert load_project(tmp_path / "src/app").root == tmp_path.resolve()


def test_find_config_skips_a_pyproject_without_tool_devenv(tmp_path: Path):
    write(
        tmp_path,
        {
            "devenv.toml": "",
            "sub/pyproject.toml": '[project]\nname = "lib"\n[tool.ruff]\n',
            "other/pyproject.toml": "[tool.devenv]\n",
        },
    )
    assert find_config(tmp_path / "sub") == tmp_path.resolve() / "devenv.toml"
    assert find_config(tmp_path / "other") == tmp_path.resolve() / "other/pyproject.toml"


def test_find_config_stops_at_a_broken_pyproject_that_holds_devenv(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "", "sub/pyproject.toml": "[tool.devenv]\nx = \n"})
    assert find_config(tmp_path / "sub") == tmp_path.resolve() / "sub/pyproject.toml"
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path / "sub")
    assert str(caught.value) == "pyproject.toml:2:5: invalid TOML: Invalid value"


def test_devenv_toml_wins_over_pyproject(tmp_path: Path):
    write(
        tmp_path,
        {
            "devenv.toml": '[project]\nname = "from-devenv-toml"\n',
            "pyproject.toml": '[tool.devenv.project]\nname = "from-pyproject"\n',
        },
    )
    assert find_config(tmp_path) == tmp_path.resolve() / "devenv.toml"
    assert load_project(tmp_path).project.name == "from-devenv-toml"


def test_no_config_anywhere(tmp_path: Path):
    folder = tmp_path / "nothing" / "here"
    folder.mkdir(parents=True)
    with pytest.raises(DevenvError) as caught:
        find_config(folder)
    assert not isinstance(caught.value, ConfigError)
    assert str(caught.value) == (
        f"no devenv.toml (or [tool.devenv] in pyproject.toml) in {folder.resolve()} or any "
        "parent folder; run `devenv init` to create one"
    )


def test_lockfile_detection(tmp_path: Path):
    write(
        tmp_path,
        {
            "requirements.txt": "flask==3.0.0\n",
            "requirements-dev.txt": "# pins: none\npytest>=8\n",
            "requirements-docs.lock": "sphinx\n",
            "uv.lock": "",
            "package-lock.json": "{}",
            "go.sum": "",
            "Cargo.toml": "",
            "sub/poetry.lock": "",
        },
    )
    (tmp_path / "yarn.lock").mkdir()  # a folder is not a lockfile

    # requirements-dev.txt has ranges, not pins: it is installed all the same (and reported
    # as not reproducible), so it is a lockfile too.
    assert [path.name for path in detect_lockfiles(tmp_path)] == [
        "go.sum",
        "package-lock.json",
        "requirements-dev.txt",
        "requirements-docs.lock",
        "requirements.txt",
        "uv.lock",
    ]


def test_lockfiles_are_detected_when_watch_is_not_set(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "", "poetry.lock": "", "requirements.txt": "a==1\n"})
    config = load_config(tmp_path / "devenv.toml")
    assert config.lockfiles.watch == (tmp_path / "poetry.lock", tmp_path / "requirements.txt")


def test_explicitly_empty_watch_list_detects_nothing(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "[lockfiles]\nwatch = []\n", "uv.lock": ""})
    assert load_config(tmp_path / "devenv.toml").lockfiles.watch == ()


def test_config_is_immutable(full_project: Path):
    config = load_config(full_project / "devenv.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.root = Path("/")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.processes["web"].command = "rm -rf /"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.services["x"] = config.services["redis"]  # type: ignore[index]
    with pytest.raises(TypeError):
        config.processes["web"].env["DEBUG"] = "0"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.services["postgres"].settings["work_mem"] = "1MB"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.prod["node"] = Version((20,))  # type: ignore[index]
    assert isinstance(config.services["postgres"].databases, tuple)
    assert isinstance(config.hooks.after_ready, tuple)
    assert isinstance(config, Config)


def test_importing_config_stays_light():
    code = (
        "import sys, devenv.config\n"
        "heavy = [m for m in ('textual', 'psycopg2', 'redis', 'psutil', 'watchdog')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- bad configs

BAD_CONFIGS = [
    pytest.param(
        '[project]\nname = "shop\n',
        {},
        "devenv.toml:2:13: invalid TOML: Illegal character '\\n'",
        id="toml-syntax",
    ),
    pytest.param(
        "[services.redis]\nport = = 6379\n",
        {},
        "devenv.toml:2:8: invalid TOML: Invalid value",
        id="toml-syntax-value",
    ),
    pytest.param(
        "[servics.postgres]\n",
        {},
        "devenv.toml:1: unknown key 'servics'; did you mean 'services'?",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "[services.postgres]\nversion = '15'\nprot = 5432\n",
        {},
        "devenv.toml:3: services.postgres: unknown key 'prot'; did you mean 'port'?",
        id="unknown-nested-key",
    ),
    pytest.param(
        "[project]\nprocfil = 'Procfile'\n",
        {},
        "devenv.toml:2: project: unknown key 'procfil'; did you mean 'procfile'?",
        id="unknown-project-key",
    ),
    pytest.param(
        "[services.redis]\n\n[services.postgress]\nport = 5432\n",
        {},
        "devenv.toml:3: services: unknown service 'postgress'; did you mean 'postgres'? "
        '(a service that devenv does not bundle needs recipe = "path/to/recipe.toml")',
        id="service-name-typo",
    ),
    pytest.param(
        '[services.postgres]\nport = "abc"\n',
        {},
        "devenv.toml:2: services.postgres.port: expected an integer from 1 to 65535, got 'abc'",
        id="port-not-int",
    ),
    pytest.param(
        "[services.redis]\nport = 70000\n",
        {},
        "devenv.toml:2: services.redis.port: expected an integer from 1 to 65535, got 70000",
        id="port-out-of-range",
    ),
    pytest.param(
        "[services.redis]\nprod_like = 'yes'\n",
        {},
        "devenv.toml:2: services.redis.prod_like: expected true or false, got 'yes'",
        id="prod-like-not-bool",
    ),
    pytest.param(
        "[services.redis]\nsettings = { maxmemory = ['64mb'] }\n",
        {},
        "devenv.toml:2: services.redis.settings.maxmemory: "
        "expected a string, number or boolean, got a list",
        id="settings-value-list",
    ),
    pytest.param(
        "[processes.web]\nrestart = 'sometimes'\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.restart: "
        "expected one of 'on-failure', 'always', 'never', got 'sometimes'",
        id="restart-policy",
    ),
    pytest.param(
        "[processes.web]\nenv = { PATHS = ['/a', '/b'] }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.env.PATHS: expected a string, number or boolean, got a list",
        id="env-value-list",
    ),
    pytest.param(
        "[processes.web]\nmax_restarts = -1\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.max_restarts: expected an integer >= 0, got -1",
        id="max-restarts-negative",
    ),
    pytest.param(
        "[processes.web]\nconcurrency = 0\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.concurrency: expected an integer >= 1, got 0",
        id="concurrency-zero",
    ),
    pytest.param(
        "[processes.web]\nstop_timeout = true\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.stop_timeout: expected a number of seconds > 0, got true",
        id="stop-timeout-bool",
    ),
    pytest.param(
        '[services.postgres]\n\n[[services.postgres.databases]]\nname = "shop"\n'
        'extensions = "pg_trgm"\n',
        {},
        "devenv.toml:5: services.postgres.databases[0].extensions: "
        "expected a list of strings, got 'pg_trgm'",
        id="extensions-not-list",
    ),
    pytest.param(
        '[services.postgres]\nversion = "fifteen"\n',
        {},
        "devenv.toml:2: services.postgres.version: 'fifteen' is not a version constraint; "
        'expected something like "15", "15.4", ">=14,<17", "==15.4", "~=15.2" or "!=16"',
        id="bad-version-constraint",
    ),
    pytest.param(
        "[services.postgres]\nversion = 15\n",
        {},
        "devenv.toml:2: services.postgres.version: "
        'expected a version constraint string like "15" or ">=14,<17", got 15',
        id="version-not-string",
    ),
    pytest.param(
        '[project]\nprocfile = "Procfile.dev"\n',
        {},
        "devenv.toml:2: project.procfile: file 'Procfile.dev' does not exist "
        "(paths are relative to the project folder)",
        id="procfile-set-but-missing",
    ),
    pytest.param(
        "[processes.web]\nrestart = 'always'\n",
        {},
        "devenv.toml:1: processes.web: there is no Procfile to take process 'web' from; "
        "create Procfile with a line 'web: <command>', or remove [processes.web]",
        id="processes-without-procfile",
    ),
    pytest.param(
        "[processes.wbe]\nrestart = 'always'\n",
        {"Procfile": "web: serve\nworker: work\n"},
        "devenv.toml:1: processes.wbe: 'wbe' is not a process type in Procfile; "
        "did you mean 'web'? (Procfile has: web, worker)",
        id="process-not-in-procfile",
    ),
    pytest.param(
        "",
        {"Procfile": "web: serve\n\n# ok\nthis is not a process\n"},
        "Procfile:4: expected 'name: command', got 'this is not a process'",
        id="broken-procfile-line",
    ),
    pytest.param(
        '[project]\nprocfile = "deploy/Procfile.dev"\n',
        {"deploy/Procfile.dev": "web: a\nworker: b\nweb: c\n"},
        "deploy/Procfile.dev:3: process 'web' is defined twice, on lines 1 and 3",
        id="duplicate-procfile-name",
    ),
    pytest.param(
        "[services.redis]\n",
        {"Procfile": "web: serve\nredis: redis-server\n"},
        "Procfile:2: process 'redis' has the name of a service declared in devenv.toml; "
        "rename one of them",
        id="process-named-like-a-service",
    ),
    pytest.param(
        '[services.postgres]\n[[services.postgres.databases]]\nname = "shop"\n'
        '[[services.postgres.databases]]\nname = "shop"\n',
        {},
        "devenv.toml:5: services.postgres.databases[1].name: "
        "database 'shop' is declared twice (also databases[0])",
        id="duplicate-database",
    ),
    pytest.param(
        '[services.postgres]\n[[services.postgres.databases]]\nname = "my-shop"\n',
        {},
        "devenv.toml:3: services.postgres.databases[0].name: expected a PostgreSQL identifier "
        "(letters, digits and _, not starting with a digit, at most 63 characters), "
        "got 'my-shop'",
        id="bad-database-identifier",
    ),
    pytest.param(
        '[services.postgres]\ndatabases = [{ name = "shop", owner = "1st" }]\n',
        {},
        "devenv.toml:2: services.postgres.databases[0].owner: expected a PostgreSQL identifier "
        "(letters, digits and _, not starting with a digit, at most 63 characters), got '1st'",
        id="bad-owner-identifier-inline",
    ),
    pytest.param(
        f'[services.postgres]\n[[services.postgres.databases]]\nname = "{"a" * 64}"\n',
        {},
        "devenv.toml:3: services.postgres.databases[0].name: expected a PostgreSQL identifier "
        "(letters, digits and _, not starting with a digit, at most 63 characters), "
        f"got '{'a' * 64}'",
        id="database-name-too-long",
    ),
    pytest.param(
        "[services.postgres]\n[[services.postgres.databases]]\nowner = 'x'\n",
        {},
        'devenv.toml:2: services.postgres.databases[0]: missing name = "..." '
        "(the database's name)",
        id="database-without-name",
    ),
    pytest.param(
        '[services.postgres]\n[[services.postgres.databases]]\nname = "shop"\n'
        'init_sql = "db/init.sql"\n',
        {},
        "devenv.toml:4: services.postgres.databases[0].init_sql: file 'db/init.sql' does not "
        "exist (paths are relative to the project folder)",
        id="init-sql-missing",
    ),
    pytest.param(
        '[services.redis]\n[[services.redis.databases]]\nname = "cache"\n',
        {},
        "devenv.toml:2: services.redis.databases: "
        "databases can only be declared for postgres, not for 'redis'",
        id="databases-on-redis",
    ),
    pytest.param(
        '[services.memcached]\nrecipe = "devenv/memcached.toml"\n',
        {},
        "devenv.toml:2: services.memcached.recipe: file 'devenv/memcached.toml' does not exist "
        "(paths are relative to the project folder)",
        id="recipe-missing",
    ),
    pytest.param(
        '[services.redis]\nrecipe = "my-redis.toml"\n',
        {"my-redis.toml": ""},
        "devenv.toml:2: services.redis.recipe: 'redis' is bundled with devenv; recipe is only "
        "for services it does not bundle (remove this line)",
        id="recipe-for-bundled-service",
    ),
    pytest.param(
        '[services.postgres]\n[processes.web]\ndepends_on = ["postgress"]\n',
        {"Procfile": "web: serve\n"},
        "devenv.toml:3: processes.web.depends_on[0]: unknown name 'postgress' (expected a "
        "service declared in [services] or a process type in the Procfile); "
        "did you mean 'postgres'?",
        id="depends-on-unknown",
    ),
    pytest.param(
        "[processes.web]\ndepends_on = ['worker']\n[processes.worker]\n"
        "depends_on = { migrate = 'completed' }\n[processes.migrate]\ndepends_on = ['web']\n",
        {"Procfile": "web: a\nworker: b\nmigrate: c\n"},
        "devenv.toml:2: processes.web.depends_on: "
        "dependency cycle: web -> worker -> migrate -> web",
        id="depends-on-cycle",
    ),
    pytest.param(
        "[services.postgres]\n[processes.web]\ndepends_on = { postgres = 'completed' }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:3: processes.web.depends_on.postgres: 'completed' is only for processes; "
        "'postgres' is a service, use 'ready' or 'started'",
        id="completed-on-a-service",
    ),
    pytest.param(
        "[processes.web]\ndepends_on = { worker = 'finished' }\n",
        {"Procfile": "web: a\nworker: b\n"},
        "devenv.toml:2: processes.web.depends_on.worker: "
        "expected one of 'started', 'ready', 'completed', got 'finished'",
        id="unknown-condition",
    ),
    pytest.param(
        "[processes.web]\nrestart = 'always'\ndepends_on = ['web']\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:3: processes.web.depends_on[0]: process 'web' cannot depend on itself",
        id="self-dependency",
    ),
    pytest.param(
        "[processes.web]\nready = { http = 'http://localhost/', tcp = 8000 }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.ready: expected exactly one of http, tcp or log, "
        "got http and tcp",
        id="ready-two-probes",
    ),
    pytest.param(
        "[processes.web.ready]\ntimeout = 5\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:1: processes.web.ready: expected exactly one of http, tcp or log, got none",
        id="ready-no-probe",
    ),
    pytest.param(
        "[processes.web]\nready = { log = 'listening on (port' }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.ready.log: not a valid regular expression "
        "(missing ), unterminated subpattern at position 13): 'listening on (port'",
        id="ready-bad-regex",
    ),
    pytest.param(
        "[processes.web]\nready = { http = 'localhost:8000/health' }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.ready.http: expected a URL starting with http:// or "
        "https:// and a host, got 'localhost:8000/health'",
        id="ready-bad-url",
    ),
    pytest.param(
        "[processes.web]\nready = { tcp = 8000, timeout = 0 }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.ready.timeout: expected a number of seconds > 0, got 0",
        id="ready-bad-timeout",
    ),
    pytest.param(
        "[processes.web]\nready = { tcp = 8000, wait = 3 }\n",
        {"Procfile": "web: serve\n"},
        "devenv.toml:2: processes.web.ready: unknown key 'wait'",
        id="ready-unknown-key",
    ),
    pytest.param(
        '[services.postgres]\n[prod]\npostgress = "15.4"\n',
        {},
        "devenv.toml:3: prod: unknown key 'postgress'; did you mean 'postgres'? "
        "(expected a service declared in [services], 'python' or 'node')",
        id="prod-bad-key",
    ),
    pytest.param(
        '[prod]\npython = "3.x"\n',
        {},
        "devenv.toml:2: prod.python: '3.x' is not a version; "
        "expected numbers separated by dots, like 15 or 7.0.11",
        id="prod-bad-version",
    ),
    pytest.param(
        '[onboarding]\ntest = "pytest"\n[onboarding.first_change]\ntitle = "Fix it"\n'
        'file = "demoapp/greeting.py"\n',
        {},
        "devenv.toml:5: onboarding.first_change.file: file 'demoapp/greeting.py' does not "
        "exist (paths are relative to the project folder)",
        id="first-change-file-missing",
    ),
    pytest.param(
        '[onboarding]\ntest = "pytest"\n[onboarding.first_change]\nfile = "x.py"\n',
        {"x.py": ""},
        'devenv.toml:3: onboarding.first_change: missing title = "..."',
        id="first-change-without-title",
    ),
    pytest.param(
        '[onboarding]\nlint = "ruff check ."\n',
        {},
        'devenv.toml:1: onboarding: missing test = "..." (the command that proves the tests pass)',
        id="onboarding-without-test",
    ),
    pytest.param(
        '[hooks]\nafter_ready = "make seed"\n',
        {},
        "devenv.toml:2: hooks.after_ready: expected a list of strings, got 'make seed'",
        id="hooks-not-a-list",
    ),
    pytest.param(
        "[lockfiles]\nwatch = ['uv.lock', 3]\n",
        {},
        "devenv.toml:2: lockfiles.watch[1]: expected a string, got 3",
        id="lockfiles-watch-item",
    ),
    pytest.param(
        '[environment]\non_drift = "always"\n',
        {},
        "devenv.toml:2: environment.on_drift: expected one of 'ask', 'warn', 'sync', got 'always'",
        id="environment-on-drift",
    ),
    pytest.param(
        '[environment]\nvenv = "../elsewhere"\n',
        {},
        "devenv.toml:2: environment.venv: the virtualenv must be a folder inside the project, "
        "got '../elsewhere'",
        id="environment-venv-outside",
    ),
    pytest.param(
        '[environment]\nvenvs = ".venv"\n',
        {},
        "devenv.toml:2: environment: unknown key 'venvs'; did you mean 'venv'?",
        id="environment-unknown-key",
    ),
    pytest.param(
        '[processes.web]\nrestart_on = "uv.lock"\n',
        {"Procfile": "web: python app.py\n"},
        "devenv.toml:2: processes.web.restart_on: expected a list of strings, got 'uv.lock'",
        id="restart-on-not-a-list",
    ),
    pytest.param(
        "services = 5\n",
        {},
        "devenv.toml:1: services: expected a table, got 5",
        id="services-not-a-table",
    ),
]


@pytest.mark.parametrize(("toml", "files", "message"), BAD_CONFIGS)
def test_bad_config(tmp_path: Path, toml: str, files: dict[str, str], message: str):
    assert config_error(tmp_path, toml, files) == message


def test_config_error_carries_path_line_and_key(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "\n\n[services.redis]\nport = 0\n"})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "devenv.toml")
    err = caught.value
    assert (err.path, err.line, err.key) == (Path("devenv.toml"), 4, "services.redis.port")
    assert err.exit_code == 2


def test_pyproject_errors_name_pyproject_and_the_right_line(tmp_path: Path):
    pyproject = """\
        [project]
        name = "shop"

        [tool.ruff]
        line-length = 100

        [tool.devenv.services.redis]
        port = 99999
        """
    write(tmp_path, {"pyproject.toml": pyproject})
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert str(caught.value) == (
        "pyproject.toml:8: tool.devenv.services.redis.port: "
        "expected an integer from 1 to 65535, got 99999"
    )


def test_pyproject_unknown_top_level_key(tmp_path: Path):
    pyproject = '[project]\nname = "shop"\n\n[tool.devenv]\nservice = {}\n'
    write(tmp_path, {"pyproject.toml": pyproject})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "pyproject.toml")
    assert str(caught.value) == (
        "pyproject.toml:5: tool.devenv: unknown key 'service'; did you mean 'services'?"
    )


def test_pyproject_without_tool_devenv_passed_directly(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n'})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "pyproject.toml")
    assert str(caught.value) == "pyproject.toml: has no [tool.devenv] table"


def test_config_that_is_not_utf8(tmp_path: Path):
    (tmp_path / "devenv.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "devenv.toml")
    assert str(caught.value) == (
        "devenv.toml:2: is not UTF-8 text (byte 0xe9 on this line); save it as UTF-8"
    )


# ---------------------------------------------------------------- key positions (tomlpos)

TOML_FOR_POSITIONS = '''\
# comment
[project]
name = "x"
notes = """
[not.a.table]
port = 1
"""
[services.postgres]
settings = { work_mem = "64MB" }
list = [
  "a = b",
]
after = 1

[[services.postgres.databases]]
name = "a"

[[services.postgres.databases]]
name = "b"
"quoted.key" . sub = 3

[tool.devenv.services]
redis.port = 5
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("project",), 2),
        (("project", "name"), 3),
        (("not", "a", "table"), None),
        (("port",), None),
        (("services",), 8),
        (("services", "postgres", "after"), 13),
        (("services", "postgres", "databases"), 15),
        (("services", "postgres", "databases", 0, "name"), 16),
        (("services", "postgres", "databases", 1), 18),
        (("services", "postgres", "databases", 1, "name"), 19),
        (("services", "postgres", "databases", 1, "quoted.key", "sub"), 20),
        (("services", "postgres", "settings", "work_mem"), None),
        (("tool", "devenv", "services", "redis", "port"), 23),
    ],
)
def test_find_line(path, line):
    assert find_line(TOML_FOR_POSITIONS, path) == line


def test_find_line_with_prefix_and_nearest():
    assert find_line(TOML_FOR_POSITIONS, ("services", "redis"), prefix=("tool", "devenv")) == 23
    settings = ("services", "postgres", "settings", "work_mem")
    assert find_nearest_line(TOML_FOR_POSITIONS, settings) == 9
    assert find_nearest_line(TOML_FOR_POSITIONS, ("nothing", "here")) is None


def test_find_line_never_raises():
    assert find_line(None, ("a",)) is None  # type: ignore[arg-type]
    assert find_line('[a\nb = """\n', ("b",)) is None


def test_format_key():
    assert format_key(("services", "postgres", "databases", 1, "name")) == (
        "services.postgres.databases[1].name"
    )
    assert format_key(("lockfiles", "sync", "requirements.lock")) == (
        'lockfiles.sync."requirements.lock"'
    )
    assert format_key(()) == ""


def test_environment_defaults_and_values(tmp_path: Path):
    write(tmp_path, {"devenv.toml": "", "Procfile": "web: gunicorn app\n"})
    default = load_config(tmp_path / "devenv.toml")
    assert default.environment.venv == tmp_path / ".venv"
    assert default.environment.python is None
    assert default.environment.on_drift is None
    assert default.processes["web"].restart_on is None

    write(
        tmp_path,
        {
            "devenv.toml": """\
            [environment]
            venv = "env/py"
            python = "3.11"
            on_drift = "sync"
            [processes.web]
            restart_on = ["requirements.lock"]
            """,
        },
    )
    config = load_config(tmp_path / "devenv.toml")
    assert config.environment.venv == tmp_path / "env" / "py"
    assert config.environment.python == "3.11"
    assert config.environment.on_drift == "sync"
    assert config.processes["web"].restart_on == (tmp_path / "requirements.lock",)
