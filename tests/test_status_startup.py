"""`devenv status` starts light: the CLI answers it without argparse (``-C DIR status`` still
goes through it, and must say the same), and it loads no client library.

Timings are in benchmarks/status.py; these tests check what it relies on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = '[project]\nname = "shop"\n\n[services.redis]\n\n[prod]\nredis = "7"\n'


def devenv(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devenv", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.mark.parametrize("json", [False, True])
def test_status_says_the_same_with_and_without_the_parser(tmp_path, json):
    project = tmp_path / "shop"
    project.mkdir()
    (project / "devenv.toml").write_text(PROJECT)
    flags = ["--json"] if json else []
    typed = devenv("status", *flags, cwd=project)
    parsed = devenv("-C", str(project), "status", *flags, cwd=tmp_path)
    assert typed.returncode == parsed.returncode == 0, typed.stderr + parsed.stderr
    assert (typed.stdout, typed.stderr) == (parsed.stdout, parsed.stderr)
    assert "redis: prod runs 7" in typed.stdout or '"redis": {' in typed.stdout


def test_status_with_a_broken_config_fails_the_same_with_and_without_the_parser(tmp_path):
    project = tmp_path / "shop"
    project.mkdir()
    (project / "devenv.toml").write_text('[project]\nname = "shop"\n\n[services.redis]\nport = 0\n')
    typed = devenv("status", cwd=project)
    parsed = devenv("-C", str(project), "status", cwd=tmp_path)
    assert typed.returncode == parsed.returncode == 2
    assert typed.stderr == parsed.stderr
    assert "devenv.toml" in typed.stderr and "Traceback" not in typed.stderr


def test_other_status_command_lines_go_through_the_parser(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n')
    wrong = devenv("status", "--jsn", cwd=tmp_path)
    assert wrong.returncode == 2 and "unrecognized arguments: --jsn" in wrong.stderr
    helped = devenv("status", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "--json" in helped.stdout


def test_status_imports_neither_argparse_nor_a_client_library(tmp_path):
    (tmp_path / "devenv.toml").write_text(PROJECT)
    code = (
        "import io, sys\n"
        "from contextlib import redirect_stdout\n"
        "from devenv.cli import main\n"
        "with redirect_stdout(io.StringIO()):\n"
        "    code = main(['status', '--json'])\n"
        "heavy = {'argparse', 'psycopg2', 'redis', 'psutil', 'textual', 'uv'}\n"
        "print(code, sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []"


def test_devenv_events_builds_the_environments_events_only_when_asked():
    code = (
        "import sys\n"
        "import devenv.events as events\n"
        "print('devenv.environment.events' in sys.modules)\n"
        "from devenv.events import DriftFound, SyncStarted\n"
        "import devenv.environment.events as env\n"
        "print(DriftFound is env.DriftFound and SyncStarted is env.SyncStarted)\n"
        "print(issubclass(DriftFound, events.Event), hasattr(events, 'NoSuchEvent'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False", "True", "True False"]


@pytest.mark.parametrize(
    "module", ["devenv.config.model", "devenv.events", "devenv.environment.events"]
)
def test_the_records_status_loads_have_their_own_docstrings(module):
    """Without one, dataclass() works one out from the signature at every import."""
    import dataclasses
    import importlib

    loaded = importlib.import_module(module)
    records = [
        value
        for value in vars(loaded).values()
        if dataclasses.is_dataclass(value) and value.__module__ == module
    ]
    assert records
    assert [r.__name__ for r in records if "__doc__" not in vars(r) or not r.__doc__] == []
    assert not [r.__name__ for r in records if r.__doc__.startswith(f"{r.__name__}(")]
