"""``python -m devenv.onboarding.lint``: what devenv's pre-commit hook runs.

It runs the project's ``onboarding.lint`` (read from devenv.toml at each
commit, so a changed command needs no reinstall) at the project root, inside
the project's environment (its virtualenv first on PATH). Exit 0: the commit
goes on. Otherwise the lint's own output says what is wrong, and a last line
starting with ``BLOCKED`` says the commit was not made (the onboarding's
commit step looks for it to tell a lint failure from other git errors).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BLOCKED = "devenv: lint failed, the commit was not made"


def main() -> int:
    from devenv.config import find_config, load_config
    from devenv.errors import DevenvError

    try:
        path = find_config(Path.cwd())
    except DevenvError:  # not a devenv project (a hooks folder shared by several): no lint
        return 0
    try:
        config = load_config(path)
    except DevenvError as err:
        print(f"devenv: cannot read the lint command: {err}", file=sys.stderr)
        print(f"{BLOCKED} (fix the config, or commit with --no-verify)", file=sys.stderr)
        return 1
    onboarding = config.onboarding
    if onboarding is None or not onboarding.lint:
        return 0
    from devenv.environment.activation import activate
    from devenv.environment.project import ProjectEnv

    env = activate(ProjectEnv.from_config(config), os.environ)
    sys.stdout.flush()
    try:
        code = subprocess.call(onboarding.lint, shell=True, cwd=config.root, env=env)
    except OSError as err:
        code, why = 127, f"cannot run it: {err.strerror}"
    else:
        why = f"exit code {code}"
    if code == 0:
        return 0
    print(
        f"{BLOCKED}: `{onboarding.lint}` (onboarding.lint in {config.source.name}) "
        f"failed with {why}. Fix what it says, then commit again "
        "(`git commit --no-verify` skips the lint)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
