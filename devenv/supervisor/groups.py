"""Process groups: devenv starts every child as the leader of its own group, and stops the group.

Who is in a group is asked here only, the same way for a running child and for the group a
killed devenv left behind.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


def living_members(pgid: int) -> list[psutil.Process]:
    """The processes in group ``pgid`` now, zombies left out (an init that reaps slowly keeps
    them, and a zombie holds nothing)."""
    import psutil

    found = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) != pgid:  # one syscall: the status is read for members only
                continue
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue  # gone meanwhile
    return found
