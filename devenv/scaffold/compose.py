"""The part of a docker compose file ``devenv init`` uses, read without a YAML library.

``read_compose(files)`` finds docker-compose.yml / .yaml or compose.yml / .yaml and returns its
services: name, image, environment (a map or a list of ``KEY=value``), whether it is built from
the project, and the line of each. The reader is tolerant: it understands the block style
compose files are written in, ignores what it does not know (anchors, merge keys, flow
collections other than a one-line environment list) and never raises; a file it cannot make
sense of gives no services and a note. ``image_service`` maps an image to the bundled service
it stands for, with the version its tag states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devenv.scaffold.reading import ProjectFiles

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


@dataclass
class ComposeService:
    name: str
    line: int
    image: str | None = None
    image_line: int | None = None
    build: bool = False
    environment: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)  # as written: "5432", "8025:8025"
    env_files: list[str] = field(default_factory=list)  # env_file:, as written


@dataclass
class ComposeFile:
    path: str
    services: list[ComposeService]


def read_compose(files: ProjectFiles) -> ComposeFile | None:
    """The first compose file found in the project root, read; None when there is none."""
    for name in COMPOSE_NAMES:
        text = files.text(name)
        if text is not None:
            services = parse_services(text)
            if not services and "services:" in text:
                files.notes.append(f"{name}: init could not read its services; none were taken")
            return ComposeFile(name, services)
    return None


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def _scalar(value: str) -> str:
    value = value.strip()
    if value.startswith("&"):  # an anchor before the value
        value = value.partition(" ")[2].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


def substitute(value: str) -> str:
    """``${VAR:-default}`` / ``${VAR-default}`` become the default; ``${VAR}`` and ``$VAR``
    (no default known here) become the empty string."""
    value = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "", value)


def parse_services(text: str) -> list[ComposeService]:
    """The services of a compose file's text (see the module's docstring); never raises."""
    lines = [(n, _strip_comment(raw)) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, raw) for n, raw in lines if raw.strip() and raw.strip() != "---"]
    services: list[ComposeService] = []
    in_services = False
    service_indent: int | None = None
    current: ComposeService | None = None
    key_indent: int | None = None
    env_indent: int | None = None  # the indent of the environment: key while inside it
    ports_indent: int | None = None  # the same for ports:
    env_files_indent: int | None = None  # and for env_file:
    for number, raw in lines:
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raw = raw.replace("\t", "  ")
        indent = len(raw) - len(raw.lstrip())
        body = raw.strip()
        if indent == 0:
            in_services = body.startswith("services:")
            service_indent = current = key_indent = env_indent = ports_indent = None
            env_files_indent = None
            continue
        if not in_services:
            continue
        if service_indent is None:
            service_indent = indent
        if indent == service_indent:
            env_indent = ports_indent = env_files_indent = key_indent = None
            name = body.partition(":")[0].strip().strip("\"'")
            current = ComposeService(name, number) if body.endswith(":") and name else None
            if current is not None:
                services.append(current)
            continue
        if current is None or indent < service_indent:
            continue
        if key_indent is None:
            key_indent = indent
        if env_indent is not None and indent > env_indent:
            _environment_item(current, body)
            continue
        if ports_indent is not None and indent > ports_indent:
            if body.startswith("-"):
                current.ports.append(_scalar(body[1:]))
            continue
        if env_files_indent is not None and indent > env_files_indent:
            item = body[1:].strip() if body.startswith("-") else body
            if item.startswith("path:"):
                item = item[5:]
            if body.startswith("-") or body.startswith("path:"):
                current.env_files.append(_scalar(item))
            continue
        env_indent = ports_indent = env_files_indent = None
        if indent != key_indent:
            continue
        key, colon, value = body.partition(":")
        if not colon:
            continue
        key = key.strip()
        if key == "image":
            current.image, current.image_line = _scalar(value), number
        elif key == "env_file":
            value = value.strip()
            if value.startswith("[") and value.endswith("]"):
                current.env_files += [_scalar(v) for v in value[1:-1].split(",") if v.strip()]
            elif value:
                current.env_files.append(_scalar(value))
            else:
                env_files_indent = indent
        elif key == "ports":
            value = value.strip()
            if value.startswith("[") and value.endswith("]"):
                current.ports += [_scalar(item) for item in value[1:-1].split(",") if item.strip()]
            else:
                ports_indent = indent
        elif key == "build":
            current.build = True
        elif key == "environment":
            value = value.strip()
            if value.startswith("[") and value.endswith("]"):
                for item in value[1:-1].split(","):
                    _environment_item(current, f"- {item.strip()}")
            elif value.startswith("{") and value.endswith("}"):
                for item in value[1:-1].split(","):
                    _environment_item(current, item.strip())
            else:
                env_indent = indent
    return services


def _environment_item(service: ComposeService, body: str) -> None:
    if body.startswith("-"):
        item = _scalar(body[1:])
        name, eq, value = item.partition("=")
        if eq and name.strip():
            service.environment[name.strip()] = value.strip()
        return
    name, colon, value = body.partition(":")
    if colon and name.strip() and name.strip() != "<<":  # a merge key: nothing init can follow
        service.environment[_scalar(name)] = _scalar(value)


# image name (its last path part) -> the bundled service it runs. Images that add to the server
# (postgis, pgvector, timescaledb, redis-stack) are not taken for it: devenv's server lacks what
# they add, so they are named as services without a recipe.
_POSTGRES_IMAGES = {"postgres", "postgresql"}
_REDIS_IMAGES = {"redis"}


def image_service(image: str) -> tuple[str | None, str | None]:
    """(the bundled service ``image`` runs, or None; the version its tag states, or None):
    ``postgres:15-alpine`` -> ("postgres", "15"), ``bitnami/redis:7.2.4`` -> ("redis", "7.2.4"),
    ``postgis/postgis:16-3.4`` and ``mailhog/mailhog`` -> (None, None)."""
    image = substitute(image).split("@", 1)[0]
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    base = repo.rsplit("/", 1)[-1].lower()
    if base in _POSTGRES_IMAGES:
        service = "postgres"
    elif base in _REDIS_IMAGES:
        service = "redis"
    else:
        return None, None
    match = re.match(r"(\d+(?:\.\d+){0,2})(?![\d.])", tag)
    return service, (match.group(1) if match else None)


def container_port(service: ComposeService) -> int | None:
    """The port the service listens on inside its container (its first ``ports`` entry's last
    number), or None."""
    for port in service.ports:
        match = re.search(r"(\d+)(?:/\w+)?$", port)
        if match:
            return int(match.group(1))
    return None


def is_the_app(service: ComposeService, compose: ComposeFile) -> bool:
    """Whether ``service`` runs the project itself: it is built from it (``build:``), or runs
    the image another service builds (``image: web`` beside ``web: build: .``)."""
    if service.build:
        return True
    if not service.image:
        return False
    repo = service.image.split(":", 1)[0]
    built = {s.name for s in compose.services if s.build}
    built |= {s.image.split(":", 1)[0] for s in compose.services if s.build and s.image}
    return repo in built


def read_env_file(files: ProjectFiles, rel: str) -> dict[str, str]:
    """``KEY=value`` lines of a compose env_file (comments and blank lines skipped)."""
    out = {}
    for line in (files.text(rel.removeprefix("./")) or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        out[key.strip()] = _scalar(value)
    return out
