"""A service from a project's own recipe, without Python: memcached, mailpit, minio, ...

The recipe's ``[run] command`` is the server's argv, its ``[env]`` the
variables processes get, ``[readiness]`` says when it is ready (``tcp``: a
connect to 127.0.0.1:PORT succeeds; ``command``: a command exits 0) and
``stop_signal`` how to ask it to stop. Every template may use the
placeholders ``{port}``, ``{socket}``, ``{data_dir}``, ``{bindir}`` and the
recipe's binary roles (``{server}``, ...).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from devenv.errors import ConfigError
from devenv.project import pidrecord
from devenv.project.privileges import give_to
from devenv.services.base import Service, ServiceContext

CONNECT_TIMEOUT = 0.5  # seconds, for one tcp probe
COMMAND_TIMEOUT = 5.0  # seconds, for one readiness command
KINDS = ("tcp", "command")


class RecipeService(Service):
    """A server run from its recipe's ``[run]`` table."""

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        recipe = ctx.recipe
        self.kind = str(recipe.readiness.get("kind", "tcp"))
        if self.kind not in KINDS:
            raise ConfigError(
                f"readiness kind '{self.kind}' needs a driver; a recipe without one uses "
                + " or ".join(f"'{k}'" for k in KINDS),
                path=recipe.source,
                key="readiness.kind",
            )
        if not recipe.run_command:
            raise ConfigError(
                'missing; a recipe without a driver needs [run] with command = ["{server}", ...]',
                path=recipe.source,
                key="run.command",
            )
        try:
            self.stop_signal = signal.Signals[recipe.stop_signal]
        except KeyError:
            raise ConfigError(
                f"unknown signal '{recipe.stop_signal}'; expected a name like SIGTERM or SIGINT",
                path=recipe.source,
                key="run.stop_signal",
            ) from None

    # -- paths -------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self.ctx.layout.socket(f"{self.name}.sock")

    # -- placeholders --------------------------------------------------------

    def fill(self, template: str, key: str) -> str:
        """``template`` with its placeholders filled; ``key`` names it in errors."""
        values = _Placeholders(self)
        try:
            return template.format_map(values)
        except (KeyError, ValueError, IndexError) as err:
            raise ConfigError(
                f"cannot fill {template!r}: {err}", path=self.ctx.recipe.source, key=key
            ) from None

    # -- Service -------------------------------------------------------------

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        give_to(self.data_dir, self.ctx.user)

    def argv(self) -> list[str]:
        return [
            self.fill(part, f"run.command[{index}]")
            for index, part in enumerate(self.ctx.recipe.run_command)
        ]

    def is_ready(self) -> bool:
        if self.kind == "tcp":
            with socket.create_connection(("127.0.0.1", self.port), timeout=CONNECT_TIMEOUT):
                pass
            return self._listener_is_ours()
        command = self.ctx.recipe.readiness.get("command", ())
        argv = [self.fill(part, f"readiness.command[{i}]") for i, part in enumerate(command)]
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    def _listener_is_ours(self) -> bool:
        """Whether the server we run (or a child of it) is what listens on the port.

        A connect alone would take another program on a taken port for our
        server, ready; ours would then exit with "address in use" unnoticed.
        When psutil may not look, the connect is taken at its word.
        """
        import psutil

        record = pidrecord.read(self.pid_file)
        if record is None:
            return True
        try:
            root = psutil.Process(record.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return False
        except psutil.Error:
            return True
        for proc in procs:
            try:
                conns = proc.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                continue
            except psutil.Error:
                return True
            for conn in conns:
                if (
                    conn.status == psutil.CONN_LISTEN
                    and conn.laddr
                    and conn.laddr.port == self.port
                ):
                    return True
        return False

    def request_stop(self, pid: int) -> None:
        os.kill(pid, self.stop_signal)

    def clean_stale(self) -> None:
        """Remove a socket the dead server left in the runtime folder."""
        self.remove_stale_socket(self.socket_path)

    def env(self) -> dict[str, str]:
        env = self.ctx.recipe.env
        return {name: self.fill(value, f"env.{name}") for name, value in env.items()}


class _Placeholders(dict):
    """Placeholder values, computed when a template uses them (``{socket}`` checks its length)."""

    def __init__(self, service: RecipeService) -> None:
        super().__init__()
        self.service = service

    def __missing__(self, key: str) -> str:
        service = self.service
        if key == "port":
            value = str(service.port)
        elif key == "socket":
            value = str(service.ctx.layout.check_socket_path(f"{service.name}.sock"))
        elif key == "data_dir":
            value = str(service.data_dir)
        elif key == "bindir":
            value = str(service.ctx.installation.bindir)
        elif key in service.ctx.recipe.binaries:
            value = str(service.binary(key))
        else:
            raise KeyError(f"unknown placeholder {{{key}}}")
        self[key] = value
        return value
