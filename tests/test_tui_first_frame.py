"""What the dashboard's first frame waits for (issue 12: first frame <= 300 ms; the figure is
benchmarks/tui.py's): the core's session is not imported before it, only by the start."""

from __future__ import annotations

import subprocess
import sys


def test_the_dashboard_imports_no_session_before_its_first_frame():
    code = (
        "import sys\n"
        "import devenv.tui, devenv.tui.app\n"
        "print(sorted(m for m in ('devenv.session', 'devenv.supervisor.groups') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout
