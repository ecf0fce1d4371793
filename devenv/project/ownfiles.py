"""The project's own files that a start, a stop or a status reads before devenv loads: a
JSON record this account alone may have written, an operation lock taken without waiting.

Start plans (devenv.project.startplan, devenv.project.procplan), the warm start's record
(devenv.services.warmstart) and the status record (devenv.commands.status_fast) all decide
what runs, as whom, or what is printed; as root the project's state folder belongs to the
service account, which could put a file there. Only ``os`` and ``json`` are imported.
"""

from __future__ import annotations

import json
import os


def read_own_json(path: str | os.PathLike[str]) -> dict | None:
    """The JSON object in ``path`` when this account wrote the file and nobody else may write
    it; None when it is absent, a symlink (never followed), another account's, writable by
    others, damaged, nested too deep or not an object."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None
        try:
            data = json.load(f)
        except (OSError, ValueError, RecursionError):  # unreadable, not JSON or UTF-8, too deep
            return None
    return data if isinstance(data, dict) else None


def try_lock(path: str | os.PathLike[str]) -> int | None:
    """The fd of an exclusive flock on ``path`` (made if missing), taken without waiting; None
    when another process holds it or the file cannot be opened. Closing the fd releases it."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
