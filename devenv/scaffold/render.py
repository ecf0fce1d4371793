"""The devenv.toml text for a ``Plan``, with a ``# found in FILE: WORD`` comment beside each
choice, and the Procfile with its server and release lines commented out."""

from __future__ import annotations

import json
import re

from devenv.scaffold.evidence import Finding
from devenv.scaffold.plan import DEFAULT_VERSIONS, NoRecipe, Plan


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_str(name)


def _found_lines(findings: list[Finding], limit: int = 6) -> str:
    """One ``# found in FILE: WORD`` comment line per file (its first finding), at most
    ``limit`` of them."""
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.file, finding)
    lines = [f"# {f.comment()}  ({f.reason})\n" for f in list(seen.values())[:limit]]
    more = len(seen) - limit
    if more > 0:
        lines.append(f"# and {more} more files: `devenv init --dry-run` lists them\n")
    return "".join(lines)


def render_config(plan: Plan) -> str:
    from devenv.resources import render_template, templates_dir

    sections = [
        _services(plan),
        _no_recipe(plan),
        _processes(plan),
        _environment(plan),
        _lockfiles(plan),
        _prod(plan),
        _hooks(plan),
    ]
    values = {
        "name": plan.name,
        "name_toml": toml_str(plan.name),
        "sections": "".join(s for s in sections if s),
    }
    return render_template(templates_dir() / "init" / "devenv.toml", values)


def _services(plan: Plan) -> str:
    if not plan.services:
        return (
            "\n# No services: nothing in the repository shows a use of PostgreSQL or Redis.\n"
            "# Add [services.postgres] or [services.redis] here if the project needs one.\n"
        )
    out = []
    for service, findings in plan.services.items():
        out.append(f"\n[services.{service}]\n{_found_lines(findings)}")
        version = plan.versions.get(service)
        if version:
            major = service_version(version)
            out.append(f"version = {toml_str(major)}  # {version.comment()}")
            if version.value.partition("=")[2] != major:
                out.append(f" (its major version: any {major}.x)")
            out.append("\n")
        else:
            out.append(
                f"version = {toml_str(DEFAULT_VERSIONS[service])}  "
                "# the repository states no version\n"
            )
        port = plan.ports.get(service)
        if port:
            out.append(f"port = {port.value}  # {port.comment()} (the port the app was run with)\n")
        if service == "postgres" and plan.database:
            db = plan.database
            named = [f for f in db.evidence if f.value.startswith("POSTGRES_DB=")]
            owned = [f for f in db.evidence if f.value.startswith("POSTGRES_USER=")]
            why = f"# {named[0].comment()}" if named else "# named for the project"
            owner_why = f"  # {owned[0].comment()}" if owned else ""
            out.append(
                f"\n[[services.postgres.databases]]\nname = {toml_str(db.name)}  {why}\n"
                f"owner = {toml_str(db.owner)}{owner_why}\nextensions = []\n"
            )
    return "".join(out)


def service_version(found: Finding) -> str:
    """The version constraint written for a service whose prod version ``found`` states: its
    major version ("16" for "16.2", "7" for "7.2.4"). Dev runs the same major as prod; a minor
    pin would match no server a laptop has (packages follow the latest minor), and [prod] keeps
    the full version for the parity check. PostgreSQL before 10 named its majors with two
    numbers ("9.6")."""
    service, _, version = found.value.partition("=")
    parts = version.split(".")
    if service == "postgres" and parts[0].isdigit() and int(parts[0]) < 10:
        return ".".join(parts[:2])
    return parts[0]


# The ports of images often found beside an app, for the example recipe when compose names none.
KNOWN_PORTS = {
    "rabbitmq": 5672,
    "memcached": 11211,
    "mailhog": 1025,
    "mailpit": 1025,
    "elasticsearch": 9200,
    "opensearch": 9200,
    "minio": 9000,
    "mysql": 3306,
    "mysql-server": 3306,
    "mariadb": 3306,
    "mongo": 27017,
}
# Images whose server program is not named like the image.
KNOWN_PROGRAMS = {
    "rabbitmq": "rabbitmq-server",
    "mysql": "mysqld",
    "mysql-server": "mysqld",
    "mariadb": "mariadbd",
    "mongo": "mongod",
}


