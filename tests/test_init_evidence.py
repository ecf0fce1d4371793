"""`devenv init` proposes services, hooks and [prod] versions from evidence in the project:
small synthetic projects, one kind of evidence each, read by the real init in-process (the
command line is tested in test_init.py and test_bad_inputs_init.py, real projects in
test_init_corpus.py)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from devenv.commands.init import init_project
from devenv.config import load_config


def make(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def init(root: Path, files: dict[str, str]) -> tuple[dict, str]:
    """Run init in ``root`` made of ``files``; the written config (parsed, and as text), which
    devenv's own loader accepts."""
    make(root, files)
    init_project(root)
    load_config(root / "devenv.toml")
    text = (root / "devenv.toml").read_text()
    return tomllib.loads(text), text


def section(text: str, header: str) -> str:
    """The lines of ``text`` from ``header`` to the next table header."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rest = lines[start + 1 :]
    end = next((i for i, line in enumerate(rest) if line.startswith("[")), len(rest))
    return "\n".join(lines[start : start + 1 + end])


# (id, files, the service, the file its comment must name, the word it must quote)
EVIDENCE = [
    (
        "psycopg",
        {"requirements.txt": "psycopg[binary]==3.2.1\n"},
        "postgres",
        "requirements.txt",
        "psycopg",
    ),
    (
        "psycopg2",
        {"requirements.txt": "psycopg2==2.9.9\n"},
        "postgres",
        "requirements.txt",
        "psycopg2",
    ),
    (
        "asyncpg",
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["asyncpg>=0.29"]\n'},
        "postgres",
        "pyproject.toml",
        "asyncpg",
    ),
    (
        "django-databases",
        {
            "mysite/settings.py": "DATABASES = {'default': {\n"
            "    'ENGINE': 'django.db.backends.postgresql'}}\n"
        },
        "postgres",
        "mysite/settings.py",
        "django.db.backends.postgresql",
    ),
    (
        "sqlalchemy-url",
        {"app/config.py": 'SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://u@localhost/app"\n'},
        "postgres",
        "app/config.py",
        "postgresql+psycopg2://",
    ),
    ("redis-py", {"requirements.txt": "redis==5.0.1\n"}, "redis", "requirements.txt", "redis"),
    ("rq", {"requirements.txt": "rq==1.16\n"}, "redis", "requirements.txt", "rq"),
    (
        "celery-redis",
        {"requirements.txt": "celery[redis]==5.3.6\n"},
        "redis",
        "requirements.txt",
        "celery[redis]",
    ),
    (
        "django-redis",
        {"Pipfile": '[packages]\ndjango-redis = "*"\n'},
        "redis",
        "Pipfile",
        "django-redis",
    ),
    (
        "ruby-pg",
        {"Gemfile": "source 'https://rubygems.org'\ngem 'pg', '~> 1.1'\n"},
        "postgres",
        "Gemfile",
        "pg",
    ),
    ("ruby-redis", {"Gemfile": 'gem "redis", ">= 4.0"\n'}, "redis", "Gemfile", "redis"),
    ("ruby-sidekiq", {"Gemfile": "gem 'sidekiq'\n"}, "redis", "Gemfile", "sidekiq"),
    (
        "node-pg",
        {"package.json": json.dumps({"dependencies": {"pg": "^8.11.0"}})},
        "postgres",
        "package.json",
        "pg",
    ),
    (
        "node-ioredis",
        {"package.json": json.dumps({"dependencies": {"ioredis": "^5"}})},
        "redis",
        "package.json",
        "ioredis",
    ),
    (
        "node-redis",
        {"package.json": json.dumps({"dependencies": {"redis": "^4"}})},
        "redis",
        "package.json",
        "redis",
    ),
    (
        "node-bullmq",
        {"package.json": json.dumps({"dependencies": {"bullmq": "^5"}})},
        "redis",
        "package.json",
        "bullmq",
    ),
    (
        "prisma-provider",
        {
            "prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n'
            '  url = env("DATABASE_URL")\n}\n'
        },
        "postgres",
        "prisma/schema.prisma",
        'provider = "postgresql"',
    ),
    (
        "app-json-postgres",
        {"app.json": json.dumps({"addons": ["heroku-postgresql:mini"]})},
        "postgres",
        "app.json",
        "heroku-postgresql",
    ),
    (
        "app-json-redis",
        {"app.json": json.dumps({"addons": [{"plan": "heroku-redis"}]})},
        "redis",
        "app.json",
        "heroku-redis",
    ),
    (
        "procfile-redis-server",
        {"Procfile": "web: x\ncache: redis-server --port 7000\n"},
        "redis",
        "Procfile",
        "cache: redis-server --port 7000",
    ),
    (
        "procfile-postgres",
        {"Procfile": "web: x\ndb: postgres -D data\n"},
        "postgres",
        "Procfile",
        "db: postgres -D data",
    ),
    (
        "rails-database-yml",
        {"config/database.yml": "default: &default\n  adapter: postgresql\n"},
        "postgres",
        "config/database.yml",
        "adapter: postgresql",
    ),
    (
        "compose-image",
        {"docker-compose.yml": "services:\n  cache:\n    image: redis:7-alpine\n"},
        "redis",
        "docker-compose.yml",
        "redis:7-alpine",
    ),
]


@pytest.mark.parametrize(
    ("files", "service", "file", "word"), [pytest.param(*case[1:], id=case[0]) for case in EVIDENCE]
)
def test_a_service_comes_from_its_evidence_and_says_so(tmp_path, files, service, file, word):
    config, text = init(tmp_path / "p", files)

    assert list(config["services"]) == [service]  # that one, and nothing without evidence
    comment = section(text, f"[services.{service}]")
    assert f"{file}: {word}" in comment, comment


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {
                "requirements.txt": "Django==5.0\npsycopg2-binary==2.9.9\ngunicorn==21.2\n",
                "manage.py": "import django\n",
                "mysite/settings.py": "CACHES = {'default': {'BACKEND': "
                "'django.core.cache.backends.locmem.LocMemCache'}}\n",
            },
            id="django-without-redis",
        ),
        pytest.param(
            {"requirements.txt": "celery==5.3\npsycopg==3.1\n"}, id="celery-without-extra"
        ),
        pytest.param(
            {
                "app.py": "# DATABASE_URL = 'redis://localhost'\nimport psycopg\n",
                "requirements.txt": "psycopg==3.1\n",
            },
            id="a-comment-is-not-evidence",
        ),
    ],
)
def test_no_evidence_no_redis(tmp_path, files):
    config, _ = init(tmp_path / "p", files)
    assert list(config["services"]) == ["postgres"]


def test_nothing_found_means_no_services_and_processes_wait_for_nothing(tmp_path):
    config, text = init(
        tmp_path / "p", {"requirements.txt": "flask==3.0\n", "Procfile": "web: flask run\n"}
    )
    assert "services" not in config
    assert "depends_on" not in config["processes"]["web"]
    assert "No services" in text


def test_processes_depend_only_on_the_services_found(tmp_path):
    config, _ = init(
        tmp_path / "p",
        {"requirements.txt": "redis==5.0\n", "Procfile": "web: python app.py\nworker: rq worker\n"},
    )
    assert config["processes"]["web"]["depends_on"] == ["redis"]
    assert config["processes"]["worker"]["depends_on"] == ["redis"]


def test_evidence_from_several_files_is_all_named(tmp_path):
    _, text = init(
        tmp_path / "p",
        {
            "requirements.txt": "psycopg2==2.9\n",
            "app.json": json.dumps({"addons": ["heroku-postgresql"]}),
        },
    )
    comment = section(text, "[services.postgres]")
    assert "requirements.txt: psycopg2" in comment and "app.json: heroku-postgresql" in comment


# ---------------------------------------------------------------- hooks


@pytest.mark.parametrize(
    ("files", "hook", "file"),
    [
        pytest.param(
            {"manage.py": "import django\n", "requirements.txt": "Django==5.0\n"},
            "python manage.py migrate",
            "manage.py",
            id="django",
        ),
        pytest.param(
            {"bin/rails": "#!/usr/bin/env ruby\n", "Gemfile": "gem 'rails'\ngem 'pg'\n"},
            "bin/rails db:prepare",
            "bin/rails",
            id="rails",
        ),
        pytest.param(
            {"alembic.ini": "[alembic]\nscript_location = alembic\n"},
            "alembic upgrade head",
            "alembic.ini",
            id="alembic",
        ),
        pytest.param(
            {"prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n}\n'},
            "npx prisma migrate deploy",
            "prisma/schema.prisma",
            id="prisma",
        ),
        pytest.param(
            {"requirements.txt": "Flask-Migrate==4.0\n", "migrations/env.py": "# alembic\n"},
            "flask db upgrade",
            "requirements.txt",
            id="flask-migrate",
        ),
        # flask finds no app.py/wsgi.py: the Dockerfile names it (miguelgrinberg/flasky)
        pytest.param(
            {
                "requirements.txt": "Flask-Migrate==4.0\n",
                "migrations/env.py": "# alembic\n",
                "Dockerfile": "FROM python:3.12\nENV FLASK_APP flasky.py\n",
            },
            "FLASK_APP=flasky.py flask db upgrade",
            "requirements.txt",
            id="flask-migrate-app-named-by-the-dockerfile",
        ),
        # ... unless .flaskenv does, which flask reads itself (miguelgrinberg/microblog)
        pytest.param(
            {
                "requirements.txt": "Flask-Migrate==4.0\n",
                "migrations/env.py": "# alembic\n",
                "Dockerfile": "FROM python:3.12\nENV FLASK_APP=microblog.py\n",
                ".flaskenv": "FLASK_APP=microblog.py\n",
            },
            "flask db upgrade",
            "requirements.txt",
            id="flask-migrate-app-named-by-flaskenv",
        ),
        # the app one folder down, as in fastapi/full-stack-fastapi-template
        pytest.param(
            {"backend/alembic.ini": "[alembic]\n", "tests/alembic.ini": "[alembic]\n"},
            "cd backend && alembic upgrade head",
            "backend/alembic.ini",
            id="alembic-in-a-folder",
        ),
        pytest.param(
            {"src/manage.py": "import django\n", "requirements.txt": "Django==5.0\n"},
            "cd src && python manage.py migrate",
            "src/manage.py",
            id="django-in-a-folder",
        ),
    ],
)
def test_a_framework_gives_its_migration_as_the_hook(tmp_path, files, hook, file):
    config, text = init(tmp_path / "p", files)
    assert config["hooks"]["after_ready"] == [hook]
    line = next(line for line in text.splitlines() if line.strip().startswith(json.dumps(hook)))
    assert f"found in {file}" in line


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"docs/alembic.ini": "[alembic]\n"}, id="docs"),
        pytest.param({"a/alembic.ini": "[alembic]\n", "b/alembic.ini": "[alembic]\n"}, id="two"),
        pytest.param({"a/b/alembic.ini": "[alembic]\n"}, id="two-levels-down"),
        # Flask-Migrate's script folder: run by `flask db upgrade` (with its dependency)
        pytest.param(
            {"migrations/alembic.ini": "[alembic]\n", "migrations/env.py": "# alembic\n"},
            id="flask-migrate-script-folder",
        ),
    ],
)
def test_no_migration_from_an_alembic_ini_that_may_not_be_the_apps(tmp_path, files):
    config, _ = init(tmp_path / "p", files)
    assert "hooks" not in config


def test_the_release_line_is_the_hook_not_a_process(tmp_path):
    procfile = "release: python manage.py migrate --noinput\nweb: gunicorn x\n"
    root = tmp_path / "p"
    config, text = init(
        root,
        {"Procfile": procfile, "manage.py": "import django\n", "requirements.txt": "django\n"},
    )
    assert config["hooks"]["after_ready"] == ["python manage.py migrate --noinput"]
    assert list(config["processes"]) == ["web"]
    assert list(load_config(root / "devenv.toml").processes) == ["web"]
    assert (root / "Procfile.bak").read_text() == procfile
    kept = (root / "Procfile").read_text().splitlines()
    assert kept[0].startswith("# release: python manage.py migrate --noinput")
    assert kept[1] == "web: gunicorn x"
    assert "found in Procfile: release: python manage.py migrate --noinput" in text


def test_a_release_line_that_does_not_migrate_is_followed_by_the_migration(tmp_path):
    config, _ = init(
        tmp_path / "p",
        {
            "Procfile": "release: python manage.py collectstatic --noinput\nweb: gunicorn x\n",
            "manage.py": "import django\n",
        },
    )
    assert config["hooks"]["after_ready"] == [
        "python manage.py collectstatic --noinput",
        "python manage.py migrate",
    ]


def test_a_release_script_that_migrates_is_read(tmp_path):
    config, _ = init(
        tmp_path / "p",
        {
            "Procfile": "release: ./bin/release.sh\nweb: gunicorn x\n",
            "bin/release.sh": "#!/bin/sh\nset -e\npython manage.py migrate --noinput\n",
            "manage.py": "import django\n",
        },
    )
    assert config["hooks"]["after_ready"] == ["./bin/release.sh"]


# ---------------------------------------------------------------- [prod]


@pytest.mark.parametrize(
    ("files", "key", "version", "file"),
    [
        pytest.param(
            {".python-version": "3.11.4\n"},
            "python",
            "3.11.4",
            ".python-version",
            id="python-version",
        ),
        pytest.param(
            {"runtime.txt": "python-3.12.1\n"}, "python", "3.12.1", "runtime.txt", id="runtime-txt"
        ),
        pytest.param(
            {".tool-versions": "nodejs 20.11.1\nruby 3.3.0\n"},
            "node",
            "20.11.1",
            ".tool-versions",
            id="tool-versions",
        ),
        pytest.param({".nvmrc": "v18.19.0\n"}, "node", "18.19.0", ".nvmrc", id="nvmrc"),
        pytest.param(
            {"package.json": json.dumps({"engines": {"node": "20.x"}})},
            "node",
            "20",
            "package.json",
            id="engines",
        ),
        pytest.param(
            {"Dockerfile": "FROM python:3.11-slim AS base\nRUN true\n"},
            "python",
            "3.11",
            "Dockerfile",
            id="dockerfile",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  db:\n    image: postgres:15.4\n"},
            "postgres",
            "15.4",
            "compose.yaml",
            id="compose",
        ),
    ],
)
def test_prod_versions_come_from_the_repository(tmp_path, files, key, version, file):
    config, text = init(tmp_path / "p", files)
    assert config["prod"][key] == version
    line = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
    assert f"found in {file}" in line


def test_no_version_file_no_prod_table(tmp_path):
    config, _ = init(tmp_path / "p", {"requirements.txt": "psycopg2==2.9\n"})
    assert "prod" not in config


def test_disagreeing_version_files_are_noted(tmp_path):
    root = make(tmp_path / "p", {".python-version": "3.11\n", "runtime.txt": "python-3.12.0\n"})
    result = init_project(root)
    assert tomllib.loads((root / "devenv.toml").read_text())["prod"]["python"] == "3.11"
    assert any("runtime.txt" in note and "3.12.0" in note for note in result.notes)


# ---------------------------------------------------------------- docker compose

COMPOSE = """\
version: "3.9"
services:
  db:
    image: "postgres:15-alpine"   # the database
    environment:
      POSTGRES_DB: shop
      POSTGRES_USER: shopper
      POSTGRES_PASSWORD: secret
  cache:
    image: redis:7.2
  mail:
    image: mailhog/mailhog:v1.0.1
    ports:
      - "1025:1025"
      - "8025:8025"
  web:
    build: .
    environment:
      - DATABASE_URL=postgres://shopper:secret@db/shop
