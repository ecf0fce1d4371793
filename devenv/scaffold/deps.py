"""The dependencies a project declares, by ecosystem, with the file and line of each.

``declared(files)`` reads requirements files (in the root and in a requirements/ folder),
pyproject.toml (PEP 621 and Poetry), Pipfile, setup.py/setup.cfg, Gemfile and package.json.
Names are normalized the PEP 503 way for Python ("psycopg2-binary"); extras are kept
("celery[redis]" gives name "celery", extras {"redis"}). A file that cannot be read is passed
over with a note (devenv.scaffold.reading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devenv.scaffold.evidence import line_of
from devenv.scaffold.reading import ProjectFiles

_PY_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?", re.ASCII)


@dataclass(frozen=True)
class Dependency:
    ecosystem: str  # "python", "ruby", "node"
    name: str
    file: str
    line: int | None
    word: str  # as written ("celery[redis]", "psycopg2-binary")
    extras: frozenset[str] = field(default_factory=frozenset)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQUIREMENTS_DIRS = ("requirements", "reqs", "requirements.d")


def requirement_files(files: ProjectFiles, folder: str = "") -> list[str]:
    """requirements*.txt / *.in in ``folder`` (the root by default), and the .txt/.in files of
    its requirements/ folder."""
    import fnmatch

    def names(rel_dir: str, patterns: tuple[str, ...]) -> list[str]:
        path = files.root / rel_dir
        try:
            children = sorted(path.iterdir()) if path.is_dir() else []
        except OSError:  # unreadable: its files are passed over like any other
            return []
        return [
            f"{rel_dir}/{child.name}".lstrip("/")
            for child in children
            if child.is_file() and any(fnmatch.fnmatchcase(child.name, p) for p in patterns)
        ]

    found = names(folder, ("requirements*.txt", "requirements*.in"))
    for sub in _REQUIREMENTS_DIRS:
        found += names(f"{folder}/{sub}".lstrip("/"), ("*.txt", "*.in"))
    return sorted(dict.fromkeys(found))


def declared(files: ProjectFiles) -> list[Dependency]:
    """Every dependency declared in the project's manifests, in file order: the root's, then
    those of each folder one level down (``ProjectFiles.app_folders``: a monorepo's
    backend/pyproject.toml, app/requirements.txt)."""
    out: list[Dependency] = []
    # The root's requirements/ folder is read with the root.
    folders = [f for f in files.app_folders() if f not in _REQUIREMENTS_DIRS]
    for folder in ["", *folders]:
        for rel in requirement_files(files, folder):
            out += _requirements(files, rel)
        prefix = f"{folder}/" if folder else ""
        out += _pyproject(files, f"{prefix}pyproject.toml")
        out += _pipfile(files, f"{prefix}Pipfile")
        out += _setup(files, prefix)
        out += _gemfile(files, f"{prefix}Gemfile")
        out += _package_json(files, f"{prefix}package.json")
    return out


def _py(name: str, extras: str | None, rel: str, line: int | None, word: str) -> Dependency:
    extra_set = frozenset(
        e.strip().lower() for e in (extras or "").strip("[]").split(",") if e.strip()
    )
    return Dependency("python", normalize(name), rel, line, word.strip(), extra_set)


def _requirements(files: ProjectFiles, rel: str) -> list[Dependency]:
    text = files.text(rel)
    if text is None:
        return []
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", ".", "/")):
            continue
        match = _PY_REQ.match(line)
        if match:
            word = match.group(0)
            out.append(_py(match.group(1), match.group(2), rel, number, word))
    return out


def _requirement_strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pyproject(files: ProjectFiles, rel: str) -> list[Dependency]:
    if not files.exists(rel):
        return []
    data = files.toml(rel)
    if not isinstance(data, dict):
        return []
    text = files.text(rel) or ""
    specs: list[str] = []
    project = data.get("project")
    if isinstance(project, dict):
        specs += _requirement_strings(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group in optional.values():
                specs += _requirement_strings(group)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group in groups.values():
            specs += _requirement_strings(group)
    out = []
    for spec in specs:
        match = _PY_REQ.match(spec)
        if match:
            out.append(_py(match.group(1), match.group(2), rel, None, match.group(0)))
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            tables += [g.get("dependencies") for g in poetry_groups.values() if isinstance(g, dict)]
        for table in tables:
            if not isinstance(table, dict):
                continue
            for name, spec in table.items():
                if name.lower() == "python":
                    continue
                extras = spec.get("extras") if isinstance(spec, dict) else None
                extras_text = (
                    ",".join(e for e in extras if isinstance(e, str))
                    if isinstance(extras, list)
                    else None
                )
                out.append(_py(name, extras_text and f"[{extras_text}]", rel, None, name))
    return [_with_line(dep, text) for dep in out]


def _with_line(dep: Dependency, text: str) -> Dependency:
    index = text.find(dep.word)
    if index < 0:
        return dep
    return Dependency(dep.ecosystem, dep.name, dep.file, line_of(text, index), dep.word, dep.extras)


def _pipfile(files: ProjectFiles, rel: str) -> list[Dependency]:
    if not files.exists(rel):
        return []
    data = files.toml(rel)
    if not isinstance(data, dict):
        return []
    text = files.text(rel) or ""
    out = []
    for table in (data.get("packages"), data.get("dev-packages")):
        if isinstance(table, dict):
            for name, spec in table.items():
                extras = spec.get("extras") if isinstance(spec, dict) else None
                extras_text = (
                    "[" + ",".join(e for e in extras if isinstance(e, str)) + "]"
                    if isinstance(extras, list)
                    else None
                )
                out.append(_with_line(_py(name, extras_text, rel, None, name), text))
    return out


_QUOTED_REQ = re.compile(r"""["']([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]"']*\])?\s*[<>=!~;"']""")


def _setup(files: ProjectFiles, prefix: str) -> list[Dependency]:
    out = []
    setup_py, setup_cfg = f"{prefix}setup.py", f"{prefix}setup.cfg"
    text = files.text(setup_py)
    if text is not None:
        start = text.find("install_requires")
        if start >= 0:
            end = text.find("]", start)
            chunk = text[start : end if end > 0 else len(text)]
            for match in _QUOTED_REQ.finditer(chunk):
                line = line_of(text, start + match.start())
                out.append(_py(match.group(1), match.group(2), setup_py, line, match.group(1)))
    cfg = files.text(setup_cfg)
    if cfg is not None:
        inside = False
        for number, raw in enumerate(cfg.splitlines(), start=1):
            if raw.strip().startswith("install_requires"):
                inside = True
                continue
            if inside:
                if raw and not raw[0].isspace():
                    inside = False
                    continue
                cfg_match = _PY_REQ.match(raw.strip())
                if cfg_match:
                    out.append(
                        _py(
                            cfg_match.group(1),
                            cfg_match.group(2),
                            setup_cfg,
                            number,
                            cfg_match.group(0),
                        )
                    )
    return out


_GEM = re.compile(r"""^\s*gem\s+["']([A-Za-z0-9._-]+)["']""", re.MULTILINE)


def _gemfile(files: ProjectFiles, rel: str) -> list[Dependency]:
    text = files.text(rel)
    if text is None:
        return []
    return [
        Dependency("ruby", m.group(1).lower(), rel, line_of(text, m.start()), m.group(1))
        for m in _GEM.finditer(text)
    ]


def _package_json(files: ProjectFiles, rel: str) -> list[Dependency]:
    if not files.exists(rel):
        return []
    data = files.json(rel)
    if not isinstance(data, dict):
        return []
    text = files.text(rel) or ""
    out = []
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        table = data.get(key)
        if isinstance(table, dict):
            for name in table:
                if isinstance(name, str):
                    index = text.find(f'"{name}"')
                    line = line_of(text, index) if index >= 0 else None
                    out.append(Dependency("node", name.lower(), rel, line, name))
    return out
