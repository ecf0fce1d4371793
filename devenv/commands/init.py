"""``devenv init``: write devenv.toml (and a Procfile) for an existing project."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shlex
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devenv.errors import ConfigError, DevenvError, UsageError
from devenv.resources import render_template, templates_dir


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
    """pyproject's [project] name, else package.json's name, else the folder's; a file that
    cannot be read or holds something else is passed over."""
    name = _read_name(root / "pyproject.toml", lambda text: tomllib.loads(text).get("project"))
    if name is None:
        name = _read_name(root / "package.json", json.loads)
        name = name.split("/")[-1] if name else None
    return name or root.resolve().name


def _read_name(path: Path, parse: Callable[[str], object]) -> str | None:
    try:
        data = parse(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):  # TOMLDecodeError is a ValueError
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _existing_config(root: Path, force: bool) -> Path | None:
    """The devenv.toml ``init --force`` replaces (None: there is none); refuses (UsageError or
    ConfigError, exit 2) when there is a config init must not touch or cannot replace."""
    config = root / "devenv.toml"
    if config.is_symlink() and not config.exists():
        raise ConfigError(
            f"is a symbolic link to '{os.readlink(config)}', which does not exist; nothing was "
            "written. Fix or remove the link, then run `devenv init` again.",
            path=config.name,
        )
    if config.is_dir():
        raise ConfigError(
            "is a folder; nothing was written. Move it away, then run `devenv init` again.",
            path=config.name,
        )
    if config.exists():
        if not force:
            raise UsageError(
                f"{config}: this project already has a devenv config (devenv.toml); nothing was "
                "written. Use `devenv init --force` to replace it (the old one is kept as "
                "devenv.toml.bak)."
            )
        return config
    if _pyproject_has_devenv(root / "pyproject.toml"):
        if not force:
            raise UsageError(
                f"{root / 'pyproject.toml'}: this project already has a devenv config "
                "(pyproject.toml [tool.devenv]); nothing was written. Edit it there."
            )
        raise UsageError(
            f"{root / 'pyproject.toml'}: this project's devenv config is [tool.devenv] in "
            "pyproject.toml; `devenv init --force` writes devenv.toml, which would silently "
            "take its place. Nothing was written. To start over with devenv.toml, remove "
            "[tool.devenv] from pyproject.toml first; otherwise edit it there."
        )
    return None


def _pyproject_has_devenv(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, ValueError):
        # A pyproject that cannot be read: look for the table's header in its bytes.
        try:
            return b"tool.devenv" in pyproject.read_bytes()
        except OSError:
            return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "devenv" in tool


def _backup(path: Path) -> Path:
    """A copy of ``path`` as NAME.bak, or NAME.bak.1, .bak.2, ...: a backup is never
    overwritten, so the first, hand-written file survives any number of ``--force``."""
    candidates = itertools.chain(
        [path.with_name(f"{path.name}.bak")],
        (path.with_name(f"{path.name}.bak.{n}") for n in itertools.count(1)),
    )
    for backup in candidates:
        if backup.is_symlink() or backup.exists():
            continue
        shutil.copy2(path, backup)
        return backup
    raise AssertionError("unreachable")


# A Procfile line that starts one of these runs a server devenv runs itself.
_SERVER_BINARIES = {
    "redis-server": "redis",
    "postgres": "postgres",
    "postmaster": "postgres",
    "pg_ctl": "postgres",
    "pg_ctlcluster": "postgres",
}
_WRAPPERS = ("exec", "env", "nice", "nohup")


def _server_of(name: str, command: str) -> str | None:
    """The bundled service a Procfile line runs (by its program, or its name), or None."""
    if name in _SERVER_BINARIES.values():
        return name
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        if word in _WRAPPERS or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            continue
        return _SERVER_BINARIES.get(Path(word).name)
    return None


def _servers_out_of_procfile(procfile: Path, result: InitResult) -> list[str]:
    """Comment out the Procfile's lines that run a server devenv runs itself (the old file is
    kept as Procfile.bak); return the process names that are left."""
    from devenv.config.procfile import parse_procfile

    entries = parse_procfile(procfile)
    servers = {name: _server_of(name, entry.command) for name, entry in entries.items()}
    servers = {name: service for name, service in servers.items() if service}
    if not servers:
        result.kept.append(procfile)
        return list(entries)
    lines = procfile.read_text(encoding="utf-8-sig").splitlines()
    for name, service in servers.items():
        number = entries[name].line
        lines[number - 1] = (
            f"# {lines[number - 1]}  # devenv runs {service} itself: [services.{service}] "
            "in devenv.toml"
        )
    backup = _backup(procfile)
    procfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result.backups.append(backup)
    for name, service in servers.items():
        result.notes.append(
            f"Procfile: '{name}: {entries[name].command}' is [services.{service}] now, which "
            f"devenv runs itself; the line is commented out (the old Procfile is kept as "
            f"{backup.name})"
        )
    return [name for name in entries if name not in servers]


def _render_config(root: Path, process_names: list[str]) -> str:
    from devenv.config import detect_lockfiles

    name = _project_name(root)
    lockfiles = [p.relative_to(root).as_posix() for p in detect_lockfiles(root)]
    processes = "".join(
        f"\n[processes.{_toml_str(p) if not re.fullmatch(r'[A-Za-z0-9_-]+', p) else p}]\n"
        'depends_on = ["postgres", "redis"]\n'
        for p in process_names
    )
    values = {
        "name": name,
        "name_toml": _toml_str(name),
        "db_toml": _toml_str(_identifier(name)),
        "processes": processes,
        "watch_toml": "[" + ", ".join(_toml_str(lf) for lf in lockfiles) + "]",
    }
    return render_template(templates_dir() / "init" / "devenv.toml", values)


def _note_unpinned(root: Path, result: InitResult) -> None:
    """Say which lockfiles hold ranges: installed all the same, but not reproducibly."""
    from devenv.config import detect_lockfiles
    from devenv.environment.lockfiles import LockfileError, read_lockfile

    for path in detect_lockfiles(root):
        if not path.name.endswith(".txt"):
            continue
        try:
            packages = read_lockfile(path).packages
        except (LockfileError, OSError, ValueError) as err:  # UnicodeDecodeError: a ValueError
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
    names = " and ".join(f"{name}/" for name, _ in wanted)
    try:
        # Bytes: a .gitignore in another encoding is appended to, never re-encoded.
        data = gitignore.read_bytes() if gitignore.exists() else b""
    except OSError as err:
        result.notes.append(f"could not add {names} to .gitignore: {_why(gitignore, err)}")
        return
    present = {line.strip().strip(b"/") for line in data.splitlines()}
    added = []
    for name, comment in wanted:
        if name.encode() not in present:
            if data and not data.endswith(b"\n"):
                data += b"\n"
            data += f"{comment}\n{name}/\n".encode()
            added.append(f"{name}/")
    if not added:
        return
    try:
        gitignore.write_bytes(data)
    except OSError as err:
        result.notes.append(f"could not add {names} to .gitignore: {_why(gitignore, err)}")
        return
    result.notes.append(f"added {' and '.join(added)} to .gitignore")


def _why(path: Path, err: OSError) -> str:
    if path.is_dir():
        return f"{path.name} is a folder"
    return err.strerror or str(err)


def init_project(root: Path, *, force: bool = False) -> InitResult:
    """Write devenv.toml (and a Procfile when there is none) in ``root``.

    Never loses a file: an existing config is an error unless ``force``, and then the old
    devenv.toml is kept as devenv.toml.bak (.bak.1, .bak.2, ... when that exists). A config in
    pyproject.toml's [tool.devenv] is never replaced. A Procfile line that runs a server devenv
    runs itself (redis-server, postgres, pg_ctl) is commented out, its service configured, the
    old Procfile kept as Procfile.bak. What is written passes devenv's own checks; if it ever
    did not, every file is put back as it was.
    """
    from devenv.config import load_config

    root = root.resolve()
    result = InitResult(root)
    existing = _existing_config(root, force)

    procfile = root / "Procfile"
    if procfile.is_symlink() and not procfile.exists():
        raise ConfigError(
            f"is a symbolic link to '{os.readlink(procfile)}', which does not exist; nothing "
            "was written. Fix or remove the link, then run `devenv init` again.",
            path=procfile.name,
        )
    process_names = None
    if procfile.exists():
        from devenv.config.procfile import parse_procfile

        parse_procfile(procfile)  # a Procfile devenv cannot read stops init before any write
    config = root / "devenv.toml"
    undo: list[tuple[Path, Path | None]] = []  # (file, its backup or None: remove it)
    try:
        if procfile.exists():
            process_names = _servers_out_of_procfile(procfile, result)
            if result.backups:
                undo.append((procfile, result.backups[-1]))
        else:
            procfile.write_text((templates_dir() / "init" / "Procfile").read_text())
            undo.append((procfile, None))
            process_names = []
            result.written.append(procfile)
        text = _render_config(root, process_names)
        if existing is not None:
            backup = _backup(config)
            result.backups.append(backup)
            undo.append((config, backup))
        else:
            undo.append((config, None))
        config.write_text(text, encoding="utf-8")
        result.written.insert(0, config)
        load_config(config)
    except ConfigError as err:
        _put_back(undo)
        raise DevenvError(
            f"devenv init made a config that devenv itself rejects, which is a bug in devenv "
            f"init; every file was put back as it was. The check said: {err}"
        ) from None
    except BaseException:
        _put_back(undo)
        raise
    _ensure_gitignored(root, result)
    _note_unpinned(root, result)
    return result


def _put_back(undo: list[tuple[Path, Path | None]]) -> None:
    for path, backup in reversed(undo):
        with contextlib.suppress(OSError):
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
