"""RecipeService: a project's own recipe without a driver, run for real.

The tiny TCP server is ``python3 -m http.server``; one test runs the real memcached
(``./bootstrap.sh test`` installs it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import textwrap
from pathlib import Path

import psutil
import pytest

from devenv.config import load_config
from devenv.errors import ConfigError
from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.services.base import ServiceContext, ServiceStartError
from devenv.services.generic import RecipeService
from devenv.services.installations import find_installation
from devenv.services.recipes import recipe_for
from devenv.services.registry import service_class
from tests.servers import free_port

# The service user (when tests run as root) cannot run root's pyenv shims: use the system's.
SYSTEM_PATH = "/usr/bin:/bin"

HTTP_RECIPE = """\
name = "echo"
default_port = 18080

[binaries]
server = "python3"

[version]
pattern = 'Python (\\d+(?:\\.\\d+)*)'

[readiness]
{readiness}

[run]
command = ["{{server}}", "-m", "http.server", "{{port}}", "--bind", "127.0.0.1",
           "--directory", "{{data_dir}}"]
stop_signal = "{stop_signal}"

[env]
ECHO_URL = "http://127.0.0.1:{{port}}/"
ECHO_DATA = "{{data_dir}}"
"""

MEMCACHED_RECIPE = """\
name = "memcached"
default_port = 11211

[binaries]
server = "memcached"

[version]
pattern = 'memcached (\\d+(?:\\.\\d+)*)'

[readiness]
kind = "tcp"

[run]
command = ["{server}", "-l", "127.0.0.1", "-p", "{port}", "-U", "0"]

