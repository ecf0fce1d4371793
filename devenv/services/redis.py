"""Redis, run from the project's ``.devenv/state/redis`` with its own rendered redis.conf.

The server listens on 127.0.0.1:PORT and on a unix socket in the project's
short runtime folder; devenv itself only talks to the socket. Both want the
project's password (``requirepass``, from devenv.services.password): REDIS_URL
carries it, ``REDISCLI_AUTH`` hands it to redis-cli without putting it on a
command line, and devenv's own probes send it with AUTH. Data survives
because the append-only file is on (``appendfsync no`` in dev, ``always`` when
the service is ``prod_like``), so a kill -9 loses at most the last second.

devenv talks to the server with devenv.services.resp (PING, INFO, SHUTDOWN),
not redis-py: redis-py takes ~45 ms to import and its default client retries
with backoff, which turns a SHUTDOWN (whose normal answer is a closed
connection) into 3.4 s instead of 3 ms.
"""

from __future__ import annotations

import os
import re
import signal
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from devenv.config import Scalar
from devenv.errors import ConfigError, DevenvError
from devenv.files import write_atomic
from devenv.project import pidrecord
from devenv.project.privileges import blocking_folder, give_to, is_root
from devenv.resources import render_template, templates_dir
from devenv.services import resp
from devenv.services.base import Service
from devenv.services.password import project_password

SOCKET_NAME = "redis.sock"
CONF_NAME = "redis.conf"
DEFAULT_TEMPLATE = "redis/redis.conf"
CLIENT_TIMEOUT = 0.5  # seconds; a local socket answers in well under a millisecond

# Lines devenv writes itself; a setting for them would break supervision or the socket.
_OWNED = {
    "port": "set services.{name}.port instead",
    "unixsocket": "devenv keeps the socket in the project's runtime folder",
    "dir": "the data lives in .devenv/state/{name}",
    "daemonize": "devenv supervises the server in the foreground",
    "include": "put the settings themselves under services.{name}.settings",
    "bind": "devenv listens on 127.0.0.1 and its socket only, so no other machine gets in",
    "unixsocketperm": "the socket is the owner's alone (0700)",
    "requirepass": "it is the project's generated password, kept in .devenv/password",
}
_REQUIREPASS = re.compile(r"^\s*requirepass\s+(.*?)\s*$", re.MULTILINE | re.IGNORECASE)


