"""The onboarding screen, driven by Pilot over the real core (devenv.onboarding) on small real
projects (tests/onboarding_kit.py): a real git repository and its bare origin, the real
pre-commit hook, real lint and test commands, and for the dashboard a real ``devenv up``
session whose web process answers on a real port. Once in tmux: ``devenv onboard`` on a
terminal, keys sent, the steps read off the screen.

The person's edit is scripted: a file written from the test, as an editor would save it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devenv.config import load_project
from devenv.onboarding.flow import Onboarding
from devenv.project.layout import Layout
from tests.onboarding_kit import Webhook, git, git_identity, tiny_project
from tests.test_onboarding_demo import check_shipped, edit_greeting, inside
from tests.test_onboarding_demo import devenv as run_devenv
from tests.test_tui import asynctest

DEADLINE = 60.0  # seconds for anything to show up
BRANCH = "onboarding/say-hello"


@pytest.fixture
def identity(tmp_path, monkeypatch):
    for name, value in git_identity(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("PORT", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path, identity, monkeypatch):
    root = tiny_project(tmp_path)
    monkeypatch.chdir(root)
    return root


def say_hello(root: Path) -> None:
    """The person's edit, saved as an editor does: a new file renamed over the old."""
    new = root / ".greeting.txt.swp"
    new.write_text("Hello, new colleague.\n")
    new.replace(root / "greeting.txt")


def onboarding_app(root: Path, **options):
    from devenv.tui.onboarding_app import OnboardingApp

    config = load_project(root)

    def make(emit):
        return Onboarding(config, emit=emit, **options)

    return OnboardingApp(make, project=config.project.name)


async def until(pilot, what: str, check, timeout: float = DEADLINE):
    """Let the app run until ``check()`` is truthy; return what it returned."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}; on screen: {on_screen(pilot.app)}")
        await pilot.pause(0.05)


def screen_of(app):
    """The onboarding screen when it is shown (and composed), else None."""
    from devenv.tui.onboarding_screen import OnboardingScreen

    screen = app.screen
    if isinstance(screen, OnboardingScreen) and screen.query("#onboarding-steps"):
        return screen
    return None


def states(app) -> dict[str, str]:
    """The State column as the person reads it: step id -> "✓ done", "· to do", ..."""
    screen = screen_of(app)
    if screen is None:
        return {}
    table = screen.checklist
    return {row.key.value: str(table.get_cell(row.key, "state")) for row in table.ordered_rows}


def now(app) -> str:
    screen = screen_of(app)
    return str(screen.now.content) if screen is not None else ""


def output(app) -> str:
    screen = screen_of(app)
    return "\n".join(screen.output.lines) if screen is not None else ""


def on_screen(app) -> dict:
    return {"states": states(app), "now": now(app), "output": output(app)[-2000:]}


def waiting_at(app, step_id: str) -> bool:
    return states(app).get(step_id) == "… your turn"


def test_the_command_imports_no_textual_and_the_dashboard_no_onboarding_until_needed():
    for code in (
        "import sys, devenv.commands.onboard, devenv.onboarding.flow;"
        "assert 'textual' not in sys.modules, 'textual imported'",
        "import sys, devenv.tui.app;"
        "assert 'devenv.onboarding.flow' not in sys.modules, 'the onboarding imported'",
    ):
        subprocess.run([sys.executable, "-c", code], check=True)


# -- the driver: the core on a thread of its own, one command at a time ----------------------


class Heard:
    """The driver's callbacks: every event, and each time it went idle (with its result)."""

    def __init__(self) -> None:
        import queue

        self.events: list = []
        self.idle: queue.SimpleQueue = queue.SimpleQueue()

    def event(self, event) -> None:
        self.events.append(event)

    def next_idle(self):
        return self.idle.get(timeout=DEADLINE)

    def awaited(self) -> list[str]:
        from devenv.onboarding.events import PersonAwaited

        return [event.name for event in self.events if isinstance(event, PersonAwaited)]


