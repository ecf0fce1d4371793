"""Reading a project's files for ``devenv init``: never a traceback, whatever is there.

``ProjectFiles.text(rel)`` gives a file's text, or None when it is missing or cannot be read
as a small text file inside the project (a folder, binary or not UTF-8, larger than
``MAX_BYTES``, a symbolic link out of the project, unreadable); each refusal but "missing" is
written once to ``notes``, naming the file. ``glob`` lists project files, skipping the folders
no app keeps its own code in (node_modules, virtualenvs, .git, ...).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

MAX_BYTES = 1 << 20  # a manifest or a settings file is far smaller; a bigger one is not read

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".devenv",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        "site-packages",
        "vendor",
        "dist",
        "build",
        "tmp",
        "log",
        "public",
        "static",
        ".mypy_cache",
        ".pytest_cache",
    }
)


# Folders one level down that hold no app of the project's own.
NOT_THE_APP = frozenset({"tests", "test", "docs", "doc", "examples", "example", "scripts"})


class ProjectFiles:
    """The project at ``root`` as init reads it; ``notes`` collects the files passed over."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.notes: list[str] = []
        self._texts: dict[str, str | None] = {}

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` is there (a file, a folder, or a link, even a broken one)."""
        path = self.root / rel
        return path.is_symlink() or path.is_file() or path.is_dir()

    def is_dir(self, rel: str) -> bool:
        return (self.root / rel).is_dir()

    def text(self, rel: str) -> str | None:
        """The text of ``rel`` (UTF-8, a BOM dropped), or None; see the module's docstring."""
        if rel not in self._texts:
            self._texts[rel] = self._read(rel)
        return self._texts[rel]

    def _read(self, rel: str) -> str | None:
        path = self.root / rel
        if not path.exists() and not path.is_symlink():
            return None
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            self._skip(rel, "is a symbolic link that leads nowhere")
            return None
        if not resolved.exists():
            self._skip(rel, "is a symbolic link to a file that does not exist")
            return None
        if not resolved.is_relative_to(self.root):
            self._skip(rel, "is a symbolic link out of the project")
            return None
        if resolved.is_dir():
            self._skip(rel, "is a folder")
            return None
        try:
            size = resolved.stat().st_size
            if size > MAX_BYTES:
                self._skip(rel, f"is larger than {MAX_BYTES >> 20} MiB")
                return None
            data = resolved.read_bytes()
        except OSError as err:
            self._skip(rel, err.strerror or str(err))
            return None
        if b"\0" in data:
            self._skip(rel, "is a binary file")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self._skip(rel, "is not UTF-8 text")
            return None

    def _skip(self, rel: str, why: str) -> None:
        note = f"{rel} {why}; init did not read it"
        if note not in self.notes:  # a manifest is parsed by several readers: said once
            self.notes.append(note)

    def json(self, rel: str) -> object | None:
        """The JSON value in ``rel``, or None (a note when it is there but not JSON)."""
        text = self.text(rel)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            self._skip(rel, f"is not valid JSON ({err})")
            return None

    def toml(self, rel: str) -> dict | None:
        """The TOML table in ``rel``, or None (a note when it is there but not TOML)."""
        text = self.text(rel)
        if text is None:
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            self._skip(rel, f"is not valid TOML ({err})")
            return None

    def app_folders(self) -> list[str]:
        """The folders one level down that may hold an app of the project (a monorepo's
        backend/, app/): not the ones skipped everywhere (node_modules, virtualenvs, hidden
        ones, ``SKIPPED_DIRS``), nor tests, docs, examples (``NOT_THE_APP``)."""
        try:
            children = sorted(self.root.iterdir())
        except OSError:
            return []
        return [
            child.name
            for child in children
            if child.is_dir()
            and not child.is_symlink()
            and not child.name.startswith(".")
            and child.name not in SKIPPED_DIRS
            and child.name not in NOT_THE_APP
        ]

    def in_root_or_app_folder(self, name: str, *, beside: str | None = None) -> str | None:
        """``name`` in the root, else in the one app folder (``app_folders``) that holds it
        (backend/alembic.ini, src/manage.py); None when there is none, or several. ``beside``:
        a file whose presence next to ``name`` one folder down rules that one out."""
        if self.exists(name):
            return name
        found = [
            f"{folder}/{name}"
            for folder in self.app_folders()
            if (self.root / folder / name).is_file()
            and not (beside and self.exists(f"{folder}/{beside}"))
        ]
        return found[0] if len(found) == 1 else None

    def glob(self, pattern: str, *, depth: int = 4, limit: int = 500) -> list[str]:
        """Project-relative paths of the files whose name matches ``pattern`` (fnmatch), at most
        ``depth`` folders down and ``limit`` of them, sorted; symbolic links to folders are not
        followed."""
        import fnmatch
        import os

        found: list[str] = []
        for folder, dirs, files in os.walk(self.root):
            rel_folder = Path(folder).relative_to(self.root)
            level = len(rel_folder.parts)
            dirs[:] = sorted(
                d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".") and level < depth
            )
            for name in sorted(files):
                if fnmatch.fnmatchcase(name, pattern):
                    found.append((rel_folder / name).as_posix())
                    if len(found) >= limit:
                        return sorted(found)
        return sorted(found)
