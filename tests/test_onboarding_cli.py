"""`devenv onboard` as scripts and people run it: the real command in a child process, on a
small real project (git repository, bare origin, hook, webhook receiver)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.onboarding_kit import STEPS, Webhook, git, git_identity, tiny_project


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {**os.environ, **git_identity(tmp_path), "NO_COLOR": "1"}


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


@pytest.fixture
def project(tmp_path, env, webhook) -> Path:
    return tiny_project(tmp_path, webhook=webhook.url)


def onboard(project: Path, env: dict[str, str], *args: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [sys.executable, "-m", "devenv", "onboard", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def test_json_shape_and_it_changes_nothing(project, env):
    result = onboard(project, env, "--json")

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"steps", "total_seconds"}
    assert payload["total_seconds"] == 0
    assert [step["id"] for step in payload["steps"]] == STEPS
    for step in payload["steps"]:
        assert set(step) == {"id", "title", "state", "seconds"}
        assert step["state"] in ("done", "todo", "failed", "skipped")
    shown = {step["id"]: step["state"] for step in payload["steps"]}
    assert shown["prerequisites"] == "done"
    assert shown["services"] == shown["dependencies"] == shown["app"] == "skipped"
    assert shown["git-hooks"] == shown["branch"] == shown["first-change"] == "todo"
    assert {step["id"]: step["title"] for step in payload["steps"]}["first-change"] == "Say hello"
    # Nothing changed: no progress, no hook, no branch.
    assert not (project / ".devenv" / "onboarding").exists()
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    assert git(project, "branch", "--show-current") == "main"


def test_no_tui_without_a_terminal_stops_at_the_edit_then_finishes(project, env, webhook):
    first = onboard(project, env, "--no-tui")

    assert first.returncode == 4, first.stdout + first.stderr
    assert "Your turn: step [7/10] Say hello: edit greeting.txt: Write a friendlier greeting." in (
        first.stdout
    )
    assert "Then run `devenv onboard` again" in first.stdout
    assert git(project, "branch", "--show-current") == "onboarding/say-hello"

    (project / "greeting.txt").write_text("Hello, new colleague.\n")
    second = onboard(project, env, "--no-tui", "--message", "A warmer greeting")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "Done: shipped on your first day" in second.stdout
    assert "total time to first ship" in second.stdout
    assert "Ran 1 test" in second.stdout  # the tests' output, streamed
    origin = project.parent / "tiny-origin.git"
    assert git(origin, "log", "-1", "--format=%s", "onboarding/say-hello") == "A warmer greeting"
    assert [post["body"]["title"] for post in webhook.posts] == ["A warmer greeting"]

    shown = json.loads(onboard(project, env, "--json").stdout)
    assert all(step["state"] in ("done", "skipped") for step in shown["steps"])
    assert shown["total_seconds"] == pytest.approx(sum(s["seconds"] for s in shown["steps"]))
    assert shown["total_seconds"] > 0


def test_no_tui_on_a_terminal_waits_for_the_edit_and_goes_on(project, env, webhook):
    main, other = os.openpty()  # stdin is a terminal: the person is there
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devenv", "onboard", "--no-tui"],
            cwd=project,
            env=env,
            stdin=other,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        seen = read_until(proc, "waiting for it")
        assert "-> edit greeting.txt: Write a friendlier greeting." in seen
        assert proc.poll() is None  # waiting, not stopped

        (project / "greeting.txt").write_text("Hello, new colleague.\n")  # the person's edit
        rest = proc.communicate(timeout=120)[0].decode()
    finally:
        os.close(main)
        os.close(other)
    assert proc.returncode == 0, seen + rest
    assert "Done: shipped on your first day" in rest
    assert len(webhook.posts) == 1


def read_until(proc: subprocess.Popen, text: str, timeout: float = 60) -> str:
    """The output (read unbuffered from the pipe) up to and including ``text``."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no {text!r} in the output:\n{seen.decode()}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"the command ended without {text!r}:\n{seen.decode()}")
            seen += chunk
    return seen.decode()


def test_a_failing_step_exits_1_and_says_what_to_do(project, env):
    (project / "greeting.txt").write_text("HELLO!!!\n")
    result = onboard(project, env, "--no-tui")
    assert result.returncode == 1
    assert "Stopped: step [9/10] Commit (the hook lints) failed: the lint failed" in result.stdout
    assert "greeting.txt:1: three exclamation marks are shouting" in result.stdout
    assert f"What to do: fix what `{sys.executable} lint.py` says" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_reset_starts_over(project, env):
    assert onboard(project, env, "--no-tui").returncode == 4
    progress = project / ".devenv" / "onboarding" / "ada@example.invalid.json"
    started = json.loads(progress.read_text())["started_at"]

    result = onboard(project, env, "--no-tui", "--reset")

    assert result.returncode == 4
    assert "started over: progress and times forgotten" in result.stdout
    assert json.loads(progress.read_text())["started_at"] > started


def test_json_and_reset_together_is_a_usage_mistake(project, env):
    result = onboard(project, env, "--json", "--reset")
    assert result.returncode == 2
    assert "--json changes nothing" in result.stderr


def test_a_broken_config_is_a_config_error(project, env):
    (project / "devenv.toml").write_text('[onboarding]\ntest = "t"\nsteps = ["servces"]\n')
    result = onboard(project, env, "--no-tui")
    assert result.returncode == 2
    expected = "devenv.toml:3: onboarding.steps[0]: unknown step 'servces'; did you mean"
    assert expected in result.stderr
