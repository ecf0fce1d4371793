"""A readiness probe's bug surfaces at once; only the errors that mean "not yet" are waited
through.

A real ``python3 -m http.server`` is the server; nothing stands in for it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import textwrap
from pathlib import Path

import psutil
import pytest

from devenv import privileges
from devenv.config import load_config
from devenv.errors import ConfigError, DevenvError
from devenv.installations import find_installation
from devenv.layout import Layout
from devenv.recipes import recipe_for
from devenv.services import resp
from devenv.services.base import ServiceContext
from devenv.services.generic import RecipeService
from devenv.services.readiness import not_yet
from tests.servers import free_port

pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py


# -- readiness: "not yet" against a bug ----------------------------------------------------------

HTTP_RECIPE = """\
name = "echo"
default_port = 18080

[binaries]
server = "python3"

[version]
pattern = 'Python (\\d+(?:\\.\\d+)*)'

[readiness]
kind = "tcp"

[run]
command = ["{server}", "-m", "http.server", "{port}", "--bind", "127.0.0.1",
           "--directory", "{data_dir}"]
"""


class ProbeUnderTest(RecipeService):
    """The generic runner with a probe a test controls: ``failures`` are raised first, one per
    call, then ``bug`` (if set) on every call, else the real probe answers."""

    failures: list[BaseException]
    bug: BaseException | None = None
    calls = 0

    def is_ready(self) -> bool:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.bug is not None:
            raise self.bug
        return super().is_ready()


@pytest.fixture
def echo(reachable_dir):
    """A ProbeUnderTest running ``python3 -m http.server`` in a project; stopped afterwards."""
    (reachable_dir / "devenv").mkdir()
    (reachable_dir / "devenv" / "echo.toml").write_text(HTTP_RECIPE)
    (reachable_dir / "devenv.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "shop"

            [services.echo]
            recipe = "devenv/echo.toml"
            """
        )
    )
    config = load_config(reachable_dir / "devenv.toml")
    recipe = recipe_for(config.services["echo"])
    user = privileges.service_user()
    layout = Layout(config.root)
    layout.ensure(runtime_owner=user.uid)
    service = ProbeUnderTest(
        ServiceContext(
            project="shop",
            config=config.services["echo"],
            recipe=recipe,
            # The service user (tests run as root) cannot run root's pyenv shims.
            installation=find_installation(recipe, None, path="/usr/bin:/bin"),
            layout=layout,
            port=free_port(),
            user=user,
        )
    )
    service.failures = []
    try:
        yield service
    finally:
        with contextlib.suppress(Exception):
            service.bug = None
            service.stop()


def servers_in(root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and str(root) in " ".join(
            proc.info["cmdline"] or []
        ):
            found.append(proc)
    return found


def test_a_bug_in_the_readiness_probe_surfaces_at_once_and_leaves_no_server(echo):
    echo.bug = TypeError("'NoneType' object is not subscriptable")

    with pytest.raises(TypeError, match="not subscriptable") as caught:
        echo.start(timeout=20)  # were it taken for "not yet", this would fail after 20 s

    assert echo.calls == 1
    assert caught.value.__notes__ == [
        "raised by the readiness probe of echo (ProbeUnderTest.is_ready)"
    ]
    assert echo.find_running() is None
    assert servers_in(echo.ctx.layout.root) == []


def test_a_config_error_in_the_probe_surfaces_at_once_too(echo):
    echo.bug = ConfigError("cannot fill '{nope}'", key="readiness.command[0]")

    with pytest.raises(ConfigError, match=r"readiness\.command"):
        echo.start(timeout=20)

    assert echo.calls == 1
    assert servers_in(echo.ctx.layout.root) == []


def test_errors_that_mean_not_yet_are_waited_through(echo):
    echo.failures = [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        sqlite3.OperationalError("a DB-API driver's: the server is starting up"),
        resp.RespError("LOADING Redis is loading the dataset in memory"),
    ]

    ready = echo.start(timeout=20)

    assert echo.failures == [] and echo.calls > 4
    assert echo.find_running() == ready.pid


def test_status_says_starting_for_not_yet_and_raises_a_bug(echo):
    echo.start(timeout=20)
    assert echo.status()["state"] == "ready"

    echo.failures = [TimeoutError("timed out")]
    assert echo.status()["state"] == "starting"

    echo.bug = AttributeError("'Recipe' object has no attribute 'readyness'")
    with pytest.raises(AttributeError, match="readyness"):
        echo.status()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(), True),
        (FileNotFoundError(), True),  # no socket yet
        (TimeoutError(), True),
        (sqlite3.OperationalError("locked"), True),
        (resp.ConnectionClosed("closed"), True),
        (resp.RespError("LOADING Redis is loading"), True),
        (resp.RespError("BUSY Redis is busy running a script"), True),
        (resp.RespError("NOAUTH Authentication required."), False),
        (resp.RespError("ERR unknown command 'PNG'"), False),
        (TypeError("bug"), False),
        (KeyError("port"), False),
        (ImportError("no module named psycopg2"), False),
        (DevenvError("recipe mistake"), False),
    ],
)
def test_which_errors_mean_not_yet(error, expected):
    assert not_yet(error) is expected
