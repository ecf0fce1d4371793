"""Per-project ports: chosen once, remembered in ``.devenv/ports.json``, reported when taken.

Two projects run side by side: when a service's default port is held by
someone else, the project gets another one and keeps it across runs. A port
set in devenv.toml is used as is; when it is taken, the error names the
process that holds it.

psutil is imported inside the functions that need it: the CLI must start fast.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError
from devenv.files import write_atomic
from devenv.project import startplan
from devenv.project.layout import Layout
from devenv.project.port_registry import PROCESSES_KEY, BlockRegistry

ANOTHER_USER = "another user's process"


class PortTaken(DevenvError):
    """A port set in devenv.toml is held by another process."""


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` can be listened on at ``host``.

    The bind test uses SO_REUSEADDR, as servers do, so a connection lingering
    in TIME_WAIT does not count as taken. BSD (macOS) lets a specific address
    be bound while the wildcard address listens; there a refused connect
    confirms that nobody listens.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    if sys.platform == "linux":
        return True
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.connect((host, port))
        except OSError:
            return True
        return False


@dataclass(frozen=True)
class Holder:
    """Who listens on a port: ``pid`` None when the process is not ours to see."""

    pid: int | None
    name: str

    def __str__(self) -> str:
        return self.name if self.pid is None else f"{self.name} (pid {self.pid})"


def port_holder(port: int) -> Holder | None:
    """The process listening on ``port`` (any local address), or None when nobody listens."""
    import psutil

    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:  # macOS, not root: look at the processes we may see
        return _holder_from_processes(port)
    pids = [
        conn.pid
        for conn in connections
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
    ]
    if not pids:
        return None
    for pid in sorted(pids, key=lambda pid: pid is None):
        holder = _describe(pid)
        if holder is not None:
            return holder
    return Holder(None, ANOTHER_USER)


def _describe(pid: int | None) -> Holder | None:
    """A holder for ``pid``; None when that process has exited meanwhile."""
    import psutil

    if pid is None:
        return Holder(None, ANOTHER_USER)
    try:
        return Holder(pid, psutil.Process(pid).name())
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return Holder(pid, ANOTHER_USER)


def _holder_from_processes(port: int) -> Holder | None:
    import psutil

    for proc in psutil.process_iter():
        try:
            connections = proc.net_connections(kind="inet")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                holder = _describe(proc.pid)
                if holder is not None:
                    return holder
    return None if is_free(port) else Holder(None, ANOTHER_USER)


def _taken_by(port: int) -> str:
    holder = port_holder(port)
    return "another process" if holder is None else str(holder)


def os_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Allocation:
    """The port a service gets, and a sentence for people when it is not the usual one."""

    port: int
    notice: str | None = None


class PortBook:
    """The ports a project's services use, remembered in a small JSON file (``ports.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def _shown(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    def _read(self) -> dict[str, int]:
        """The remembered ports; an unreadable or damaged file is an empty memory."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            name: port
            for name, port in data.items()
            if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536
        }

    def _write(self, ports: dict[str, int]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(
            self.path, json.dumps(dict(sorted(ports.items())), indent=2) + "\n", mode=0o644
        )

    def remembered(self, name: str) -> int | None:
        return self._read().get(name)

    def remember(self, name: str, port: int) -> None:
        ports = self._read()
        if ports.get(name) != port:
            ports[name] = port
            self._write(ports)

    def forget(self, name: str) -> None:
        ports = self._read()
        if name in ports:
            del ports[name]
            self._write(ports)

    def allocate(self, name: str, *, configured: int | None, default: int | None) -> Allocation:
        """The port for service ``name``.

        ``configured`` (set in devenv.toml) is used as is, or ``PortTaken`` is
        raised. Otherwise the remembered port if free, else ``default`` if
        free, else one from the OS. The result is always remembered (so the
        remembered port is the one the service last got, where a running
        server of ours is found), and ``notice`` says so when a port we wanted
        was taken.
        """
        if configured is not None:
            if not is_free(configured) and not startplan.holds(name, configured):
                raise PortTaken(
                    f"port {configured} for {name} (services.{name}.port in devenv.toml) is "
                    f"taken by {_taken_by(configured)}; stop it or choose another port"
                )
            self.remember(name, configured)
            return Allocation(configured)
        wanted = [port for port in (self.remembered(name), default) if port is not None]
        taken: int | None = None
        port = None
        for candidate in dict.fromkeys(wanted):
            if is_free(candidate) or startplan.holds(name, candidate):
                port = candidate
                break
            if taken is None:
                taken = candidate
        if port is None:
            port = os_port()
        self.remember(name, port)
        notice = None
        if taken is not None:
            notice = (
                f"port {taken} is taken by {_taken_by(taken)}; {name} uses {port} "
                f"(remembered in {self._shown})"
            )
        return Allocation(port, notice)


# Ports browsers refuse to open (ERR_UNSAFE_PORT), from Chromium's and Firefox's lists:
# a web process there could not be reached from the browser. 6000 (X11) is among them.
BROWSER_BLOCKED = frozenset(
    {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
     101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
     179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
     587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
     5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)  # fmt: skip


BLOCKS = 60  # candidate bases: default, default + 1000, ... (those past 65535 drop out)


def running(ports_file: str) -> bool:
    """Whether a devenv runs the project of ``ports_file`` now (holds its foreground lock)."""
    import fcntl

    try:
        fd = os.open(Layout(Path(ports_file).parent.parent).lock_file, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our shared lock at once
    return False


def allocate_block(
    book: PortBook,
    offsets: list[int],
    default: int = 5000,
    registry: BlockRegistry | None = None,
) -> Allocation:
    """A base port such that ``base + offset`` is free for every offset (a Procfile's PORTs).

    honcho gives every project the same base, 5000, so two projects side by
    side would fight over it. A project keeps its remembered block, so
    bookmarks keep working: while that block is busy, this run takes another
    and says so, and the next run returns to it. A new block is ``default``
    or the next thousand (7000, 8000, ...) that is free and not claimed by
    another project of this user (``registry``, under a lock: two projects
    started in the same second get two blocks, and a copied project gets its
    own). When every block is claimed, one whose project is not running is
    lent. No port a browser refuses to open is handed out (6000 is X11's).
    """

    def allowed(base: int) -> bool:
        return all(0 < base + o < 65536 and base + o not in BROWSER_BLOCKED for o in offsets)

    def all_free(base: int) -> bool:
        return all(is_free(base + offset) for offset in offsets)

    def busy_reason(base: int) -> str:
        busy = next((base + o for o in offsets if not is_free(base + o)), base)
        return f"port {busy} is taken by {_taken_by(busy)}"

    me = str(book.path.absolute().resolve())
    with (registry or BlockRegistry()).claims() as claims:
        others = {base: owner for base, owner in (claims or {}).items() if owner != me}

        def first_new(exclude: int | None) -> int:
            candidates = [
                base
                for base in (default + 1000 * k for k in range(BLOCKS))
                if base != exclude and allowed(base)
            ]
            for base in candidates:
                if base not in others and all_free(base):
                    return base
            # Every block is claimed: lend one whose project is not running now (it gets
            # another block when it starts again, and says so).
            for base in candidates:
                if base in others and not running(others[base]) and all_free(base):
                    return base
            raise PortTaken(
                f"no free block of ports for the processes between {default} and "
                f"{candidates[-1] if candidates else default}; stop what holds them, or set "
                "PORT in .env"
            )

        remembered = book.remembered(PROCESSES_KEY)
        if remembered and allowed(remembered) and remembered not in others:
            if claims is not None:
                claims[remembered] = me
            if all_free(remembered):
                return Allocation(remembered)
            base = first_new(exclude=remembered)
            return Allocation(
                base,
                f"{busy_reason(remembered)}; the processes' PORT starts at {base} this time, "
                f"and at {remembered} again once it is free",
            )
        base = first_new(exclude=None)
        book.remember(PROCESSES_KEY, base)
        if claims is not None:
            claims[base] = me
        if base in others:
            lender = Path(others[base]).parent.parent
            return Allocation(
                base,
                f"every block of process ports is claimed; the processes' PORT starts at "
                f"{base}, lent by the project in {lender} (not running now)",
            )
        first = remembered or default
        if base == first:
            return Allocation(base)
        if not allowed(first):
            blocked = next(first + o for o in offsets if first + o in BROWSER_BLOCKED)
            why = f"port {blocked} is one browsers refuse to open"
        elif first in others:
            holder = Path(others[first]).parent.parent
            why = f"the ports at {first} belong to the project in {holder}"
        else:
            why = busy_reason(first)
        return Allocation(
            base, f"{why}; the processes' PORT starts at {base} (remembered in {book._shown})"
        )
