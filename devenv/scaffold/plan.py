"""``plan_project(root)``: everything ``devenv init`` would write for a project, read and
decided, with the evidence of each choice; nothing is written."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devenv.scaffold import compose as compose_mod
from devenv.scaffold import deps as deps_mod
from devenv.scaffold import environment, hooks, prodversions, services
from devenv.scaffold import procfile as procfile_mod
from devenv.scaffold.evidence import Finding
from devenv.scaffold.procfile import ProcfileFacts
from devenv.scaffold.reading import ProjectFiles

# The version constraint written when the repository states none: what devenv supports.
DEFAULT_VERSIONS = {"postgres": ">=13", "redis": ">=6"}


@dataclass
class Database:
    name: str
    owner: str
    evidence: list[Finding] = field(default_factory=list)


@dataclass
class NoRecipe:
    """A compose service devenv has no recipe for."""

    name: str
    image: str
    line: int | None
    port: int | None


@dataclass
class Plan:
    """What init proposes; ``findings`` is every reason, in the order they are shown."""

    root: Path
    name: str
    services: dict[str, list[Finding]]
    # service -> the finding of the version it runs in prod (a compose tag, else [prod]'s); the
    # service's version constraint is its major version (see render.service_version)
    versions: dict[str, Finding]
    database: Database | None
    procfile: ProcfileFacts | None
    hooks: list[Finding]
    prod: dict[str, Finding]
    lockfiles: list[Finding]
    venv: Finding | None
    compose: compose_mod.ComposeFile | None
    no_recipe: list[NoRecipe]
    built: list[str]  # compose services built from the project (the app itself)
    notes: list[str]
    web: tuple[str, str | None] = (procfile_mod.FALLBACK_WEB, None)  # a new Procfile's web line
    # service -> the port the Procfile's server line started it on (redis-server --port 6380)
    ports: dict[str, Finding] = field(default_factory=dict)

    @property
    def processes(self) -> list[str]:
        return self.procfile.processes if self.procfile else []

    def findings(self) -> list[Finding]:
        out = [f for found in self.services.values() for f in found]
        out += list(self.versions.values())
        out += list(self.ports.values())
        if self.database:
            out += self.database.evidence
        out += self.hooks
        out += list(self.prod.values())
        out += self.lockfiles
        if self.venv:
            out.append(self.venv)
        return out


def identifier(name: str) -> str:
    """A PostgreSQL-friendly identifier from a project name ("my-app" -> "my_app")."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "app"
    if ident[0].isdigit():
        ident = f"app_{ident}"
    return ident[:63]


def project_name(files: ProjectFiles) -> str:
    """pyproject's [project] name, else package.json's name, else the folder's; a file that
    cannot be read or holds something else is passed over."""
    name = _name(files, "pyproject.toml", lambda text: tomllib.loads(text).get("project"))
    if name is None:
        name = _name(files, "package.json", json.loads)
        name = name.split("/")[-1] if name else None
    return name or files.root.name


