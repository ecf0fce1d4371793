"""`devenv init && devenv up -d` end to end: real PostgreSQL (and Redis when init finds it),
the project's dependencies installed from its lockfile by devenv, and the migration hook init
proposed run by the framework itself (Flask-Migrate on the corpus's microblog, Django on the
corpus's django-on-docker and render-examples/django and on a small project, Alembic), changing
the database; and a hook run in the app's own folder (app/manage.py). Then `devenv down`.

The frameworks come from PyPI through the projects' pinned requirements (a few seconds with uv).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.cli import devenv as run_devenv

CORPUS = Path(__file__).resolve().parent / "corpus" / "init"

pytestmark = pytest.mark.timeout(600)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e['PATH']}"
    e.pop("NO_COLOR", None)
    e.pop("VIRTUAL_ENV", None)
    return e


def devenv(project: Path, *args: str, timeout: float = 300):
    return run_devenv(project, *args, env=env(), timeout=timeout)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def sql(project: Path, query: str, database: str | None = None) -> str:
    args = ["psql", "-At", "-c", query] + (["-d", database] if database else [])
    result = devenv(project, *args, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def init_and_up(project: Path) -> dict:
    """`devenv init` then `devenv up -d`; the written config."""
    result = devenv(project, "init")
    assert result.returncode == 0, result.stderr
    up = devenv(project, "up", "-d")
    assert up.returncode == 0, f"{up.stdout}\n{up.stderr}"
    return tomllib.loads((project / "devenv.toml").read_text())


# ---------------------------------------------------------------- Flask-Migrate, from the corpus

# The corpus keeps only the files init reads (tests/corpus/init/flask-microblog); the migration
# needs the app object and one revision, added here as small as they can be.
MICROBLOG_APP = {
    "microblog.py": """\
        # Added by the test: the trimmed corpus copy has no app code. `flask` finds it by the
        # project's .flaskenv (FLASK_APP=microblog.py).
        import os

        from flask import Flask
        from flask_migrate import Migrate
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        db = SQLAlchemy(app)
        migrate = Migrate(app, db)
        """,
    "migrations/versions/0001_user.py": """\
        # Added by the test: the first revision of the app's schema, trimmed to one table.
        import sqlalchemy as sa
        from alembic import op

        revision = "0001"
        down_revision = None


        def upgrade():
            op.create_table(
                "user",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("username", sa.String(64), nullable=False, unique=True),
            )


        def downgrade():
            op.drop_table("user")
        """,
}


def test_flask_microblog_from_the_corpus(reachable_dir):
    project = reachable_dir / "microblog"
    shutil.copytree(CORPUS / "flask-microblog", project)
    write(project, MICROBLOG_APP)
    try:
        config = init_and_up(project)
        assert sorted(config["services"]) == ["postgres", "redis"]
        assert config["hooks"]["after_ready"] == ["flask db upgrade"]
        assert sql(project, "SELECT version_num FROM alembic_version") == "0001"
        assert (
            sql(project, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'user'")
            == "1"
        )
        ping = devenv(project, "redis-cli", "PING", timeout=30)
        assert ping.stdout.strip() == "PONG", ping.stderr
    finally:
        devenv(project, "down")


# ---------------------------------------------------------------- Django in app/, from the corpus

# testdrivenio/django-on-docker at the corpus's commit: the app files the trimmed corpus copy
# leaves out (init does not read them), byte for byte from upstream. `migrate` imports every
# INSTALLED_APPS entry and, through its checks, ROOT_URLCONF.
DJANGO_ON_DOCKER_APP = {
    "app/hello_django/__init__.py": "",
    "app/hello_django/urls.py": """\
        from django.contrib import admin
        from django.urls import path
        from django.conf import settings
        from django.conf.urls.static import static

        from upload.views import image_upload

        urlpatterns = [
            path("", image_upload, name="upload"),
            path("admin/", admin.site.urls),
        ]

        if bool(settings.DEBUG):
            urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
        """,
    "app/upload/__init__.py": "",
    "app/upload/migrations/__init__.py": "",
    "app/upload/apps.py": """\
        from django.apps import AppConfig


        class UploadConfig(AppConfig):
            default_auto_field = 'django.db.models.BigAutoField'
            name = 'upload'
        """,
    "app/upload/models.py": """\
        from django.db import models

        # Create your models here.
        """,
    "app/upload/views.py": """\
        from django.shortcuts import render
        from django.core.files.storage import FileSystemStorage


        def image_upload(request):
            if request.method == "POST" and request.FILES["image_file"]:
                image_file = request.FILES["image_file"]
                fs = FileSystemStorage()
                filename = fs.save(image_file.name, image_file)
                image_url = fs.url(filename)
                print(image_url)
                return render(request, "upload.html", {
                    "image_url": image_url
                })
            return render(request, "upload.html")
        """,
    # The project's README: rename .env.dev-sample to .env.dev and update it. With devenv it is
    # .env (what devenv reads), the sample's lines with the database settings taken from
    # devenv's variables (the sample's are docker compose's: SQL_HOST=db, SQL_PORT=5432, the
    # compose password).
    ".env": """\
        DEBUG=1
        SECRET_KEY=foo
        DJANGO_ALLOWED_HOSTS="localhost 127.0.0.1 [::1]"
        SQL_ENGINE=django.db.backends.postgresql
        SQL_DATABASE=$PGDATABASE
        SQL_USER=$PGUSER
        SQL_PASSWORD=$PGPASSWORD
        SQL_HOST=$PGHOST
        SQL_PORT=$PGPORT
        DATABASE=postgres
        """,
}


def test_django_on_docker_from_the_corpus(reachable_dir):
    """init reads compose's database and owner and proposes the migration in app/; devenv
    installs app/requirements.txt and runs it; Django's own tables land in that database,
    owned by that role."""
    project = reachable_dir / "django-on-docker"
    shutil.copytree(CORPUS / "django-on-docker-app-folder", project)
    write(project, DJANGO_ON_DOCKER_APP)
    try:
        result = devenv(project, "init")
        assert result.returncode == 0, result.stderr
        config = tomllib.loads((project / "devenv.toml").read_text())
        assert list(config["services"]) == ["postgres"]
        assert config["services"]["postgres"]["databases"] == [
            {"name": "hello_django_dev", "owner": "hello_django", "extensions": []}
        ]
        hook = "cd app && python manage.py migrate"
        assert config["hooks"]["after_ready"] == [hook]
        assert config["lockfiles"]["watch"] == ["app/requirements.txt"]
        # The hook as init wrote it: it reads the settings from .env, as the app does.
        up = devenv(project, "up", "-d")
        assert up.returncode == 0, f"{up.stdout}\n{up.stderr}"
        owners = sql(
            project,
            "SELECT tablename || ' ' || tableowner FROM pg_tables "
            "WHERE tablename IN ('django_migrations', 'auth_user') ORDER BY tablename",
            "hello_django_dev",
        )
        assert owners.splitlines() == ["auth_user hello_django", "django_migrations hello_django"]
        assert (
            sql(
                project,
                "SELECT count(*) > 0 FROM django_migrations WHERE app = 'auth'",
                "hello_django_dev",
            )
            == "t"
        )
    finally:
        devenv(project, "down")


# ------------------------------------------------------ Django on DATABASE_URL, from the corpus

# render-examples/django at the corpus's commit: the app files the trimmed corpus copy leaves out,
# as upstream has them (mysite/urls.py without its docstring). `migrate` imports the
# INSTALLED_APPS and, through its checks, ROOT_URLCONF.
RENDER_APP = {
    "mysite/__init__.py": "",
    "mysite/urls.py": """\
        from django.contrib import admin
        from django.urls import path, include

        urlpatterns = [
            path('admin/', admin.site.urls),
            path('', include('render.urls')),
        ]
        """,
    "render/__init__.py": "",
    "render/migrations/__init__.py": "",
    "render/apps.py": """\
        from django.apps import AppConfig


        class RenderConfig(AppConfig):
            default_auto_field = 'django.db.models.BigAutoField'
            name = 'render'
        """,
    "render/models.py": """\
        from django.db import models

        # Create your models here.
        """,
    "render/urls.py": """\
        from django.urls import path

        from . import views

        urlpatterns = [
            path('', views.index, name='index'),
        ]
        """,
    "render/views.py": """\
        from django.shortcuts import render

        # Create your views here.
        def index(request):
            return render(request, 'render/index.html', {})
        """,
}


def test_django_on_database_url_from_the_corpus(reachable_dir):
    """Nothing written by hand: the settings read devenv's DATABASE_URL (dj-database-url), so
    `init && up -d` alone migrates. The tables' owner is the project's role, not the user of the
    settings' default URL (postgres:postgres@localhost:5432/mysite)."""
    project = reachable_dir / "mysite"
    shutil.copytree(CORPUS / "django-render-example", project)
    write(project, RENDER_APP)
    try:
        config = init_and_up(project)
        assert list(config["services"]) == ["postgres"]
        assert config["services"]["postgres"]["databases"] == [
            {"name": "mysite", "owner": "mysite", "extensions": []}
        ]
        assert config["hooks"]["after_ready"] == ["python manage.py migrate"]
        assert config["lockfiles"]["watch"] == ["requirements.txt"]
        owners = sql(
            project,
            "SELECT tablename || ' ' || tableowner FROM pg_tables "
            "WHERE tablename IN ('django_migrations', 'auth_user') ORDER BY tablename",
            "mysite",
        )
        assert owners.splitlines() == ["auth_user mysite", "django_migrations mysite"]
        assert (
            sql(project, "SELECT count(*) > 0 FROM django_migrations WHERE app = 'auth'", "mysite")
            == "t"
        )
    finally:
        devenv(project, "down")


