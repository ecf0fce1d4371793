"""``devenv init``: write devenv.toml (and a Procfile) for an existing project."""

from __future__ import annotations

import json
import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from devenv.errors import DevenvError
from devenv.resources import templates_dir


@dataclass
class InitResult:
    """What ``init_project`` did, for the CLI to report."""

    root: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        lines = [f"wrote {p.relative_to(self.root)}" for p in self.written]
        lines += [f"kept the old one as {p.relative_to(self.root)}" for p in self.backups]
        lines += [f"kept {p.relative_to(self.root)}" for p in self.kept]
        lines += self.notes
        lines.append("Next: review devenv.toml, then run `devenv up`.")
        return lines


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _identifier(name: str) -> str:
    """A PostgreSQL-friendly identifier from a project name ("my-app" -> "my_app")."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "app"
    if ident[0].isdigit():
        ident = f"app_{ident}"
    return ident[:63]


def _project_name(root: Path) -> str:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            name = None
        if isinstance(name, str) and name:
            return name
    package_json = root / "package.json"
    if package_json.is_file():
        try:
            name = json.loads(package_json.read_text()).get("name")
        except (ValueError, UnicodeDecodeError):
            name = None
        if isinstance(name, str) and name:
            return name.split("/")[-1]
    return root.resolve().name


def _has_devenv_config(root: Path) -> Path | None:
    if (root / "devenv.toml").exists():
        return root / "devenv.toml"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None
        if "devenv" in data.get("tool", {}):
            return pyproject
    return None


def _render_config(root: Path, process_names: list[str]) -> str:
    from devenv.config import detect_lockfiles

    name = _project_name(root)
    lockfiles = [p.relative_to(root).as_posix() for p in detect_lockfiles(root)]
    processes = "".join(
        f"\n[processes.{_toml_str(p) if not re.fullmatch(r'[A-Za-z0-9_-]+', p) else p}]\n"
        'depends_on = ["postgres", "redis"]\n'
        for p in process_names
    )
    template = string.Template((templates_dir() / "init" / "devenv.toml").read_text())
    return template.substitute(
        name=name,
        name_toml=_toml_str(name),
        db_toml=_toml_str(_identifier(name)),
        processes=processes,
        watch_toml="[" + ", ".join(_toml_str(lf) for lf in lockfiles) + "]",
    )


def _note_unpinned(root: Path, result: InitResult) -> None:
    """Say which lockfiles hold ranges: installed all the same, but not reproducibly."""
    from devenv.config import detect_lockfiles
    from devenv.environment.lockfiles import LockfileError, read_lockfile

    for path in detect_lockfiles(root):
        if not path.name.endswith(".txt"):
            continue
        try:
            packages = read_lockfile(path).packages
        except LockfileError as err:
            result.notes.append(f"{path.name} cannot be read: {err}")
            continue
        loose = [p.name for p in packages if p.version is None and not p.local]
        if loose:
            shown = ", ".join(loose[:4]) + (f" and {len(loose) - 4} more" if len(loose) > 4 else "")
            result.notes.append(
                f"{path.name} has ranges, not pins ({shown}): devenv installs it all the same, "
                "but not reproducibly. Pin it: `uv pip compile "
                f"{path.name} -o {path.stem}.lock`, "
                "commit it and watch it instead ([lockfiles] watch)."
            )


def _ensure_gitignored(root: Path, result: InitResult) -> None:
    """.devenv/ (and .venv/, which devenv makes for a Python project) in .gitignore."""
    from devenv.config import detect_lockfiles
    from devenv.environment.project import ProjectEnv

    wanted = [(".devenv", "# devenv's local state: databases, sockets, logs")]
    if any(ProjectEnv.ecosystem(path) == "python" for path in detect_lockfiles(root)):
        wanted.append((".venv", "# the project's virtualenv, made by devenv from the lockfiles"))
    gitignore = root / ".gitignore"
    text = gitignore.read_text() if gitignore.exists() else ""
    present = {line.strip().strip("/") for line in text.splitlines()}
    added = []
    for name, comment in wanted:
        if name not in present:
            if text and not text.endswith("\n"):
                text += "\n"
            text += f"{comment}\n{name}/\n"
            added.append(f"{name}/")
    if added:
        gitignore.write_text(text)
        result.notes.append(f"added {' and '.join(added)} to .gitignore")


def init_project(root: Path, *, force: bool = False) -> InitResult:
    """Write devenv.toml (and a Procfile when there is none) in ``root``.

    Never overwrites: an existing config is an error unless ``force``, and then
    the old devenv.toml is kept as devenv.toml.bak. An existing Procfile is
    always kept. The written config is loaded back, so it is known to be valid.
    """
    from devenv.config import load_config
    from devenv.procfile import parse_procfile

    root = root.resolve()
    result = InitResult(root)
    existing = _has_devenv_config(root)
    if existing is not None and not force:
        where = "devenv.toml" if existing.name == "devenv.toml" else "pyproject.toml [tool.devenv]"
        raise DevenvError(
            f"{root / existing.name}: this project already has a devenv config ({where}); "
            "nothing was written. Use `devenv init --force` to replace devenv.toml "
            "(the old one is kept as devenv.toml.bak)."
        )

    procfile = root / "Procfile"
    if procfile.exists():
        process_names = list(parse_procfile(procfile))
        result.kept.append(procfile)
    else:
        procfile.write_text((templates_dir() / "init" / "Procfile").read_text())
        process_names = []
        result.written.append(procfile)

    config = root / "devenv.toml"
    if config.exists():
        backup = root / "devenv.toml.bak"
        backup.write_bytes(config.read_bytes())
        result.backups.append(backup)
    config.write_text(_render_config(root, process_names))
    result.written.insert(0, config)
    _ensure_gitignored(root, result)
    _note_unpinned(root, result)
    load_config(config)
    return result
