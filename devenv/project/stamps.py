"""What tells a file's or the environment's version apart cheaply, for records of a start or
a status that must know nothing changed since (devenv.project.startplan,
devenv.services.warmstart, devenv.commands.status_fast).

Only ``os`` is imported: these run before the servers are spawned.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Variables a shell changes from one command to the next (bash's ``_``, the folder before the
# last ``cd``): left out of environ_digest so that they alone never cost a record.
VOLATILE = frozenset({"_", "OLDPWD"})


def stamp(path: str | os.PathLike[str]) -> list[int] | None:
    """mtime (ns), size, inode and ctime (ns) of ``path`` (following links); None when absent.
    A file rewritten, replaced or with its mode changed gets another."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]


def environ_digest(
    environ: Mapping[str, str] | None = None, leave_out: Iterable[str] = VOLATILE
) -> str:
    """A digest of ``environ`` (default: this process's environment) but ``leave_out``: the
    config may expand any variable and PATH finds the servers, so a record is of one
    environment; the values themselves are never written to disk."""
    try:
        from _blake2 import blake2b  # what hashlib.blake2b is, without hashlib's ~5 ms
    except ImportError:  # another Python implementation
        from hashlib import blake2b

    environ = os.environ if environ is None else environ
    skipped = frozenset(leave_out)
    digest = blake2b(digest_size=16)
    for key in sorted(environ):
        if key not in skipped:
            digest.update(os.fsencode(key) + b"=" + os.fsencode(environ[key]) + b"\0")
    return digest.hexdigest()
