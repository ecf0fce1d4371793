"""Running the real ``devenv`` command in a test: ``python -m devenv`` as a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def devenv(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    """``devenv ARGS`` in ``cwd`` (with ``env``, default this one), its output captured as text;
    ``kw`` goes to subprocess.run (``stdin=...``)."""
    return subprocess.run(
        [sys.executable, "-m", "devenv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )
