"""Procfile processes expanded as honcho does, with devenv's environment on top."""

from __future__ import annotations

from pathlib import Path

from devenv.config import load_config
from devenv.supervisor.spec import build_specs


def project(tmp_path: Path, toml: str, procfile: str, dotenv: str | None = None):
    (tmp_path / "devenv.toml").write_text(toml)
    (tmp_path / "Procfile").write_text(procfile)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return load_config(tmp_path / "devenv.toml")


def test_names_and_ports_follow_honcho(tmp_path):
    config = project(
        tmp_path,
        "[processes.web]\nconcurrency = 2\n",
        "web: python -m http.server $PORT\nworker: python worker.py\n",
    )

    specs = build_specs(config, {}, base_env={})

    assert [(s.name, s.kind, s.port) for s in specs] == [
        ("web.1", "web", 5000),
        ("web.2", "web", 5001),
        ("worker.1", "worker", 5100),
    ]
    assert specs[0].env["PORT"] == "5000"
    assert specs[1].env["HONCHO_PROCESS_NAME"] == "web.2"
    assert specs[0].command == "python -m http.server $PORT"
    assert specs[0].cwd == tmp_path


def test_environment_layers_services_win_over_dotenv_and_toml_wins_over_all(tmp_path):
    config = project(
        tmp_path,
        '[processes.web]\nenv = { DEBUG = "1", REDIS_URL = "redis://override/1" }\n',
        "web: run-web\nworker: run-worker\n",
        dotenv="DATABASE_URL=postgresql://elsewhere/prod\nSECRET=from-dotenv\nPORT=8000\n",
    )

    specs = build_specs(
        config,
        {"DATABASE_URL": "postgresql://app@127.0.0.1:5432/app", "REDIS_URL": "redis://local/0"},
        base_env={"HOME": "/home/dev", "SECRET": "from-shell"},
    )
    web, worker = specs

    assert web.env["DATABASE_URL"] == "postgresql://app@127.0.0.1:5432/app"
    assert web.env["SECRET"] == "from-dotenv"
    assert web.env["HOME"] == "/home/dev"
    assert web.env["DEBUG"] == "1"
    assert web.env["REDIS_URL"] == "redis://override/1"
    assert worker.env["REDIS_URL"] == "redis://local/0"
    assert "DEBUG" not in worker.env
    assert (web.port, worker.port) == (8000, 8100)  # PORT from .env is the base, as in honcho


def test_ready_url_gets_the_process_port_and_settings_carry_over(tmp_path):
    config = project(
        tmp_path,
        '[processes.web]\nready = { http = "http://127.0.0.1:$PORT/health" }\n'
        'restart = "always"\nmax_restarts = 2\nstop_timeout = 1.5\ndepends_on = ["migrate"]\n'
        '[processes.migrate]\nrestart = "never"\n',
        "migrate: python migrate.py\nweb: python web.py\n",
    )

    migrate, web = build_specs(config, {}, base_env={})

    assert web.ready.target == "http://127.0.0.1:5100/health"
    assert (web.restart, web.max_restarts, web.stop_timeout) == ("always", 2, 1.5)
    assert [(d.name, d.kind, d.condition) for d in web.depends_on] == [
        ("migrate", "process", "started")
    ]
    assert migrate.restart == "never"


def test_a_port_set_for_one_process_in_devenv_toml_wins(tmp_path):
    config = project(tmp_path, '[processes.web]\nenv = { PORT = "3000" }\n', "web: serve\n")

    (web,) = build_specs(config, {}, base_env={})

    assert web.env["PORT"] == "3000"
    assert web.port == 3000
