"""Supervision of the Procfile's processes, on asyncio, in the core (no UI imports).

``Supervisor`` (``core``) runs ``ProcessSpec``s (``spec``) with restart
policies (``policy``), readiness probes (``probes``) and dependencies, and
reports every state change as an event (``events``); ``child`` is the real spawn.

Only light modules are imported here; ``core`` (asyncio) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devenv.supervisor.child import ShellChild, spawn_shell
    from devenv.supervisor.core import RealClock, Supervisor

__all__ = ["RealClock", "ShellChild", "Supervisor", "spawn_shell"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from devenv.supervisor import child, core

        return getattr(child if hasattr(child, name) else core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
