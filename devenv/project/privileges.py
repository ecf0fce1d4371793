"""Running servers that refuse root (PostgreSQL) when devenv itself is root.

On a laptop devenv runs as the developer and none of this applies. In
containers and CI devenv often runs as root, and ``initdb``/``postgres`` refuse
to. devenv then runs those servers as an unprivileged account: the one named by
``DEVENV_SERVICE_USER``, else ``postgres`` (created by the distribution's
PostgreSQL package), else ``nobody``. The data it owns is chowned to that
account, and every folder above it must be enterable by it; when that is not
so, devenv stops with a message that says which folder and what to do.
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError

SERVICE_USER_ENV = "DEVENV_SERVICE_USER"
_FALLBACK_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class ServiceUser:
    """The account a root-refusing server runs as."""

    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict:
        """Keyword arguments for ``subprocess.Popen`` that run the child as this user."""
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def is_root() -> bool:
    return os.geteuid() == 0


def current_user() -> ServiceUser:
    uid = os.geteuid()
    return ServiceUser(pwd.getpwuid(uid).pw_name, uid, os.getegid())


def service_user() -> ServiceUser:
    """Return the account to run root-refusing servers as.

    Not root: the current user. Root: ``$DEVENV_SERVICE_USER``, else the first
    of ``postgres``, ``nobody`` that exists. Raises DevenvError when none does.
    """
    if not is_root():
        return current_user()
    wanted = os.environ.get(SERVICE_USER_ENV)
    names = (wanted,) if wanted else _FALLBACK_USERS
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid == 0:
            raise DevenvError(
                f"{SERVICE_USER_ENV}={name} is root; PostgreSQL refuses to run as root. "
                "Name an unprivileged account instead."
            )
        return ServiceUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    if wanted:
        raise DevenvError(
            f"{SERVICE_USER_ENV}={wanted}: no such user. Create it "
            f"(useradd --system --no-create-home {wanted}) or unset {SERVICE_USER_ENV}."
        )
    raise DevenvError(
        "devenv is running as root and PostgreSQL refuses to run as root, but there is no "
        "unprivileged account to run it as (looked for 'postgres' and 'nobody'). Create one "
        f"(useradd --system --no-create-home devenv-pg) and set {SERVICE_USER_ENV}=devenv-pg, "
        "or run devenv as a normal user."
    )


def _can_enter(st: os.stat_result, user: ServiceUser, groups: set[int]) -> bool:
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _groups_of(user: ServiceUser) -> set[int]:
    try:
        return set(os.getgrouplist(user.name, user.gid))
    except OSError:
        return {user.gid}


def blocking_folder(path: Path, user: ServiceUser) -> Path | None:
    """Return the first existing folder above ``path`` that ``user`` cannot enter.

    ``None`` means every existing ancestor (and ``path`` itself, if it exists)
    can be traversed by ``user``.
    """
    if user.uid == 0:
        return None
    groups = _groups_of(user)
    path = Path(os.path.abspath(path))
    for folder in [*reversed(path.parents), path]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            return None
        if not _can_enter(st, user, groups):
            return folder
    return None


def ensure_reachable(path: Path, user: ServiceUser, what: str = "its data") -> None:
    """Raise DevenvError, saying what to do, if ``user`` cannot reach ``path``."""
    folder = blocking_folder(path, user)
    if folder is None:
        return
    mode = stat.S_IMODE(folder.stat().st_mode)
    raise DevenvError(
        f"PostgreSQL runs as '{user.name}' because devenv is root, but '{user.name}' cannot "
        f"enter {folder} (mode {mode:04o}), so it cannot reach {what} at {path}. "
        f"Put the project in a folder '{user.name}' can enter (for example under /srv or "
        f"/tmp), allow it with `chmod o+x {folder}`, or run devenv as a normal user."
    )


def give_to(path: Path, user: ServiceUser) -> None:
    """Make ``user`` the owner of ``path`` and everything below it (no-op when not root)."""
    if not is_root() or user.uid == 0:
        return
    for root, dirs, files in os.walk(path):
        for each in (root, *(os.path.join(root, name) for name in dirs + files)):
            st = os.lstat(each)
            if (st.st_uid, st.st_gid) != (user.uid, user.gid):  # else its ctime stays: a
                os.lchown(each, user.uid, user.gid)  # stamp (devenv.project.stamps) holds
