"""`devenv demo DIR`: the bundled demo project, copied out as a git repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.commands.demo import Demo, create_demo
from devenv.config import load_config
from devenv.errors import DevenvError
from devenv.resources import templates_dir


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def commit(cwd: Path, message: str) -> None:
    git(
        cwd,
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.invalid",
        "commit",
        "-qam",
        message,
    )


@pytest.fixture
def git_home(tmp_path, monkeypatch):
    """Point git's global config at a file of our own, without user.name or user.email."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    return config


def test_the_demo_is_a_clean_repository_that_pushes_to_the_origin_beside_it(tmp_path):
    demo = create_demo(tmp_path / "demo")

    assert demo == Demo(path=tmp_path / "demo", origin=tmp_path / "demo-origin.git")
    assert (demo.path / "devenv.toml").is_file()
    assert (demo.path / ".env").is_file()
    assert not list(demo.path.rglob("__pycache__"))
    assert git(demo.path, "branch", "--show-current") == "main"
    assert git(demo.path, "remote", "get-url", "origin") == str(demo.origin)
    assert git(demo.path, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"
    assert git(demo.path, "status", "--porcelain") == ""
    assert git(demo.origin, "rev-parse", "--is-bare-repository") == "true"

    greeting = demo.path / "demoapp" / "greeting.py"
    greeting.write_text(greeting.read_text().replace("Hello", "Hi"))
    commit(demo.path, "A friendlier greeting")
    git(demo.path, "push", "--quiet")  # no arguments: the upstream is set
    assert git(demo.origin, "rev-parse", "main") == git(demo.path, "rev-parse", "HEAD")


def test_an_existing_empty_folder_is_fine(tmp_path):
    (tmp_path / "demo").mkdir()
    demo = create_demo(tmp_path / "demo")
    assert (demo.path / "Procfile").is_file()


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(tmp_path):
    dest = tmp_path / "project"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")

    with pytest.raises(DevenvError, match="not empty; choose another folder"):
        create_demo(dest)

    assert [path.name for path in dest.iterdir()] == ["notes.txt"]
    assert (dest / "notes.txt").read_text() == "mine\n"
    assert not (tmp_path / "project-origin.git").exists()


def test_an_origin_that_is_not_empty_is_refused(tmp_path):
    origin = tmp_path / "demo-origin.git"
    origin.mkdir()
    (origin / "HEAD").write_text("ref: refs/heads/main\n")

    with pytest.raises(DevenvError, match=r"origin repository .* not empty"):
        create_demo(tmp_path / "demo")

    assert not (tmp_path / "demo").exists()
    assert [path.name for path in origin.iterdir()] == ["HEAD"]


def test_the_users_git_identity_is_kept(tmp_path, git_home):
    git_home.write_text("[user]\n\tname = Ada Lovelace\n\temail = ada@example.invalid\n")
    demo = create_demo(tmp_path / "demo")
    author = git(demo.path, "log", "-1", "--format=%an <%ae>")
    assert author == "Ada Lovelace <ada@example.invalid>"


def test_without_a_git_identity_devenv_commits_as_itself(tmp_path, git_home):
    demo = create_demo(tmp_path / "demo")
    assert git(demo.path, "log", "-1", "--format=%an <%ae>") == "devenv <devenv@localhost.invalid>"
    # the fallback is for that one commit only: nothing is written to the repo's config
    result = subprocess.run(["git", "config", "--local", "user.name"], cwd=demo.path)
    assert result.returncode == 1


def test_a_missing_git_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DevenvError, match="git is not installed; install it with"):
        create_demo(tmp_path / "demo")
    assert not (tmp_path / "demo").exists()


def test_a_failing_git_step_leaves_nothing_behind(tmp_path, monkeypatch):
    import devenv.commands.demo

    real_git = devenv.commands.demo._git

    def git_that_cannot_push(git, *args, cwd=None):
        if "push" in args:
            raise DevenvError("git push failed: no space left on device")
        return real_git(git, *args, cwd=cwd)

    monkeypatch.setattr(devenv.commands.demo, "_git", git_that_cannot_push)
    (tmp_path / "demo").mkdir()
    with pytest.raises(DevenvError, match="no space left"):
        create_demo(tmp_path / "demo")
    assert [path.name for path in tmp_path.iterdir()] == ["demo"]
    assert not list((tmp_path / "demo").iterdir())


def test_the_demo_config_loads():
    config = load_config(templates_dir() / "demo" / "devenv.toml")
    assert config.project.name == "demo"
    assert [db.name for db in config.services["postgres"].databases] == ["demo"]
    assert set(config.services) == {"postgres", "redis"}
    assert list(config.processes) == ["web", "worker"]


def test_the_demo_test_suite_passes_against_real_services(tmp_path, real_services):
    demo = create_demo(tmp_path / "demo")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    env.update(real_services)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the demo pins pytest alone, no plugins

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=demo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert git(demo.path, "status", "--porcelain") == ""  # the tests leave nothing behind


def test_the_demo_command_copies_it_out_and_says_what_to_run_next(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "devenv", "demo", "shop"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Created the demo project in {tmp_path / 'shop'}"
    assert lines[1] == f"  a git repository whose 'origin' is {tmp_path / 'shop-origin.git'}"
    assert lines[3].startswith(f"  cd {tmp_path / 'shop'} && ")
    assert lines[3].endswith("devenv up")
    assert git(tmp_path / "shop", "status", "--porcelain") == ""

    again = subprocess.run(
        [sys.executable, "-m", "devenv", "demo", "shop"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2  # the DIR given is a usage mistake
    assert "the folder is not empty; choose another folder" in again.stderr
    assert "Traceback" not in again.stderr
