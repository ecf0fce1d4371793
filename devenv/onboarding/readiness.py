"""The set-up steps: prerequisites (doctor's checks), services healthy, dependencies in sync,
git hooks installed. Each check changes nothing; each action does what `devenv doctor --fix`,
`devenv up -d`, `devenv sync` or the hook installer would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devenv.events import Emit, Event
from devenv.onboarding.context import StepContext
from devenv.onboarding.model import Outcome, StepFailed

if TYPE_CHECKING:
    from devenv.doctor.checks import Report

# doctor's checks that are prerequisites; the git hook and the dependencies are steps of their
# own, later, with an action each.
PREREQUISITE_FAMILIES = (
    "service-user",
    "binaries",
    "ports",
    "stale-pid",
    "stale-sockets",
    "leftovers",
    "socket-path",
    "disk",
    "parity",
    "python-version",
    "venv-location",
)


# ---------------------------------------------------------------- prerequisites


def _doctor(ctx: StepContext) -> Report:
    from devenv.doctor.checks import FAMILIES, run_checks

    families = [family for family in FAMILIES if family.id in PREREQUISITE_FAMILIES]
    return run_checks(ctx.root, families)


def check_prerequisites(ctx: StepContext) -> Outcome:
    report = _doctor(ctx)
    failed = [check for check in report.checks if check.state == "fail"]
    warned = sum(check.state == "warn" for check in report.checks)
    if failed:
        return Outcome.not_yet(
            "; ".join(f"{check.id}: {check.message}" for check in failed),
            "; ".join(check.fix for check in failed if check.fix),
        )
    note = f", {warned} warning{'s' if warned != 1 else ''} (`devenv doctor`)" if warned else ""
    return Outcome.done(f"{len(report.checks)} checks passed{note}")


def fix_prerequisites(ctx: StepContext) -> str:
    from devenv.doctor.checks import apply_fixes

    report = _doctor(ctx)
    fixable = [check for check in report.checks if check.state == "fail" and check.fixable]
    fixed = apply_fixes(fixable)
    for item in fixed:
        ctx.output(f"{'fixed' if item.done else 'could not fix'} {item.id}: {item.message}")
    left = [c for c in _doctor(ctx).checks if c.state == "fail"]
    if left:
        raise StepFailed(
            "; ".join(f"{check.id}: {check.message}" for check in left),
            "; ".join(check.fix for check in left if check.fix)
            + " (then run `devenv onboard` again)",
        )
    return f"repaired {len(fixed)} thing{'s' if len(fixed) != 1 else ''}"


# ---------------------------------------------------------------- services


def check_services(ctx: StepContext) -> Outcome:
    if not ctx.config.services:
        return Outcome.skipped("this project has no services")
    from devenv.services.stack import Stack

    status = Stack(ctx.config).status()
    waiting = {name: info for name, info in status.items() if info.state != "ready"}
    if not waiting:
        return Outcome.done(f"{' and '.join(status)} ready")
    said = ", ".join(f"{name} {info.state}" for name, info in waiting.items())
    return Outcome.not_yet(said, "`devenv up -d` starts them")


def start_services(ctx: StepContext) -> str:
    """What `devenv up -d` does: the services, the project's environment alongside, the hooks."""
    from devenv.environment.startup import prepare
    from devenv.errors import DevenvError
    from devenv.project.runlock import operation_lock
    from devenv.services.stack import Stack

    emit = _lines(ctx)
    stack = Stack(ctx.config, emit)
    try:
        with operation_lock(stack.layout):
            stack.start(alongside=lambda: prepare(ctx.config, emit, interactive=False))
    except DevenvError as err:  # a missing binary, a taken port, a failed hook or install
        raise StepFailed(str(err), "correct what it says, then `devenv onboard` again") from None
    return "started the services (as `devenv up -d`)"


def _lines(ctx: StepContext) -> Emit:
    """An Emit that turns devenv's events into output lines (``postgres | ready in ...``)."""
    from devenv.console import describe

    def emit(event: Event) -> None:
        text = describe(event)
        if text is not None:
            ctx.output(f"{event.name} | {text}")

    return emit


# ---------------------------------------------------------------- dependencies


def check_dependencies(ctx: StepContext) -> Outcome:
    from devenv.environment.drift import check, summary
    from devenv.environment.project import ProjectEnv

    env = ProjectEnv.from_config(ctx.config)
    if not env.lockfiles:
        return Outcome.skipped("no lockfiles")
    drifts = check(env)
    unknown = [d for d in drifts.values() if d.state == "unknown"]
    if unknown:
        return Outcome.failed(
            "; ".join(d.error or f"{d.lockfile.name} cannot be read" for d in unknown),
            "correct the lockfile, then run `devenv onboard` again",
        )
    drifted = [d for d in drifts.values() if d.state in ("drift", "not-installed")]
    if drifted:
        said = "; ".join(summary(d) for d in drifted)
        return Outcome.not_yet(said, "`devenv sync` installs them")
    return Outcome.done(", ".join(ctx.shown(path) for path in drifts) + " in sync")


def sync_dependencies(ctx: StepContext) -> str:
    from devenv.environment.drift import check
    from devenv.environment.policy import drifted
    from devenv.environment.project import ProjectEnv
    from devenv.environment.startup import sync_lockfiles
    from devenv.errors import DevenvError

    env = ProjectEnv.from_config(ctx.config)
    wanted = drifted(check(env))
    try:
        done = sync_lockfiles(ctx.config, env, wanted, _lines(ctx), reason="onboarding")
    except DevenvError as err:
        raise StepFailed(str(err), "`devenv logs deps` shows the whole install") from None
    return f"installed {', '.join(path.name for path in done)}"


# ---------------------------------------------------------------- git hooks


def check_git_hooks(ctx: StepContext) -> Outcome:
    from devenv.onboarding.hooks import CHAINED, hook_state

    lint = ctx.onboarding.lint
    if not lint:
        return Outcome.skipped("no onboarding.lint: nothing to run on commit")
    state = hook_state(ctx.root, lint)
    if state.hooks is None:
        return Outcome.failed(
            f"{ctx.root} is not a git repository",
            "clone the project with git, then run `devenv onboard` again",
        )
    if state.lints:
        chained = f", after your own {CHAINED}" if state.ours and state.chained else ""
        mine = "" if state.ours else " (by the repository's own hook)"
        return Outcome.done(f"`{lint}` runs on each commit{chained}{mine}")
    if state.exists and not state.ours:
        return Outcome.not_yet(
            "the repository has a pre-commit hook of its own, which does not run the lint",
            f"devenv installs its hook and keeps yours as {CHAINED}, run first",
        )
    return Outcome.not_yet(f"`{lint}` does not run on commit yet", "devenv installs the hook")


def install_git_hooks(ctx: StepContext) -> str:
    from devenv.errors import DevenvError
    from devenv.onboarding.hooks import install_hook

    try:
        return install_hook(ctx.root)
    except DevenvError as err:
        raise StepFailed(str(err)) from None
