"""Which errors of a readiness probe mean "not ready yet", and which must be raised at once.

While a server starts, its probe fails in a few known ways: the socket or port
is not there yet, the connection is refused or reset, the server closes it,
times out, or answers that it is still loading. Waiting fixes those. Anything
else (a TypeError in a probe, a missing library, a ConfigError in a recipe's
placeholder, a wrong password) waiting will not fix: it is raised at once,
never turned into "did not become ready in time" thirty seconds later.
"""

from __future__ import annotations

from devenv.services import resp

# Redis's replies while it cannot serve yet: loading its data, a script running, a replica
# without its master.
_REDIS_NOT_YET = ("LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN")


def not_yet(error: BaseException) -> bool:
    """Whether ``error``, raised by a readiness probe, means "not ready yet".

    True for an OSError (refused, reset, no such socket, timed out), a DB-API
    driver's ``OperationalError`` (PEP 249 names it so in every driver: the
    server is not there or not accepting connections yet), a Redis server
    closing the connection or answering LOADING, BUSY, MASTERDOWN or TRYAGAIN.
    """
    if isinstance(error, OSError | resp.ConnectionClosed):
        return True
    if isinstance(error, resp.RespError):
        return str(error).startswith(_REDIS_NOT_YET)
    # By name, so this module imports no driver (psycopg2 costs ~10 ms to import).
    return any(cls.__name__ == "OperationalError" for cls in type(error).__mro__)
