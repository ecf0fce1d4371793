"""The onboarding's core on a small real project: a real git repository and bare origin, the
real pre-commit hook, real test and lint commands, and a real HTTP server for the webhook.

The project has no services and no processes (those steps are skipped here; the demo's
end-to-end test runs them against the real PostgreSQL and Redis).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devenv.config import load_project
from devenv.onboarding.events import (
    OnboardingFinished,
    PersonAwaited,
    StepChanged,
    StepOutput,
    StepStarted,
)
from devenv.onboarding.flow import Onboarding
from devenv.onboarding.hooks import CHAINED
from devenv.onboarding.progress import onboarded, progress_file, who
from tests.onboarding_kit import IDENTITY, STEPS, Webhook, git, git_identity, tiny_project


@pytest.fixture
def identity(tmp_path, monkeypatch):
    for name, value in git_identity(tmp_path).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


# The project's PR command, as `gh pr create` would be: here it leaves a file saying it ran.
PR = 'pr = "echo PR for $(git branch --show-current) >> .devenv/prs"\n'


@pytest.fixture
def project(tmp_path, identity, webhook, monkeypatch):
    root = tiny_project(tmp_path, webhook=webhook.url, onboarding=PR)
    monkeypatch.chdir(root)
    return root


class Recorder:
    """An Emit that keeps every event, and runs ``on_wait`` (in a thread) when the onboarding
    waits for the person, as a person editing in another window would."""

    def __init__(self, on_wait=None) -> None:
        self.events: list = []
        self.on_wait = on_wait

    def __call__(self, event) -> None:
        self.events.append(event)
        if isinstance(event, PersonAwaited) and self.on_wait is not None:
            threading.Thread(target=self.on_wait, args=(event,), daemon=True).start()

    def of(self, kind) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def say_hello(root: Path, text: str = "Hello, new colleague.\n") -> None:
    (root / "greeting.txt").write_text(text)


def states(onboarding: Onboarding) -> dict[str, str]:
    return {view.id: view.state for view in onboarding.views}


def test_the_whole_onboarding_through_the_core(project, webhook):
    recorder = Recorder(on_wait=lambda event: say_hello(project))
    onboarding = Onboarding(load_project(project), emit=recorder)

    assert not onboarded(project)
    result = onboarding.run(wait=True)

    assert result.ending == "done", [(v.id, v.state, v.message, v.tail) for v in result.steps]
    assert states(onboarding) == {
        **dict.fromkeys(STEPS, "done"),
        "services": "skipped",
        "dependencies": "skipped",
        "app": "skipped",
    }
    # The order, and the wait for the person at the edit.
    assert [e.name for e in recorder.of(StepStarted)] == STEPS
    assert [e.name for e in recorder.of(PersonAwaited)] == ["first-change"]
    instruction = recorder.of(PersonAwaited)[0].instruction
    assert instruction == "edit greeting.txt: Write a friendlier greeting."
    finished = recorder.of(OnboardingFinished)
    assert len(finished) == 1 and finished[0].total_seconds == result.total_seconds > 0
    # The tests' output was streamed.
    assert any("Ran 1 test" in e.line for e in recorder.of(StepOutput) if e.name == "tests")

    # A branch off main, one commit with the change's title, through devenv's hook, pushed.
    assert git(project, "branch", "--show-current") == "onboarding/say-hello"
    assert git(project, "log", "-1", "--format=%s") == "Say hello"
    assert git(project, "rev-list", "--count", "main..HEAD") == "1"
    origin = project.parent / "tiny-origin.git"
    assert git(origin, "rev-parse", "onboarding/say-hello") == git(project, "rev-parse", "HEAD")
    hook = project / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK) and "devenv-hook: pre-commit" in hook.read_text()

    # The friendly robots: the PR command ran once, then one POST with the title, the
    # branch, the person and their time.
    assert (project / ".devenv" / "prs").read_text() == "PR for onboarding/say-hello\n"
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post["content_type"] == "application/json"
    body = post["body"]
    assert body["title"] == "Say hello"
    assert body["branch"] == "onboarding/say-hello"
    assert body["person"] == IDENTITY[1]
    assert body["project"] == "tiny"
    assert 0 < body["seconds"] <= result.total_seconds + 0.1

    # Progress: the person's own file, owner-only, every step with a time.
    path = progress_file(project, who(project))
    assert path.name == f"{IDENTITY[1]}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["finished_at"] is not None
    assert set(saved["steps"]) == set(STEPS)

    # Finished: a later run shows the record, checks nothing, changes nothing.
    assert onboarded(project)
    again = Onboarding(load_project(project), emit=Recorder())
    assert again.finished
    assert again.run().ending == "done"
    assert len(webhook.posts) == 1


def test_quit_while_waiting_for_the_edit_then_resume(project, webhook):
    holder: dict = {}
    recorder = Recorder(on_wait=lambda event: holder["onboarding"].cancel())
    first = holder["onboarding"] = Onboarding(load_project(project), emit=recorder)

    result = first.run(wait=True)

    assert result.ending == "cancelled"
    assert result.step is not None and result.step.id == "first-change"
    before = {view.id: view.seconds for view in first.views}
    assert before["git-hooks"] > 0 and before["branch"] > 0

    # A new process, later: the record says where it was.
    second = Onboarding(load_project(project))
    shown = states(second)
    assert shown["branch"] == "done" and shown["first-change"] == "todo"
    assert {v.id: v.seconds for v in second.views}["branch"] == before["branch"]
    stopped = second.run(wait=False)
    assert stopped.ending == "waiting" and stopped.step is not None
    assert stopped.step.id == "first-change"
    assert stopped.step.todo == "edit greeting.txt: Write a friendlier greeting."
    # Steps already done were only looked at again: their time to first ship is what it was.
    after = {view.id: view.seconds for view in second.views}
    assert after["branch"] == before["branch"] and after["git-hooks"] == before["git-hooks"]

    say_hello(project)
    assert Onboarding(load_project(project)).run(wait=False).ending == "done"
    assert git(project, "log", "-1", "--format=%s") == "Say hello"
    assert len(webhook.posts) == 1


def test_a_lint_failure_blocks_the_commit_and_says_why(project, webhook):
    say_hello(project, "HELLO!!!\n")
    onboarding = Onboarding(load_project(project), message="Shout hello")

    result = onboarding.run(wait=False)

    assert result.ending == "failed"
    step = result.step
    assert step is not None and step.id == "commit"
    assert step.message == "the lint failed, so the commit was not made"
    assert "three exclamation marks are shouting" in "\n".join(step.tail)
    assert step.todo.startswith(f"fix what `{sys.executable} lint.py` says")
    assert git(project, "rev-list", "--count", "main..HEAD") == "0"  # no commit
    assert states(onboarding)["tests"] == "done"  # the tests passed; the lint is what failed
    assert webhook.posts == []

    say_hello(project, "Hello, quietly.\n")
    result = Onboarding(load_project(project), message="Shout hello").run(wait=False)
    assert result.ending == "done"
    assert git(project, "log", "-1", "--format=%s") == "Shout hello"  # --message wins
    assert webhook.posts[0]["body"]["title"] == "Shout hello"


def test_failing_tests_stop_the_onboarding_with_their_output(project):
    say_hello(project, "   \n")  # the test wants a greeting
    result = Onboarding(load_project(project)).run(wait=False)
    assert result.ending == "failed"
    assert result.step is not None and result.step.id == "tests"
    assert result.step.message == f"`{sys.executable} -m unittest -q` failed (exit code 1)"
    assert any("greeting.txt is empty" in line for line in result.step.tail)
    assert git(project, "rev-list", "--count", "main..HEAD") == "0"


def test_a_pre_commit_hook_the_project_had_is_kept_and_runs_first(project):
    hooks = project / ".git" / "hooks"
    own = '#!/bin/sh\necho ran >> "$(git rev-parse --show-toplevel)/.devenv-own-hook"\n'
    (hooks / "pre-commit").write_text(own)
    (hooks / "pre-commit").chmod(0o755)
    say_hello(project)

    result = Onboarding(load_project(project)).run(wait=False)

    assert result.ending == "done", result.step
    assert (hooks / CHAINED).read_text() == own  # kept, byte for byte
    assert "devenv-hook: pre-commit" in (hooks / "pre-commit").read_text()
    assert (project / ".devenv-own-hook").read_text() == "ran\n"  # it ran on the commit

    # And it can still block a commit: devenv's hook stops when it fails.
    (hooks / CHAINED).write_text("#!/bin/sh\necho 'own hook: no commits today' >&2\nexit 1\n")
    (project / "greeting.txt").write_text("Hello again.\n")
    blocked = subprocess.run(
        ["git", "commit", "-qam", "again"], cwd=project, capture_output=True, text=True
    )
    assert blocked.returncode != 0
    assert "own hook: no commits today" in blocked.stderr


def test_doctor_and_the_step_agree_about_the_hook(project):
    from devenv.doctor import run_checks

    def doctor() -> str:
        checks = {check.id: check for check in run_checks(project).checks}
        return checks["git-hooks"].state

    def step() -> str:
        onboarding = Onboarding(load_project(project))
        return {view.id: view.state for view in onboarding.survey()}["git-hooks"]

    hook = project / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")  # a hook of the project's own, without the lint
    hook.chmod(0o755)
    assert (doctor(), step()) == ("warn", "todo")

    Onboarding(load_project(project)).run(wait=False)  # stops at the edit, hooks installed
    assert (doctor(), step()) == ("ok", "done")


def test_a_project_with_steps_of_its_own(tmp_path, identity, monkeypatch):
    onboarding = """\
