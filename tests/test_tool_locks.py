"""Lockfiles of poetry, pipenv and pdm, installed for real by their own tools into devenv's venv.

The tools are installed once, with uv, into a folder of this module's (from the package
index this machine is set up for). The projects depend on small local wheels, so locking
and installing need no index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli import devenv
from tests.wheels import build_wheel


@pytest.fixture(scope="module")
def tools(tmp_path_factory) -> Path:
    """A bin folder holding poetry, pipenv and pdm (pdm's own pins: plain pdm 2.29.4 breaks
    against the newest hishel)."""
    import uv

    from devenv.environment.indexes import uv_environment

    folder = tmp_path_factory.mktemp("tools")
    env = {**os.environ, **uv_environment(os.environ)}
    for args in (["venv", "-q", folder / "venv"], ["pip", "install", "-q", "--python",
                 folder / "venv/bin/python", "poetry", "pipenv", "pdm[locked]"]):  # fmt: skip
        made = subprocess.run([uv.find_uv_bin(), *map(str, args)], env=env, capture_output=True)
        assert made.returncode == 0, made.stderr.decode()
    return folder / "venv" / "bin"


def tool_env(tools: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{tools}:/usr/local/bin:/usr/bin:/bin"
    return env


def project_with_wheels(root: Path) -> Path:
    root.mkdir()
    (root / "devenv.toml").write_text("")
    build_wheel(root / "wheels", "alpha", "1.0")
    return root


def assert_installed_and_in_sync(root: Path, env: dict, lockfile: str) -> None:
    synced = devenv(root, "sync", env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    ran = devenv(
        root, "run", "python", "-c", "import alpha, sys; print(alpha.__version__)", env=env
    )
    assert ran.stdout.strip() == "1.0", ran.stderr
    deps = json.loads(devenv(root, "status", "--json", env=env).stdout)["deps"]
    assert deps[lockfile]["state"] == "in-sync"


def test_poetry_lock_is_installed_by_poetry_into_the_projects_venv(tools, tmp_path):
    root = project_with_wheels(tmp_path / "app")
    (root / "pyproject.toml").write_text(
        "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\n"
        'python = ">=3.11"\nalpha = {path = "wheels/alpha-1.0-py3-none-any.whl"}\n'
    )
    env = tool_env(tools)
    subprocess.run([tools / "poetry", "lock", "-q"], cwd=root, env=env, check=True)

    assert_installed_and_in_sync(root, env, "poetry.lock")
    assert "poetry sync --no-interaction" in (root / ".devenv/logs/deps.log").read_text()


def test_pipfile_lock_is_installed_by_pipenv_into_the_projects_venv(tools, tmp_path):
    root = project_with_wheels(tmp_path / "app")
    (root / "Pipfile").write_text(
        '[packages]\nalpha = {file = "wheels/alpha-1.0-py3-none-any.whl"}\n'
        '\n[requires]\npython_version = "3.11"\n'
    )
    env = tool_env(tools)
    # `pipenv lock` makes a virtualenv of its own: not in this machine's home.
    lock_env = {**env, "WORKON_HOME": str(tmp_path / "workon")}
    locked = subprocess.run([tools / "pipenv", "lock"], cwd=root, env=lock_env, capture_output=True)
    assert locked.returncode == 0, locked.stderr.decode()

    assert_installed_and_in_sync(root, env, "Pipfile.lock")
    assert (root / ".venv").is_dir()  # devenv's, not one of pipenv's own in ~/.local


def test_pdm_lock_is_installed_by_pdm_into_the_projects_venv(tools, tmp_path):
    root = project_with_wheels(tmp_path / "app")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["alpha @ file:///${PROJECT_ROOT}/wheels/alpha-1.0-py3-none-any.whl"]\n'
        "\n[tool.pdm]\ndistribution = false\n"
    )
    env = tool_env(tools)
    lock_env = {**env, "PDM_IGNORE_SAVED_PYTHON": "1", "PDM_CHECK_UPDATE": "false"}
    locked = subprocess.run([tools / "pdm", "lock"], cwd=root, env=lock_env, capture_output=True)
    assert locked.returncode == 0, locked.stderr.decode()
    for made in (root / ".venv", root / ".pdm-python"):  # `pdm lock` made a venv: start clean
        if made.is_dir():
            shutil.rmtree(made)
        elif made.exists():
            made.unlink()

    assert_installed_and_in_sync(root, env, "pdm.lock")
    assert not (root / ".pdm-python").exists()  # pdm used devenv's venv, not one of its own
