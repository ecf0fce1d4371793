from __future__ import annotations

import pytest

from tests.servers import start_servers


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