def recipe_example(item: NoRecipe) -> list[str]:
    """A minimal recipe for ``item``'s image, as comment lines (the shape of services/*.toml)."""
    image = item.image.split(":", 1)[0].rsplit("/", 1)[-1].lower()
    binary = KNOWN_PROGRAMS.get(image, image)
    port = item.port or KNOWN_PORTS.get(image)
    return [
        f"name = {toml_str(item.name)}",
        f"default_port = {port}  # the port it listens on"
        if port
        else "default_port = 0  # the port it listens on: put it here",
        "[binaries]",
        f"server = {toml_str(binary)}  # its program, found on PATH",
        "[version]",
        "pattern = '(\\d+(?:\\.\\d+)*)'  # read from `server --version`",
        "[readiness]",
        'kind = "tcp"',
        "[run]",
        'command = ["{server}"]  # with its flags: listen on 127.0.0.1:{port}, data in {data_dir}',
    ]


def _no_recipe(plan: Plan) -> str:
    if not plan.no_recipe or plan.compose is None:
        return ""
    path = plan.compose.path
    out = [
        f"\n# {path} also runs {', '.join(f'{i.name} ({i.image})' for i in plan.no_recipe)}: "
        "devenv has no recipe for "
        + ("it" if len(plan.no_recipe) == 1 else "them")
        + ".\n# To run one with devenv, add a recipe to the repository and name it here, e.g.\n"
    ]
    first = plan.no_recipe[0]
    out.append(f'# [services.{first.name}]\n# recipe = "devenv/{first.name}.toml"\n')
    out.append(f"# with devenv/{first.name}.toml:\n")
    out += [f"#   {line}\n" for line in recipe_example(first)]
    return "".join(out)


def _processes(plan: Plan) -> str:
    if plan.procfile is None:
        return ""
    out = []
    services = list(plan.services)
    for name in plan.processes:
        entry = plan.procfile.entries[name]
        out.append(f"\n[processes.{_key(name)}]  # found in Procfile: line {entry.line}\n")
        if services:
            listed = ", ".join(toml_str(s) for s in services)
            out.append(f"depends_on = [{listed}]  # starts once the services above are ready\n")
    if plan.procfile.release and plan.processes:
        out.append(
            "# The Procfile's release line is not a process: it runs first, as a hook ([hooks]).\n"
        )
    return "".join(out)


def _environment(plan: Plan) -> str:
    if plan.venv is None or plan.venv.value == ".venv":
        return ""
    return (
        f"\n[environment]\nvenv = {toml_str(plan.venv.value)}  # {plan.venv.comment()} "
        "(devenv fills it from the lockfiles)\n"
    )


def _lockfiles(plan: Plan) -> str:
    if not plan.lockfiles:
        return (
            "\n# [lockfiles] watch is left out: devenv watches the lockfiles it finds in the\n"
            "# project's root, also one made later (npm install, uv pip compile).\n"
        )
    lines = [f"    {toml_str(f.value)},  # {f.reason}\n" for f in plan.lockfiles]
    return "\n[lockfiles]\nwatch = [\n" + "".join(lines) + "]\n"


def _prod(plan: Plan) -> str:
    if not plan.prod:
        return ""
    out = ["\n[prod]  # what production runs, as the repository says; dev is compared with it\n"]
    for key in ("python", "node", "postgres", "redis"):
        finding = plan.prod.get(key)
        if finding:
            version = finding.value.partition("=")[2]
            out.append(f"{key} = {toml_str(version)}  # {finding.comment()}\n")
    return "".join(out)


def _hooks(plan: Plan) -> str:
    if not plan.hooks:
        return ""
    lines = [f"    {toml_str(f.value)},  # {f.comment()} ({f.reason})\n" for f in plan.hooks]
    return (
        "\n[hooks]  # run in order once the services are ready, before the processes\n"
        "after_ready = [\n" + "".join(lines) + "]\n"
    )


def commented_procfile(text: str, plan: Plan) -> str | None:
    """The Procfile with its server and release lines commented out (None: nothing to change)."""
    facts = plan.procfile
    if facts is None or not (facts.servers or facts.release):
        return None
    lines = text.splitlines()
    for name, service in facts.servers.items():
        number = facts.entries[name].line
        lines[number - 1] = (
            f"# {lines[number - 1]}  # devenv runs {service} itself: [services.{service}] "
            "in devenv.toml"
        )
    if facts.release:
        number = facts.entries[facts.release].line
        lines[number - 1] = (
            f"# {lines[number - 1]}  # devenv runs it before the processes: [hooks] after_ready "
            "in devenv.toml"
        )
    return "\n".join(lines) + "\n"


def new_procfile(plan: Plan) -> str:
    """The Procfile for a project without one: its web command as the repository suggests."""
    from devenv.resources import render_template, templates_dir

    command, why = plan.web
    said = f"web: guessed from {why}; check it." if why else "Replace this example with your app."
    return render_template(templates_dir() / "init" / "Procfile", {"web": command, "why": said})