steps = ["sample-data", "git-hooks", "consent", "branch", "first-change", "commit"]

[[onboarding.step]]
id = "sample-data"
title = "Load the sample data"
check = "test -s data/sample.txt"
action = "mkdir -p data && echo 'three rows' > data/sample.txt"

[[onboarding.step]]
id = "consent"
title = "Read the handbook"
check = "test -f .devenv/handbook-read"
hint = "Read HANDBOOK.md, then: touch .devenv/handbook-read"
"""
    root = tiny_project(tmp_path, onboarding=onboarding)
    monkeypatch.chdir(root)
    (root / ".gitignore").write_text(".devenv/\n__pycache__/\ndata/\n")
    git(root, "commit", "-qam", "ignore data")
    recorder = Recorder()
    config = load_project(root)

    result = Onboarding(config, emit=recorder).run(wait=False)

    # Its own step with an action was done; the one without waits for the person.
    assert [e.name for e in recorder.of(StepStarted)] == ["sample-data", "git-hooks", "consent"]
    assert (root / "data" / "sample.txt").read_text() == "three rows\n"
    assert result.ending == "waiting" and result.step is not None
    assert result.step.id == "consent"
    assert result.step.todo == "Read HANDBOOK.md, then: touch .devenv/handbook-read"

    (root / ".devenv" / "handbook-read").touch()
    say_hello(root)
    result = Onboarding(config, emit=recorder).run(wait=False)
    assert result.ending == "done"
    assert [view.id for view in result.steps] == [
        "sample-data",
        "git-hooks",
        "consent",
        "branch",
        "first-change",
        "commit",
    ]  # dropped: prerequisites, services, dependencies, app, tests, ship
    assert git(root, "log", "-1", "--format=%s") == "Say hello"


def test_reset_forgets_the_progress_not_the_git_work(project):
    say_hello(project)
    onboarding = Onboarding(load_project(project))
    assert onboarding.run(wait=False).ending == "done"
    path = progress_file(project, who(project))
    assert path.exists()

    again = Onboarding(load_project(project), emit=(recorder := Recorder()))
    assert again.reset() is True
    assert not path.exists()
    assert again.total_seconds == 0 and not again.finished
    assert {e.step.state for e in recorder.of(StepChanged)} == {"todo"}
    # The checks see the work as it is: the branch and the commit are there.
    surveyed = {view.id: view.state for view in again.survey()}
    assert surveyed["branch"] == surveyed["commit"] == "done"
    assert surveyed["tests"] == "todo"  # passing is recorded per person: to run again
    assert not path.exists()  # survey() saves nothing


def test_with_the_person_there_a_failed_test_waits_for_the_fix_and_runs_again(project):
    edits = iter(["   \n", "Hello, fixed.\n"])  # first a greeting the test refuses, then a fix
    recorder = Recorder(on_wait=lambda event: say_hello(project, next(edits)))
    onboarding = Onboarding(load_project(project), emit=recorder)

    result = onboarding.run(wait=True)

    assert result.ending == "done"
    assert [e.name for e in recorder.of(PersonAwaited)] == ["first-change", "tests"]
    assert recorder.of(PersonAwaited)[1].instruction.endswith("and save: devenv runs it again")
    failed = [e.step for e in recorder.of(StepChanged) if e.step.state == "failed"]
    assert [view.id for view in failed] == ["tests"]
    assert any("greeting.txt is empty" in line for line in failed[0].tail)
    runs = [e for e in recorder.of(StepOutput) if e.name == "tests" and e.line.startswith("$ ")]
    assert len(runs) == 2
    assert (project / "greeting.txt").read_text() == "Hello, fixed.\n"
    assert git(project, "show", "HEAD:greeting.txt") == "Hello, fixed."


def test_a_cancel_after_a_step_failed_on_its_own_leaves_the_run_failed(project):
    """The screen shows the tests failed; the person presses Esc that instant (the run had
    not returned yet): the run failed (exit 1), it was not cancelled (exit 4)."""
    say_hello(project, "   \n")  # a change the tests refuse
    holder: dict = {}

    def emit(event) -> None:
        if isinstance(event, StepChanged) and event.step.state == "failed":
            holder["onboarding"].cancel()  # before run() has looked at how the step ended

    onboarding = holder["onboarding"] = Onboarding(load_project(project), emit=emit)
    result = onboarding.run(wait=False)

    assert result.ending == "failed"
    assert result.step is not None and (result.step.id, result.step.state) == ("tests", "failed")


def test_cancel_stops_a_running_test_command(project):
    import psutil

    marker = "slow-test-marker"
    toml = project / "devenv.toml"
    slow = (
        f"{sys.executable} -c \\\"import time; print('{marker}', flush=True); time.sleep(300)\\\""
    )
    text = toml.read_text()
    toml.write_text(text.replace(f'test = "{sys.executable} -m unittest -q"', f'test = "{slow}"'))
    git(project, "commit", "-qam", "slow tests")
    say_hello(project)
    holder: dict = {}

    def emit(event) -> None:
        if isinstance(event, StepOutput) and event.line == marker:
            threading.Thread(target=holder["onboarding"].cancel, daemon=True).start()

    onboarding = holder["onboarding"] = Onboarding(load_project(project), emit=emit)
    result = onboarding.run(wait=False)

    assert result.ending == "cancelled"
    assert result.step is not None and result.step.id == "tests"
    assert (result.step.state, result.step.message) == ("todo", "stopped before it finished")
    left = [
        p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
