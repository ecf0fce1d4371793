"""What `devenv up` says it did once quit (Session.stop's StopSummary): real processes."""

from __future__ import annotations

from devenv.config import load_config
from devenv.session import Session, StopSummary


def test_the_summary_names_what_was_stopped_left_running_and_the_logs():
    summary = StopSummary(
        "shop", ("web.1", "worker.1"), ("postgres",), ("redis",), "/p/shop/.devenv/logs"
    )
    assert summary.lines() == [
        "devenv stopped shop:",
        "  stopped the processes: web.1, worker.1",
        "  stopped the services: postgres",
        "  left running, as `devenv up -d` started them: redis",
        "    (`devenv down` stops them)",
        "  logs: /p/shop/.devenv/logs",
    ]
    assert StopSummary("shop", logs="/l").lines() == [
        "devenv stopped shop:",
        "  nothing was running",
        "  logs: /l",
    ]


def test_a_session_stop_returns_what_it_stopped(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n')
    (tmp_path / "Procfile").write_text("idle: sleep 1000\nother: sleep 1000\n")
    session = Session(
        load_config(tmp_path / "devenv.toml"), on_event=lambda e: None, on_lines=lambda n, b: None
    )
    session.start()
    summary = session.stop()
    assert summary.processes == ("idle.1", "other.1")
    assert summary.services == () and summary.left_running == ()
    assert summary.logs == str(tmp_path / ".devenv" / "logs")
