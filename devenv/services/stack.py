"""A project's services as one unit: start them (in parallel), provision, run hooks, stop.

This is the core the CLI and the TUI drive. It never prints: everything it
does is an event passed to ``emit``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from devenv.config import Config, ServiceConfig
from devenv.errors import DevenvError, UsageError, did_you_mean
from devenv.events import (
    Emit,
    HookFinished,
    HookOutput,
    HookStarted,
    Notice,
    ServiceFailed,
    ignore,
)
from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.project.ports import PortBook
from devenv.services.base import Service, ServiceContext, ServiceStartError
from devenv.services.installations import find_installation
from devenv.services.recipes import recipe_for
from devenv.services.registry import service_class
from devenv.state import State, Status

T = TypeVar("T")


class HookFailed(DevenvError):
    pass


class ServicesFailed(DevenvError):
    """Several services failed in one start: ``errors`` holds each one's, in config order;
    the message is theirs, one after the other, and the exit code the first one's."""

    def __init__(self, errors: list[DevenvError]) -> None:
        self.errors = errors
        self.exit_code = errors[0].exit_code
        super().__init__("\n".join(str(err) for err in errors))


class Stack:
    """The services of one project, built from its config."""

    def __init__(self, config: Config, emit: Emit = ignore) -> None:
        self.config = config
        self.emit = emit
        self.layout = Layout(config.root)
        self.ports = PortBook(self.layout.ports_file)
        self._services: dict[str, Service] = {}
        self._user: privileges.ServiceUser | None = None
        self._lock = threading.Lock()
        self.adopted: set[str] = set()  # services that were already running when start() ran

    @property
    def names(self) -> list[str]:
        return list(self.config.services)

    @property
    def user(self) -> privileges.ServiceUser:
        if self._user is None:
            self._user = privileges.service_user()
        return self._user

    def service(self, name: str, *, allocate: bool = False) -> Service:
        """The Service for ``name``; with ``allocate`` a port is chosen (and remembered)."""
        with self._lock:
            cached = self._services.get(name)
            if cached is not None:
                return cached
        try:
            config = self.config.services[name]
        except KeyError:
            # A name the caller typed (`devenv reset postgress`): a usage mistake, exit 2.
            services = ", ".join(self.config.services) or "none"
            raise UsageError(
                f"no service '{name}' in this project{did_you_mean(name, self.config.services)} "
                f"(its services: {services})"
            ) from None
        recipe = recipe_for(config)
        installation = find_installation(recipe, config.version)
        port = self._port(config, recipe.default_port, allocate)
        ctx = ServiceContext(
            project=self.config.project.name,
            config=config,
            recipe=recipe,
            installation=installation,
            layout=self.layout,
            port=port,
            user=self.user,
            emit=self.emit,
        )
        service = service_class(recipe)(ctx)
        with self._lock:
            return self._services.setdefault(name, service)

    def _port(self, config: ServiceConfig, default: int | None, allocate: bool) -> int:
        remembered = self.ports.remembered(config.name)
        running = self._running_port(config.name)
        if running is not None:
            # The server's own files are the truth while it runs: ports.json may have been
            # lost, damaged or edited, and another program may hold the default port.
            if running != remembered:
                self.ports.remember(config.name, running)
            return running
        if not allocate:
            return config.port or remembered or default or 0
        allocation = self.ports.allocate(config.name, configured=config.port, default=default)
        if allocation.notice:
            self.emit(Notice(config.name, allocation.notice))
        return allocation.port

    def _after_port_race(self, service: Service, failed: ServiceStartError) -> Service:
        """The service again on a new port, if another program took its port meanwhile.

        Two projects starting at once can both find the same default port free;
        the loser's server fails to bind. Anything else is re-raised.
        """
        from devenv.project.ports import is_free

        config = service.ctx.config
        if config.port is not None or is_free(service.port):
            raise failed
        self.ports.forget(config.name)
        with self._lock:
            self._services.pop(config.name, None)
        return self.service(config.name, allocate=True)

    def _running_port(self, name: str) -> int | None:
        """The port a server of ours that runs now listens on, read from its own files:
        PostgreSQL's postmaster.pid (4th line), the port line of the redis.conf devenv
        rendered. None when none runs on record, or its files do not say."""
        import re

        if not self._running_on_record(name):
            return None
        data = self.layout.data_dir(name)
        try:
            lines = (data / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            pass
        try:
            found = re.search(r"^port (\d+)$", (data / "redis.conf").read_text(), re.MULTILINE)
        except OSError:
            return None
        return int(found.group(1)) if found else None

    def _running_on_record(self, name: str) -> bool:
        from devenv.project import pidrecord

        record = self.layout.state / f"{name}.pid.json"
        return pidrecord.read_alive(record, works_in=self.layout.root) is not None

    # -- starting ------------------------------------------------------------

    def prepare_layout(self) -> None:
        user = self.user
        if privileges.is_root() and user.uid != 0:
            self.emit(
                Notice(
                    "devenv",
                    f"running as root: services run as user '{user.name}' "
                    "(PostgreSQL refuses root; see DEVENV_SERVICE_USER)",
                )
            )
            privileges.ensure_reachable(self.layout.base, user, "the project's .devenv folder")
        self.layout.ensure(runtime_owner=user.uid)
        if privileges.is_root() and self.layout.state.stat().st_uid != user.uid:
            # Only the folder itself: each service gives its own data when it creates it,
            # and walking a large cluster on every `up` would cost more than the start.
            os.chown(self.layout.state, user.uid, user.gid)

    def start(
        self,
        names: Iterable[str] | None = None,
        *,
        hooks: bool = True,
        alongside: Callable[[], object] | None = None,
    ) -> None:
        """Start the services (all by default) in parallel, provision them, then run the hooks.

        ``alongside`` runs in parallel with the services (the project's
        environment is installed that way), and the hooks wait for it too.
        Every service that fails is said (a ``ServiceFailed`` event each); the error raised
        names them all (ServiceStartError for one, ServicesFailed for several), else it is
        the error ``alongside`` raised, or HookFailed. A failed start leaves nothing of
        its own running: the services it started are stopped again (a script's
        ``up -d && pytest`` never leaves a half-up project behind); those that
        were already running (``adopted``) keep running.
        """
        wanted = list(names) if names is not None else self.names
        if not wanted:
            if alongside is not None:
                alongside()
            if hooks:
                self.run_hooks()
            return
        self.prepare_layout()
        failed: dict[str, DevenvError] = {}  # by service
        services = []
        for name in wanted:
            try:
                services.append(self.service(name, allocate=True))
            except UsageError:
                raise  # a name that is not a service: nothing of the project failed
            except DevenvError as err:  # its port is taken, its server is not installed, ...
                failed[name] = err
                self.emit(ServiceFailed(name, str(err)))
        errors: list[BaseException] = []
        started: list[str] = []  # by this call, to be stopped again if it fails

        def bring_up(service: Service) -> None:
            try:
                try:
                    ready = service.start()
                except ServiceStartError as err:
                    service = self._after_port_race(service, err)
                    ready = service.start()
                if ready.adopted:
                    self.adopted.add(service.name)
                else:
                    started.append(service.name)
                service.provision()
            except DevenvError as err:  # said now, raised below with the others'
                failed[service.name] = err
                if isinstance(err, ServiceStartError):
                    self.emit(ServiceFailed(service.name, err.message, err.log_tail))
                else:  # a missing binary, a failed provision
                    self.emit(ServiceFailed(service.name, str(err)))
            except BaseException as err:  # a bug, Ctrl-C: raised below
                errors.append(err)

        def work(item: Service | Callable[[], object]) -> None:
            if isinstance(item, Service):
                bring_up(item)
                return
            try:
                item()
            except BaseException as err:
                errors.append(err)

        if not failed:  # else none is started: the project comes up whole or not at all
            items: list[Service | Callable[[], object]] = [*services]
            if alongside is not None:
                items.append(alongside)
            _in_parallel(work, items)
        in_order = [failed[name] for name in wanted if name in failed]
        try:
            if errors:
                raise errors[0]
            if len(in_order) > 1:
                raise ServicesFailed(in_order)
            if in_order:
                raise in_order[0]
            if hooks:
                self.run_hooks()
        except BaseException as failure:
            self._undo_start([name for name in wanted if name in started], failure)
            raise

    def _undo_start(self, started: list[str], failure: BaseException) -> None:
        """Stop what a failed ``start`` started; a failure to do so is noted on ``failure``."""
        if not started:
            return
        self.emit(Notice("devenv", f"the start failed: stopping {', '.join(started)} again"))
        try:
            self.stop(started)
        except Exception as err:
            failure.add_note(f"and {', '.join(started)} could not be stopped again: {err}")

    def env(self) -> dict[str, str]:
        """What processes and hooks get: every service's variables."""
        merged: dict[str, str] = {}
        for name in self.names:
            merged.update(self.service(name).env())
        return merged

    def child_env(self) -> dict[str, str]:
        """What hooks, ``devenv run`` and ``devenv env`` start from, as the processes do
        (devenv.supervisor.spec.build_specs): this environment with the project's virtualenv
        and node_modules/.bin first, then the project's ``.env`` (a migration reads its
        settings there as the app does), then the services' variables. A ``.env`` line that
        cannot be read is a ConfigError naming it."""
        from devenv.environment.activation import activate
        from devenv.environment.project import ProjectEnv

        base = activate(ProjectEnv.from_config(self.config), os.environ)
        return {**base, **self.project_env(base)}

    def project_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The project's own variables over ``base``: its ``.env`` (``$VAR`` read from
        ``base`` and the services), then the services' variables over it."""
        from devenv.supervisor.spec import read_env_file

        services = self.env()
        return {**read_env_file(self.config, {**base, **services}).values, **services}

    def run_hooks(self) -> None:
        if not self.config.hooks.after_ready:
            return
        env = self.child_env()
        for command in self.config.hooks.after_ready:
            self._run_hook(command, env)

    def _run_hook(self, command: str, env: dict[str, str]) -> None:
        name = "hook"
        self.emit(HookStarted(name, command))
        started = time.monotonic()
        from devenv.supervisor.streamed import open_log, pump, spawn

        tail: list[str] = []

        def on_line(line: str) -> None:
            tail[:] = [*tail[-9:], line]
            self.emit(HookOutput(name, line))

        with open_log(self.layout.log_file("hooks"), f"$ {command}") as log:
            try:
                code = pump(spawn(command, cwd=self.config.root, env=env), log, on_line)
            except OSError as err:  # no /bin/sh, a vanished folder
                code, tail[:] = 127, [f"cannot run it: {err.strerror}"]
            log.write(f"--- exit code {code}\n")
        self.emit(HookFinished(name, command, code, time.monotonic() - started))
        if code != 0:
            last = "\n".join(f"  {line}" for line in tail)
            # The last line a failing command prints is mostly its reason (a traceback's
            # exception, "relation does not exist"): said first, where a short view shows it.
            cause = next((line.strip() for line in reversed(tail) if line.strip()), "")
            raise HookFailed(
                f"the after_ready hook `{command}` failed with exit code {code}"
                + (f": {cause}" if cause else "")
                + f" (hooks.after_ready in {self.config.source.name}). Its last lines:\n{last}\n"
                "All of its output: `devenv logs hooks`"
            )

    # -- stopping and looking ------------------------------------------------

    def stop(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop the services (all by default); return those that were running. Keeps the data."""
        wanted = list(self.names if names is None else names)
        stopped: list[str] = []

        errors: list[BaseException] = []

        def bring_down(name: str) -> None:
            try:
                if self.service(name).stop():
                    stopped.append(name)
            except BaseException as err:  # re-raised below, once every service was tried
                errors.append(err)

        _in_parallel(bring_down, wanted)
        if errors:
            raise errors[0]
        self.layout.remove_runtime_if_empty()
        return [name for name in wanted if name in stopped]

    def status(self, *, quick: bool = False) -> dict[str, Status]:
        """Every service's status (asking each running server whether it is ready, or with
        ``quick`` whether it accepts connections: see Service.status); one that cannot be
        looked at (its binaries are gone, say) is "failed" with the error."""
        result: dict[str, Status] = {}
        for name in self.names:
            try:
                result[name] = self.service(name).status(quick=quick)
            except DevenvError as err:
                result[name] = Status(name, "service", State.FAILED, error=str(err))
        return result


def _in_parallel(work: Callable[[T], object], items: Iterable[T]) -> None:
    """Run ``work(item)`` for every item in its own thread and wait for all.

    (Plain threads: concurrent.futures would add ~4 ms of imports to every command.)
    """
    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def client_command(stack: Stack, service: str, args: list[str]) -> list[str]:
    """argv of the real client (psql, redis-cli) connected to the project's server."""
    srv = stack.service(service)
    if srv.find_running() is None:
        raise DevenvError(f"{service} is not running; start it with `devenv up -d`")
    return srv.client_argv(args)


__all__ = ["HookFailed", "ServiceStartError", "ServicesFailed", "Stack", "client_command"]
