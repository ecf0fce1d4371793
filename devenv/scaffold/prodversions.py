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

_VERSION = re.compile(r"(\d+(?:\.\d+){0,2})")
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


def _first_version(text: str) -> str | None:
    match = _VERSION.search(text)
    return match.group(1) if match else None


def prod_findings(files: ProjectFiles, compose: ComposeFile | None) -> list[Finding]:
    """Every version the repository states, in the order above (see ``choose``)."""
    out: list[Finding] = []
    text = files.text(".python-version")
    if text and text.strip():
        first = text.strip().splitlines()[0].strip()
        version = re.fullmatch(r"(?:python-?|cpython-?)?(\d+(?:\.\d+){0,2})\S*", first)
        if version:
            out.append(Finding("prod", "python=" + version.group(1), ".python-version", first, 1))
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
        text = files.text(rel)
        if text and text.strip():
            first = text.strip().splitlines()[0].strip()
            version = re.fullmatch(r"v?(\d+(?:\.\d+){0,2})(?:\.x)?", first)
            if version:
                out.append(Finding("prod", "node=" + version.group(1), rel, first, 1))
    data = files.json("package.json") if files.exists("package.json") else None
    engines = data.get("engines") if isinstance(data, dict) else None
    node = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(node, str):
        lowest = _first_version(node)
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
                    "the lowest version its engines allow",
                )
            )
    for rel in files.glob("Dockerfile*", depth=2, limit=20):
        docker = files.text(rel) or ""
        for match in re.finditer(r"(?im)^\s*FROM\s+(?:--\S+\s+)*(\S+)", docker):
            image = match.group(1)
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
