"""The project's generated password: what TCP connections to its servers need.

Every project has one secret, made on first need (``secrets.token_urlsafe``)
and kept in ``.devenv/password``, mode 0600 from the moment it exists (it is
written to a private temporary file, then linked into place, so nobody ever
sees a half-written or world-readable one, and two devenvs racing to make it
end up with the same). A copied project (``cp -a``) keeps its copy, and its
servers' data, which was made with it, keeps working.

PostgreSQL's roles and Redis's ``requirepass`` get it; the URLs in ``devenv
env`` carry it. Only the owner's 0700 socket folder is trusted without it.
The password is made of URL-safe characters only (letters, digits, ``-``,
``_``), so it needs no quoting in a URL, redis.conf or a shell.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from devenv.errors import DevenvError
from devenv.files import write_new
from devenv.project.layout import Layout

FILE_NAME = "password"
_BYTES = 24  # 32 characters of URL-safe base64
_VALID = re.compile(r"[A-Za-z0-9_-]{16,256}")


def password_file(layout: Layout) -> Path:
    return layout.base / FILE_NAME


def project_password(layout: Layout) -> str:
    """The project's password, made (and kept) on first call.

    Raises DevenvError when the file exists but cannot be used (not a file,
    not devenv's format, unreadable) or cannot be written.
    """
    found = read_password(layout)
    if found is not None:
        return found
    return _create(password_file(layout))


def read_password(layout: Layout) -> str | None:
    """The project's password, or None when it was not made yet (nothing is created)."""
    return _read(password_file(layout))


def _read(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise DevenvError(
            f"cannot read the project's password {path}: {err.strerror}. It must be a file "
            "of yours: remove it and devenv makes a new one at the next `devenv up`."
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DevenvError(f"{path} is not a file; remove it and devenv makes a new password")
        if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.geteuid():
            os.fchmod(fd, 0o600)  # loosened by hand or by a copy: the owner's alone
        text = os.read(fd, 1024).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    if not _VALID.fullmatch(text):
        raise DevenvError(
            f"{path} does not hold a password devenv made (16 or more letters, digits, - or _). "
            "Remove it: devenv makes a new one at the next `devenv up` and gives it to the "
            "servers."
        )
    return text


def _create(path: Path) -> str:
    import secrets

    value = secrets.token_urlsafe(_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_new(path, value + "\n", fsync=True)  # a devenv that made one first wins
    except OSError as err:
        raise DevenvError(
            f"cannot write the project's password {path}: {err.strerror or err}"
        ) from None
    found = _read(path)
    if found is None:
        raise DevenvError(f"the project's password {path} vanished while it was made")
    return found


def mask_url(url: str, mask: str = "***") -> str:
    """``url`` with its password replaced (``postgresql://app:***@127.0.0.1:5432/app``), for
    showing a URL on a screen or in a log; one without a password is returned as it is."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", rf"\g<1>{mask}@", url)
