from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.servers import start_servers
from tests.wheels import build_wheel


@pytest.fixture(scope="session", autouse=True)
def private_state(tmp_path_factory):
    """The suite's own XDG state folder (the per-user port registry): the user's is left alone."""
    folder = tmp_path_factory.mktemp("xdg-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def real_services():
    """Real PostgreSQL (database and role 'demo') and Redis on free ports.

    Returns the environment variables a process uses to reach them.
    """
    servers = start_servers()
    try:
        yield servers.env()
    finally:
        servers.stop()


@pytest.fixture
def reachable_dir():
    """A temporary folder that PostgreSQL's unprivileged account can enter when tests run as root.

    (pytest's tmp_path lives below a root-only 0700 folder.) Removed afterwards.
    """
    import shutil

    from tests.servers import reachable_tmpdir

    path = reachable_tmpdir("devenv-test-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """This test's own devenv cache (versions, templates); the user's ~/.cache is left alone.

    Returns the path of the version cache file.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "devenv" / "versions.json"


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    for name, version in [("alpha", "1.0"), ("alpha", "2.0"), ("beta", "1.0"), ("gamma", "3.0")]:
        build_wheel(folder, name, version)
    return folder


@pytest.fixture
def offline(wheels: Path, tmp_path: Path) -> dict[str, str]:
    """An environment for devenv: pip set up for a local folder of wheels only (no index), as on
    a company laptop; devenv hands that to uv. Small real wheels: alpha 1.0/2.0, beta, gamma."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        PIP_FIND_LINKS=str(wheels),
        PIP_NO_INDEX="1",
        PIP_CONFIG_FILE=os.devnull,
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
        PATH="/usr/local/bin:/usr/bin:/bin",  # nothing of devenv's own venv
    )
    return env
