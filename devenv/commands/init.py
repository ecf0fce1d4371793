"""``devenv init``: write devenv.toml (and a Procfile) for an existing project."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.errors import ConfigError, DevenvError, UsageError

if TYPE_CHECKING:
    from devenv.scaffold.plan import Plan
    from devenv.scaffold.procfile import ProcfileFacts


@dataclass
class InitResult:
    """What ``init_project`` did, for the CLI to report."""

    root: Path
    dry_run: bool = False
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # each choice and where it was found
    preview: dict[str, str] = field(default_factory=dict)  # dry run: file name -> its text

    def report(self) -> list[str]:
        if self.dry_run:
            lines = ["devenv init --dry-run: nothing was written. It would write:"]
            for name, text in self.preview.items():
                lines += ["", f"--- {name}", text.rstrip("\n")]
            lines += ["", "Why:"]
            lines += [f"- {why}" for why in self.why] or ["- nothing in the project was evidence"]
            lines += [f"Note: {note}" for note in self.notes]
            return lines
        lines = [f"wrote {p.relative_to(self.root)}" for p in self.written]
        lines += [f"kept the old one as {p.relative_to(self.root)}" for p in self.backups]
        lines += [f"kept {p.relative_to(self.root)}" for p in self.kept]
        lines += ["Why:", *(f"- {why}" for why in self.why)] if self.why else []
        lines += self.notes
        lines.append("Next: review devenv.toml, then run `devenv up`.")
        return lines


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


def _ensure_gitignored(root: Path, result: InitResult, lockfiles: list[Path]) -> None:
    """.devenv/ (and .venv/, which devenv makes for a Python project: one of ``lockfiles`` is
    Python's) in .gitignore."""
    from devenv.environment.project import ProjectEnv

    wanted = [(".devenv", "# devenv's local state: databases, sockets, logs")]
    if any(ProjectEnv.ecosystem(path) == "python" for path in lockfiles):
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


def _read_procfile(root: Path) -> tuple[Path, str | None, ProcfileFacts | None]:
    """The Procfile, its text and what it holds (None, None: there is none). A Procfile devenv
    cannot read stops init before any write (ConfigError, exit 2)."""
    from devenv.config.procfile import parse_procfile
    from devenv.scaffold.procfile import read_facts

    procfile = root / "Procfile"
    if procfile.is_symlink() and not procfile.exists():
        raise ConfigError(
            f"is a symbolic link to '{os.readlink(procfile)}', which does not exist; nothing "
            "was written. Fix or remove the link, then run `devenv init` again.",
            path=procfile.name,
        )
    if not procfile.exists():
        return procfile, None, None
    facts = read_facts(parse_procfile(procfile))
    return procfile, procfile.read_text(encoding="utf-8-sig"), facts


def _check_in_a_scratch_folder(files: dict[str, str]) -> None:
    """Load the config ``files`` (name -> text) would make, in a folder of their own: a
    ConfigError says init would write something devenv rejects."""
    import tempfile

    from devenv.config import load_config

    with tempfile.TemporaryDirectory(prefix="devenv-init-") as scratch:
        for name, text in files.items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        load_config(Path(scratch) / "devenv.toml")


def init_project(root: Path, *, force: bool = False, dry_run: bool = False) -> InitResult:
    """Write devenv.toml (and a Procfile when there is none) in ``root``, from what the project
    shows (devenv.scaffold): each service, hook, [prod] version and process carries a comment
    naming the file and word it was found from; no evidence, no service.

    Never loses a file: an existing config is an error unless ``force``, and then the old
    devenv.toml is kept as devenv.toml.bak (.bak.1, .bak.2, ... when that exists). A config in
    pyproject.toml's [tool.devenv] is never replaced. A Procfile line that runs a server devenv
    runs itself (redis-server, postgres, pg_ctl) and the ``release:`` line (an after_ready hook
    now) are commented out, the old Procfile kept as Procfile.bak. What is written passes
    devenv's own checks; if it ever did not, every file is put back as it was.

    ``dry_run``: write nothing at all (not even .gitignore); the result's ``preview`` holds
    each file's text and ``why`` the reasons; a config already there is a note, not an error.
    """
    from devenv.config import load_config
    from devenv.scaffold.plan import plan_project
    from devenv.scaffold.render import commented_procfile, render_config
    from devenv.scaffold.render import new_procfile as render_new_procfile

    root = root.resolve()
    result = InitResult(root, dry_run=dry_run)
    try:
        existing = _existing_config(root, force)
    except UsageError as err:
        if not dry_run:
            raise
        # A dry run shows the proposal all the same, e.g. to compare it with the config there.
        existing = None
        result.notes.append(f"init itself would stop here: {err}")
    procfile, procfile_text, facts = _read_procfile(root)
    plan = plan_project(root, facts)
    text = render_config(plan)
    if procfile_text is None:
        new_procfile: str | None = render_new_procfile(plan)
    else:
        new_procfile = commented_procfile(procfile_text, plan)
    result.why = [finding.why() for finding in plan.findings()]
    result.notes += plan.notes
    result.notes += _procfile_notes(plan)
    try:
        _check_in_a_scratch_folder(
            {"devenv.toml": text, "Procfile": new_procfile or procfile_text or ""}
        )
    except ConfigError as err:
        raise DevenvError(
            f"devenv init made a config that devenv itself rejects, which is a bug in devenv "
            f"init; nothing was written. The check said: {err}"
        ) from None
    if dry_run:
        result.preview["devenv.toml"] = text
        if new_procfile is not None:
            result.preview["Procfile"] = new_procfile
        return result

    config = root / "devenv.toml"
    undo: list[tuple[Path, Path | None]] = []  # (file, its backup or None: remove it)
    try:
        if procfile_text is None:
            procfile.write_text(new_procfile or "")
            undo.append((procfile, None))
            result.written.append(procfile)
        elif new_procfile is not None:
            backup = _backup(procfile)
            undo.append((procfile, backup))
            procfile.write_text(new_procfile, encoding="utf-8")
            result.backups.append(backup)
        else:
            result.kept.append(procfile)
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
        # What init writes passed the check on its own (above): what fails is another file of
        # the project that devenv reads with it (.env), which is the person's to fix.
        _put_back(undo)
        raise UsageError(
            f"{err}; devenv reads it with devenv.toml, so init wrote nothing (every file is as "
            "it was). Fix it, then run `devenv init` again."
        ) from None
    except BaseException:
        _put_back(undo)
        raise
    _ensure_gitignored(root, result, [root / found.value for found in plan.lockfiles])
    return result


def _procfile_notes(plan: Plan) -> list[str]:
    facts = plan.procfile
    if facts is None:
        return []
    notes = [
        f"Procfile: '{name}: {facts.entries[name].command}' is [services.{service}] now, which "
        "devenv runs itself; the line is commented out"
        for name, service in facts.servers.items()
    ]
    if facts.release:
        command = facts.entries[facts.release].command
        notes.append(
            f"Procfile: 'release: {command}' is a hook now ([hooks] after_ready), run once the "
            "services are ready and before the processes; the line is commented out"
        )
    return notes


def _put_back(undo: list[tuple[Path, Path | None]]) -> None:
    for path, backup in reversed(undo):
        with contextlib.suppress(OSError):
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
