"""An installed devenv (not a source checkout) finds its bundled data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pip_installed_devenv_runs_init_from_its_own_data(tmp_path):
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
    pip = subprocess.run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            ROOT / "requirements.lock",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    shutil.rmtree(source)  # the installed devenv must not lean on the source tree

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
