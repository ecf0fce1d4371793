"""The devenv demo: a tiny web app and worker backed by PostgreSQL and Redis."""

from __future__ import annotations

import os


class MissingSetting(RuntimeError):
    """An environment variable the app needs is not set."""


def setting(name: str) -> str:
    """Return the environment variable ``name``, or say how to get it set."""
    value = os.environ.get(name)
    if not value:
        raise MissingSetting(
            f"{name} is not set. Start the app with `devenv up`, or run "
            f'`eval "$(devenv env)"` in this shell first.'
        )
    return value
