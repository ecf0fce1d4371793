"""A per-user cache of fresh, never-started PostgreSQL clusters, one per initdb recipe.

``initdb`` takes about half a second; copying a ready cluster takes a tenth
of that. After a fresh initdb devenv copies the cluster into
``$XDG_CACHE_HOME/devenv/postgres-templates/<major>-<hash>`` (the hash covers
the initdb arguments and the server binary's real path), and the next new
project copies it instead of running initdb.

An entry is built in a temporary folder, its marker written last, then
renamed into place, all under an exclusive ``flock``; readers take a shared
lock. So two projects bootstrapping at once never see half an entry. An
entry that fails validation is removed and rebuilt, never used. A cache that
cannot be written only makes bootstrapping slower.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from devenv.files import cache_dir

MARKER = "complete.json"
CLUSTER = "cluster"


def cache_root() -> Path:
    return cache_dir() / "postgres-templates"


def entry_key(major: int, initdb_args: Sequence[str], server: Path) -> str:
    digest = hashlib.sha256(
        json.dumps([list(initdb_args), os.path.realpath(server)]).encode()
    ).hexdigest()[:12]
    return f"{major}-{digest}"


def copy_tree(source: Path, target: Path) -> None:
    """``cp -a source target`` (target must not exist); raises OSError on failure."""
    result = subprocess.run(
        ["cp", "-a", str(source), str(target)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
    )
    if result.returncode != 0:
        raise OSError(f"cp -a {source} {target} failed: {result.stderr.strip()}")


class TemplateCache:
    """The cache entry for one major version and one set of initdb arguments."""

    def __init__(self, major: int, initdb_args: Sequence[str], server: Path) -> None:
        self.major = major
        self.root = cache_root()
        self.key = entry_key(major, initdb_args, server)
        self.entry = self.root / self.key
        self.cluster = self.entry / CLUSTER

    def valid(self) -> bool:
        """Marker present, PG_VERSION is our major, global/pg_control exists."""
        try:
            json.loads((self.entry / MARKER).read_text())
            version = (self.cluster / "PG_VERSION").read_text().strip()
        except (OSError, ValueError):
            return False
        return version == str(self.major) and (self.cluster / "global" / "pg_control").is_file()

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.root / f"{self.key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def copy_to(self, target: Path, *, lock: bool = True) -> bool:
        """Copy a valid entry's cluster to ``target`` (which must not exist); False on a miss.

        ``lock=False`` when the caller already holds the exclusive lock (a second
        lock on another descriptor would wait for it forever).
        """
        if not self.entry.is_dir():
            return False
        with self.locked(exclusive=False) if lock else contextlib.nullcontext():
            if not self.valid():
                return False
            copy_tree(self.cluster, target)
        return True

    def store(self, fresh: Path) -> None:
        """Make a copy of the fresh cluster the entry (the caller holds the exclusive lock)."""
        if self.valid():
            return
        self._discard_leftovers()
        import shutil
        import tempfile  # a cold start only: ~4 ms that a warm one does not pay

        tmp = Path(tempfile.mkdtemp(prefix=f"{self.key}.tmp-", dir=self.root))
        try:
            copy_tree(fresh, tmp / CLUSTER)
            (tmp / MARKER).write_text(json.dumps({"major": self.major, "key": self.key}))
            os.rename(tmp, self.entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _discard_leftovers(self) -> None:
        """Remove an invalid entry and temporary folders of interrupted builds."""
        import shutil  # not at module level either (~2.5 ms with bz2 and lzma)
        import uuid  # not at module level: every warm start would pay for it

        doomed = [self.entry] if self.entry.exists() else []
        doomed += self.root.glob(f"{self.key}.tmp-*")
        doomed += self.root.glob(f"{self.key}.bad-*")
        for path in doomed:
            # Rename first: the entry's name is free at once, even if removal is partial.
            aside = self.root / f"{self.key}.bad-{uuid.uuid4().hex[:12]}"
            with contextlib.suppress(OSError):
                os.rename(path, aside)
                path = aside
            shutil.rmtree(path, ignore_errors=True)
