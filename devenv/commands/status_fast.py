"""``devenv status`` from the last full status's record, before devenv's own code is loaded.

Loading devenv, reading the config and finding the servers' binaries takes ~100 ms,
and ``devenv status`` is typed by hand and run in loops. So the full status records the
parts of its report that do not depend on what runs, with the stamps of every input they
came from (devenv.commands.status_record), and ``answer()`` prints the report again from
that record when every stamp, the working folder, the project root, the uid and the
environment are as recorded, refreshing only the live parts: each service's pid (its pid
record, checked through /proc) and readiness (a TCP connect to its port, as the quick
status does), the processes as the running devenv recorded them, and whether a running
server runs the binary found (``[prod]``). It prints with devenv.commands.status_view,
the renderer the full path uses.

On any doubt (no record, or one this account did not write alone; a stamp changed; a pid
record the full path would remove; a server that does not accept connections; a running
port ``ports.json`` does not hold; no /proc; any exception) ``answer()`` prints nothing
and returns False: the full status runs, which reports every error itself.

Only ``os``, ``sys``, ``json`` and ``math`` are imported (``_socket`` for the connect).
"""

from __future__ import annotations

import json
import os
import sys

from devenv.project import procfs
from devenv.project.ownfiles import read_own_json
from devenv.project.stamps import VOLATILE, environ_digest, stamp

FORMAT = 1
RECORD = "status.json"
FORCE_FULL = "DEVENV_STATUS_FULL"  # set (non-empty): always the full status (tests, benchmarks)
_STATE = os.path.join(".devenv", "state")


class _Doubt(Exception):
    """The record cannot answer this: the full status must."""


def environment_digest() -> str:
    """The environment's digest (devenv.project.stamps), FORCE_FULL left out too."""
    return environ_digest(leave_out=VOLATILE | {FORCE_FULL})


def runs_binary(pid: int, server: str) -> bool:
    """Whether process ``pid`` runs the file ``server`` (installations.running_version)."""
    try:
        running = os.stat(f"/proc/{pid}/exe")
        binary = os.stat(server)
    except OSError:
        return False
    return (running.st_dev, running.st_ino) == (binary.st_dev, binary.st_ino)


def answer(as_json: bool) -> int | None:
    """Print ``devenv status`` (``--json``) for the project around the working folder from
    the record, and return its exit code; None (nothing printed) when the full status must
    run."""
    if os.environ.get(FORCE_FULL):
        return None
    from devenv.project.startplan import NOT_NOW

    try:
        report = fast_report()
    except NOT_NOW:  # a record is only a shortcut: the full status decides and reports
        return None
    if report is None:
        return None
    from devenv.commands import status_view

    text = status_view.render_json(report) if as_json else status_view.render_text(report)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `devenv status | head`, as devenv.cli.main answers it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return 0


def fast_report() -> dict | None:
    """The report (devenv.commands.status_view) from the record; None when it cannot be used."""
    if not procfs.HAS_PROC:
        return None
    cwd = os.path.realpath(os.getcwd())
    from devenv.project.startplan import project_root

    root = project_root(cwd)
    if root is None:
        return None
    record = read_own_json(os.path.join(root, _STATE, RECORD))
    if record is None:
        return None
    from devenv import __version__

    try:
        if (
            record["format"] != FORMAT
            or record["devenv"] != __version__
            or record["cwd"] != cwd
            or record["root"] != root
            or record["euid"] != os.geteuid()
        ):
            return None
        if any(stamp(path) != want for path, want in record["stamps"].items()):
            return None
        if record["env"] != environment_digest():
            return None
        return _report(record, root)
    except (_Doubt, KeyError, TypeError, AttributeError, ValueError):
        return None


def _report(record: dict, root: str) -> dict:
    services = {}
    pids = {}
    for name, known in record["services"].items():
        pid = _running(known["pid_file"], root)
        if pid is None and any(_may_adopt(kind, path) for kind, path in known["adopts"]):
            raise _Doubt  # the full status may find a server running without a pid record
        pids[name] = pid
        port = known["port"]
        if pid is not None:
            running_port = _running_port(known["data_dir"])
            if running_port is not None:
                if running_port != known["remembered"]:
                    raise _Doubt  # the full status remembers it in ports.json
                port = running_port
            if not (port and _listening(port)):
                raise _Doubt  # the full status asks the server (its client library)
        services[name] = {
            "state": "stopped" if pid is None else "ready",
            "pid": pid,
            "port": port,
            "version": known["version"],
            "data_dir": known["data_dir"],
            "log": known["log"],
        }
    for name, variant in record["parity_variants"].items():
        pid = pids.get(name)
        if pid is None:
            wanted = "stopped"
        elif runs_binary(pid, record["services"][name]["server"]):
            wanted = "running"
        else:
            raise _Doubt  # the full status asks that server its version
        if wanted != variant:
            raise _Doubt
    devenv_pid = _alive_pid(record["stack_file"])
    return {
        "services": services,
        "processes": process_status(_processes(record["processes_file"]), devenv_pid),
        "deps": record["deps"],
        "parity": record["parity"],
        "devenv": {"pid": devenv_pid},
        "lines": record["lines"],
    }