class RedisService(Service):
    """This project's redis-server."""

    # -- paths -------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self.ctx.layout.socket(SOCKET_NAME)

    @property
    def conf_file(self) -> Path:
        return self.data_dir / CONF_NAME

    # -- Service -----------------------------------------------------------

    def prepare(self) -> None:
        user = self.ctx.user
        socket_path = self.ctx.layout.check_socket_path(SOCKET_NAME)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        blocked = blocking_folder(self.data_dir, user)
        if blocked is not None:
            mode = stat.S_IMODE(blocked.stat().st_mode)
            raise DevenvError(
                f"{self.name}: Redis runs as '{user.name}', who cannot enter {blocked} "
                f"(mode {mode:04o}), so it cannot reach its data at {self.data_dir}. Put the "
                f"project in a folder '{user.name}' can enter, allow it with "
                f"`chmod o+x {blocked}`, or run devenv as a normal user."
            )
        text = self.render_config(socket_path)
        try:
            current = self.conf_file.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            self._write_conf(text)
        give_to(self.data_dir, user)
        os.chmod(self.data_dir, 0o700)  # the data is the server account's alone, once it owns it

    def render_config(self, socket_path: Path | None = None) -> str:
        """redis.conf for this project, from the recipe's template and the config's settings.

        It always holds ``requirepass`` with the project's password: a template that does
        not place ``{password}`` gets the line at its end.
        """
        config = self.ctx.config
        name = self.ctx.recipe.config_template or DEFAULT_TEMPLATE
        template = templates_dir() / name
        password = redis_quote(self.password)
        values = {
            "project": self.ctx.project,
            "port": self.port,
            "socket": redis_quote(str(socket_path or self.socket_path)),
            "data_dir": redis_quote(str(self.data_dir)),
            "appendfsync": "always" if config.prod_like else "no",
            "settings": _settings_lines(self.name, config.settings),
            "password": password,
        }
        text = render_template(template, values)
        if "{password}" not in template.read_text(encoding="utf-8"):
            text = text.rstrip("\n") + f"\nrequirepass {password}\n"
        return text

    def _write_conf(self, text: str) -> None:
        """Replace redis.conf at once, 0600 from the start: it holds the password."""
        user = self.ctx.user
        theirs = is_root() and user.uid != os.geteuid()  # the server reads it
        write_atomic(self.conf_file, text, owner=(user.uid, user.gid) if theirs else None)

    @property
    def password(self) -> str:
        """The project's password (made on first use), which REDIS_URL carries."""
        return project_password(self.ctx.layout)

    def _server_password(self) -> str | None:
        """The password the running server wants: the one in the redis.conf it was started
        with (or given by ``provision``). None for a redis.conf without one: a server
        started before devenv gave Redis a password, which needs none."""
        try:
            found = _REQUIREPASS.findall(self.conf_file.read_text(encoding="utf-8"))
        except OSError:
            return None
        return redis_unquote(found[-1]) if found else None

    def argv(self) -> list[str]:
        return [str(self.binary("server")), str(self.conf_file)]

    def early_start_files(self) -> tuple[list[Path], list[Path]]:
        return [self.conf_file], [self.socket_path]

    def warm_finish(self) -> dict | None:
        # PING after AUTH with the project's password: provision() found the server wants that
        # one (redis.conf and .devenv/password are stamped by the record).
        if self._server_password() != self.password:
            return None
        ready = {"kind": "resp", "socket": str(self.socket_path)}
        return {"ready": ready, "checks": [], "reads": []}

    def is_ready(self) -> bool:
        return self._command("PING") == "PONG"

    def info(self, section: str = "server", timeout: float = CLIENT_TIMEOUT) -> dict[str, str]:
        """``INFO section`` of the running server, over its socket, with the password.

        Raises OSError (no server there), resp.RespError or resp.ConnectionClosed.
        """
        return resp.info(
            self.socket_path, section, timeout=timeout, password=self._server_password()
        )

    def _command(self, *args: str, timeout: float = CLIENT_TIMEOUT) -> object:
        return resp.command(
            self.socket_path, *args, timeout=timeout, password=self._server_password()
        )

    def provision(self) -> None:
        """Give the running server the project's password when it has another, or none (it
        was started before devenv gave Redis one, or .devenv/password was made anew), and
        write it into redis.conf; the data stays as it is."""
        wanted = self.password
        if self._server_password() == wanted:
            return
        self._command("CONFIG", "SET", "requirepass", wanted)
        self._write_conf(self.render_config())

    def request_stop(self, pid: int) -> None:
        """SHUTDOWN over the socket (the AOF is fsynced); SIGTERM when the socket is silent."""
        try:
            served_by = int(self.info()["process_id"])
        except (resp.RespError, resp.ConnectionClosed, OSError, KeyError, ValueError):
            served_by = None
        if served_by != pid:
            os.kill(pid, signal.SIGTERM)
            return
        try:
            self._command("SHUTDOWN", timeout=5.0)
        except (resp.ConnectionClosed, ConnectionResetError):
            return  # the server closed the connection: the normal outcome
        except (resp.RespError, OSError):
            os.kill(pid, signal.SIGTERM)  # it refused (e.g. a failing save): insist

    def find_running(self) -> int | None:
        pid = super().find_running()
        if pid is not None:
            return pid
        return self._adopt()

    def clean_stale(self) -> None:
        """Remove a dead server's socket; stop an orphan of ours that lost its socket."""
        self._stop_orphans()
        self.remove_stale_socket(self.socket_path)

    def env(self) -> dict[str, str]:
        """REDIS_URL with the password; REDISCLI_AUTH, which redis-cli reads (so that neither
        `devenv redis-cli` nor a plain redis-cli shows the password in its command line)."""
        password = self.password
        return {
            "REDIS_URL": f"redis://:{quote(password, safe='')}@127.0.0.1:{self.port}/0",
            "REDIS_SOCKET": str(self.socket_path),
            "REDISCLI_AUTH": password,
        }

    def client_argv(self, args: Sequence[str]) -> list[str]:
        """redis-cli on the socket; it needs ``env()``'s REDISCLI_AUTH in its environment."""
        return [str(self.binary("client")), "-s", str(self.socket_path), *args]

    # -- helpers -----------------------------------------------------------

    def _adopt(self) -> int | None:
        """A server still running with our redis.conf after its pid record was lost.

        The socket answers, and INFO names our config file: record its pid
        (with its create time) so that it is adopted and stopped like one we
        started, never doubled.
        """
        if not self.socket_path.exists():
            return None
        try:
            info = self.info()
        except (resp.RespError, resp.ConnectionClosed, OSError):
            return None
        try:
            pid = int(info["process_id"])
        except (KeyError, ValueError, TypeError):
            return None
        if not _same_file(str(info.get("config_file", "")), self.conf_file):
            return None
        try:
            record = pidrecord.PidRecord.of(pid)
        except Exception:  # gone in between, or not ours to see
            return None
        pidrecord.write(self.pid_file, record)
        return pid

    def _stop_orphans(self) -> None:
        """Stop a redis-server working in our data folder that nobody can reach any more.

        That happens when the runtime folder (and its socket) was removed while
        the server ran: it still holds the port and the append-only file. It
        is asked to stop with SIGTERM, which fsyncs the AOF like SHUTDOWN.
        """
        from devenv.project.ports import is_free

        if is_free(self.port):
            return  # an orphan would still hold our port: nothing to look for
        import psutil

        from devenv.services.base import wait_gone

        data_dir = os.path.realpath(self.data_dir)
        for proc in psutil.process_iter(["name"]):
            if proc.info.get("name") != "redis-server":
                continue
            try:
                if os.path.realpath(proc.cwd()) != data_dir:
                    continue
                proc.send_signal(signal.SIGTERM)
            except psutil.Error:
                continue
            if not wait_gone(proc.pid, 10.0):
                self._kill(proc.pid)


def _settings_lines(service: str, settings: Mapping[str, Scalar]) -> str:
    lines = []
    for key, value in settings.items():
        where = f"services.{service}.settings.{key}"
        if not key or any(ch.isspace() for ch in key) or '"' in key:
            raise ConfigError("a Redis setting name is one word, like maxmemory", key=where)
        if key.lower() in _OWNED:
            reason = _OWNED[key.lower()].format(name=service)
            raise ConfigError(f"devenv sets '{key}' itself ({reason})", key=where)
        text = _redis_value(value)
        if "\n" in text or "\r" in text:
            raise ConfigError(
                "a value must be on one line (it is written into redis.conf)", key=where
            )
        lines.append(f"{key} {text}")
    return "\n".join(lines)


def _redis_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return '""' if text == "" else text


def _same_file(a: str, b: Path) -> bool:
    if not a:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def redis_quote(value: str) -> str:
    """``value`` as one redis.conf argument: double-quoted, with \\ and \" escaped (a project
    path may hold spaces and quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def redis_unquote(text: str) -> str:
    """The value of one redis.conf argument as ``redis_quote`` (or a bare word) wrote it."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text
