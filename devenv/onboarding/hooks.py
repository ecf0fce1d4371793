"""devenv's pre-commit hook (lint on commit): what is installed now, and installing it.

The hook is ``templates/hooks/pre-commit``; it runs ``python -m
devenv.onboarding.lint``. A pre-commit hook the repository already has is
never overwritten: it is renamed ``pre-commit.before-devenv`` and devenv's hook
runs it first (it can block the commit as before). Hooks kept in the
repository itself (``core.hooksPath`` pointing inside the work tree) are the
project's files: devenv does not touch them and says what to add instead.
``doctor`` reads ``hook_state`` too, so both say the same thing.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError
from devenv.files import write_atomic
from devenv.resources import render_template, templates_dir

MARKER = "# devenv-hook: pre-commit"
CHAINED = "pre-commit.before-devenv"
LINT_COMMAND = "python -m devenv.onboarding.lint"


@dataclass(frozen=True)
class HookState:
    """The repository's pre-commit hook as it is (``hooks`` is None: not a git repository)."""

    hooks: Path | None
    exists: bool = False
    ours: bool = False
    executable: bool = False
    chained: Path | None = None  # the project's own hook that devenv's runs first
    in_tree: bool = False  # the hooks folder is inside the work tree (core.hooksPath)
    shared: bool = False  # outside this repository altogether (a global core.hooksPath)
    names_lint: bool = False  # the hook's text has the lint command in it (a hand-made one)

    @property
    def path(self) -> Path | None:
        return self.hooks / "pre-commit" if self.hooks is not None else None

    @property
    def lints(self) -> bool:
        """Whether a commit runs the lint: devenv's hook, or one that runs the command itself."""
        return self.executable and (self.ours or self.names_lint)


def hook_state(root: Path, lint: str | None = None) -> HookState:
    from devenv.doctor.repository import hooks_dir

    hooks = hooks_dir(root)
    if hooks is None:
        return HookState(None)
    hook = hooks / "pre-commit"
    chained = hooks / CHAINED
    git_dir = _git_dir(root)
    inside_git = git_dir is not None and hooks.resolve().is_relative_to(git_dir)
    in_tree = not inside_git and hooks.resolve().is_relative_to(root.resolve())
    exists = hook.is_file()
    head = _head(hook) if exists else b""
    return HookState(
        hooks=hooks,
        exists=exists,
        ours=MARKER.encode() in head,
        names_lint=bool(lint and lint.encode() in head),
        executable=exists and os.access(hook, os.X_OK),
        chained=chained if chained.exists() or chained.is_symlink() else None,
        in_tree=in_tree,
        shared=not inside_git and not in_tree,
    )


def _git_dir(root: Path) -> Path | None:
    """The repository's common git folder (the main one for a worktree), resolved."""
    from devenv.onboarding.git import Git

    common = Git(root).query("rev-parse", "--git-common-dir")
    return None if common is None else (root / common).resolve()


def _head(hook: Path) -> bytes:
    try:
        with hook.open("rb") as handle:
            return handle.read(16384)
    except OSError:
        return b""


def render(python: str | None = None) -> str:
    values = {"python": shlex.quote(python or sys.executable)}
    return render_template(templates_dir() / "hooks" / "pre-commit", values)


def install_hook(root: Path, python: str | None = None) -> str:
    """Install devenv's pre-commit hook; returns what it did. Raises DevenvError when it will
    not (not a repository, hooks kept in the work tree, two hooks of the project's own)."""
    state = hook_state(root)
    if state.hooks is None or state.path is None:
        raise DevenvError(f"{root} is not a git repository: there is nowhere to install a hook")
    hook = state.path
    did = "installed the pre-commit hook"
    if state.shared:
        raise DevenvError(
            f"git's hooks folder is {state.hooks} (core.hooksPath), shared with your other "
            "repositories: devenv does not install a hook there. Add "
            f"`{LINT_COMMAND}` to {hook.name} there (it does nothing in a project without "
            "onboarding.lint), then run `devenv onboard` again"
        )
    if state.exists and not state.ours:
        if state.in_tree:
            raise DevenvError(
                f"this repository keeps its hooks in {hook.parent} (core.hooksPath), and "
                f"{hook.name} there is the project's: devenv does not change the project's "
                f"files. Add `{LINT_COMMAND}` to it (it runs onboarding.lint), "
                "then run `devenv onboard` again"
            )
        if state.chained is not None:
            raise DevenvError(
                f"both {hook} and {state.chained} are hooks of your own: devenv will not guess "
                f"which to keep. Merge them into {state.chained.name}, remove {hook.name}, "
                "then run `devenv onboard` again"
            )
        os.replace(hook, hook.with_name(CHAINED))  # the same folder: a rename, never a copy
        did += f"; your own hook was kept as {CHAINED} and runs first"
    elif state.chained is not None:
        did += f"; it runs your own {CHAINED} first"
    state.hooks.mkdir(parents=True, exist_ok=True)
    write_atomic(hook, render(python), mode=0o755)
    return did
