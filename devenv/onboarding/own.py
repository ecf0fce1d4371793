"""The project's own steps ([[onboarding.step]]): a check command, an optional action, a hint.

The check is done when it exits 0. It and the action run at the project root
in the project's environment with the services' variables (as ``devenv
run``), their output streamed. A step without an action is one the person
does: the onboarding shows the hint and waits (or stops there).
"""

from __future__ import annotations

from devenv.config.model import OnboardingStep
from devenv.onboarding.context import StepContext
from devenv.onboarding.model import Outcome, Step, StepFailed


def own_step(spec: OnboardingStep) -> Step:
    def check(ctx: StepContext) -> Outcome:
        ran = _quiet(ctx, spec.check)
        if ran == 0:
            return Outcome.done(f"`{spec.check}` passes")
        what = spec.hint or (f"devenv runs `{spec.action}`" if spec.action else "")
        return Outcome.not_yet(f"`{spec.check}` exits {ran}", what, person=spec.action is None)

    def act(ctx: StepContext) -> str:
        assert spec.action is not None
        ran = ctx.sh(spec.action, env=_env(ctx))
        if not ran.ok:
            raise StepFailed(
                f"`{spec.action}` failed (exit code {ran.code})",
                spec.hint or "read its output below, then run `devenv onboard` again",
                ran.tail,
            )
        return f"ran `{spec.action}`"

    return Step(
        id=spec.id,
        title=spec.title,
        check=check,
        action=act if spec.action else None,
        hint=spec.hint,
    )


def _env(ctx: StepContext) -> dict[str, str]:
    from devenv.errors import DevenvError

    try:
        return ctx.project_env(services=True)
    except DevenvError:  # a service that cannot be built (binaries missing): no variables
        return ctx.project_env(services=False)


def _quiet(ctx: StepContext, command: str) -> int:
    """Run a check: its output is not shown (a check is asked often), only its exit code."""
    import subprocess

    try:
        return subprocess.run(
            command,
            shell=True,
            cwd=ctx.root,
            env=_env(ctx),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        ).returncode
    except subprocess.TimeoutExpired:
        return 124  # as timeout(1) says it
    except OSError:
        return 127
