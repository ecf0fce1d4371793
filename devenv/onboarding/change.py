"""The change itself: a branch off main, the first change (the person's edit), the tests
passing on it, and the commit (through the lint hook).

"Main" is the commit the onboarding began from (``StepContext.base``), so a
change committed on a project that dropped the branch step still counts.
"""

from __future__ import annotations

import re
from pathlib import Path

from devenv.onboarding.context import StepContext
from devenv.onboarding.model import Outcome, StepFailed

BRANCH_PREFIX = "onboarding/"
DEFAULT_TITLE = "My first change"


def title(ctx: StepContext) -> str:
    first = ctx.onboarding.first_change
    return first.title if first is not None else DEFAULT_TITLE


def slug(text: str) -> str:
    """``"Change the greeting!"`` -> ``"change-the-greeting"`` (a branch name part)."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:48].rstrip("-") or "first-change"


def branch_name(ctx: StepContext) -> str:
    return BRANCH_PREFIX + slug(title(ctx))


# ---------------------------------------------------------------- a branch off main


def check_branch(ctx: StepContext) -> Outcome:
    git = ctx.git
    if not git.is_repository():
        return Outcome.failed(
            f"{ctx.root} is not a git repository",
            "clone the project with git, then run `devenv onboard` again",
        )
    main = git.main_branch()
    current = git.branch()
    if current is None:
        return Outcome.not_yet("HEAD is detached", f"devenv creates {branch_name(ctx)}")
    if current == main:
        return Outcome.not_yet(f"on {main}", f"devenv creates {branch_name(ctx)} off {main}")
    return Outcome.done(f"on {current}, off {main}")


def create_branch(ctx: StepContext) -> None:
    git = ctx.git
    name = branch_name(ctx)
    main = git.main_branch()
    if ctx.progress.base is None:
        ctx.progress.base = git.rev(main)
    if git.branch_exists(name):
        git.run("switch", name)  # carries uncommitted edits along, or says why it cannot
    else:
        git.run("switch", "-c", name)
    ctx.output(f"git switch -c {name} (off {main} at {(git.rev(main) or '?')[:12]})")


# ---------------------------------------------------------------- the first change


def check_first_change(ctx: StepContext) -> Outcome:
    git = ctx.git
    base = ctx.base()
    if base is None:
        return Outcome.failed("the repository has no commit to compare a change with")
    first = ctx.onboarding.first_change
    hint = f" {first.hint}" if first is not None and first.hint else ""
    if first is None:
        if git.changed_since(base):
            return Outcome.done("you changed the project")
        return Outcome.not_yet(
            "nothing changed yet", "make a small change of your own, and save it", person=True
        )
    shown = ctx.shown(first.file)
    if git.differs(base, first.file):
        return Outcome.done(f"{shown} changed")
    return Outcome.not_yet(f"{shown} is as on main", f"edit {shown}:{hint}", person=True)


def watch_first_change(ctx: StepContext) -> tuple[Path, ...]:
    first = ctx.onboarding.first_change
    if first is not None:
        return (first.file,)
    return (ctx.root,)


def watch_tree(ctx: StepContext) -> tuple[Path, ...]:
    """The project's folders that hold tracked files (not the virtualenv, not .git): where a
    fix is saved. At most ``WATCHED`` of them; the waiter's poll covers the rest."""
    folders = {ctx.root}
    for name in ctx.git.out("ls-files").splitlines():
        folders.add((ctx.root / name).parent)
        if len(folders) >= WATCHED:
            break
    return tuple(sorted(folders))


WATCHED = 256


# ---------------------------------------------------------------- tests pass


def check_tests(ctx: StepContext) -> Outcome:
    command = ctx.onboarding.test
    if not command:
        return Outcome.skipped("no test command ([onboarding] test)")
    passed = ctx.record.facts.get("passed_on")
    if passed and passed == ctx.git.tree_fingerprint():
        return Outcome.done(f"`{command}` passed on this change")
    return Outcome.not_yet(f"`{command}` has not passed on this change yet", "devenv runs it")


def run_tests(ctx: StepContext) -> None:
    command = ctx.onboarding.test
    assert command is not None
    fingerprint = ctx.git.tree_fingerprint()
    ran = ctx.sh(command, env=ctx.project_env(services=True))
    if not ran.ok:
        raise StepFailed(
            f"`{command}` failed (exit code {ran.code})",
            "fix what the output says (the test pinning what you changed?), "
            "then run `devenv onboard` again",
            ran.tail,
        )
    ctx.record.facts["passed_on"] = fingerprint


# ---------------------------------------------------------------- commit


def commit_message(ctx: StepContext) -> str:
    return ctx.message or title(ctx)


def check_commit(ctx: StepContext) -> Outcome:
    git = ctx.git
    base = ctx.base()
    if base is None:
        return Outcome.failed("the repository has no commit to compare a change with")
    first = ctx.onboarding.first_change
    committed = git.commits_since(base) > 0
    pending = git.uncommitted(first.file if first is not None else None)
    if committed and not pending:
        subject = git.out("log", "-1", "--format=%s")
        return Outcome.done(f'committed "{subject}"')
    name, email = git.identity()
    if not (name and email):
        return Outcome.not_yet(
            "git does not know who you are yet",
            'tell it: git config --global user.name "Your Name" && '
            "git config --global user.email you@example.com",
            person=True,
        )
    return Outcome.not_yet(
        "your change is not committed yet", f'devenv commits "{commit_message(ctx)}"'
    )


def commit(ctx: StepContext) -> None:
    from devenv.onboarding.lint import BLOCKED

    git = ctx.git
    first = ctx.onboarding.first_change
    if first is not None:
        git.run("add", "--", git.relative(first.file))
    git.run("add", "--update")  # the other files it touched (the test that pins it)
    message = commit_message(ctx)
    ran = ctx.sh(f"git commit --quiet -m {_quote(message)}", env=None)
    if ran.ok:
        left = git.untracked()
        if left:
            ctx.output(f"not committed (new files: add them if they belong): {', '.join(left)}")
        return
    if any(BLOCKED in line for line in ran.tail):
        raise StepFailed(
            "the lint failed, so the commit was not made",
            f"fix what `{ctx.onboarding.lint}` says, then run `devenv onboard` again",
            ran.tail,
        )
    raise StepFailed(
        f"`git commit` failed (exit code {ran.code})", "read git's words below", ran.tail
    )


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
