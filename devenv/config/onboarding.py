"""[onboarding]: the first-day steps, the commands they run, and the project's own steps.

The built-in steps and their default order (``BUILTIN_STEPS``) are declared
here, once: the loader checks ``steps`` against them and the onboarding core
(devenv.onboarding) runs them. Every mistake is a ConfigError naming the key.
"""

from __future__ import annotations

import re
from typing import Any

from devenv.config.checks import Checks, Document, show
from devenv.config.model import FirstChange, OnboardingConfig, OnboardingStep
from devenv.config.schema import FIRST_CHANGE, ONBOARDING, STEP
from devenv.config.tomlpos import KeyPath
from devenv.errors import did_you_mean

# The built-in steps, in the order they run unless `steps` says otherwise.
BUILTIN_STEPS = (
    "prerequisites",
    "services",
    "dependencies",
    "git-hooks",
    "app",
    "branch",
    "first-change",
    "tests",
    "commit",
    "ship",
)
# Where the project's own steps go when `steps` is not given: after the set-up, before the
# change itself (they are things like "load the sample data" or "sign in to the registry").
OWN_STEPS_BEFORE = "branch"

_STEP_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


def load_onboarding(doc: Document, check: Checks, value: object) -> OnboardingConfig | None:
    """The [onboarding] table (None when there is none)."""
    if value is None:
        return None
    return _Onboarding(doc, check).load(value)


class _Onboarding:
    def __init__(self, doc: Document, check: Checks) -> None:
        self.doc = doc
        self.check = check
        self.key: KeyPath = ("onboarding",)

    def load(self, value: object) -> OnboardingConfig:
        key = self.key
        table = self.check.table(value, key, ONBOARDING.names)
        own = self.check.read(table, key, ONBOARDING.key("step"), self._own_steps)
        steps = self._order(table, own)
        test = self.check.read(table, key, ONBOARDING.key("test"))
        if test is None and "tests" in steps:
            self.doc.fail(key, 'missing test = "..." (the command that proves the tests pass)')
        return OnboardingConfig(
            test=test,
            lint=self.check.read(table, key, ONBOARDING.key("lint")),
            ship=self.check.read(table, key, ONBOARDING.key("ship")),
            first_change=self.check.read(
                table, key, ONBOARDING.key("first_change"), self._first_change
            ),
            health=self.check.read(table, key, ONBOARDING.key("health"), self._url),
            pr=self.check.read(table, key, ONBOARDING.key("pr")),
            webhook=self.check.read(table, key, ONBOARDING.key("webhook"), self._url),
            steps=steps,
            own_steps=own,
        )

    def _first_change(self, value: object, key: KeyPath) -> FirstChange:
        table = self.check.table(value, key, FIRST_CHANGE.names)
        for required in ("title", "file"):
            if required not in table:
                self.doc.fail(key, f'missing {required} = "..."')
        return FirstChange(
            title=self.check.read(table, key, FIRST_CHANGE.key("title")),
            file=self.check.read(table, key, FIRST_CHANGE.key("file")),
            hint=self.check.read(table, key, FIRST_CHANGE.key("hint")),
        )

    def _url(self, value: object, key: KeyPath) -> str:
        from urllib.parse import urlsplit

        text = self.check.string(value, key, 'an http(s) URL like "http://127.0.0.1:$PORT/health"')
        parts = urlsplit(text.replace("${PORT}", "1").replace("$PORT", "1"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.doc.fail(key, f"expected an http:// or https:// URL with a host, got {show(text)}")
        return text

    # [[onboarding.step]] and steps = [...]

    def _own_steps(self, value: object, key: KeyPath) -> tuple[OnboardingStep, ...]:
        if not isinstance(value, list):
            self.doc.fail(
                key, f"expected a list of tables ([[onboarding.step]]), got {show(value)}"
            )
        steps: list[OnboardingStep] = []
        for index, item in enumerate(value):
            step = self._own_step(item, (*key, index))
            for other_index, other in enumerate(steps):
                if other.id == step.id:
                    self.doc.fail(
                        (*key, index, "id"),
                        f"step '{step.id}' is declared twice (also onboarding.step[{other_index}])",
                    )
            steps.append(step)
        return tuple(steps)

    def _own_step(self, value: object, key: KeyPath) -> OnboardingStep:
        table = self.check.table(value, key, STEP.names)
        for required, what in (
            ("id", 'a short name for `steps`, like "sample-data"'),
            ("title", "what the person sees"),
            ("check", "a command that exits 0 once the step is done"),
        ):
            if required not in table:
                self.doc.fail(key, f'missing {required} = "..." ({what})')
        step_id = self.check.read(table, key, STEP.key("id"))
        if not _STEP_ID.fullmatch(step_id):
            self.doc.fail(
                (*key, "id"),
                f"a step id is lowercase letters, digits, '-' and '_', got {show(step_id)}",
            )
        if step_id in BUILTIN_STEPS:
            self.doc.fail(
                (*key, "id"),
                f"'{step_id}' is a built-in step; give your own step another id "
                "(to move or drop a built-in step, list the ids in `steps`)",
            )
        return OnboardingStep(
            id=step_id,
            title=self.check.read(table, key, STEP.key("title")),
            check=self.check.read(table, key, STEP.key("check")),
            action=self.check.read(table, key, STEP.key("action")),
            hint=self.check.read(table, key, STEP.key("hint")),
        )

    def _order(self, table: dict[str, Any], own: tuple[OnboardingStep, ...]) -> tuple[str, ...]:
        own_ids = [step.id for step in own]
        ids = self.check.read(table, self.key, ONBOARDING.key("steps"))
        if ids is None:
            at = BUILTIN_STEPS.index(OWN_STEPS_BEFORE)
            return (*BUILTIN_STEPS[:at], *own_ids, *BUILTIN_STEPS[at:])
        key: KeyPath = (*self.key, "steps")
        known = [*BUILTIN_STEPS, *own_ids]
        seen: dict[str, int] = {}
        for index, step_id in enumerate(ids):
            if step_id not in known:
                self.doc.fail(
                    (*key, index),
                    f"unknown step '{step_id}'{did_you_mean(step_id, known)} (the built-in "
                    f"steps are {', '.join(BUILTIN_STEPS)}; your own are declared with "
                    "[[onboarding.step]])",
                    at=key,
                )
            if step_id in seen:
                self.doc.fail(
                    (*key, index),
                    f"step '{step_id}' is listed twice (also steps[{seen[step_id]}])",
                    at=key,
                )
            seen[step_id] = index
        for index, step_id in enumerate(own_ids):
            if step_id not in seen:
                self.doc.fail(
                    (*self.key, "step", index, "id"),
                    f"step '{step_id}' is declared but not in onboarding.steps: add it where it "
                    "should run, or remove the step",
                )
        return ids