def test_the_driver_ends_a_wait_for_the_next_command_and_runs_every_command_in_order(
    tmp_path, identity
):
    from devenv.onboarding.model import Outcome, Step
    from devenv.tui.onboarding_driver import OnboardingDriver

    root = tmp_path / "shop"
    root.mkdir()
    (root / "devenv.toml").write_text('[project]\nname = "shop"\n')
    signed_in = root / "signed-in"

    def person(name):
        def check(ctx):
            if (root / name).exists():
                return Outcome.done(f"{name} there")
            return Outcome.not_yet(f"no {name}", f"touch {name}", person=True)

        return check

    steps = [
        Step("sign-in", "Sign in", person("signed-in"), watch=lambda ctx: (signed_in,)),
        Step("token", "Get a token", person("token")),
        Step("done", "Nothing", lambda ctx: Outcome.done("always")),
    ]
    config = load_project(root)
    heard = Heard()
    driver = OnboardingDriver(
        lambda emit: Onboarding(config, emit=emit, steps=steps),
        on_event=heard.event,
        on_idle=heard.idle.put,
    )
    try:
        # A run waits for the person; a skip sent meanwhile ends that wait, is done, and the
        # run goes on, to the next wait. Two skips sent at once are both done, in order.
        driver.run()
        deadline = time.monotonic() + DEADLINE
        while heard.awaited() != ["sign-in"]:
            assert time.monotonic() < deadline, heard.events
            time.sleep(0.01)
        driver.skip("sign-in")
        driver.skip("token")
        result = heard.next_idle()
        assert result is not None and result.ending == "done", result
        assert [view.state for view in result.steps] == ["skipped", "skipped", "done"]

        # A stop right after a run: nothing waits afterwards, and the driver is idle.
        driver.onboarding.reset()
        driver.run()
        driver.stop()
        assert heard.next_idle() is None
        assert not driver.busy
    finally:
        driver.close()


# -- the screen on `devenv onboard` ------------------------------------------------------


@asynctest
async def test_the_steps_their_states_the_edit_turning_green_by_itself_and_the_done_screen(
    project,
):
    app = onboarding_app(project)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, "the wait for the edit", lambda: waiting_at(app, "first-change"))

        assert states(app) == {
            "prerequisites": "✓ done",
            "services": "– skipped",
            "dependencies": "– skipped",
            "git-hooks": "✓ done",
            "app": "– skipped",
            "branch": "✓ done",
            "first-change": "… your turn",
            "tests": "· to do",
            "commit": "· to do",
            "ship": "· to do",
        }, on_screen(app)
        screen = screen_of(app)
        # What to do next, for the current step, and the cursor on it.
        assert "Your turn: Say hello" in now(app)
        assert "→ edit greeting.txt: Write a friendlier greeting." in now(app)
        assert screen.checklist.highlighted == "first-change"
        assert git(project, "branch", "--show-current") == BRANCH

        say_hello(project)  # nothing pressed: the step turns green by itself

        await until(pilot, "the done screen", lambda: screen.finished)
        assert set(states(app).values()) == {"✓ done", "– skipped"}, on_screen(app)
        # The tests' output was streamed into the screen's log.
        assert "▶ Tests pass" in output(app)
        assert "Ran 1 test" in output(app), output(app)
        # The done screen: each step's time, skipped ones said so, and the total.
        done = str(screen.done_panel.content)
        assert "Done: shipped on your first day, in " in done
        views = screen.driver.onboarding.views
        from devenv.onboarding.model import duration

        for view in views:
            shown = "skipped" if view.state == "skipped" else duration(view.seconds)
            line = next(line for line in done.splitlines() if line.strip().startswith(view.title))
            assert line.rstrip().endswith(shown), (view.title, line)
        total = screen.driver.onboarding.total_seconds
        assert any(
            line.strip().startswith("total time to first ship")
            and line.rstrip().endswith(duration(total))
            for line in done.splitlines()
        ), done
        # The done screen takes the place of the checklist and of "what to do next".
        assert not screen.now.display and not screen.checklist.display
        assert not offered(app, "k")  # nothing left to run or skip: Esc closes

        await pilot.press("escape")
        await until(pilot, "the app to exit", lambda: app.return_code is not None)
    assert app.return_code == 0
    assert app.result is not None and app.result.ending == "done"
    origin = project.parent / "tiny-origin.git"
    assert git(origin, "rev-parse", BRANCH) == git(project, "rev-parse", "HEAD")


# A project's own steps: one devenv does (its action fails until source.txt exists), one only
# the person can do (no action), then the branch.
OWN_STEPS = """\
steps = ["sample-data", "sign-in", "branch"]

[[onboarding.step]]
id = "sample-data"
title = "Load the sample data"
check = "test -f data.txt"
action = "python3 make_data.py"
hint = "make_data.py copies source.txt"

[[onboarding.step]]
id = "sign-in"
title = "Sign in to the registry"
check = "test -f signed-in"
hint = "run ./sign-in with your token"
"""

