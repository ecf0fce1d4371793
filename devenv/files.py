"""Where devenv keeps its own files, and how it writes every file it keeps.

Writing: a file's readers see the old contents or the new, never half of either. The one way
every file devenv keeps is written (ports, pid records, state files, the configs it renders, the
password): a temp file beside the target (the same folder, so the rename is atomic) with a name
no other writer uses, created with ``O_EXCL | O_NOFOLLOW`` and given its mode and owner before a
byte is written, then ``os.replace`` (or ``os.link`` for :func:`write_new`). When anything fails
the temp file is removed and the target is as it was. No ``tempfile`` here: its import costs
milliseconds on every ``devenv up``.

Folders outside any project (``cache_dir``, ``state_dir``, ``runtime_dir``) are where the XDG
Base Directory spec puts them. Each is read from the environment at the call (tests and users
may set it at any time); a relative value is ignored, as the spec says. Nothing here creates a
folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int = 0o600,
    fsync: bool = False,
    owner: tuple[int, int] | None = None,
) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8) in one step.

    The file gets exactly ``mode`` whatever the umask, and ``owner`` (uid, gid) when given.
    ``fsync`` flushes the contents to disk before the rename. Raises OSError (or the encoding
    error) with ``path`` untouched; the folder must exist.
    """
    target = Path(path)
    tmp = _write_temp(target, data, mode, fsync, owner)
    try:
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def write_new(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int = 0o600,
    fsync: bool = True,
    owner: tuple[int, int] | None = None,
) -> bool:
    """Create ``path`` holding ``data`` unless it exists; never replaces a file.

    Complete or absent, as :func:`write_atomic`, and for files that racing writers must agree
    on (the project's password): the first one in place wins. True when this call's file is
    the one in place, False when another was there first.
    """
    target = Path(path)
    tmp = _write_temp(target, data, mode, fsync, owner)
    try:
        os.link(tmp, target)  # a link never replaces, as a rename would
    except FileExistsError:
        return False
    finally:
        _remove(tmp)
    return True


def _write_temp(
    target: Path, data: bytes | str, mode: int, fsync: bool, owner: tuple[int, int] | None
) -> Path:
    tmp, fd = _create_temp(target, mode)
    try:
        try:
            os.fchmod(fd, mode)  # exactly mode, whatever the umask
            if owner is not None:
                os.fchown(fd, *owner)
            payload = data.encode("utf-8") if isinstance(data, str) else data
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _create_temp(target: Path, mode: int) -> tuple[Path, int]:
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            return tmp, os.open(tmp, _FLAGS, mode)
        except FileExistsError:
            continue  # a leftover of a killed writer with our pid, or a rare clash: another name
    raise FileExistsError(f"no free temporary name beside {target}")


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


# -- devenv's folders outside any project (XDG) ---------------------------------------------
def _home(variable: str, *default: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path.home().joinpath(*default)


def cache_dir() -> Path:
    """devenv's cache, rebuilt when lost: ``$XDG_CACHE_HOME/devenv``, else ``~/.cache/devenv``."""
    return _home("XDG_CACHE_HOME", ".cache") / "devenv"


def state_dir() -> Path:
    """devenv's state kept across runs: ``$XDG_STATE_HOME/devenv``, else
    ``~/.local/state/devenv``."""
    return _home("XDG_STATE_HOME", ".local", "state") / "devenv"


def runtime_dir() -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it names a folder this user can write in, else None
    (the caller picks its fallback: sockets need short paths)."""
    value = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(value) and os.path.isdir(value) and os.access(value, os.W_OK):
        return Path(value)
    return None
