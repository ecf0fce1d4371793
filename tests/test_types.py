"""devenv/ type-checks clean: mypy runs over it with pyproject.toml's [tool.mypy], which is strict
enough that a value that may be None used as if it were not, or a callback of the wrong shape,
fails the suite (the second test proves that the configuration catches both).

The stubs mypy reads for devenv's untyped dependencies come from the test extra (types-psutil,
types-psycopg2); without them mypy reports "Library stubs not installed" and this fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    # The cache (.mypy_cache in the checkout, git-ignored) makes a re-run take a second or two.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_devenv_type_checks_clean() -> None:
    result = mypy()  # the packages named in [tool.mypy]: devenv

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


MISUSES = """
from collections.abc import Callable


def find(name: str) -> str | None:
    return name or None


def untyped():
    # check_untyped_defs: the body of a function without annotations is checked too.
    find("x").upper()


def typed() -> int:
    return len(find("x"))


def run(callback: Callable[[str], None]) -> None:
    callback("event")


def takes_int(value: int) -> None:
    pass


run(takes_int)
"""


def test_the_configuration_catches_none_misuse_and_wrong_callbacks(tmp_path: Path) -> None:
    sample = tmp_path / "misuses.py"
    sample.write_text(MISUSES)

    result = mypy("--cache-dir", str(tmp_path / "cache"), str(sample))

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    errors = [line.partition(": error: ")[2] for line in lines if ": error: " in line]
    assert any('of "str | None" has no attribute "upper"' in error for error in errors), lines
    assert any('"len" has incompatible type "str | None"' in error for error in errors), lines
    assert any('"run" has incompatible type "Callable[[int], None]"' in e for e in errors), lines
    assert len(errors) == 3, lines
