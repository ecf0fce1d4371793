"""What a Procfile tells ``devenv init``: its processes, the lines that start a server devenv
runs itself (redis-server, postgres, pg_ctl: they become that service), and the ``release:``
line (Heroku's one-off step before a deploy, usually the migration: it becomes a hook)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from devenv.config.procfile import ProcfileEntry
from devenv.scaffold.reading import ProjectFiles

# A Procfile line that starts one of these runs a server devenv runs itself.
SERVER_BINARIES = {
    "redis-server": "redis",
    "postgres": "postgres",
    "postmaster": "postgres",
    "pg_ctl": "postgres",
    "pg_ctlcluster": "postgres",
}
_WRAPPERS = ("exec", "env", "nice", "nohup")
RELEASE = "release"


@dataclass(frozen=True)
class ProcfileFacts:
    """``entries`` as parsed (file order); ``servers`` maps a process name to the service it
    starts; ``release`` is the release line's name when there is one."""

    entries: dict[str, ProcfileEntry]
    servers: dict[str, str]
    release: str | None

    @property
    def processes(self) -> list[str]:
        """The processes devenv supervises: not the servers, not the release line."""
        return [n for n in self.entries if n not in self.servers and n != self.release]


def server_of(name: str, command: str) -> str | None:
    """The bundled service a Procfile line runs (by its program, or its name), or None."""
    if name in SERVER_BINARIES.values():
        return name
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        if word in _WRAPPERS or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            continue
        return SERVER_BINARIES.get(Path(word).name)
    return None


# redis-server --port 6380 / redis-server ./redis.conf --port=6380; postgres -p 5433,
# postgres --port=5433, pg_ctl -o "-p 5433"
_PORT_FLAG = {
    "redis": re.compile(r"(?:^|\s)--port[=\s]+[\"']?(\d{1,5})\b"),
    "postgres": re.compile(r"(?:^|[\s\"'])(?:-p\s*|--port[=\s]+)[\"']?(\d{1,5})\b"),
}


def server_port(service: str, command: str) -> int | None:
    """The port a Procfile line starts ``service`` on (``--port 6380``, ``-p 5433``), or None
    when it names none (or one that is no port)."""
    pattern = _PORT_FLAG.get(service)
    match = pattern.search(command) if pattern else None
    port = int(match.group(1)) if match else 0
    return port if 0 < port < 65536 else None


def read_facts(entries: dict[str, ProcfileEntry]) -> ProcfileFacts:
    servers = {name: server_of(name, entry.command) for name, entry in entries.items()}
    return ProcfileFacts(
        entries=entries,
        servers={name: service for name, service in servers.items() if service},
        release=RELEASE if RELEASE in entries and not servers.get(RELEASE) else None,
    )


# The web command of a project without a Procfile, by what the repository shows (first match):
# (file, a word the file must hold, command, why). Each listens on 127.0.0.1:$PORT, the port
# devenv gives the process. A manage.py is Django's or, with Flask's FlaskGroup, Flask's.
_WEB_GUESSES = (
    ("manage.py", "django", "python manage.py runserver 127.0.0.1:$PORT", "Django's manage.py"),
    (
        "manage.py",
        "flaskgroup",
        "python manage.py run -h 127.0.0.1 -p $PORT",
        "manage.py, Flask's FlaskGroup",
    ),
    ("bin/rails", "", "bin/rails server -b 127.0.0.1 -p $PORT", "Rails' bin/rails"),
    ("app.py", "flask(", "flask run -h 127.0.0.1 -p $PORT", "app.py, a Flask app"),
    ("wsgi.py", "flask(", "flask run -h 127.0.0.1 -p $PORT", "wsgi.py, a Flask app"),
    (
        "main.py",
        "app = fastapi(",
        "uvicorn main:app --host 127.0.0.1 --port $PORT",
        "main.py, a FastAPI app",
    ),
    (
        "app/main.py",
        "app = fastapi(",
        "uvicorn app.main:app --host 127.0.0.1 --port $PORT",
        "app/main.py, a FastAPI app",
    ),
)
FALLBACK_WEB = "python3 -m http.server $PORT --bind 127.0.0.1"


def run_in(rel: str, command: str) -> str:
    """``command`` run in the folder of the project file ``rel`` (a Procfile line and a hook
    run in the project's root, by sh): ``cd app && python manage.py migrate``."""
    folder = rel.rpartition("/")[0]
    return f"cd {shlex.quote(folder)} && {command}" if folder else command


def guess_web(files: ProjectFiles) -> tuple[str, str | None]:
    """The ``web:`` command for a new Procfile, and what it was guessed from (None: nothing,
    the example command): Django's or Flask's manage.py, Rails, a Flask app.py or wsgi.py, a
    FastAPI main.py, package.json's start script. A manage.py one folder down (app/manage.py)
    is run there."""
    for rel, word, command, why in _WEB_GUESSES:
        found = files.in_root_or_app_folder(rel) if rel == "manage.py" else rel
        if not found or not files.exists(found):
            continue
        if word and word not in (files.text(found) or "").lower():
            continue
        if found == rel:
            return command, why
        return run_in(found, command), why.replace(rel, found)
    data = files.json("package.json") if files.exists("package.json") else None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if isinstance(scripts, dict) and isinstance(scripts.get("start"), str):
        return "npm start", "package.json's start script"
    return FALLBACK_WEB, None
