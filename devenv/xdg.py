"""devenv's folders outside any project, where the XDG Base Directory spec puts them.

Each is read from the environment at the call (tests and users may set it at any time); a
relative value is ignored, as the spec says. Nothing here creates a folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def _home(variable: str, *default: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path.home().joinpath(*default)


def cache_dir() -> Path:
    """devenv's cache, rebuilt when lost: ``$XDG_CACHE_HOME/devenv``, else ``~/.cache/devenv``."""
    return _home("XDG_CACHE_HOME", ".cache") / "devenv"


def state_dir() -> Path:
    """devenv's state kept across runs: ``$XDG_STATE_HOME/devenv``, else
    ``~/.local/state/devenv``."""
    return _home("XDG_STATE_HOME", ".local", "state") / "devenv"


def runtime_dir() -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it names a folder this user can write in, else None
    (the caller picks its fallback: sockets need short paths)."""
    value = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(value) and os.path.isdir(value) and os.access(value, os.W_OK):
        return Path(value)
    return None