def _name(files: ProjectFiles, rel: str, parse: Callable[[str], object]) -> str | None:
    text = files.text(rel)
    if text is None:
        return None
    try:
        data = parse(text)
    except ValueError:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def plan_project(root: Path, facts: ProcfileFacts | None) -> Plan:
    """Read the project at ``root`` (``facts``: its Procfile, already parsed, or None)."""
    files = ProjectFiles(root)
    name = project_name(files)
    declared = deps_mod.declared(files)
    compose = compose_mod.read_compose(files)
    found = (
        services.from_dependencies(declared)
        + services.from_settings(files)
        + services.from_app_json(files)
        + services.from_compose(compose)
        + services.from_procfile(facts)
    )
    chosen = services.by_service(found)
    notes: list[str] = []

    prod_found = prodversions.prod_findings(files, compose)
    prod, prod_notes = prodversions.choose(prod_found)
    notes += prod_notes
    for key in list(prod):
        if key in ("postgres", "redis") and key not in chosen:
            del prod[key]
        elif key not in ("python", "node", "postgres", "redis"):
            finding = prod.pop(key)
            version = finding.value.partition("=")[2]
            notes.append(
                f"{finding.where} says production runs {key} {version}; [prod] has no {key} "
                "key: devenv compares python, node and its services"
            )
    versions: dict[str, Finding] = {}
    if compose is not None:
        for service in compose.services:
            kind, tag = compose_mod.image_service(service.image or "")
            if kind and kind in chosen and tag and kind not in versions:
                versions[kind] = Finding(
                    "version",
                    f"{kind}={tag}",
                    compose.path,
                    service.image or "",
                    service.image_line,
                    f"compose service '{service.name}'",
                )
    for kind in chosen:
        # No compose tag: the version production runs (.tool-versions, a Dockerfile's FROM).
        if kind not in versions and kind in prod:
            versions[kind] = prod[kind]

    ports: dict[str, Finding] = {}
    for process, server in (facts.servers if facts else {}).items():
        command = facts.entries[process].command if facts else ""
        port = procfile_mod.server_port(server, command)
        if port and server not in ports:
            line = facts.entries[process].line if facts else None
            word = f"{process}: {command}"
            why = "the port the Procfile started it on"
            ports[server] = Finding("port", str(port), "Procfile", word, line, why)

    database = None
    if "postgres" in chosen:
        database = _database(name, compose, files, notes)

    migrations = hooks.migrations(files, declared)
    hook_list, hook_notes = hooks.after_ready(files, facts, migrations)
    notes += hook_notes

    lockfiles = environment.lockfiles(files)
    notes += environment.notes(files, lockfiles)
    venv = environment.existing_venv(files)

    no_recipe: list[NoRecipe] = []
    built: list[str] = []
    if compose is not None:
        for service in compose.services:
            kind, _ = compose_mod.image_service(service.image or "")
            if kind:
                continue
            if compose_mod.is_the_app(service, compose):
                built.append(service.name)
            elif service.image and not compose_mod.substitute(service.image).strip(":/"):
                notes.append(
                    f"{compose.path}: {service.name}'s image is {service.image}, set outside the "
                    "file: init cannot tell what it runs; add it to devenv.toml yourself if "
                    "devenv should run it"
                )
            elif service.image:
                no_recipe.append(
                    NoRecipe(
                        service.name,
                        service.image,
                        service.image_line,
                        compose_mod.container_port(service),
                    )
                )
    if compose is not None:
        for item in no_recipe:
            notes.append(
                f"{compose.path}: {item.name} ({item.image}) has no devenv recipe; devenv.toml "
                "shows what one looks like, to add it yourself"
            )
        if built:
            notes.append(
                f"{compose.path}: {', '.join(built)} "
                + ("is" if len(built) == 1 else "are")
                + " the app itself (built from the project): the Procfile runs it with devenv"
            )
    notes += files.notes
    return Plan(
        root=files.root,
        name=name,
        services=chosen,
        versions=versions,
        database=database,
        procfile=facts,
        hooks=hook_list,
        prod=prod,
        lockfiles=lockfiles,
        venv=venv,
        compose=compose,
        no_recipe=no_recipe,
        built=built,
        notes=notes,
        web=procfile_mod.guess_web(files) if facts is None else (procfile_mod.FALLBACK_WEB, None),
        ports=ports,
    )


_BITNAMI = {"POSTGRES_DB": "POSTGRESQL_DATABASE", "POSTGRES_USER": "POSTGRESQL_USERNAME"}


def _database(
    name: str, compose: compose_mod.ComposeFile | None, files: ProjectFiles, notes: list[str]
) -> Database:
    """The compose postgres POSTGRES_DB / POSTGRES_USER, else one named for the project."""
    if compose is not None:
        for service in compose.services:
            kind, _ = compose_mod.image_service(service.image or "")
            if kind != "postgres":
                continue
            given: dict[str, str] = {}
            where: dict[str, str] = {}
            for env_file in service.env_files:
                for key, value in compose_mod.read_env_file(files, env_file).items():
                    given[key], where[key] = value, env_file.removeprefix("./")
            for key, value in service.environment.items():
                given[key], where[key] = value, compose.path
            env = {k: compose_mod.substitute(v) for k, v in given.items()}
            # Bitnami's images name them POSTGRESQL_DATABASE and POSTGRESQL_USERNAME.
            said = {key: key for key in _BITNAMI}  # the name the file gives each
            for official, bitnami in _BITNAMI.items():
                if not env.get(official) and env.get(bitnami):
                    env[official], where[official] = env[bitnami], where[bitnami]
                    said[official] = bitnami
            db, user = env.get("POSTGRES_DB") or None, env.get("POSTGRES_USER") or None
            if not db and not user:
                continue
            evidence = [
                Finding(
                    "database",
                    f"{key}={env[key]}",
                    where[key],
                    f"{said[key]}: {env[key]}",
                    service.line if where[key] == compose.path else None,
                    "the compose database",
                )
                for key in ("POSTGRES_DB", "POSTGRES_USER")
                if env.get(key)
            ]
            # No POSTGRES_DB: named for the project (the image would name it for the user, but
            # a database named like the superuser, postgres, is not the app's own).
            db = db or identifier(name)
            owner = user or db
            fixed_db, fixed_owner = identifier(db), identifier(owner)
            if (fixed_db, fixed_owner) != (db, owner):
                notes.append(
                    f"{compose.path}: the database '{db}' (owner '{owner}') is written as "
                    f"'{fixed_db}' (owner '{fixed_owner}'): devenv takes plain identifiers"
                )
            return Database(fixed_db, fixed_owner, evidence)
    ident = identifier(name)
    return Database(ident, ident)
