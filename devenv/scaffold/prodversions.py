"""The versions production runs, as the repository states them, for ``[prod]``.

Read, in this order (the first source of a key wins; a later one that disagrees is noted):
``.python-version``, ``runtime.txt`` (Heroku), ``.tool-versions`` (asdf), ``.nvmrc`` /
``.node-version``, package.json ``engines.node``, each ``Dockerfile``'s ``FROM`` tags, the
compose file's postgres and redis image tags. Only plain versions are taken ("3.11",
"20.11.1"); an alias such as ``lts/*`` or ``latest`` states nothing.
"""

from __future__ import annotations

import re

from devenv.scaffold.compose import ComposeFile, image_service
from devenv.scaffold.evidence import Finding, line_of
from devenv.scaffold.reading import ProjectFiles

_TOOL_KEYS = {
    "python": "python",
    "nodejs": "node",
    "node": "node",
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "ruby": "ruby",
}
_IMAGE_KEYS = {"python": "python", "node": "node", "ruby": "ruby"}


def _plain_version(text: str) -> str | None:
    """The version ``text`` states exactly ("20", "v20.11.1", "20.x"); None for a range
    (">=18", "^20", "18 - 20") or a name."""
    match = re.fullmatch(r"\s*v?(\d+(?:\.\d+){0,2})(?:\.x)?\s*", text)
    return match.group(1) if match else None


def _first_line(text: str) -> tuple[int, str] | None:
    """The first line that is neither blank nor a comment, with its number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number, line.strip()
    return None


def _dockerfile_args(text: str) -> dict[str, str]:
    """``ARG NAME=default`` values, for the ``FROM`` lines that use them."""
    out = {}
    for match in re.finditer(r"(?im)^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)", text):
        out[match.group(1)] = match.group(2).strip("\"'")
    return out


def _expand(image: str, args: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return args.get(name, match.group(2) or "")

    return re.sub(
        r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, image
    )


def prod_findings(files: ProjectFiles, compose: ComposeFile | None) -> list[Finding]:
    """Every version the repository states, in the order above (see ``choose``)."""
    out: list[Finding] = []
    found = _first_line(files.text(".python-version") or "")
    if found:
        number, first = found
        version = re.fullmatch(r"(?:python-?|cpython-?)?(\d+(?:\.\d+){0,2})\S*", first)
        if version:
            py = "python=" + version.group(1)
            out.append(Finding("prod", py, ".python-version", first, number))
    text = files.text("runtime.txt")
    if text:
        match = re.search(r"python-(\d+(?:\.\d+){0,2})", text)
        if match:
            out.append(
                Finding(
                    "prod",
                    "python=" + match.group(1),
                    "runtime.txt",
                    match.group(0),
                    line_of(text, match.start()),
                )
            )
    text = files.text(".tool-versions")
    for number, raw in enumerate((text or "").splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in _TOOL_KEYS:
            version = re.fullmatch(r"v?(\d+(?:\.\d+){0,2})", words[1])
            if version:
                key = _TOOL_KEYS[words[0]]
                out.append(
                    Finding(
                        "prod",
                        f"{key}={version.group(1)}",
                        ".tool-versions",
                        " ".join(words[:2]),
                        number,
                    )
                )
    for rel in (".nvmrc", ".node-version"):
        found = _first_line(files.text(rel) or "")
        if found:
            number, first = found
            plain = _plain_version(first)
            if plain:
                out.append(Finding("prod", "node=" + plain, rel, first, number))
    data = files.json("package.json") if files.exists("package.json") else None
    engines = data.get("engines") if isinstance(data, dict) else None
    node = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(node, str):
        lowest = _plain_version(node)
        if lowest:
            text = files.text("package.json") or ""
            index = text.find('"engines"')
            out.append(
                Finding(
                    "prod",
                    "node=" + lowest,
                    "package.json",
                    f"engines.node {node}",
                    line_of(text, index) if index >= 0 else None,
                    "the version its engines name",
                )
            )
    for rel in files.glob("Dockerfile*", depth=2, limit=20):
        docker = files.text(rel) or ""
        args = _dockerfile_args(docker)
        for match in re.finditer(r"(?im)^\s*FROM\s+(?:--\S+\s+)*(\S+)", docker):
            image = _expand(match.group(1), args)
            repo, _, tag = image.partition(":")
            base = repo.rsplit("/", 1)[-1].lower()
            tag_version = re.match(r"(\d+(?:\.\d+){0,2})", tag)
            runs = _IMAGE_KEYS.get(base) or image_service(image)[0]
            if runs and tag_version:
                out.append(
                    Finding(
                        "prod",
                        f"{runs}={tag_version.group(1)}",
                        rel,
                        f"FROM {image}",
                        line_of(docker, match.start()),
                    )
                )
    if compose is not None:
        for service in compose.services:
            name, image_version = image_service(service.image or "")
            if name and image_version:
                out.append(
                    Finding(
                        "prod",
                        f"{name}={image_version}",
                        compose.path,
                        service.image or "",
                        service.image_line,
                    )
                )
    return out


def choose(findings: list[Finding]) -> tuple[dict[str, Finding], list[str]]:
    """Per key the first finding, and a note for each later one that states another version."""
    chosen: dict[str, Finding] = {}
    notes: list[str] = []
    for finding in findings:
        key, _, version = finding.value.partition("=")
        if key not in chosen:
            chosen[key] = finding
            continue
        first = chosen[key].value.partition("=")[2]
        if not (
            version == first or first.startswith(version + ".") or version.startswith(first + ".")
        ):
            notes.append(
                f"[prod] {key}: {chosen[key].file} says {first}, {finding.where} says {version}; "
                f"init took {first}: make them agree"
            )
    return chosen, notes
