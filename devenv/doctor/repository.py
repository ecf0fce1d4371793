"""The project's git repository: the lint hook (id ``git-hooks``, when ``onboarding.lint`` is set).

The hook itself is installed by the onboarding; doctor only says when it is
missing, so it is never fixable here.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from devenv.doctor.checks import Check, Context, ok, warn


def hooks_dir(root: Path) -> Path | None:
    """The repository's hooks folder (honours core.hooksPath and worktrees); None: not a repo."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):  # no git here: look for the plain layout
        return root / ".git" / "hooks" if (root / ".git").is_dir() else None
    if result.returncode != 0:
        return None
    return (root / result.stdout.strip()).resolve()


def git_hooks(context: Context) -> Iterator[Check]:
    config = context.config
    assert config is not None and context.root is not None
    if config.onboarding is None or not config.onboarding.lint:
        return
    lint = config.onboarding.lint
    hooks = hooks_dir(context.root)
    if hooks is None:
        yield warn(
            "git-hooks",
            f"{context.root} is not a git repository, so `{lint}` cannot run on commit",
            "`git init`, then `devenv onboard` installs the pre-commit hook",
        )
        return
    from devenv.onboarding.hooks import hook_state

    state = hook_state(context.root, lint)  # what the onboarding's git-hooks step looks at
    hook = hooks / "pre-commit"
    shown = context.shown(hook)
    if not state.exists:
        yield warn(
            "git-hooks",
            f"no pre-commit hook ({shown}): `{lint}` (onboarding.lint) does not run on commit",
            "run `devenv onboard`: it installs the hook",
        )
    elif not state.executable:
        yield warn(
            "git-hooks", f"{shown} is not executable, so git skips it", f"`chmod +x {shown}`"
        )
    elif not state.lints:
        yield warn(
            "git-hooks",
            f"{shown} is the repository's own hook and does not run `{lint}` (onboarding.lint)",
            "run `devenv onboard`: it installs devenv's hook, which runs this one first",
        )
    else:
        yield ok("git-hooks", f"pre-commit hook installed ({shown}); onboarding.lint: `{lint}`")
