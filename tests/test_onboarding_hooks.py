"""devenv's pre-commit hook where a repository keeps hooks elsewhere: never a file that is not
devenv's to change (hooks kept in the work tree, a hooks folder shared by all repositories)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devenv.errors import DevenvError
from devenv.onboarding.hooks import LINT_COMMAND, hook_state, install_hook
from tests.onboarding_kit import git, git_identity, tiny_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name, value in git_identity(tmp_path).items():
        monkeypatch.setenv(name, value)
    return tiny_project(tmp_path)


def test_hooks_kept_in_the_work_tree_are_the_projects_files(project):
    folder = project / ".githooks"
    folder.mkdir()
    (folder / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    git(project, "config", "core.hooksPath", ".githooks")

    state = hook_state(project)
    assert state.in_tree and not state.shared
    with pytest.raises(DevenvError, match="devenv does not change the project's files") as info:
        install_hook(project)
    assert LINT_COMMAND in str(info.value)
    assert (folder / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
    assert not (folder / "pre-commit.before-devenv").exists()


def test_a_hooks_folder_shared_by_all_repositories_is_left_alone(project, tmp_path):
    shared = tmp_path / "global-hooks"
    shared.mkdir()
    git(project, "config", "core.hooksPath", str(shared))

    assert hook_state(project).shared
    with pytest.raises(DevenvError, match="shared with your other repositories"):
        install_hook(project)
    assert list(shared.iterdir()) == []


def test_the_lint_does_nothing_in_a_repository_without_devenv(tmp_path, monkeypatch):
    for name, value in git_identity(tmp_path).items():
        monkeypatch.setenv(name, value)
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    result = subprocess.run(
        [sys.executable, "-m", "devenv.onboarding.lint"], cwd=other, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_broken_config_blocks_the_commit_and_says_why(project):
    install_hook(project)
    (project / "devenv.toml").write_text("[onboarding\n")
    (project / "greeting.txt").write_text("Hi.\n")
    result = subprocess.run(
        ["git", "commit", "-qam", "hi"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "devenv: cannot read the lint command: devenv.toml:1" in result.stderr
    assert "devenv: lint failed, the commit was not made" in result.stderr
