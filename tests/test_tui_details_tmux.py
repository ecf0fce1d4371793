"""The details pane in a real terminal: `devenv up` on the demo project in tmux, `d` on
PostgreSQL, Redis and web, read with capture-pane (tests.test_tui_tmux's terminal)."""

from __future__ import annotations

import re
import shlex
import sys

import pytest

from tests.test_tui_tmux import (
    Terminal,
    devenv_env,
    leave_nothing,
    make_demo,
    needs_tmux,
    table,
)


@pytest.fixture
def demo(reachable_dir):
    """The demo project (`devenv demo`), onboarded, with a secret in its .env."""
    path = make_demo(reachable_dir / "demo")
    with open(path / ".env", "a", encoding="utf-8") as env:
        env.write("SECRET_KEY=do-not-show-me\n")
    return path.resolve()


def pane(screen: str) -> str:
    """The screen from the details pane's title down."""
    found = re.search(r"^ (\S+ · (service|process) · .*)", screen, re.M | re.S)
    return found[1] if found else ""


def test_d_shows_each_rows_details_and_the_servers_figures_and_esc_closes(demo, reachable_dir):
    needs_tmux()
    term = Terminal(devenv_env())
    try:
        python = shlex.quote(sys.executable)
        term.start(f"cd {shlex.quote(str(demo))} && exec {python} -m devenv up", reachable_dir)
        term.wait_until("4/4 up", lambda s: re.search(r"^  demo  4/4 up", s, re.M))
        # The start's notices (running as root, a port moved) sit in the notice bar, in the
        # layout: the pane is read while they show, nothing covers it.
        rows = table(term.last)
        password = (demo / ".devenv" / "password").read_text().strip()

        term.keys("d")  # the cursor starts on postgres
        screen = term.wait_until(
            "postgres's figures", lambda s: pane(s) if "Sizes" in pane(s) else None
        )
        assert screen.startswith("postgres · service · ready"), screen
        assert re.search(r"^ Conns +\d+/\d+", screen, re.M), screen
        assert re.search(r"^ Sizes +.*\bdemo [\d.]+[KMG]", screen, re.M), screen
        assert re.search(r"^ Slowest +pg_stat_statements is not", screen, re.M), screen
        assert "PGPASSWORD=***" in screen and password not in screen, screen
        assert "Logs:" not in term.last  # the pane is where the log was

        term.keys("Down")
        screen = term.wait_until(
            "redis's figures", lambda s: pane(s) if "Keys" in pane(s) else None
        )
        assert screen.startswith("redis · service · ready"), screen
        assert re.search(r"^ Ops/s +\d+ · \d+ clients", screen, re.M), screen

        term.keys(*["Down"] * (rows["web.1"][0] - 1))
        screen = term.wait_until(
            "web.1's env", lambda s: pane(s) if "SECRET_KEY" in pane(s) else None
        )
        assert re.match(r"web\.1 · process · (running|ready)\b", screen), screen
        assert "python -m demoapp.web" in screen
        assert "SECRET_KEY=***" in screen and "do-not-show-me" not in screen, screen
        assert re.search(r"DATABASE_URL=postgresql://demo:\*\*\*@127\.0\.0\.1:\d+/demo", screen)
        assert password not in term.last
        assert re.search(r"^ CPU .*now, max", screen, re.M), screen

        term.keys("Escape")
        term.wait_until("the log pane back", lambda s: "Logs:" in s and not pane(s))
    finally:
        leave_nothing(term, demo)
