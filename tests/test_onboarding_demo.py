"""The whole onboarding on a fresh `devenv demo`: real PostgreSQL and Redis, the demo's own
virtualenv, web and worker started in the background and answering, the real lint hook
(ruff), the demo's tests, a push that lands in the demo's bare origin, and a webhook POST
received by a real HTTP server. Driven through the core and through `devenv onboard --no-tui`;
the person's edit is scripted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from devenv.config import load_project
from devenv.onboarding.events import PersonAwaited
from devenv.onboarding.flow import Onboarding
from devenv.project.layout import Layout
from tests.onboarding_kit import IDENTITY, Webhook, git, git_identity

OLD = "Hello from the devenv demo!"
NEW = "Welcome to the team!"
BRANCH = "onboarding/change-the-greeting"


def devenv(cwd: Path, env: dict[str, str], *args: str, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "devenv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


@pytest.fixture
def env(reachable_dir, monkeypatch) -> dict[str, str]:
    for name, value in git_identity(reachable_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("PORT", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


@pytest.fixture
def demo(reachable_dir, env, webhook):
    """`devenv demo`, whose team configured a webhook (committed and pushed on main)."""
    path = reachable_dir / "demo"
    made = devenv(reachable_dir, env, "demo", str(path))
    assert made.returncode == 0, made.stderr
    toml = path / "devenv.toml"
    text = toml.read_text()
    ship = 'ship = "git push -u origin HEAD"\n'
    assert ship in text
    toml.write_text(text.replace(ship, f'{ship}webhook = "{webhook.url}"\n'))
    git(path, "commit", "-qam", "Tell the team's webhook when someone ships")
    git(path, "push", "-q")
    try:
        yield path
    finally:
        devenv(path, env, "down", timeout=120)
        for proc in inside(path):  # a failed test: nothing of the demo outlives it
            proc.kill()
        import shutil

        shutil.rmtree(Layout(path).runtime, ignore_errors=True)


def inside(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cwd", "status"]):
        if proc.pid == os.getpid():
            continue
        cwd = proc.info.get("cwd")
        if not cwd or proc.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        if Path(cwd) == path or path in Path(cwd).parents:
            found.append(proc)
    return found


def edit_greeting(demo: Path) -> None:
    """What the new hire does: a new greeting, and the test that pins it."""
    for name in ("demoapp/greeting.py", "tests/test_greeting.py"):
        file = demo / name
        text = file.read_text()
        assert OLD in text
        file.write_text(text.replace(OLD, NEW))


def check_shipped(demo: Path, webhook: Webhook) -> None:
    origin = demo.parent / "demo-origin.git"
    assert git(origin, "rev-parse", BRANCH) == git(demo, "rev-parse", "HEAD")
    assert git(origin, "rev-parse", "main") == git(demo, "rev-parse", "main")  # main untouched
    assert NEW in git(origin, "show", f"{BRANCH}:demoapp/greeting.py")
    assert git(demo, "log", "-1", "--format=%s") == "Change the greeting"
    assert len(webhook.posts) == 1
    body = webhook.posts[0]["body"]
    assert (body["title"], body["branch"], body["person"]) == (
        "Change the greeting",
        BRANCH,
        IDENTITY[1],
    )
    assert body["seconds"] > 0


def test_the_demo_onboarding_through_no_tui(demo, env, webhook):
    first = devenv(demo, env, "onboard", "--no-tui")

    out = first.stdout + first.stderr
    assert first.returncode == 4, out
    assert "Your turn: step [7/10] Change the greeting: edit demoapp/greeting.py" in out
    # Everything before the edit was done by devenv: services, venv, hook, app, branch.
    status = json.loads(devenv(demo, env, "status", "--json").stdout)
    assert {name: s["state"] for name, s in status["services"].items()} == {
        "postgres": "ready",
        "redis": "ready",
    }
    assert status["processes"]["web.1"]["state"] in ("ready", "running")
    assert status["deps"]["requirements.lock"]["state"] == "in-sync"
    assert "devenv-hook: pre-commit" in (demo / ".git/hooks/pre-commit").read_text()
    assert git(demo, "branch", "--show-current") == BRANCH
    assert "web answers at http://127.0.0.1:" in out

    edit_greeting(demo)
    second = devenv(demo, env, "onboard", "--no-tui")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "passed" in second.stdout  # pytest's own summary, streamed
    assert "Done: shipped on your first day" in second.stdout
    check_shipped(demo, webhook)
    shown = json.loads(devenv(demo, env, "onboard", "--json").stdout)
    assert {step["state"] for step in shown["steps"]} == {"done"}
    assert shown["total_seconds"] > 0


def test_the_demo_onboarding_through_the_core(demo, env, webhook):
    events = []

    def emit(event) -> None:
        events.append(event)
        if isinstance(event, PersonAwaited):
            edit_greeting(demo)  # the person, in their editor

    onboarding = Onboarding(load_project(demo), emit=emit)
    result = onboarding.run(wait=True)

    assert result.ending == "done", [(v.id, v.state, v.message, v.tail) for v in result.steps]
    assert [view.state for view in result.steps] == ["done"] * 10
    assert [e.name for e in events if isinstance(e, PersonAwaited)] == ["first-change"]
    seconds = {view.id: view.seconds for view in result.steps}
    assert all(seconds[step] > 0 for step in ("services", "app", "tests", "ship")), seconds
    assert result.total_seconds == pytest.approx(sum(seconds.values()), abs=0.01)
    check_shipped(demo, webhook)