# ---------------------------------------------------------------- pids (as pidrecord reads them)


def _pid_record(path: str) -> tuple[int, float] | None:
    """pidrecord.read: (pid, create time), None when absent or unreadable."""
    try:
        with open(path, encoding="locale") as f:
            data = json.loads(f.read())
        return int(data["pid"]), float(data["create_time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int, create_time: float) -> bool:
    """PidRecord.alive through /proc: the same process (create time), not a zombie."""
    now = procfs.started(pid)
    return now is not None and abs(now[0] - create_time) < 0.01 and now[2] != "Z"


def _alive_pid(path: str) -> int | None:
    """runlock.foreground_pid: the pid on record when its process runs."""
    found = _pid_record(path)
    return found[0] if found is not None and _alive(*found) else None


def _running(pid_file: str, root: str) -> int | None:
    """Service.find_running without its side effect: a stale record (the full status
    removes it) is a doubt."""
    found = _pid_record(pid_file)
    if found is None:
        return None
    if _alive(*found) and procfs.works_under(found[0], os.path.realpath(root)):
        return found[0]
    raise _Doubt


def _may_adopt(kind: str, path: str) -> bool:
    """Whether the full status could adopt a server through ``path`` (see status_record):
    a postmaster.pid whose first line names a live process, a socket that accepts."""
    if kind == "postmaster":
        try:
            with open(path, encoding="locale") as f:
                pid = int(f.readline().strip())
        except (OSError, ValueError):
            return False
        return os.path.exists(f"/proc/{pid}")
    if kind == "socket":
        if not os.path.exists(path):
            return False
        import _socket
        import errno

        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(0.5)
            return sock.connect_ex(path) != errno.ECONNREFUSED
        finally:
            sock.close()
    return True


def _running_port(data_dir: str) -> int | None:
    """Stack._running_port: postmaster.pid's 4th line, else redis.conf's port line."""
    try:
        with open(os.path.join(data_dir, "postmaster.pid"), encoding="locale") as f:
            return int(f.read().splitlines()[3])
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(os.path.join(data_dir, "redis.conf"), encoding="locale") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.split("\n"):  # re.search(r"^port (\d+)$", text, re.MULTILINE)
        if line.startswith("port ") and line[5:].isdecimal():
            return int(line[5:])
    return None


def _listening(port: int, timeout: float = 0.5) -> bool:
    """Service.listening: a TCP connection to 127.0.0.1:port is accepted."""
    import _socket

    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        return sock.connect_ex(("127.0.0.1", port)) == 0
    except OSError:
        return False
    finally:
        sock.close()


# ---------------------------------------------------------------- processes


def _processes(path: str) -> dict[str, dict]:
    """procstate.read: the recorded processes, damaged values read as None."""
    import math

    try:
        with open(path, encoding="locale") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    result = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            continue
        entry = dict(entry)
        for key in ("pid", "pgid"):
            value = entry.get(key)
            if key in entry and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0
            ):
                entry[key] = None
        created = entry.get("create_time")
        if created is not None and not (
            isinstance(created, int | float)
            and not isinstance(created, bool)
            and math.isfinite(created)
        ):
            entry["create_time"] = None
        result[name] = entry
    return result


_STATES = frozenset(
    {"waiting", "starting", "running", "ready", "backoff", "exited", "completed", "crashed"}
    | {"stopped", "failed", "unknown"}
)
_SAMPLED = ("cpu_percent", "rss", "ports", "uptime")


def process_status(recorded: dict[str, dict], devenv_pid: int | None) -> dict[str, dict]:
    """commands.services.process_status with Status.of_process_record(...).as_json() spelled
    out (devenv.state is a dataclass module); a test holds the two equal."""
    import time

    from devenv.commands.status_view import number

    now = time.time()
    result = {}
    for name, info in recorded.items():
        if not isinstance(info, dict):
            continue
        state = info.get("state")
        state = state if isinstance(state, str) and state in _STATES else "unknown"
        pid = info.get("pid")
        writer = info.get("recorded_by")
        if devenv_pid is None or (isinstance(writer, int) and writer != devenv_pid):
            state, pid = "stopped", None
        ports = info.get("ports")
        entry = {
            "state": state,
            "pid": pid,
            "pgid": info.get("pgid"),
            "restarts": info.get("restarts"),
            "started_at": info.get("started_at"),
            "exit_code": info.get("exit_code"),
            "kind": info.get("kind"),
            "port": info.get("port"),
        }
        sampled = {
            "cpu_percent": info.get("cpu_percent"),
            "rss": info.get("rss"),
            "ports": list(ports) if isinstance(ports, list) else None,
            "uptime": info.get("uptime"),
        }
        for key in _SAMPLED:
            if sampled[key] is not None:
                entry[key] = sampled[key]
        started = number(info.get("started_at"))
        uptime = round(now - started, 1) if pid and started is not None else None
        result[name] = {**entry, "uptime": uptime}
    return result
