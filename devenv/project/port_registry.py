"""Which project holds which block of process ports, for every project of this user.

A project remembers its Procfile's base ``PORT`` in its own ``.devenv/ports.json``;
that alone lets two projects started in the same second pick the same free
block, and lets a copied project (``cp -a``) believe it owns the original's.
This registry, ``$XDG_STATE_HOME/devenv/port-blocks.json`` (else
``~/.local/state/devenv/``), maps each claimed base to the ``ports.json`` of
the project that holds it (its real path: a copy is another project). It is
read and written under an exclusive ``flock``, so two ``devenv up`` never
claim one block.

A claim lapses by itself when its project no longer remembers that base (the
folder was removed, or the project moved to another block): nothing has to
release it. A registry that cannot be written (a read-only home) is no
registry: allocation goes on without it, as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from devenv.files import state_dir, write_atomic

PROCESSES_KEY = "processes"  # the ports.json entry for the Procfile's base PORT


class BlockRegistry:
    """The user's claims on process port blocks: base port → the holder's ports.json."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else state_dir()
        self.path = self.folder / "port-blocks.json"

    @contextlib.contextmanager
    def claims(self) -> Iterator[dict[int, str] | None]:
        """The live claims, under the lock; changes to the dict are saved on exit.

        Yields None when the registry cannot be used (no home, read-only):
        the caller then allocates as if no other project existed.
        """
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.folder / "port-blocks.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            claims = self._live(self._read())
            before = dict(claims)
            yield claims
            if claims != before:
                self._write(claims)
        finally:
            os.close(fd)  # closing drops the lock

    def _read(self) -> dict[int, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # lost or damaged: the projects' own files still say what they hold
        if not isinstance(data, dict):
            return {}
        return {
            int(base): owner
            for base, owner in data.items()
            if base.isdigit() and isinstance(owner, str)
        }

    @staticmethod
    def _live(claims: dict[int, str]) -> dict[int, str]:
        return {base: owner for base, owner in claims.items() if holds(owner, base)}

    def _write(self, claims: dict[int, str]) -> None:
        text = json.dumps({str(base): claims[base] for base in sorted(claims)}, indent=2) + "\n"
        with contextlib.suppress(OSError):  # the claim is not kept; allocation stays correct
            write_atomic(self.path, text)


def holds(ports_file: str, base: int) -> bool:
    """Whether the project of ``ports_file`` still remembers ``base`` as its processes' block."""
    try:
        data = json.loads(Path(ports_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get(PROCESSES_KEY) == base