MAKE_DATA = """\
import pathlib
import sys

source = pathlib.Path("source.txt")
if not source.exists():
    print("make_data: source.txt is missing")
    sys.exit(3)
pathlib.Path("data.txt").write_text(source.read_text())
"""


@pytest.fixture
def own_steps(tmp_path, identity, monkeypatch):
    root = tiny_project(tmp_path, onboarding=OWN_STEPS)
    (root / "make_data.py").write_text(MAKE_DATA)
    monkeypatch.chdir(root)
    return root


@asynctest
async def test_retry_and_skip_keys_and_the_exit_codes_of_each_ending(own_steps):
    root = own_steps
    # A step devenv does fails: shown failed, with its output and what to do; Esc: exit 1.
    app = onboarding_app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, "sample-data failed", lambda: states(app).get("sample-data"))
        await until(pilot, "sample-data failed", lambda: states(app)["sample-data"] == "✗ failed")
        assert states(app) == {
            "sample-data": "✗ failed",
            "sign-in": "· to do",
            "branch": "· to do",
        }
        assert "✗ Load the sample data failed: `python3 make_data.py` failed (exit code 3)" in (
            now(app)
        ), now(app)
        assert "→ make_data.py copies source.txt" in now(app)
        assert "make_data: source.txt is missing" in output(app)
        await pilot.press("escape")
        await until(pilot, "the app to exit", lambda: app.return_code is not None)
    assert app.return_code == 1

    # The next time it resumes there; fixed, r retries it, and the run goes on to the step
    # only the person can do. Closed while it waits: exit 4, as --no-tui stopping there.
    app = onboarding_app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(
            pilot, "sample-data failed again", lambda: states(app).get("sample-data") == "✗ failed"
        )
        await until(pilot, "the run to end", lambda: not screen_of(app).driver.busy)
        (root / "source.txt").write_text("rows\n")
        await pilot.press("r")
        await until(pilot, "the wait at sign-in", lambda: waiting_at(app, "sign-in"))
        assert states(app)["sample-data"] == "✓ done"
        assert (root / "data.txt").read_text() == "rows\n"
        assert "→ run ./sign-in with your token" in now(app)
        assert screen_of(app).checklist.highlighted == "sign-in"
        await pilot.press("escape")
        await until(pilot, "the app to exit", lambda: app.return_code is not None)
    assert app.return_code == 4
    assert app.result is not None and app.result.ending == "cancelled"

    # k skips the step under the cursor, and the run goes on: every step done or skipped.
    app = onboarding_app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, "the wait at sign-in", lambda: waiting_at(app, "sign-in"))
        assert states(app)["sample-data"] == "✓ done"
        await pilot.press("k")
        await until(pilot, "the done screen", lambda: screen_of(app).finished)
        assert states(app) == {
            "sample-data": "✓ done",
            "sign-in": "– skipped",
            "branch": "✓ done",
        }
        done = str(screen_of(app).done_panel.content)
        assert any(
            line.strip().startswith("Sign in to the registry") and line.rstrip().endswith("skipped")
            for line in done.splitlines()
        ), done
        await pilot.press("escape")
        await until(pilot, "the app to exit", lambda: app.return_code is not None)
    assert app.return_code == 0
    assert git(root, "branch", "--show-current") == "onboarding/say-hello"


# -- snapshots: the screen's looks, on steps of its own and a clock of its own -------------------


