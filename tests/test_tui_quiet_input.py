"""The dashboard's terminal driver reads keys on a thread that sleeps while none come
(devenv.tui.quiet_input; issue 12's idle CPU goal). The keys themselves: the tmux tests."""

from __future__ import annotations

import os
import selectors
import sys

import pytest

from devenv.tui.quiet_input import IDLE_WAIT, QUIET_AFTER, QuietSelector, wait


def test_the_wait_grows_only_once_no_input_came_for_a_while():
    assert wait(0.1, since_input=0.5, registered=True) == 0.1  # keys lately: Textual's wait
    assert wait(0.1, since_input=QUIET_AFTER + 1, registered=True) == IDLE_WAIT
    assert wait(5.0, since_input=QUIET_AFTER + 1, registered=True) == 5.0  # never shorter
    assert wait(None, since_input=QUIET_AFTER + 1, registered=True) is None
    # Nothing registered (the loop's last read as it ends): the wait only sleeps, as asked.
    assert wait(0.1, since_input=QUIET_AFTER + 1, registered=False) == 0.1


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe in select: POSIX")
def test_input_is_read_at_once_however_quiet():
    read, write = os.pipe()
    selector = QuietSelector()
    try:
        selector.register(read, selectors.EVENT_READ)
        selector.last_input -= QUIET_AFTER + 1  # quiet for a while
        os.write(write, b"q")
        ready = selector.select(0.1)
        assert [key.fd for key, _ in ready] == [read]
        os.read(read, 1)
        assert wait(0.1, since_input=0.0, registered=True) == 0.1
    finally:
        selector.close()
        os.close(read)
        os.close(write)


def test_the_dashboard_uses_it_where_textual_would_use_its_linux_driver():
    from textual.drivers.linux_driver import LinuxDriver

    from devenv.tui.quiet_input import QuietLinuxDriver
    from tests.test_tui import make_app

    app, _ = make_app()
    assert issubclass(QuietLinuxDriver, LinuxDriver)
    assert app.get_driver_class() is QuietLinuxDriver


def test_textuals_input_loop_still_takes_its_selector_from_its_module():
    # QuietLinuxDriver swaps the ``selectors`` Textual's loop looks up: a Textual whose loop
    # no longer does would poll ten times a second again, unnoticed but for the benchmark.
    import inspect

    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver.run_input_thread)
    assert "selectors.SelectSelector()" in source
    assert ".select(0.1)" in source
