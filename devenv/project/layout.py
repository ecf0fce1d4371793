"""Where a project's local state lives.

Everything is under the project's ``.devenv/`` (git-ignored): service data in
``state/<service>/``, logs in ``logs/``, snapshots in ``snapshots/``, remembered
ports and the running stack in small JSON files. Unix sockets are the one
exception: their paths are limited to ~104 bytes (macOS) and a project can be
deep, so they live in a short per-project runtime folder
(``$XDG_RUNTIME_DIR/devenv-<hash>`` or ``/tmp/devenv-<hash>``), and
``.devenv/run`` links to it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError
from devenv.files import runtime_dir

SOCKET_PATH_LIMIT = 100  # bytes; macOS allows 104 including the final NUL


def _runtime_base() -> Path:
    xdg = runtime_dir()
    return xdg if xdg is not None and len(str(xdg)) <= 40 else Path("/tmp")


@dataclass(frozen=True)
class Layout:
    """The paths of one project's local state; creating them is ``ensure()``'s job."""

    root: Path

    @property
    def base(self) -> Path:
        return self.root / ".devenv"

    @property
    def state(self) -> Path:
        return self.base / "state"

    def data_dir(self, service: str) -> Path:
        return self.state / service

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def snapshots(self) -> Path:
        return self.base / "snapshots"

    @property
    def ports_file(self) -> Path:
        return self.base / "ports.json"

    @property
    def stack_file(self) -> Path:
        """The running devenv's own pid and create time (devenv.project.runlock)."""
        return self.base / "stack.json"

    @property
    def lock_file(self) -> Path:
        """Held (flock) by the foreground ``devenv up`` while it runs (devenv.project.runlock)."""
        return self.base / "devenv.lock"

    @property
    def ops_lock(self) -> Path:
        """Serialises starting and stopping between devenv commands (runlock.operation_lock)."""
        return self.base / "ops.lock"

    @property
    def sync_lock(self) -> Path:
        """One dependency sync at a time (devenv.environment.sync)."""
        return self.base / "sync.lock"

    @property
    def run_link(self) -> Path:
        return self.base / "run"

    @property
    def runtime(self) -> Path:
        """The short folder for this project's sockets (mode 0700)."""
        import hashlib  # ~2 ms, and only the runtime folder's name needs it

        digest = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
        return _runtime_base() / f"devenv-{digest}"

    def socket(self, name: str) -> Path:
        return self.runtime / name

    def ensure(self, runtime_owner: int | None = None) -> None:
        """Create the folders, private to their owner; the runtime folder is made 0700 and owned by
        ``runtime_owner`` (the account the services run as).

        A runtime folder that exists but is a symlink, or belongs to another
        user, is refused: its name is predictable, so someone else could have
        made it first.
        """
        owner = os.geteuid() if runtime_owner is None else runtime_owner
        # Nobody else reads the data, the logs or the snapshots; a service run as another
        # account (devenv as root) only needs to pass through .devenv to its own folder.
        passage = 0o700 if owner == os.geteuid() else 0o711
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, passage)
        for folder, mode in ((self.state, passage), (self.logs, 0o700), (self.snapshots, 0o700)):
            folder.mkdir(mode=mode, exist_ok=True)
            os.chmod(folder, mode)
        runtime = self.runtime
        try:
            runtime.mkdir(mode=0o700)
            if owner != os.geteuid():
                os.chown(runtime, owner, -1)
        except FileExistsError:
            st = runtime.lstat()
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                raise DevenvError(f"{runtime} is not a folder; remove it and try again") from None
            if st.st_uid not in (owner, os.geteuid()):
                raise DevenvError(
                    f"{runtime} belongs to another user (uid {st.st_uid}); devenv keeps this "
                    "project's sockets there. Remove it, or set XDG_RUNTIME_DIR to a folder "
                    "of your own."
                ) from None
            if st.st_uid != owner and os.geteuid() == 0:
                os.chown(runtime, owner, -1)
            os.chmod(runtime, 0o700)
        self._link_runtime()

    def _link_runtime(self) -> None:
        link = self.run_link
        if link.is_symlink() and os.readlink(link) == str(self.runtime):
            return
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            return  # a real folder someone made: leave it alone
        link.symlink_to(self.runtime)

    def remove_runtime_if_empty(self) -> None:
        """Remove the runtime folder once no socket is left in it (``ensure`` makes it again)."""
        import contextlib

        with contextlib.suppress(OSError):  # not empty, or gone already: both fine
            self.runtime.rmdir()

    def check_socket_path(self, name: str) -> Path:
        path = self.socket(name)
        if len(os.fsencode(path)) > SOCKET_PATH_LIMIT:
            raise DevenvError(
                f"the socket path {path} is longer than {SOCKET_PATH_LIMIT} bytes; "
                "set XDG_RUNTIME_DIR to a shorter folder"
            )
        return path
