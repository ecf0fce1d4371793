"""`devenv init` in real folders, through the real command line."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


def devenv(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devenv", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_init_in_an_empty_folder_writes_a_valid_config_and_a_runnable_procfile(tmp_path):
    project = tmp_path / "Shop-Front"
    project.mkdir()

    result = devenv("init", cwd=project)

    assert result.returncode == 0, result.stderr
    assert "wrote devenv.toml" in result.stdout
    assert "wrote Procfile" in result.stdout
    assert "Next: review devenv.toml, then run `devenv up`." in result.stdout
    config = tomllib.loads((project / "devenv.toml").read_text())
    assert config["project"]["name"] == "Shop-Front"
    # No evidence, no service: an empty folder uses neither PostgreSQL nor Redis.
    assert "services" not in config
    # No lockfile yet: watch is left out, so that one made later is found and watched.
    assert "lockfiles" not in config
    assert (project / "Procfile").read_text().count("web: ") == 1
    assert (project / ".gitignore").read_text().splitlines()[-1] == ".devenv/"

    from devenv.config import load_config

    loaded = load_config(project / "devenv.toml")
    assert list(loaded.processes) == ["web"]
    assert loaded.project.name == "Shop-Front"


def test_init_uses_the_existing_procfile_lockfiles_and_pyproject_name(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "billing-api"\n')
    procfile = "web: gunicorn app:app --bind 127.0.0.1:$PORT\nworker: python -m jobs\n"
    (tmp_path / "Procfile").write_text(procfile)
    (tmp_path / "requirements.txt").write_text(
        "flask==3.0.0\ngunicorn>=21\npsycopg2-binary==2.9.9\nredis==5.0.1\n"
    )
    (tmp_path / "package-lock.json").write_text("{}\n")
    (tmp_path / ".gitignore").write_text("*.pyc")

    result = devenv("init", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "kept Procfile" in result.stdout
    assert (tmp_path / "Procfile").read_text() == procfile
    config = tomllib.loads((tmp_path / "devenv.toml").read_text())
    assert config["project"]["name"] == "billing-api"
    assert config["services"]["postgres"]["databases"][0]["name"] == "billing_api"
    assert sorted(config["processes"]) == ["web", "worker"]
    assert config["processes"]["web"]["depends_on"] == ["postgres", "redis"]
    assert sorted(config["lockfiles"]["watch"]) == ["package-lock.json", "requirements.txt"]
    # devenv installs the lockfiles itself: no sync commands to maintain.
    assert "sync" not in config["lockfiles"]
    assert (
        "requirements.txt has ranges, not pins (gunicorn): devenv installs it all the same, "
        "but not reproducibly. Pin it: `uv pip compile requirements.txt -o requirements.lock`, "
        "commit it and watch it instead ([lockfiles] watch)."
    ) in result.stdout
    assert (tmp_path / ".gitignore").read_text() == (
        "*.pyc\n# devenv's local state: databases, sockets, logs\n.devenv/\n"
        "# the project's virtualenv, made by devenv from the lockfiles\n.venv/\n"
    )
    assert "added .devenv/ and .venv/ to .gitignore" in result.stdout


def test_init_refuses_to_overwrite_and_changes_nothing(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "mine"\n')
    before = sorted(p.name for p in tmp_path.iterdir())

    result = devenv("init", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "already has a devenv config (devenv.toml); nothing was written" in result.stderr
    assert "devenv init --force" in result.stderr
    assert (tmp_path / "devenv.toml").read_text() == '[project]\nname = "mine"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_init_refuses_when_pyproject_holds_the_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.devenv.project]\nname = "mine"\n')

    result = devenv("init", cwd=tmp_path)

    assert result.returncode == 2
    assert "pyproject.toml [tool.devenv]" in result.stderr
    assert not (tmp_path / "devenv.toml").exists()


def test_init_force_replaces_the_config_and_keeps_a_backup(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "old"\n')
    (tmp_path / "Procfile").write_text("web: python3 -m http.server $PORT\n")

    result = devenv("init", "--force", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "kept the old one as devenv.toml.bak" in result.stdout
    assert (tmp_path / "devenv.toml.bak").read_text() == '[project]\nname = "old"\n'
    assert tomllib.loads((tmp_path / "devenv.toml").read_text())["project"]["name"] == (
        tmp_path.name
    )


def test_init_leaves_an_existing_gitignore_entry_alone(tmp_path):
    (tmp_path / ".gitignore").write_text("/.devenv/\nnode_modules/\n")

    assert devenv("init", cwd=tmp_path).returncode == 0

    assert (tmp_path / ".gitignore").read_text() == "/.devenv/\nnode_modules/\n"


@pytest.mark.parametrize("line", ["web python app.py", ": nothing"])
def test_init_reports_a_broken_procfile_instead_of_guessing(tmp_path, line):
    (tmp_path / "Procfile").write_text(f"{line}\n")

    result = devenv("init", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Procfile:1:" in result.stderr
    assert not (tmp_path / "devenv.toml").exists()


def test_init_dry_run_prints_the_files_and_the_reasons_and_writes_nothing(tmp_path):
    procfile = "release: python manage.py migrate\nweb: gunicorn mysite.wsgi\ncache: redis-server\n"
    files = {
        "Procfile": procfile,
        "requirements.txt": "Django==5.0.1\npsycopg2-binary==2.9.9\n",
        "manage.py": "import django\n",
        ".python-version": "3.12\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    result = devenv("init", "--dry-run", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # not even .gitignore
    out = result.stdout
    assert "nothing was written" in out
    toml_text = out.split("--- devenv.toml\n", 1)[1].split("\n--- Procfile\n", 1)[0]
    config = tomllib.loads(toml_text)
    assert sorted(config["services"]) == ["postgres", "redis"]
    assert config["hooks"]["after_ready"] == ["python manage.py migrate"]
    assert config["prod"] == {"python": "3.12"}
    assert "# release: python manage.py migrate" in out.split("--- Procfile\n", 1)[1]
    why = out.split("\nWhy:\n", 1)[1]
    assert "service postgres: requirements.txt:2: psycopg2-binary" in why
    assert "service redis: Procfile:3: cache: redis-server" in why
    assert "hook python manage.py migrate: Procfile:1: release: python manage.py migrate" in why
    assert "prod python=3.12: .python-version:1: 3.12" in why

    # and init itself writes what the dry run showed
    assert devenv("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / "devenv.toml").read_text() == toml_text + "\n"


def test_init_dry_run_in_a_project_with_a_config_shows_the_proposal_and_says_init_would_stop(
    tmp_path,
):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "mine"\n')
    (tmp_path / "requirements.txt").write_text("redis==5.0.1\n")

    result = devenv("init", "--dry-run", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "[services.redis]" in result.stdout
    assert "init itself would stop here" in result.stdout and "--force" in result.stdout
    assert (tmp_path / "devenv.toml").read_text() == '[project]\nname = "mine"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["devenv.toml", "requirements.txt"]
