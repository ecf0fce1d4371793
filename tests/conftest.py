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