[env]
MEMCACHED_URL = "127.0.0.1:{port}"
"""

_USED_DIRS: list[Path] = []


def _servers_in(dirs: list[Path]) -> list[psutil.Process]:
    roots = [str(d.resolve()) for d in dirs]
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if any(root in cmdline for root in roots):
            found.append(proc)
    return found


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind():
    yield
    left = _servers_in(_USED_DIRS)
    for proc in left:
        proc.kill()
    assert not left, f"left running: {left}"


pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py


@pytest.fixture
def make_service(reachable_dir):
    """Write a recipe into the project and build its service; stopped afterwards."""
    _USED_DIRS.append(reachable_dir)
    made: list = []

    def make(recipe_text: str, name: str = "echo", path: str = SYSTEM_PATH):
        (reachable_dir / "devenv").mkdir(exist_ok=True)
        (reachable_dir / "devenv" / f"{name}.toml").write_text(recipe_text, encoding="utf-8")
        config_path = reachable_dir / "devenv.toml"
        config_path.write_text(
            textwrap.dedent(
                f"""\
                [project]
                name = "shop"

                [services.{name}]
                recipe = "devenv/{name}.toml"
                """
            ),
            encoding="utf-8",
        )
        config = load_config(config_path)
        service = config.services[name]
        recipe = recipe_for(service)
        user = privileges.service_user()
        layout = Layout(config.root)
        layout.ensure(runtime_owner=user.uid)
        ctx = ServiceContext(
            project=config.project.name,
            config=service,
            recipe=recipe,
            installation=find_installation(recipe, service.version, path=path),
            layout=layout,
            port=free_port(),
            user=user,
        )
        svc = service_class(recipe)(ctx)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        with contextlib.suppress(Exception):
            svc.stop()
        shutil.rmtree(svc.ctx.layout.runtime, ignore_errors=True)
    for proc in _servers_in([reachable_dir]):
        proc.kill()


def http_recipe(readiness: str = 'kind = "tcp"', stop_signal: str = "SIGTERM") -> str:
    return HTTP_RECIPE.format(readiness=readiness, stop_signal=stop_signal)


def connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_tcp_recipe_starts_serves_and_stops_with_sigterm(make_service):
    svc = make_service(http_recipe())
    assert isinstance(svc, RecipeService)
    assert svc.argv()[1:] == [
        "-m",
        "http.server",
        str(svc.port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(svc.data_dir),
    ]
    ready = svc.start()
    assert not ready.adopted
    assert svc.is_ready()
    assert svc.data_dir.is_dir()
    assert svc.data_dir.stat().st_uid == svc.ctx.user.uid
    assert psutil.Process(ready.pid).uids().real == svc.ctx.user.uid
    assert svc.env() == {
        "ECHO_URL": f"http://127.0.0.1:{svc.port}/",
        "ECHO_DATA": str(svc.data_dir),
    }
    (svc.data_dir / "hello.txt").write_text("hi")
    from urllib.request import urlopen

    with urlopen(svc.env()["ECHO_URL"] + "hello.txt", timeout=5) as response:
        assert response.read() == b"hi"

    # a second start adopts it
    again = svc.start()
    assert again.adopted and again.pid == ready.pid

    assert svc.stop() is True
    assert not connects(svc.port)
    assert svc.find_running() is None
    assert svc.status().state == "stopped"
    assert svc.stop() is False


def test_stop_sends_the_recipes_stop_signal(make_service):
    svc = make_service(http_recipe(stop_signal="SIGINT"))
    svc.start()
    assert svc.stop() is True
    # http.server reports SIGINT as a KeyboardInterrupt; SIGTERM would end it silently
    assert "Keyboard interrupt received" in svc.log_file.read_text()


def test_command_readiness(make_service):
    readiness = (
        'kind = "command"\n'
        'command = ["{server}", "-c", '
        "\"import socket; socket.create_connection(('127.0.0.1', {port}), 0.5)\"]"
    )
    svc = make_service(http_recipe(readiness=readiness))
    svc.start()
    assert svc.is_ready()
    assert connects(svc.port)
    svc.stop()
    assert not svc.is_ready()


def test_server_that_exits_fails_with_log_tail(make_service):
    svc = make_service(http_recipe())
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", svc.port))  # the port is taken: http.server cannot bind
    blocker.listen()
    try:
        with pytest.raises(ServiceStartError) as caught:
            svc.start(timeout=10)
    finally:
        blocker.close()
    assert "Address already in use" in "\n".join(caught.value.log_tail)
    assert svc.find_running() is None


def test_a_server_that_never_gets_ready_is_stopped_not_left_behind(make_service):
    readiness = 'kind = "command"\ncommand = ["{server}", "-c", "raise SystemExit(1)"]'
    readiness += "\ntimeout = 0.5"
    svc = make_service(http_recipe(readiness=readiness))

    with pytest.raises(ServiceStartError) as caught:
        svc.start()  # the recipe's readiness.timeout

    assert "did not become ready in time (0.5 s)" in str(caught.value)
    assert svc.find_running() is None
    assert not connects(svc.port)
    assert _servers_in([svc.ctx.layout.root]) == []


def test_unknown_driver_is_a_config_error(make_service):
    with pytest.raises(ConfigError) as caught:
        make_service('driver = "mongo"\n' + http_recipe())
    err = caught.value
    assert err.key == "driver"
    assert err.path is not None and err.path.name == "echo.toml"


def test_registry_unknown_driver_names_recipe_and_key(make_service):
    svc = make_service(http_recipe())
    bad = dataclasses.replace(svc.ctx.recipe, driver="mongo")
    with pytest.raises(ConfigError) as caught:
        service_class(bad)
    assert caught.value.key == "driver"
    assert caught.value.path == svc.ctx.recipe.source
    assert "mongo" in str(caught.value)


def test_registry_maps_drivers():
    from devenv.resources import services_dir
    from devenv.services.recipes import load_recipe
    from devenv.services.redis import RedisService

    assert service_class(load_recipe(services_dir() / "redis.toml")) is RedisService
    postgres = service_class(load_recipe(services_dir() / "postgres.toml"))
    assert postgres.__name__ == "PostgresService"


def test_memcached_recipe(make_service):
    assert shutil.which("memcached"), "memcached is not installed: run ./bootstrap.sh test"
    svc = make_service(MEMCACHED_RECIPE, name="memcached", path=f"{SYSTEM_PATH}:/usr/local/bin")
    ready = svc.start()
    # as the service user: memcached refuses to run as root without -u
    assert psutil.Process(ready.pid).uids().real == svc.ctx.user.uid
    with socket.create_connection(("127.0.0.1", svc.port), timeout=2) as conn:
        conn.sendall(b"version\r\n")
        assert conn.recv(100).startswith(b"VERSION")
    assert svc.env() == {"MEMCACHED_URL": f"127.0.0.1:{svc.port}"}
    assert svc.stop() is True
    assert not connects(svc.port)