def scripted(tmp_path: Path, *, sample_data: str):
    """A project whose onboarding has steps of its own (real checks in Python, one real shell
    command as an action) and a clock that says 0.75 s a step: the same screen every run."""
    import itertools

    from devenv.onboarding.model import Outcome, Step, StepFailed

    root = tmp_path / "shop"
    root.mkdir()
    (root / "devenv.toml").write_text('[project]\nname = "shop"\n')
    edited = root / "greeting.py"

    def fixed(outcome):
        return lambda ctx: outcome

    def sample_check(ctx):
        if (root / "data.txt").exists():
            return Outcome.done("3 tables loaded")
        return Outcome.not_yet("no sample data yet", "devenv runs `make sample`")

    def load_sample(ctx):
        ran = ctx.sh(sample_data)
        if not ran.ok:
            raise StepFailed(
                f"`make sample` failed (exit code {ran.code})", "put data/source.csv back", ran.tail
            )
        return "ran `make sample`"

    def change(ctx):
        if edited.exists():
            return Outcome.done("greeting.py changed")
        return Outcome.not_yet(
            "greeting.py is as on main", "edit greeting.py: a warmer GREETING", person=True
        )

    steps = [
        Step("prerequisites", "Prerequisites (devenv doctor)", fixed(Outcome.done("11 passed"))),
        Step("services", "Services healthy", fixed(Outcome.skipped("no services"))),
        Step("sample-data", "Load the sample data", sample_check, load_sample),
        Step("sign-in", "Sign in to the registry", fixed(Outcome.not_yet("not signed in"))),
        Step("first-change", "Change the greeting", change, watch=lambda ctx: (edited,)),
        Step("ship", "Ship", fixed(Outcome.done("shipped onboarding/change-the-greeting"))),
    ]
    config = load_project(root)
    ticks = itertools.count(0, 0.75)

    def make(emit):
        onboarding = Onboarding(config, emit=emit, steps=steps, clock=lambda: next(ticks))
        onboarding.skip("sign-in")
        return onboarding

    from devenv.tui.onboarding_app import OnboardingApp

    return root, OnboardingApp(make, project="shop")


async def still(app, pilot) -> None:
    """Wait until the onboarding screen is drawn and holds still (tests.test_tui.drawn): the
    steps, the line under them and the output as they were, the output at its end."""
    from tests.test_tui import drawn

    await drawn(pilot, screen_of(app).output, also=lambda: on_screen(app))


LOADED = "echo loading 3 tables; echo rows > data.txt"
BROKEN = "echo loading 3 tables; echo 'error: data/source.csv is missing' >&2; exit 3"


