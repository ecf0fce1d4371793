"""Which services a project uses, from evidence only: each ``Finding`` names the file and the
word that proves it. No evidence, no service.

Evidence, strongest first: declared dependencies (Python, Ruby, Node; see ``PACKAGES``),
framework settings (Django's DATABASES and CACHES, Rails' config/database.yml, Prisma's
datasource provider), database URLs in Python code and config (SQLAlchemy's
``postgresql+psycopg2://``), app.json add-ons (heroku-postgresql, heroku-redis), docker
compose images, and Procfile lines that start a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from devenv.scaffold.compose import ComposeFile, image_service
from devenv.scaffold.deps import Dependency
from devenv.scaffold.evidence import Finding, line_of
from devenv.scaffold.procfile import ProcfileFacts
from devenv.scaffold.reading import ProjectFiles

# (ecosystem, package) -> the service using it proves
PACKAGES: dict[tuple[str, str], str] = {
    **{
        ("python", name): "postgres"
        for name in (
            "psycopg",
            "psycopg-binary",
            "psycopg-c",
            "psycopg-pool",
            "psycopg2",
            "psycopg2-binary",
            "asyncpg",
            "aiopg",
            "pg8000",
        )
    },
    **{
        ("python", name): "redis"
        for name in (
            "redis",
            "hiredis",
            "rq",
            "rq-scheduler",
            "django-rq",
            "flask-rq2",
            "django-redis",
            "channels-redis",
            "arq",
            "aioredis",
        )
    },
    ("ruby", "pg"): "postgres",
    **{("ruby", name): "redis" for name in ("redis", "sidekiq", "resque", "redis-rails")},
    **{("node", name): "postgres" for name in ("pg", "pg-promise", "postgres")},
    **{("node", name): "redis" for name in ("redis", "ioredis", "bullmq", "bull")},
}
# A package whose extra names the service: celery[redis], kombu[redis], dramatiq[redis].
EXTRAS = {"redis": "redis", "postgres": "postgres", "postgresql": "postgres"}

_DJANGO_PATTERNS = [
    ("postgres", re.compile(r"django\.(?:contrib\.gis\.)?db\.backends\.post\w+")),
    ("redis", re.compile(r"django_redis\.cache\.RedisCache|django\.core\.cache\.backends\.redis")),
]
_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://")


def from_dependencies(deps: list[Dependency]) -> list[Finding]:
    out = []
    for dep in deps:
        service = PACKAGES.get((dep.ecosystem, dep.name))
        if service:
            out.append(
                Finding(
                    "service", service, dep.file, dep.word, dep.line, f"{dep.ecosystem} dependency"
                )
            )
        for extra in dep.extras:
            if extra in EXTRAS:
                out.append(
                    Finding(
                        "service",
                        EXTRAS[extra],
                        dep.file,
                        dep.word,
                        dep.line,
                        "a dependency's extra",
                    )
                )
    return out


def _code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) of each line that is not a comment."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith(("#", "//", "--", ";")):
            yield offset, line
        offset += len(line)


# Code that is not the app's own configuration: a URL in a test or an example proves nothing.
_NOT_THE_APPS_DIRS = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "scripts"}
)


def _not_the_apps(rel: str) -> bool:
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(part in _NOT_THE_APPS_DIRS for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _database_url(rel: str, text: str, offset: int, line: str) -> Finding | None:
    """A PostgreSQL URL on ``line`` (at ``offset`` of ``rel``'s ``text``) as evidence."""
    match = _URL.search(line)
    if match is None:
        return None
    return Finding(
        "service", "postgres", rel, match.group(0), line_of(text, offset), "a database URL"
    )


def from_settings(files: ProjectFiles) -> list[Finding]:
    """Django settings, SQLAlchemy/Alembic URLs, Rails' database.yml, Prisma's provider."""
    out: list[Finding] = []
    for rel in files.glob("*.py", depth=4, limit=400):
        if _not_the_apps(rel):
            continue
        text = files.text(rel)
        if not text or ("backends" not in text and "://" not in text):
            continue
        seen: set[str] = set()  # one finding a service in a file: the first line that shows it
        for offset, line in _code_lines(text):
            for service, pattern in _DJANGO_PATTERNS:
                match = pattern.search(line)
                if match and service not in seen:
                    seen.add(service)
                    why = "Django settings"
                    out.append(
                        Finding("service", service, rel, match.group(0), line_of(text, offset), why)
                    )
            if "postgres" not in seen and (found := _database_url(rel, text, offset, line)):
                seen.add("postgres")
                out.append(found)
    for rel in ("alembic.ini", *files.glob("alembic.ini", depth=2)):
        text = files.text(rel) or ""
        for offset, line in _code_lines(text):
            if found := _database_url(rel, text, offset, line):
                out.append(found)
                break
    text = files.text("config/database.yml")
    if text:
        match = re.search(r"adapter:\s*[\"']?(postgresql|postgis)", text)
        if match:
            out.append(
                Finding(
                    "service",
                    "postgres",
                    "config/database.yml",
                    match.group(0),
                    line_of(text, match.start()),
                    "Rails database settings",
                )
            )
    for rel in ("prisma/schema.prisma", "schema.prisma"):
        text = files.text(rel)
        if text:
            match = re.search(
                r"datasource\s+\w+\s*\{[^}]*?provider\s*=\s*\"(postgresql|postgres)\"", text, re.S
            )
            if match:
                index = match.start(1)
                out.append(
                    Finding(
                        "service",
                        "postgres",
                        rel,
                        f'provider = "{match.group(1)}"',
                        line_of(text, index),
                        "Prisma datasource",
                    )
                )
    return out


_ADDONS = {"heroku-postgresql": "postgres", "heroku-redis": "redis"}


def from_app_json(files: ProjectFiles) -> list[Finding]:
    data = files.json("app.json")
    if not isinstance(data, dict):
        return []
    text = files.text("app.json") or ""
    out = []
    addons = data.get("addons")
    for addon in addons if isinstance(addons, list) else []:
        plan = addon.get("plan") if isinstance(addon, dict) else addon
        if not isinstance(plan, str):
            continue
        name = plan.split(":", 1)[0]
        if name in _ADDONS:
            index = text.find(name)
            line = line_of(text, index) if index >= 0 else None
            out.append(Finding("service", _ADDONS[name], "app.json", name, line, "a Heroku add-on"))
    return out


def from_compose(compose: ComposeFile | None) -> list[Finding]:
    if compose is None:
        return []
    out = []
    for service in compose.services:
        name, _version = image_service(service.image or "")
        if name:
            out.append(
                Finding(
                    "service",
                    name,
                    compose.path,
                    service.image or "",
                    service.image_line,
                    f"compose service '{service.name}'",
                )
            )
    return out


def from_procfile(facts: ProcfileFacts | None, procfile: str = "Procfile") -> list[Finding]:
    if facts is None:
        return []
    return [
        Finding(
            "service",
            service,
            procfile,
            f"{name}: {facts.entries[name].command}",
            facts.entries[name].line,
            "a Procfile line that starts the server",
        )
        for name, service in facts.servers.items()
    ]


def by_service(findings: list[Finding]) -> dict[str, list[Finding]]:
    """The services found, postgres before redis, each with its findings in order."""
    out: dict[str, list[Finding]] = {}
    for service in ("postgres", "redis"):
        found = [f for f in findings if f.what == "service" and f.value == service]
        if found:
            out[service] = found
    return out
