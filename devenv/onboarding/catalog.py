"""The steps of a project's onboarding, built from its config, in its order.

``steps_for(config)`` returns the built-in steps (devenv.config.onboarding.BUILTIN_STEPS)
and the project's own, in the order ``[onboarding] steps`` gives (the default order
when unset). A project without ``[onboarding]`` gets the built-in steps with
no test command and no lint: those steps are skipped.
"""

from __future__ import annotations

from devenv.config import Config, OnboardingConfig
from devenv.config.onboarding import BUILTIN_STEPS, OWN_STEPS_BEFORE
from devenv.onboarding import app, change, readiness, ship
from devenv.onboarding.model import Step
from devenv.onboarding.own import own_step


def onboarding_config(config: Config) -> OnboardingConfig:
    return config.onboarding if config.onboarding is not None else OnboardingConfig(test=None)


def order(onboarding: OnboardingConfig) -> tuple[str, ...]:
    if onboarding.steps:
        return onboarding.steps
    own = [step.id for step in onboarding.own_steps]
    at = BUILTIN_STEPS.index(OWN_STEPS_BEFORE)
    return (*BUILTIN_STEPS[:at], *own, *BUILTIN_STEPS[at:])


def builtin_steps(onboarding: OnboardingConfig) -> dict[str, Step]:
    first = onboarding.first_change
    return {
        "prerequisites": Step(
            "prerequisites",
            "Prerequisites (devenv doctor)",
            readiness.check_prerequisites,
            readiness.fix_prerequisites,
        ),
        "services": Step(
            "services", "Services healthy", readiness.check_services, readiness.start_services
        ),
        "dependencies": Step(
            "dependencies",
            "Dependencies in sync",
            readiness.check_dependencies,
            readiness.sync_dependencies,
        ),
        "git-hooks": Step(
            "git-hooks",
            "Git hooks installed (lint on commit)",
            readiness.check_git_hooks,
            readiness.install_git_hooks,
        ),
        "app": Step("app", "Processes up, the app answering", app.check_app, app.start_app),
        "branch": Step(
            "branch", "A branch off the main branch", change.check_branch, change.create_branch
        ),
        "first-change": Step(
            "first-change",
            first.title if first is not None else change.DEFAULT_TITLE,
            change.check_first_change,
            None,
            first.hint if first is not None else None,
            watch=change.watch_first_change,
        ),
        "tests": Step(
            "tests", "Tests pass", change.check_tests, change.run_tests, retry_on_change=True
        ),
        "commit": Step(
            "commit",
            "Commit (the hook lints)",
            change.check_commit,
            change.commit,
            retry_on_change=True,
        ),
        "ship": Step("ship", "Ship", ship.check_ship, ship.ship),
    }


def steps_for(config: Config) -> list[Step]:
    onboarding = onboarding_config(config)
    known = {**builtin_steps(onboarding), **{s.id: own_step(s) for s in onboarding.own_steps}}
    return [known[step_id] for step_id in order(onboarding)]