# ---------------------------------------------------------------- Django, a release line

DJANGO = {
    # pinned by hand, dependencies too: devenv installs it with `uv pip install -r`
    "requirements.txt": """\
        asgiref==3.13.0
        django==5.0.7
        psycopg2-binary==2.9.9
        sqlparse==0.6.1
        """,
    "Procfile": """\
        release: python manage.py migrate --noinput
        web: python manage.py runserver 127.0.0.1:$PORT
        """,
    "manage.py": """\
        #!/usr/bin/env python
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        """,
    "mysite/__init__.py": "",
    "mysite/settings.py": """\
        import os
        from urllib.parse import unquote, urlsplit

        SECRET_KEY = "test-only"
        INSTALLED_APPS = ["shop"]
        USE_TZ = True
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        _url = urlsplit(os.environ["DATABASE_URL"])  # devenv's, with the project's password
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": unquote(_url.path.lstrip("/")),
                "USER": unquote(_url.username or ""),
                "PASSWORD": unquote(_url.password or ""),
                "HOST": _url.hostname,
                "PORT": _url.port,
            }
        }
        """,
    "shop/__init__.py": "",
    "shop/models.py": """\
        from django.db import models


        class Item(models.Model):
            name = models.CharField(max_length=100)
        """,
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": """\
        from django.db import migrations, models


        class Migration(migrations.Migration):
            initial = True
            dependencies = []
            operations = [
                migrations.CreateModel(
                    name="Item",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=100)),
                    ],
                ),
            ]
        """,
    ".python-version": "3.11\n",
}


def test_django_with_a_release_line(reachable_dir):
    project = reachable_dir / "shop"
    project.mkdir()
    write(project, DJANGO)
    try:
        config = init_and_up(project)
        assert list(config["services"]) == ["postgres"]
        assert config["hooks"]["after_ready"] == ["python manage.py migrate --noinput"]
        assert list(config["processes"]) == ["web"]
        assert config["prod"] == {"python": "3.11"}
        assert sql(project, "SELECT name FROM django_migrations WHERE app = 'shop'") == (
            "0001_initial"
        )
        assert sql(project, "SELECT count(*) FROM shop_item") == "0"
    finally:
        devenv(project, "down")


# ---------------------------------------------------------------- Alembic, a way in from compose

ALEMBIC = {
    "requirements.txt": """\
        alembic==1.13.2
        greenlet==3.5.6
        mako==1.4.3
        markupsafe==3.0.4
        psycopg2-binary==2.9.9
        sqlalchemy==2.0.31
        typing-extensions==4.16.0
        """,
    "docker-compose.yml": """\
        services:
          db:
            image: postgres:15
            environment:
              POSTGRES_DB: inventory
              POSTGRES_USER: stock
              POSTGRES_PASSWORD: not-used-by-devenv
          mail:
            image: axllent/mailpit:v1.20
          api:
            build: .
            environment:
              - DATABASE_URL=postgresql://stock:not-used-by-devenv@db/inventory
        """,
    "alembic.ini": """\
        [alembic]
        script_location = alembic
        sqlalchemy.url = postgresql+psycopg2://stock@localhost/inventory
        """,
    "alembic/env.py": """\
        import os

        from alembic import context
        from sqlalchemy import create_engine

        # devenv's DATABASE_URL (with the project's password) over alembic.ini's
        url = os.environ.get("DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as connection:
            context.configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
        """,
    "alembic/versions/0001_items.py": """\
        import sqlalchemy as sa
        from alembic import op

        revision = "0001"
        down_revision = None


        def upgrade():
            op.create_table("items", sa.Column("id", sa.Integer, primary_key=True))
        """,
}


def test_alembic_from_docker_compose(reachable_dir):
    project = reachable_dir / "inventory"
    project.mkdir()
    write(project, ALEMBIC)
    try:
        config = init_and_up(project)
        assert list(config["services"]) == ["postgres"]
        assert config["services"]["postgres"]["version"] == "15"
        assert config["services"]["postgres"]["databases"] == [
            {"name": "inventory", "owner": "stock", "extensions": []}
        ]
        assert config["prod"] == {"postgres": "15"}
        assert config["hooks"]["after_ready"] == ["alembic upgrade head"]
        text = (project / "devenv.toml").read_text()
        assert "mail (axllent/mailpit:v1.20): devenv has no recipe" in text
        assert (
            sql(project, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'", "inventory")
            == "stock"
        )
        assert sql(project, "SELECT version_num FROM alembic_version", "inventory") == "0001"
    finally:
        devenv(project, "down")


# ---------------------------------------------------------------- an app one folder down

# The shape of testdrivenio/django-on-docker (tests/corpus/init/django-on-docker-app-folder):
# manage.py in app/. Its manage.py here records where and with what it ran instead of migrating,
# so that what is tested is init's hook and devenv running it, not Django.
APP_FOLDER = {
    "requirements.txt": "psycopg2-binary==2.9.9\n",
    "app/manage.py": """\
        # django's command-line utility (stand-in: records how the hook ran it)
        import os
        import sys

        import psycopg2

        with psycopg2.connect(os.environ["DATABASE_URL"]) as db, db.cursor() as cur:
            cur.execute("CREATE TABLE migrated (args text, cwd text)")
            ran = (" ".join(sys.argv[1:]), os.getcwd())
            cur.execute("INSERT INTO migrated VALUES (%s, %s)", ran)
        """,
}


def test_a_migration_one_folder_down_runs_there(reachable_dir):
    project = reachable_dir / "monorepo"
    project.mkdir()
    write(project, APP_FOLDER)
    try:
        config = init_and_up(project)
        assert config["hooks"]["after_ready"] == ["cd app && python manage.py migrate"]
        assert sql(project, "SELECT args || ' in ' || cwd FROM migrated") == (
            f"migrate in {project / 'app'}"
        )
    finally:
        devenv(project, "down")
