"""An installed devenv (not a source checkout) finds its bundled data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.servers import reachable_tmpdir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """devenv installed on its own, as `pipx install` gives: a venv of its own, no checkout."""
    tmp_path = tmp_path_factory.mktemp("installed")
    # Copy the checkout so the build cannot see or leave anything in it.
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".devenv",
            "__pycache__",
            "*.pyc",
            ".pytest_cache",
            ".ruff_cache",
            "dist",
            "build",
        ),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    # The pinned, hash-checked dependencies first (a folder cannot be hash-checked), then devenv.
    for args in (["-r", ROOT / "requirements.lock"], ["--no-deps", source]):
        pip = subprocess.run(
            [python, "-m", "pip", "install", "-q", *args],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert pip.returncode == 0, pip.stderr
    shutil.rmtree(source)  # the installed devenv must not lean on the source tree
    return venv


def test_pip_installed_devenv_runs_init_from_its_own_data(installed, tmp_path):
    venv = installed
    project = tmp_path / "empty-project"
    project.mkdir()
    result = subprocess.run(
        [venv / "bin" / "devenv", "init"],
        cwd=project,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    config = tomllib.loads((project / "devenv.toml").read_text())
    assert config["project"]["name"] == "empty-project"
    assert (project / "Procfile").exists()

    where = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "from devenv.resources import services_dir, templates_dir;"
            "print(services_dir()); print(templates_dir())",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for found in where:
        assert found.startswith(str(venv)), found
    assert (Path(where[0]) / "postgres.toml").is_file()
    assert (Path(where[1]) / "demo" / "Procfile").is_file()


def test_every_module_imports_with_only_the_runtime_lock_installed(installed):
    """requirements.lock (no test tools) is all the installed devenv needs, the TUI included."""
    code = (
        "import importlib, pkgutil, devenv\n"
        "for m in pkgutil.walk_packages(devenv.__path__, 'devenv.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "import pytest\n"
    )
    result = subprocess.run(
        [installed / "bin" / "python", "-c", code], capture_output=True, text=True, cwd=installed
    )

    # Every devenv module imported; pytest, a test tool, is not there.
    assert result.stderr.strip().endswith("No module named 'pytest'"), result.stderr


def test_the_demo_runs_from_a_devenv_installed_on_its_own(installed, private_cache):
    """`devenv demo d && cd d && devenv up -d` with nothing else on PATH: the demo's own packages
    (psycopg2, redis, pytest) come from a virtualenv devenv makes from the demo's lock."""
    devenv = str(installed / "bin" / "devenv")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    folder = reachable_tmpdir("devenv-newcomer-")
    demo = folder / "d"
    try:
        made = subprocess.run([devenv, "demo", str(demo)], env=env, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        up = subprocess.run(
            [devenv, "up", "-d"], cwd=demo, env=env, capture_output=True, text=True, timeout=600
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "first start: installing requirements.lock" in up.stdout
        assert "`python -m demoapp.migrate` exited with 0" in up.stdout

        status = json.loads(
            subprocess.run(
                [devenv, "status", "--json"], cwd=demo, env=env, capture_output=True, text=True
            ).stdout
        )
        assert status["deps"]["requirements.lock"]["state"] == "in-sync"
        assert status["deps"]["requirements.lock"]["unpinned"] == []

        tests = subprocess.run(
            [devenv, "run", "python", "-m", "pytest", "-q"],
            cwd=demo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert tests.returncode == 0, tests.stdout + tests.stderr
    finally:
        subprocess.run([devenv, "down"], cwd=demo, env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
