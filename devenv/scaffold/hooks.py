"""The ``[hooks] after_ready`` commands init proposes: the Procfile's ``release:`` line, and the
framework's migration when no release line does it.

Frameworks, each from evidence in the repository: Django (manage.py) ``python manage.py
migrate``, Rails (bin/rails) ``bin/rails db:prepare``, Alembic (alembic.ini) ``alembic upgrade
head``, Prisma (prisma/schema.prisma) ``npx prisma migrate deploy``, Flask-Migrate (the
dependency and a migrations/ folder) ``flask db upgrade``. A release line "does it" when its
command, or the project script it runs, names a migration.
"""

from __future__ import annotations

import re
import shlex

from devenv.scaffold.deps import Dependency
from devenv.scaffold.evidence import Finding
from devenv.scaffold.procfile import ProcfileFacts, run_in
from devenv.scaffold.reading import ProjectFiles

# Words that say a command migrates a database.
_MIGRATES = re.compile(r"migrate|db:prepare|db:setup|upgrade head|db upgrade|alembic upgrade")


def migrations(files: ProjectFiles, deps: list[Dependency]) -> list[Finding]:
    """The framework migrations the repository shows, each with its evidence. A manage.py or
    alembic.ini one folder down (and only there) gives the command run in that folder."""
    names = {(d.ecosystem, d.name): d for d in deps}
    out: list[Finding] = []
    manage_py = files.in_root_or_app_folder("manage.py")
    manage = files.text(manage_py) if manage_py else None
    django = names.get(("python", "django"))
    if manage_py and manage is not None and (django or "django" in manage.lower()):
        out.append(
            Finding(
                "hook",
                run_in(manage_py, "python manage.py migrate"),
                manage_py,
                manage_py,
                None,
                "Django's migrations",
            )
        )
    rails = names.get(("ruby", "rails"))
    if files.exists("bin/rails") or (rails and files.exists("config/application.rb")):
        where = "bin/rails" if files.exists("bin/rails") else "Gemfile"
        out.append(
            Finding(
                "hook",
                "bin/rails db:prepare",
                where,
                "rails",
                None,
                "Rails: creates or migrates the database",
            )
        )
    # Not Flask-Migrate's alembic.ini inside its script folder (migrations/env.py beside it):
    # that one is run by `flask db`, never from its own folder.
    alembic = files.in_root_or_app_folder("alembic.ini", beside="env.py")
    if alembic:
        out.append(
            Finding(
                "hook",
                run_in(alembic, "alembic upgrade head"),
                alembic,
                alembic,
                None,
                "Alembic's migrations",
            )
        )
    for rel in ("prisma/schema.prisma", "schema.prisma"):
        if files.exists(rel):
            out.append(
                Finding("hook", "npx prisma migrate deploy", rel, rel, None, "Prisma's migrations")
            )
            break
    flask_migrate = names.get(("python", "flask-migrate"))
    if flask_migrate and files.is_dir("migrations") and not alembic:
        app = flask_app(files)
        command = f"FLASK_APP={shlex.quote(app[0])} flask db upgrade" if app else "flask db upgrade"
        why = "Flask-Migrate's migrations, in migrations/"
        out.append(
            Finding(
                "hook",
                command,
                flask_migrate.file,
                flask_migrate.word,
                flask_migrate.line,
                f"{why}; FLASK_APP as {app[1]} sets it" if app else why,
            )
        )
    return out


_FLASK_APP_ENV = re.compile(r"(?im)^\s*ENV\s+FLASK_APP(?:\s*=\s*|\s+)[\"']?([^\s\"']+)")


def flask_app(files: ProjectFiles) -> tuple[str, str] | None:
    """(FLASK_APP, the file that sets it) when ``flask`` would not find the app by itself: no
    app.py or wsgi.py in the root and no .flaskenv naming it, but a Dockerfile's ``ENV
    FLASK_APP`` (miguelgrinberg/flasky: ``ENV FLASK_APP flasky.py``). None otherwise."""
    if files.exists("app.py") or files.exists("wsgi.py"):
        return None
    if "FLASK_APP" in (files.text(".flaskenv") or ""):
        return None  # flask reads .flaskenv itself
    for rel in files.glob("Dockerfile*", depth=1, limit=20):
        match = _FLASK_APP_ENV.search(files.text(rel) or "")
        if match and "$" not in match.group(1):
            return match.group(1), rel
    return None


def release_migrates(files: ProjectFiles, command: str) -> bool | None:
    """Whether the release command migrates: True, False, or None when it runs a project
    script init could not read."""
    if _MIGRATES.search(command):
        return True
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        rel = word.removeprefix("./")
        if ("/" in rel or rel.endswith((".sh", ".py", ".rb", ".js"))) and files.exists(rel):
            text = files.text(rel)
            if text is None:
                return None
            return bool(_MIGRATES.search(text))
    return False


def after_ready(
    files: ProjectFiles,
    facts: ProcfileFacts | None,
    found: list[Finding],
    procfile: str = "Procfile",
) -> tuple[list[Finding], list[str]]:
    """The hooks, in order, and notes explaining the migrations left out."""
    hooks: list[Finding] = []
    notes: list[str] = []
    if facts is not None and facts.release:
        entry = facts.entries[facts.release]
        hooks.append(
            Finding(
                "hook",
                entry.command,
                procfile,
                f"release: {entry.command}",
                entry.line,
                "the release step, run before the processes",
            )
        )
        does = release_migrates(files, entry.command)
        for migration in found:
            if does is False:
                hooks.append(migration)
            else:
                why = "runs it" if does else "may run it (its script could not be read)"
                notes.append(
                    f"{migration.reason}: `{migration.value}` ({migration.file}) is not a hook: "
                    f"the Procfile's release line {why}"
                )
        return hooks, notes
    return list(found), notes