"""


def test_compose_gives_services_versions_database_and_names_the_rest(tmp_path):
    root = make(tmp_path / "p", {"docker-compose.yml": COMPOSE})
    result = init_project(root)
    text = (root / "devenv.toml").read_text()
    config = tomllib.loads(text)
    load_config(root / "devenv.toml")

    assert list(config["services"]) == ["postgres", "redis"]
    assert config["services"]["postgres"]["version"] == "15"
    # the same major as prod: "7.2" would match no Redis but a 7.2.x; [prod] keeps the tag
    assert config["services"]["redis"]["version"] == "7"
    assert "redis:7.2 (its major version: any 7.x)" in section(text, "[services.redis]")
    assert config["prod"] == {"postgres": "15", "redis": "7.2"}
    assert config["services"]["postgres"]["databases"] == [
        {"name": "shop", "owner": "shopper", "extensions": []}
    ]
    assert "docker-compose.yml: postgres:15-alpine" in section(text, "[services.postgres]")
    # mailhog has no recipe: named, with what a recipe for it looks like
    assert "mail (mailhog/mailhog:v1.0.1)" in text
    assert '# recipe = "devenv/mail.toml"' in text
    assert '#   server = "mailhog"' in text and "#   default_port = 1025" in text
    assert "mail" not in config["services"]
    assert any("database POSTGRES_DB=shop" in why for why in result.why)


def test_compose_list_environment_and_variable_defaults(tmp_path):
    compose = (
        "services:\n"
        "  postgres:\n"
        "    image: postgres:${PG_VERSION:-14}\n"
        "    environment:\n"
        '      - "POSTGRES_USER=app-user"\n'
        "    ports: ['5432:5432']\n"
    )
    config, _ = init(tmp_path / "p", {"compose.yaml": compose})
    assert config["services"]["postgres"]["version"] == "14"
    # no POSTGRES_DB: the database is named for the project; '-' is not in an identifier
    assert config["services"]["postgres"]["databases"][0] == {
        "name": "p",
        "owner": "app_user",
        "extensions": [],
    }


def test_a_compose_image_set_outside_the_file_is_noted_not_given_a_recipe(tmp_path):
    compose = "services:\n  db:\n    image: ${DB_IMAGE}\n  cache:\n    image: redis:${TAG:-7}\n"
    root = make(tmp_path / "p", {"compose.yaml": compose})
    result = init_project(root)
    text = (root / "devenv.toml").read_text()
    assert list(tomllib.loads(text)["services"]) == ["redis"]
    assert "no recipe" not in text and "DB_IMAGE" not in text
    assert any("db's image is ${DB_IMAGE}, set outside the file" in n for n in result.notes)


def test_compose_bitnami_postgresql_names_its_database_its_own_way(tmp_path):
    compose = (
        "services:\n"
        "  db:\n"
        "    image: bitnami/postgresql:16.4.0\n"
        "    environment:\n"
        "      - POSTGRESQL_DATABASE=shop\n"
        "      - POSTGRESQL_USERNAME=shopper\n"
    )
    config, text = init(tmp_path / "p", {"compose.yaml": compose})
    assert config["services"]["postgres"]["databases"][0] == {
        "name": "shop",
        "owner": "shopper",
        "extensions": [],
    }
    assert "compose.yaml: POSTGRESQL_DATABASE: shop" in text
    assert config["services"]["postgres"]["version"] == "16"


def test_compose_env_file_the_app_itself_and_images_that_add_to_the_server(tmp_path):
    compose = (
        "services:\n"
        "  db:\n"
        "    image: postgres:16.2\n"
        "    env_file:\n"
        "      - ./config/db.env\n"
        "  geo:\n"
        "    image: postgis/postgis:16-3.4\n"
        "  web:\n"
        "    build: .\n"
        "    image: shop-web:latest\n"
        "  worker:\n"
        "    image: shop-web:latest\n"
    )
    _, text = init(
        tmp_path / "p",
        {"compose.yml": compose, "config/db.env": "# db\nPOSTGRES_DB=shop\nPOSTGRES_USER=shop\n"},
    )
    config = tomllib.loads(text)
    assert config["services"]["postgres"]["version"] == "16"
    assert config["prod"]["postgres"] == "16.2"
    assert config["services"]["postgres"]["databases"][0]["name"] == "shop"
    assert "config/db.env: POSTGRES_DB: shop" in section(text, "[[services.postgres.databases]]")
    # PostGIS is more than devenv's PostgreSQL: named as a service without a recipe; web and
    # worker are the app itself
    assert "compose.yml also runs geo (postgis/postgis:16-3.4): devenv has no recipe" in text


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {"package.json": json.dumps({"engines": {"node": ">=18 <21"}})}, id="engines-range"
        ),
        pytest.param({".nvmrc": "lts/iron\n"}, id="nvmrc-a-name"),
        pytest.param({".python-version": "# pyenv\nsystem\n"}, id="python-version-a-name"),
        pytest.param({"Dockerfile": "FROM python:latest\n"}, id="untagged-image"),
    ],
)
def test_ranges_and_names_are_not_prod_versions(tmp_path, files):
    config, _ = init(tmp_path / "p", files)
    assert "prod" not in config


def test_a_dockerfile_arg_is_read_into_its_from_line(tmp_path):
    dockerfile = 'ARG NODE_VERSION="22-alpine"\nFROM node:${NODE_VERSION} AS deps\n'
    config, _ = init(tmp_path / "p", {"Dockerfile": dockerfile})
    assert config["prod"] == {"node": "22"}


@pytest.mark.parametrize(
    ("files", "service", "written", "prod", "local"),
    [
        pytest.param(
            {"compose.yaml": "services:\n  db:\n    image: postgres:15.1-alpine\n"},
            "postgres",
            "15",
            "15.1",
            "15.18",
            id="compose-minor-tag",
        ),
        pytest.param(
            {"requirements.txt": "redis==5.0.1\n", ".tool-versions": "redis 7.2.4\n"},
            "redis",
            "7",
            "7.2.4",
            "7.0.15",
            id="tool-versions",
        ),
        pytest.param(
            {"requirements.txt": "psycopg2==2.9.9\n", "db/Dockerfile": "FROM postgres:9.6.24\n"},
            "postgres",
            "9.6",
            "9.6.24",
            "9.6.2",
            id="dockerfile-postgres-9",
        ),
    ],
)
def test_a_services_version_is_prods_major_version(tmp_path, files, service, written, prod, local):
    """The service's version is the major version prod runs (PostgreSQL 9's two numbers), so
    the server a laptop has for that major matches it; [prod] keeps what the repository says."""
    from devenv.config.versions import VersionConstraint

    config, text = init(tmp_path / "p", files)
    version = config["services"][service]["version"]
    assert version == written
    assert VersionConstraint.parse(version).matches(local)
    assert config["prod"][service] == prod
    assert f"any {written}.x" in section(text, f"[services.{service}]")


# ---------------------------------------------------------------- the environment


def test_lockfiles_are_watched_with_their_installer(tmp_path):
    _, text = init(
        tmp_path / "p",
        {"requirements.txt": "flask==3.0\n", "package.json": "{}", "package-lock.json": "{}"},
    )
    watch = section(text, "[lockfiles]")
    assert '"package-lock.json",  # installed with npm' in watch
    assert '"requirements.txt",  # installed with uv pip, devenv\'s own' in watch
    # the reasons read as one sentence each: no parenthesis inside a parenthesis
    why = init_project(tmp_path / "p", dry_run=True, force=True).why
    assert why and not any("))" in line for line in why), why


def test_without_a_lockfile_watch_is_left_out(tmp_path):
    root = make(tmp_path / "p", {"package.json": json.dumps({"name": "web"})})
    result = init_project(root)
    config = tomllib.loads((root / "devenv.toml").read_text())
    assert "lockfiles" not in config
    assert load_config(root / "devenv.toml").lockfiles.watch == ()
    (root / "package-lock.json").write_text("{}")  # npm install, later
    assert load_config(root / "devenv.toml").lockfiles.watch == (root / "package-lock.json",)
    assert any("package.json has no lockfile" in note for note in result.notes)


def test_a_lockfile_devenv_cannot_read_is_named_not_called_missing(tmp_path):
    """bun.lock beside package.json (fastapi/full-stack-fastapi-template): the project has a
    lockfile, one devenv has no reader for; init says so instead of "no lockfile yet"."""
    root = make(tmp_path / "p", {"package.json": json.dumps({"name": "web"}), "bun.lock": "{}"})
    result = init_project(root)
    assert not any("has no lockfile" in note for note in result.notes), result.notes
    assert any(
        note.startswith("bun.lock: devenv cannot read") and "`bun install`" in note
        for note in result.notes
    ), result.notes


def test_an_app_one_folder_down_gives_its_dependencies_and_lockfile(tmp_path):
    """A monorepo's app in app/ or backend/ (testdrivenio/django-on-docker,
    fastapi/full-stack-fastapi-template): its manifests are evidence, its lockfile is named;
    tests/, docs/ and node_modules/ are not read."""
    root = make(
        tmp_path / "p",
        {
            "app/requirements.txt": "Django==4.2.3\npsycopg2-binary==2.9.6\n",
            "app/manage.py": "import django\n",
            "backend/pyproject.toml": '[project]\nname = "b"\ndependencies = ["redis>=5"]\n',
            "tests/requirements.txt": "asyncpg==0.29\n",
            "node_modules/package.json": '{"dependencies": {"pg": "1"}}',
        },
    )
    result = init_project(root)
    text = (root / "devenv.toml").read_text()
    config = tomllib.loads(text)
    assert sorted(config["services"]) == ["postgres", "redis"]
    assert "found in app/requirements.txt: psycopg2-binary" in section(text, "[services.postgres]")
    assert "found in backend/pyproject.toml: redis" in section(text, "[services.redis]")
    assert "asyncpg" not in text
    assert config["hooks"]["after_ready"] == ["cd app && python manage.py migrate"]
    # the root has no lockfile: the app's is watched (devenv installs it for the hook)
    assert config["lockfiles"]["watch"] == ["app/requirements.txt"]
    assert "the app's, in app/" in section(text, "[lockfiles]")
    assert load_config(root / "devenv.toml").lockfiles.watch == (root / "app/requirements.txt",)
    assert ".venv/" in (root / ".gitignore").read_text().splitlines()
    assert not any(n.startswith("app/ holds") for n in result.notes), result.notes


def test_the_lockfiles_of_several_app_folders_are_named_not_chosen(tmp_path):
    root = make(
        tmp_path / "p",
        {"api/requirements.txt": "flask==3.0\n", "web/package-lock.json": "{}"},
    )
    result = init_project(root)
    assert "lockfiles" not in tomllib.loads((root / "devenv.toml").read_text())
    assert any(n.startswith("api/ holds api/requirements.txt") for n in result.notes)
    assert any(n.startswith("web/ holds web/package-lock.json") for n in result.notes)


def test_an_existing_virtualenv_is_used(tmp_path):
    config, text = init(tmp_path / "p", {"venv/pyvenv.cfg": "home = /usr/bin\n"})
    assert config["environment"]["venv"] == "venv"
    assert "found in venv/pyvenv.cfg" in text


def test_no_commented_example_process_block(tmp_path):
    _, text = init(tmp_path / "p", {"Procfile": "web: python app.py\n"})
    assert "# [processes." not in text
    assert text.count("[processes.web]") == 1


# ---------------------------------------------------------------- a process named like a service


@pytest.mark.parametrize(
    "procfile",
    ["web: x\nredis: ./bin/start-redis.sh\n", "web: x\npostgres: docker compose up db\n"],
)
def test_a_process_named_like_a_found_service_never_makes_a_rejected_config(tmp_path, procfile):
    """A Procfile `redis:` line whose command is not redis-server, in a project whose
    dependencies use Redis: the line is the service (commented out), never a process named
    like a service, which devenv rejects."""
    config, _ = init(
        tmp_path / "p",
        {"Procfile": procfile, "requirements.txt": "redis==5.0\npsycopg2==2.9\n"},
    )
    assert list(config["processes"]) == ["web"]
    assert sorted(config["services"]) == ["postgres", "redis"]


def test_a_url_in_tests_or_docs_is_not_evidence(tmp_path):
    url = 'URL = "postgresql://u@localhost/x"\n'
    config, _ = init(
        tmp_path / "p",
        {"tests/test_db.py": url, "docs/conf.py": url, "test_app.py": url, "conftest.py": url},
    )
    assert "services" not in config


def test_the_example_recipe_for_a_compose_service_is_one_devenv_reads(tmp_path):
    """Uncommented as the note says, the example is a recipe devenv loads."""
    from devenv.services.recipes import load_recipe, recipe_for

    root = make(
        tmp_path / "p",
        {"compose.yaml": "services:\n  mq:\n    image: rabbitmq:3-management\n"},
    )
    init_project(root)
    text = (root / "devenv.toml").read_text()
    example = re.search(r"^# with devenv/mq\.toml:\n((?:#   .*\n)+)", text, re.M)
    assert example, text
    recipe = "".join(line[4:] + "\n" for line in example.group(1).splitlines())
    (root / "devenv").mkdir()
    (root / "devenv" / "mq.toml").write_text(recipe)
    assert load_recipe(root / "devenv" / "mq.toml").default_port == 5672
    # RabbitMQ's program is rabbitmq-server, not the image's name
    assert load_recipe(root / "devenv" / "mq.toml").binaries["server"] == "rabbitmq-server"
    with (root / "devenv.toml").open("a") as config:
        config.write('\n[services.mq]\nrecipe = "devenv/mq.toml"\n')
    loaded = load_config(root / "devenv.toml")
    assert recipe_for(loaded.services["mq"]).name == "mq"


@pytest.mark.parametrize(
    ("image", "program", "port"),
    [
        ("mysql/mysql-server:5.7", "mysqld", 3306),  # miguelgrinberg/flasky
        ("mariadb:11", "mariadbd", 3306),
        ("mongo:7", "mongod", 27017),
        ("getmeili/meilisearch:v1.8", "meilisearch", None),
    ],
)
def test_the_example_recipe_names_the_images_program_and_port(tmp_path, image, program, port):
    _, text = init(tmp_path / "p", {"compose.yaml": f"services:\n  x:\n    image: {image}\n"})
    assert f'#   server = "{program}"' in text
    if port:
        assert f"#   default_port = {port}  # the port it listens on\n" in text
    else:
        assert "#   default_port = 0  # the port it listens on: put it here" in text


def test_compose_notes_name_the_services_without_a_recipe_and_the_app(tmp_path):
    root = make(tmp_path / "p", {"docker-compose.yml": COMPOSE})
    notes = init_project(root).notes
    assert (
        "docker-compose.yml: mail (mailhog/mailhog:v1.0.1) has no devenv recipe; devenv.toml "
        "shows what one looks like, to add it yourself"
    ) in notes
    assert any(note.startswith("docker-compose.yml: web is the app itself") for note in notes)


@pytest.mark.parametrize(
    ("files", "web"),
    [
        pytest.param({"manage.py": "import django\n"}, "python manage.py runserver", id="django"),
        pytest.param({"bin/rails": "#!/usr/bin/env ruby\n"}, "bin/rails server", id="rails"),
        pytest.param(
            {"app/manage.py": "import django\n"},
            "cd app && python manage.py runserver",
            id="django-in-a-folder",
        ),
        pytest.param(
            {"package.json": json.dumps({"scripts": {"start": "node server.js"}})},
            "npm start",
            id="node",
        ),
        pytest.param(
            # miguelgrinberg-style and testdrivenio/flask-celery: a manage.py that is Flask's
            {"manage.py": "from flask.cli import FlaskGroup\ncli = FlaskGroup(create_app=f)\n"},
            "python manage.py run -h 127.0.0.1 -p $PORT",
            id="flask-manage-py",
        ),
        pytest.param(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\n"},
            "flask run -h 127.0.0.1 -p $PORT",
            id="flask-app-py",
        ),
        pytest.param(
            {"app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"},
            "uvicorn app.main:app --host 127.0.0.1 --port $PORT",
            id="fastapi",
        ),
        pytest.param(
            {"manage.py": "import click\n", "app.py": "print('a script')\n"},
            "python3 -m http.server",
            id="a-manage-py-of-no-framework",
        ),
        pytest.param({}, "python3 -m http.server", id="nothing"),
    ],
)
def test_a_new_procfile_runs_what_the_project_suggests(tmp_path, files, web):
    root = make(tmp_path / "p", files)
    init_project(root)
    procfile = (root / "Procfile").read_text()
    assert f"web: {web}" in procfile
    assert list(load_config(root / "devenv.toml").processes) == ["web"]


def test_the_header_fits_the_line_length_with_a_long_project_name(tmp_path):
    _, text = init(tmp_path / "fastapi-full-stack-template", {})
    header = text.split("\n\n", 1)[0].splitlines()
    assert header[0] == "# devenv configuration for fastapi-full-stack-template,"
    assert all(len(line) <= 100 for line in header), header
