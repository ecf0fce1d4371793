"""devenv.supervisor.ppids uses psutil's private ``_ppid_map`` where psutil has it: these tests
fail when a psutil upgrade removes it or changes what it returns."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from devenv.supervisor.ppids import ppid_map


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="psutil has it on Linux")
def test_psutil_still_has_the_private_fast_path():
    fast = getattr(psutil, "_ppid_map", None)
    assert callable(fast), "psutil no longer has _ppid_map(): update devenv/supervisor/ppids.py"
    parents = fast()
    assert isinstance(parents, dict)
    assert parents[os.getpid()] == os.getppid()


def test_a_new_child_is_found_under_its_parent():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        parents = ppid_map()
        assert parents[child.pid] == os.getpid()
        assert parents[os.getpid()] == os.getppid()
    finally:
        child.stdin.close()
        child.wait()
