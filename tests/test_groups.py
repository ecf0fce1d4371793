"""devenv.supervisor.groups: who is in a process group, on real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from devenv.supervisor.groups import living_members


def test_a_groups_members_are_found_and_zombies_left_out():
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & exec sleep 60"], start_new_session=True)
    try:
        members: set[int] = set()
        for _ in range(10_000):  # the background sleep may not have forked yet
            members = {proc.pid for proc in living_members(leader.pid)}
            if len(members) == 2:
                break
        assert leader.pid in members and os.getpid() not in members
        os.kill(leader.pid, signal.SIGKILL)  # unreaped: a zombie, still in the group
        os.waitid(os.P_PID, leader.pid, os.WEXITED | os.WNOWAIT)
        assert {proc.pid for proc in living_members(leader.pid)} == members - {leader.pid}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()