def test_snapshot_waiting_for_the_edit(tmp_path, identity, snap_compare):
    _, app = scripted(tmp_path, sample_data=LOADED)

    async def run_before(pilot):
        await until(pilot, "the wait", lambda: waiting_at(app, "first-change"))
        await still(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_a_failed_step_and_its_output(tmp_path, identity, snap_compare):
    _, app = scripted(tmp_path, sample_data=BROKEN)

    async def run_before(pilot):
        await until(pilot, "the failure", lambda: states(app).get("sample-data") == "✗ failed")
        await until(pilot, "the run's end", lambda: not screen_of(app).driver.busy)
        await still(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_the_done_screen(tmp_path, identity, snap_compare):
    root, app = scripted(tmp_path, sample_data=LOADED)
    (root / "greeting.py").write_text("GREETING = 'Welcome!'\n")

    async def run_before(pilot):
        await until(pilot, "the done screen", lambda: screen_of(app) and screen_of(app).finished)
        await still(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# -- the screen on the dashboard (`devenv up`) -----------------------------------------------


@pytest.fixture
def with_web(project):
    """The tiny project with a web process that answers on its port (committed and pushed)."""
    python = shlex.quote(sys.executable)
    (project / "Procfile").write_text(f"web: {python} -m http.server $PORT --bind 127.0.0.1\n")
    with open(project / "devenv.toml", "a") as toml:
        toml.write('\n[processes.web]\nready = { http = "http://127.0.0.1:$PORT/" }\n')
    git(project, "add", "--all")
    git(project, "commit", "-qm", "The web process")
    git(project, "push", "-q")
    return project


def offered(app, key: str) -> bool:
    binding = app.screen.active_bindings.get(key)
    return binding is not None and binding.enabled and binding.binding.show


def row_state(app, name: str) -> str | None:
    return next((row.state for row in app.session.rows() if row.name == name), None)


@asynctest
async def test_the_first_devenv_up_opens_it_esc_closes_o_reopens_and_the_app_is_the_sessions(
    with_web,
):
    from devenv.session import Session
    from devenv.tui.app import DevenvApp

    root = with_web
    config = load_project(root)
    app = DevenvApp(
        config.project.name,
        lambda **callbacks: Session(config, interactive=True, **callbacks),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, "the onboarding screen, by itself", lambda: screen_of(app))
        screen = screen_of(app)
        await until(pilot, "every step checked", lambda: len(states(app)) == 10)
        await until(pilot, "the survey's end", lambda: not screen.driver.busy)
        # Opened by itself it only looks: nothing changes before the person presses Enter.
        assert states(app)["git-hooks"] == "· to do", on_screen(app)
        assert states(app)["branch"] == "· to do", on_screen(app)
        assert "Enter starts" in now(app)
        assert git(root, "branch", "--show-current") == "main"
        assert not (root / ".git/hooks/pre-commit").exists()
        # Over it, the dashboard's keys are not offered (they act on rows it hides); q is.
        assert offered(app, "q") and offered(app, "k") and offered(app, "escape")
        assert not offered(app, "s") and not offered(app, "o")

        # As the screen's title counts: a skipped step is one the person is done with.
        done = sum(state in ("✓ done", "– skipped") for state in states(app).values())
        await pilot.press("escape")
        await until(pilot, "the dashboard", lambda: screen_of(app) is None)
        assert offered(app, "o") and offered(app, "s")
        assert app.onboarding.dismissed
        # The dashboard's header says where the person is, and how to go on.
        line = app.header.query_one("#onboarding-line")
        assert line.display
        assert str(line.render()) == (
            f"onboarding: {done}/10 done · next: Git hooks installed (lint on commit)"
            " · o continues (your progress is kept)"
        )

        # web stopped from the dashboard: the onboarding's app step starts it again in this
        # session, instead of a `devenv up` in the background.
        await asyncio.to_thread(app.session.stop_process, "web.1")
        assert row_state(app, "web.1") == "stopped"
        await pilot.press("o")
        await until(pilot, "the onboarding screen again", lambda: screen_of(app) is screen)
        assert not app.header.query_one("#onboarding-line").display  # the screen says it all
        await until(pilot, "the app step to do", lambda: states(app).get("app") == "· to do")
        await until(pilot, "the survey's end", lambda: not screen.driver.busy)
        await pilot.press("enter")
        await until(pilot, "the wait for the edit", lambda: waiting_at(app, "first-change"))
        assert {step: states(app)[step] for step in ("git-hooks", "app", "branch")} == {
            "git-hooks": "✓ done",
            "app": "✓ done",
            "branch": "✓ done",
        }, on_screen(app)
        assert row_state(app, "web.1") in ("ready", "running")
        assert "starting web.1 (stopped)" in output(app)
        app_view = next(view for view in screen.driver.onboarding.views if view.id == "app")
        assert f"(devenv up, pid {os.getpid()})" in app_view.message, app_view
        assert not (root / ".devenv/logs/onboarding-up.log").exists()

        # Esc stops the run (the wait); o resumes it by itself, since the person started it.
        await pilot.press("escape")
        await until(pilot, "the dashboard", lambda: screen_of(app) is None)
        await until(pilot, "the run to stop", lambda: not screen.driver.busy)
        assert screen.driver.result is not None and screen.driver.result.ending == "cancelled"
        await pilot.press("o")
        await until(pilot, "the wait for the edit", lambda: waiting_at(app, "first-change"))

        say_hello(root)
        await until(pilot, "the done screen", lambda: screen.finished)
        assert "Done: shipped on your first day" in str(screen.done_panel.content)
        await pilot.press("escape")
        await until(pilot, "the dashboard", lambda: screen_of(app) is None)
        assert str(app.header.query_one("#onboarding-line").render()) == "onboarding: done"

        await pilot.press("q")
        await until(pilot, "devenv to quit", lambda: app.return_code is not None)
    assert app.return_code == 0
    origin = root.parent / "tiny-origin.git"
    assert git(origin, "rev-parse", BRANCH) == git(root, "rev-parse", "HEAD")


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


@pytest.fixture
def demo(reachable_dir, identity, webhook):
    """`devenv demo`, whose team configured a webhook (committed and pushed on main)."""
    env = dict(os.environ)
    path = reachable_dir / "demo"
    made = run_devenv(reachable_dir, env, "demo", str(path))
    assert made.returncode == 0, made.stderr
    toml = path / "devenv.toml"
    ship = 'ship = "git push -u origin HEAD"\n'
    toml.write_text(toml.read_text().replace(ship, f'{ship}webhook = "{webhook.url}"\n'))
    git(path, "commit", "-qam", "Tell the team's webhook when someone ships")
    git(path, "push", "-q")
    try:
        yield path
    finally:
        run_devenv(path, env, "down", timeout=120)
        for proc in inside(path):  # a failed test: nothing of the demo outlives it
            proc.kill()
        shutil.rmtree(Layout(path).runtime, ignore_errors=True)


@asynctest
async def test_the_whole_demo_onboarding_on_its_first_devenv_up(demo, webhook):
    """`devenv demo`, then `devenv up`: real PostgreSQL and Redis, the demo's virtualenv, web
    and worker; the screen opens by itself, Enter goes through every step with the session's
    own web, the edit is scripted, and the change lands in the demo's origin and webhook."""
    from devenv.session import Session
    from devenv.tui.app import DevenvApp

    config = load_project(demo)
    app = DevenvApp(
        config.project.name,
        lambda **callbacks: Session(config, interactive=True, **callbacks),
        services=tuple(config.services),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, "the onboarding screen, by itself", lambda: screen_of(app), 300)
        screen = screen_of(app)
        await until(pilot, "every step checked", lambda: len(states(app)) == 10)
        await until(pilot, "the survey's end", lambda: not screen.driver.busy)
        await pilot.press("enter")
        await until(pilot, "the wait for the edit", lambda: waiting_at(app, "first-change"), 300)
        before = ("prerequisites", "services", "dependencies", "git-hooks", "app", "branch")
        assert [states(app)[step] for step in before] == ["✓ done"] * 6, on_screen(app)
        app_view = next(view for view in screen.driver.onboarding.views if view.id == "app")
        assert f"(devenv up, pid {os.getpid()})" in app_view.message, app_view

        edit_greeting(demo)
        await until(pilot, "the done screen", lambda: screen.finished, 300)
        assert "passed" in output(app)  # pytest's own summary, streamed
        views = screen.driver.onboarding.views
        assert [view.state for view in views] == ["done"] * 10, views

        await pilot.press("q")
        await until(pilot, "devenv to quit", lambda: app.return_code is not None, 120)
    assert app.return_code == 0
    check_shipped(demo, webhook)


# -- `devenv onboard` in a real terminal -------------------------------------------------------


SIGN_IN = """\

[[onboarding.step]]
id = "sign-in"
title = "Sign in to the registry"
check = "test -f signed-in"
hint = "run ./sign-in with your token"
"""


def line_of(screen: str, title: str) -> str:
    return next((line for line in screen.splitlines() if title in line), "")


def test_devenv_onboard_in_tmux_keys_and_the_steps_progressing(tmp_path, identity):
    from tests.test_tui_tmux import Terminal, devenv_env, needs_tmux

    needs_tmux()
    root = tiny_project(tmp_path, onboarding=SIGN_IN)
    env = {**devenv_env(), **git_identity(tmp_path)}
    term = Terminal(env)
    python = shlex.quote(sys.executable)
    try:
        term.start(
            f"cd {shlex.quote(str(root))} && {python} -m devenv onboard;"
            ' echo "exit code $?"; read line',
            cwd=tmp_path,
        )
        term.wait_until(
            "the wait at the person's own step",
            lambda s: "… your turn" in line_of(s, "Sign in to the registry"),
        )
        screen = term.last
        assert "✓ done" in line_of(screen, "Git hooks installed"), screen
        assert "· to do" in line_of(screen, "A branch off the main branch"), screen
        assert "→ run ./sign-in with your token" in screen, screen

        term.keys("k")  # skip it: the run goes on, to the edit
        screen = term.wait_until(
            "the wait for the edit",
            lambda s: s if "… your turn" in line_of(s, "Say hello") else None,
        )
        assert "– skipped" in line_of(screen, "Sign in to the registry"), screen
        assert "✓ done" in line_of(screen, "A branch off the main branch"), screen
        assert "→ edit greeting.txt: Write a friendlier greeting." in screen, screen

        say_hello(root)
        screen = term.wait_until(
            "the done screen",
            lambda s: s if "Done: shipped on your first day" in s else None,
        )
        # Each step's time, or "skipped", and the total.
        assert line_of(screen, "Sign in to the registry").rstrip().endswith("skipped"), screen
        for title in ("Tests pass", "Commit (the hook lints)", "Ship", "total time to first ship"):
            assert re.search(r"\d s$", line_of(screen, title).rstrip()), screen

        term.keys("Escape")
        screen = term.wait_until("the exit code", lambda s: s if "exit code" in s else None)
        assert "exit code 0" in screen, screen
        # What --no-tui says at the end stays in the terminal once the screen is gone.
        assert "Done: shipped on your first day, in " in screen, screen
    finally:
        term.kill()
    origin = tmp_path / "tiny-origin.git"
    assert git(origin, "rev-parse", BRANCH) == git(root, "rev-parse", "HEAD")
