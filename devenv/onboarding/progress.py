"""Each person's onboarding progress, in ``.devenv/onboarding/<person>.json`` (mode 0600).

The person is git's ``user.email`` in the project, else the account's name. A
person who sets their git email halfway keeps their progress: the file kept
under the account's name is taken over. What is kept per step: its state,
its seconds, its last message, and small facts a step records for its check
(the tree the tests passed on, the commit that shipped). A file that cannot
be read is started over, never a traceback: progress is a convenience.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv.files import write_atomic
from devenv.onboarding.model import STATES, State
from devenv.project.layout import Layout


@dataclass(frozen=True)
class Person:
    key: str  # what the progress file is named after
    email: str | None  # git's user.email, when set
    account: str  # the OS account

    @property
    def shown(self) -> str:
        return self.email or self.account


def who(root: Path) -> Person:
    """The person onboarding in ``root``: git's user.email there, else the OS account."""
    from devenv.onboarding.git import Git

    account = _account()
    email = Git(root).query("config", "--get", "user.email")  # no git: the account it is
    return Person(key=email or account, email=email, account=account)


def _account() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        return f"uid-{os.getuid()}"


def folder(root: Path) -> Path:
    return Layout(root).base / "onboarding"


def progress_file(root: Path, person: Person) -> Path:
    return folder(root) / f"{_file_name(person.key)}.json"


def _file_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", key).lstrip(".") or "person"


@dataclass
class StepRecord:
    state: State | None = None
    seconds: float = 0.0
    skipped: bool = False  # the person chose to skip it (a check's "skipped" is not kept here)
    message: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Progress:
    """One person's progress. ``save()`` writes it atomically (0600); nothing else writes."""

    path: Path
    person: Person
    started_at: float | None = None
    finished_at: float | None = None
    base: str | None = None  # the commit the change is compared with (main when it began)
    steps: dict[str, StepRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, person: Person) -> Progress:
        path = progress_file(root, person)
        if person.email and not path.exists():
            before = progress_file(root, Person(person.account, None, person.account))
            if before.exists():  # the person set their git email since: keep their progress
                before.replace(path)
        progress = cls(path=path, person=person)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return progress
        if isinstance(data, dict):
            progress._read(data)
        return progress

    def _read(self, data: dict) -> None:
        self.started_at = _number(data.get("started_at"))
        self.finished_at = _number(data.get("finished_at"))
        self.base = data.get("base") if isinstance(data.get("base"), str) else None
        steps = data.get("steps")
        if not isinstance(steps, dict):
            return
        for step_id, entry in steps.items():
            if not isinstance(entry, dict):
                continue
            state = entry.get("state")
            facts = entry.get("facts")
            message = entry.get("message")
            self.steps[step_id] = StepRecord(
                state=state if state in STATES else None,
                seconds=_number(entry.get("seconds")) or 0.0,
                skipped=entry.get("skipped") is True,
                message=message if isinstance(message, str) else "",
                facts=facts if isinstance(facts, dict) else {},
            )

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def step(self, step_id: str) -> StepRecord:
        return self.steps.setdefault(step_id, StepRecord())

    def begin(self) -> None:
        if self.started_at is None:
            self.started_at = time.time()

    def save(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = {
            "person": self.person.shown,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "base": self.base,
            "steps": {
                step_id: {
                    "state": record.state,
                    "seconds": round(record.seconds, 3),
                    "skipped": record.skipped,
                    "message": record.message,
                    "facts": record.facts,
                }
                for step_id, record in self.steps.items()
            },
        }
        write_atomic(self.path, json.dumps(data, indent=2) + "\n")

    def reset(self) -> bool:
        """Forget everything (the file too); True when there was something to forget."""
        existed = self.path.exists()
        self.path.unlink(missing_ok=True)
        self.started_at = self.finished_at = self.base = None
        self.steps.clear()
        return existed


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def onboarded(root: Path, person: Person | None = None) -> bool:
    """Whether ``person`` (default: who runs this) finished the onboarding of this project:
    what ``devenv up`` asks before it offers the onboarding screen."""
    progress = Progress.load(root, person if person is not None else who(root))
    return progress.finished_at is not None
