"""The onboarding's decisions as pure functions: what follows a check, states shown, times."""

from __future__ import annotations

import pytest

from devenv.config import OnboardingConfig
from devenv.config.model import OnboardingStep
from devenv.config.onboarding import BUILTIN_STEPS
from devenv.onboarding import policy
from devenv.onboarding.catalog import order
from devenv.onboarding.model import Outcome


@pytest.mark.parametrize(
    ("outcome", "has_action", "acted", "wait", "expected"),
    [
        (Outcome.done("ok"), True, False, False, "next"),
        (Outcome.skipped("n/a"), False, False, False, "next"),
        (Outcome.failed("broken"), True, False, True, "fail"),
        (Outcome.not_yet("stopped"), True, False, False, "act"),
        (Outcome.not_yet("still stopped"), True, True, False, "fail"),
        (Outcome.not_yet("edit it", person=True), True, False, False, "stop"),
        (Outcome.not_yet("edit it", person=True), False, False, True, "wait"),
        (Outcome.not_yet("no action"), False, False, False, "stop"),
        (Outcome.not_yet("no action"), False, False, True, "wait"),
    ],
)
def test_what_follows_a_check(outcome, has_action, acted, wait, expected):
    assert policy.move(outcome, has_action=has_action, acted=acted, wait=wait) == expected


def test_shown_state():
    assert policy.shown_state("done", "failed") == "done"
    assert policy.shown_state("todo", "failed") == "failed"  # something to fix, not just to do
    assert policy.shown_state("todo", None) == "todo"
    assert policy.shown_state("done", "done", skipped=True) == "skipped"
    assert policy.shown_state(None, "done") == "done"
    assert policy.shown_state(None, None) == "todo"


def test_a_step_already_done_keeps_its_time():
    assert policy.counts_time(was_done=True, now="done") is False
    assert policy.counts_time(was_done=True, now="todo") is True  # came undone: redoing it
    assert policy.counts_time(was_done=False, now="done") is True
    assert policy.counts_time(was_done=False, now="failed") is True


def test_endings_and_exit_codes():
    assert policy.ending(["done", "skipped"], None) == "done"
    assert policy.ending(["done"], "fail") == "failed"
    assert policy.ending(["done"], "stop") == "waiting"
    assert policy.ending(["done"], "wait") == "waiting"
    assert [policy.exit_code(e) for e in ("done", "waiting", "failed")] == [0, 4, 1]


def test_order_of_a_config_built_by_hand_puts_own_steps_before_the_branch():
    own = OnboardingStep("vpn", "VPN", "true")
    ids = order(OnboardingConfig(test=None, own_steps=(own,)))
    assert ids.index("vpn") == BUILTIN_STEPS.index("branch")
    assert [i for i in ids if i != "vpn"] == list(BUILTIN_STEPS)
    assert order(OnboardingConfig(test="t", steps=("tests", "ship"))) == ("tests", "ship")


def test_the_onboarding_core_never_imports_the_ui():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import devenv.onboarding.flow, devenv.onboarding.lint, devenv.commands.onboard\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
