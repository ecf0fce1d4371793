"""[onboarding] in devenv.toml: the steps' order, the project's own steps, and every bad value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devenv.config import load_config
from devenv.config.model import OnboardingStep
from devenv.config.onboarding import BUILTIN_STEPS
from devenv.errors import ConfigError


def load(root: Path, toml: str, files: dict[str, str] | None = None):
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "devenv.toml").write_text(textwrap.dedent(toml))
    return load_config(root / "devenv.toml")


def error(root: Path, toml: str, files: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(root, toml, files)
    return str(info.value)


def test_the_default_order_puts_own_steps_after_the_set_up(tmp_path):
    config = load(
        tmp_path,
        """
        [onboarding]
        test = "pytest"
        health = "http://127.0.0.1:$PORT/health"
        pr = "gh pr create --fill"
        webhook = "https://hooks.example.com/shipped"

        [[onboarding.step]]
        id = "sample-data"
        title = "Load the sample data"
        check = "test -f data/sample.db"
        action = "make sample"
        hint = "It takes a minute."
        """,
    )
    onboarding = config.onboarding
    assert onboarding is not None
    assert onboarding.steps == (
        "prerequisites",
        "services",
        "dependencies",
        "git-hooks",
        "app",
        "sample-data",
        "branch",
        "first-change",
        "tests",
        "commit",
        "ship",
    )
    assert onboarding.own_steps == (
        OnboardingStep(
            "sample-data",
            "Load the sample data",
            "test -f data/sample.db",
            "make sample",
            "It takes a minute.",
        ),
    )
    assert onboarding.health == "http://127.0.0.1:$PORT/health"
    assert onboarding.pr == "gh pr create --fill"
    assert onboarding.webhook == "https://hooks.example.com/shipped"


def test_steps_reorder_and_drop_and_tests_need_no_command_when_dropped(tmp_path):
    config = load(
        tmp_path,
        """
        [onboarding]
        steps = ["branch", "vpn", "first-change", "commit"]
        [[onboarding.step]]
        id = "vpn"
        title = "Connect to the VPN"
        check = "true"
        """,
    )
    assert config.onboarding is not None
    assert config.onboarding.steps == ("branch", "vpn", "first-change", "commit")
    assert config.onboarding.test is None
    assert set(config.onboarding.steps) - {"vpn"} <= set(BUILTIN_STEPS)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        pytest.param(
            '[onboarding]\ntest = "t"\nsteps = ["prerequisites", "servces"]\n',
            "devenv.toml:3: onboarding.steps[1]: unknown step 'servces'; did you mean "
            "'services'? (the built-in steps are prerequisites, services, dependencies, "
            "git-hooks, app, branch, first-change, tests, commit, ship; your own are "
            "declared with [[onboarding.step]])",
            id="unknown-step",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nsteps = ["tests", "commit", "tests"]\n',
            "devenv.toml:3: onboarding.steps[2]: step 'tests' is listed twice (also steps[0])",
            id="listed-twice",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nsteps = "tests"\n',
            "devenv.toml:3: onboarding.steps: expected a list of strings, got 'tests'",
            id="steps-not-a-list",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nsteps = ["tests"]\n'
            '[[onboarding.step]]\nid = "vpn"\ntitle = "VPN"\ncheck = "true"\n',
            "devenv.toml:5: onboarding.step[0].id: step 'vpn' is declared but not in "
            "onboarding.steps: add it where it should run, or remove the step",
            id="declared-not-listed",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "vpn"\ntitle = "VPN"\n',
            'devenv.toml:3: onboarding.step[0]: missing check = "..." '
            "(a command that exits 0 once the step is done)",
            id="step-without-check",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\ntitle = "VPN"\ncheck = "true"\n',
            'devenv.toml:3: onboarding.step[0]: missing id = "..." '
            '(a short name for `steps`, like "sample-data")',
            id="step-without-id",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "Sign In"\ntitle = "x"\n'
            'check = "true"\n',
            "devenv.toml:4: onboarding.step[0].id: a step id is lowercase letters, digits, "
            "'-' and '_', got 'Sign In'",
            id="step-bad-id",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "tests"\ntitle = "x"\n'
            'check = "true"\n',
            "devenv.toml:4: onboarding.step[0].id: 'tests' is a built-in step; give your own "
            "step another id (to move or drop a built-in step, list the ids in `steps`)",
            id="step-shadows-builtin",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "a"\ntitle = "x"\ncheck = "true"\n'
            '[[onboarding.step]]\nid = "a"\ntitle = "y"\ncheck = "true"\n',
            "devenv.toml:8: onboarding.step[1].id: step 'a' is declared twice "
            "(also onboarding.step[0])",
            id="step-twice",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "a"\ntitle = "x"\n'
            'check = "true"\nwhen = "always"\n',
            "devenv.toml:7: onboarding.step[0]: unknown key 'when'",
            id="step-unknown-key",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nstep = { id = "a" }\n',
            "devenv.toml:3: onboarding.step: expected a list of tables ([[onboarding.step]]), "
            "got a table",
            id="step-not-a-list",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\n[[onboarding.step]]\nid = "a"\ntitle = "x"\ncheck = ""\n',
            "devenv.toml:6: onboarding.step[0].check: expected a shell command, "
            "got an empty string",
            id="step-empty-check",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nwebhook = "hooks.example.com/x"\n',
            "devenv.toml:3: onboarding.webhook: expected an http:// or https:// URL with a "
            "host, got 'hooks.example.com/x'",
            id="webhook-not-a-url",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nhealth = 8000\n',
            "devenv.toml:3: onboarding.health: expected an http(s) URL like "
            '"http://127.0.0.1:$PORT/health", got 8000',
            id="health-not-a-string",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\npr = ["gh", "pr", "create"]\n',
            "devenv.toml:3: onboarding.pr: expected a shell command, got a list",
            id="pr-not-a-command",
        ),
        pytest.param(
            '[onboarding]\ntest = "t"\nshipit = "git push"\n',
            "devenv.toml:3: onboarding: unknown key 'shipit'; did you mean 'ship'?",
            id="unknown-key",
        ),
        pytest.param(
            '[onboarding]\nlint = "ruff check ."\nsteps = ["tests"]\n',
            'devenv.toml:1: onboarding: missing test = "..." (the command that proves the '
            "tests pass)",
            id="tests-step-needs-test",
        ),
    ],
)
def test_bad_values_name_the_line_and_key(tmp_path, toml, expected):
    assert error(tmp_path, toml) == expected


def test_first_change_is_still_read(tmp_path):
    config = load(
        tmp_path,
        """
        [onboarding]
        test = "pytest"
        [onboarding.first_change]
        title = "Change the greeting"
        file = "app/greeting.py"
        """,
        {"app/greeting.py": "GREETING = 'hi'\n"},
    )
    assert config.onboarding is not None and config.onboarding.first_change is not None
    assert config.onboarding.first_change.file == tmp_path / "app" / "greeting.py"
    assert config.onboarding.steps == BUILTIN_STEPS
