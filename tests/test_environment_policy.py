"""Pure parts of the project's environment: activation, pip's settings for uv, the drift policy,
which processes a sync restarts, and which Python the venv is made with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.config import load_project
from devenv.environment.activation import activate, export_lines
from devenv.environment.indexes import uv_environment
from devenv.environment.model import Drift
from devenv.environment.policy import affected, command_word, drift_action, to_install
from devenv.environment.project import ProjectEnv
from devenv.environment.pyversion import python_request, satisfies


def make(root: Path, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = load_project(root)
    return config, ProjectEnv.from_config(config)


def test_activation_puts_the_venv_and_node_bins_first_once(tmp_path):
    _, env = make(tmp_path, {"devenv.toml": "", "uv.lock": "", "package-lock.json": "{}"})
    venv_bin, node_bin = str(tmp_path / ".venv/bin"), str(tmp_path / "node_modules/.bin")
    base = {"PATH": f"/usr/bin:{venv_bin}:/bin", "PYTHONHOME": "/opt/py", "HOME": "/h"}

    result = activate(env, base)

    assert result["PATH"] == f"{venv_bin}:{node_bin}:/usr/bin:/bin"
    assert result["VIRTUAL_ENV"] == str(tmp_path / ".venv")
    assert "PYTHONHOME" not in result and result["HOME"] == "/h"
    assert base["PYTHONHOME"] == "/opt/py"  # the caller's mapping is left alone
    assert export_lines(env) == [
        f"export VIRTUAL_ENV={tmp_path / '.venv'}",
        f'export PATH={venv_bin}:{node_bin}:"$PATH"',
    ]


def test_a_project_without_lockfiles_or_venv_is_not_activated(tmp_path):
    _, env = make(tmp_path, {"devenv.toml": ""})
    assert activate(env, {"PATH": "/usr/bin"}) == {"PATH": "/usr/bin"}
    assert export_lines(env) == []


def uv_only(settings: dict[str, str]) -> dict[str, str]:
    # /etc/pip.conf (which pip reads too) may set a certificate on this machine.
    return {key: value for key, value in settings.items() if key.startswith("UV_")}


def test_pips_index_settings_reach_uv(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nindex-url = https://pypi.corp/simple\n"
        "extra-index-url =\n  https://a/simple\n  https://b/simple\nfind-links = /w1 /w2\n"
    )
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert uv_only(uv_environment({**env, "PIP_CONFIG_FILE": str(conf)})) == {
        "UV_INDEX_URL": "https://pypi.corp/simple",
        "UV_EXTRA_INDEX_URL": "https://a/simple https://b/simple",
        "UV_FIND_LINKS": "/w1,/w2",
        "UV_INDEX_STRATEGY": "unsafe-best-match",  # pip's meaning of extra indexes
    }
    # The environment wins over the files, and uv's own settings win over pip's.
    assert uv_only(
        uv_environment(
            {
                **env,
                "PIP_CONFIG_FILE": str(conf),
                "PIP_INDEX_URL": "https://env/simple",
                "UV_FIND_LINKS": "/mine",
                "PIP_NO_INDEX": "yes",
            }
        )
    ) == {
        "UV_INDEX_URL": "https://env/simple",
        "UV_EXTRA_INDEX_URL": "https://a/simple https://b/simple",
        "UV_NO_INDEX": "1",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
    }
    assert uv_environment({**env, "PIP_CONFIG_FILE": os.devnull}) == {}


@pytest.mark.parametrize(
    ("configured", "interactive", "expected"),
    [
        (None, True, "ask"),
        (None, False, "warn"),
        ("ask", False, "warn"),
        ("warn", True, "warn"),
        ("sync", False, "sync"),
        ("sync", True, "sync"),
    ],
)
def test_drift_action(configured, interactive, expected):
    assert drift_action(configured, interactive=interactive) == expected


def test_a_missing_environment_is_always_installed_a_drifted_one_only_under_sync():
    drifts = {
        Path("a.lock"): Drift(Path("a.lock"), "not-installed"),
        Path("b.lock"): Drift(Path("b.lock"), "drift", missing=("x",)),
        Path("c.lock"): Drift(Path("c.lock"), "in-sync"),
    }
    assert to_install(drifts, "ask") == (Path("a.lock"),)
    assert to_install(drifts, "warn") == (Path("a.lock"),)
    assert to_install(drifts, "sync") == (Path("a.lock"), Path("b.lock"))


@pytest.mark.parametrize(
    ("command", "word"),
    [
        ("gunicorn app:app --bind :$PORT", "gunicorn"),
        ("DEBUG=1 exec python -m web", "python"),
        ("env FOO=bar ./bin/start", "./bin/start"),
        ("'unbalanced", "'unbalanced"),
    ],
)
def test_command_word(command, word):
    assert command_word(command) == word


def test_a_sync_restarts_the_processes_that_run_in_that_environment(tmp_path):
    procfile = (
        "web: gunicorn app\nworker: python -m jobs\nassets: npm run watch\n"
        "mail: ./bin/mailhog\npinned: ./bin/custom\n"
    )
    toml = '[processes.pinned]\nrestart_on = ["package-lock.json"]\n'
    config, env = make(
        tmp_path,
        {
            "devenv.toml": toml,
            "Procfile": procfile,
            "requirements.lock": "",
            "package-lock.json": "{}",
            ".venv/bin/gunicorn": "",
        },
    )
    py, node = (tmp_path / "requirements.lock",), (tmp_path / "package-lock.json",)
    assert affected(config.processes, py, env) == ["web", "worker"]
    assert affected(config.processes, node, env) == ["assets", "pinned"]


def test_the_venvs_python_comes_from_the_project(tmp_path):
    config, _ = make(tmp_path, {"devenv.toml": "", "Procfile": ""})
    assert python_request(config) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    assert python_request(load_project(tmp_path)).request == ">=3.10"
    (tmp_path / "devenv.toml").write_text('[prod]\npython = "3.11"\n')
    assert python_request(load_project(tmp_path)).request == "3.11"
    (tmp_path / "runtime.txt").write_text("python-3.10.4\n")
    assert python_request(load_project(tmp_path)).request == "3.10"  # any 3.10, not .4 exactly
    (tmp_path / ".python-version").write_text("# the project's Python\n3.12.1\n")
    request = python_request(load_project(tmp_path))
    assert (request.request, request.source) == ("3.12", ".python-version")
    (tmp_path / "devenv.toml").write_text('[environment]\npython = "3.13"\n')
    assert python_request(load_project(tmp_path)).request == "3.13"


@pytest.mark.parametrize(
    ("version", "request_", "ok"),
    [
        ("3.11.7", "3.11", True),
        ("3.11.7", "3", True),
        ("3.11.7", "3.12", False),
        ("3.11.7", ">=3.10,<3.12", True),
        ("3.11.7", ">=3.12", False),
        ("3.11.7", "not a version", False),
    ],
)
def test_satisfies(version, request_, ok):
    assert satisfies(version, request_) is ok
