"""Bad input, part 4: what is in `.devenv/` (damaged JSON, a file where a folder belongs, a
read-only folder), odd project paths, and taken or bad ports. State that devenv wrote itself is
a cache: damaged, it is rebuilt without a word; a folder devenv cannot use is named, with what
to do. No servers here (see test_bad_inputs_servers.py)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.bad_inputs import Folder, Link, Mode, assert_answered, environ, project, run

P = '[project]\nname = "shop"\n'
SAY = f"{sys.executable} -c \"import os; print('cwd=' + os.getcwd())\""
FILES = {"devenv.toml": P, "Procfile": f"web: {SAY}\n"}
LOCK = {"requirements.txt": "six==1.16.0\n"}
REDIS = {"devenv.toml": P + "[services.redis]\n"}  # up -d makes .devenv's folders first
ENTRY = {"pid": 999999, "create_time": 1.0, "state": "running", "started_at": 1.0}

# (id, files under the project besides FILES, argv, exit code, needles)
STATE_CASES = [
    ("ports-json-garbage", {".devenv/ports.json": "{not json"}, ["up", "--no-tui"], 0, ["cwd="]),
    ("ports-json-a-list", {".devenv/ports.json": "[5000]"}, ["up", "--no-tui"], 0, ["cwd="]),
    ("ports-json-words", {".devenv/ports.json": '{"web": "abc"}'}, ["up", "--no-tui"], 0, ["cwd="]),
    ("ports-json-empty", {".devenv/ports.json": ""}, ["status"], 0, ["NAME"]),
    (
        "ports-json-a-folder",
        {".devenv/ports.json": Folder()},
        ["up", "--no-tui"],
        1,
        [".devenv/ports.json", "is a folder"],
    ),
    ("processes-json-garbage", {".devenv/processes.json": "\x00\x01"}, ["status"], 0, ["NAME"]),
    (
        "processes-json-a-list",
        {".devenv/processes.json": "[1, 2]"},
        ["status", "--json"],
        0,
        ['"processes": {}'],
    ),
    (
        "processes-json-entry-a-string",
        {".devenv/processes.json": '{"web.1": "running"}'},
        ["status"],
        0,
        ["NAME"],
    ),
    (
        "processes-json-bad-numbers",
        {
            ".devenv/processes.json": json.dumps(
                {"web.1": {**ENTRY, "pid": "abc", "started_at": "noon"}}
            )
        },
        ["status"],
        0,
        ["web.1"],
    ),
    (
        "processes-json-bad-pid-down",
        {".devenv/processes.json": json.dumps({"web.1": {**ENTRY, "pid": "abc"}})},
        ["down"],
        0,
        ["nothing was running"],
    ),
    ("processes-json-a-folder", {".devenv/processes.json": Folder()}, ["status"], 0, ["NAME"]),
    (
        "deps-json-garbage",
        {**LOCK, ".devenv/deps.json": "{{{"},
        ["status"],
        0,
        ["requirements.txt"],
    ),
    (
        "deps-json-wrong-shape",
        {**LOCK, ".devenv/deps.json": '{"format": 1, "lockfiles": {"requirements.txt": 5}}'},
        ["status"],
        0,
        ["requirements.txt"],
    ),
    (
        "deps-json-a-folder",
        {**LOCK, ".devenv/deps.json": Folder()},
        ["status"],
        0,
        ["requirements.txt"],
    ),
    ("stack-json-garbage", {".devenv/stack.json": "pid=12"}, ["status"], 0, ["NAME"]),
    (
        "stack-json-garbage-down",
        {".devenv/stack.json": "pid=12"},
        ["down"],
        0,
        ["nothing was running"],
    ),
    (
        "stack-json-dead-pid",
        {".devenv/stack.json": '{"pid": 999999, "create_time": 1.0}'},
        ["up", "--no-tui"],
        0,
        ["cwd="],
    ),
    (
        "pid-record-garbage",
        {".devenv/state/redis.pid.json": "[]"},
        ["down"],
        0,
        ["nothing was running"],
    ),
    (
        "devenv-a-file",
        {".devenv": "I am a file"},
        ["up", "--no-tui"],
        1,
        [".devenv", "not a folder"],
    ),
    ("devenv-a-file-status", {".devenv": "I am a file"}, ["status"], 0, ["NAME"]),
    (
        "devenv-a-dangling-link",
        {".devenv": Link("/nonexistent/devenv-state")},
        ["up", "--no-tui"],
        1,
        [".devenv", "/nonexistent/devenv-state"],
    ),
    (
        "logs-a-file",
        {**REDIS, ".devenv/logs": "x"},
        ["up", "-d"],
        1,
        [".devenv/logs", "not a folder"],
    ),
    (
        "state-a-file",
        {**REDIS, ".devenv/state": "x"},
        ["up", "-d"],
        1,
        [".devenv/state", "not a folder"],
    ),
    (
        "snapshots-a-file",
        {**REDIS, ".devenv/snapshots": "x"},
        ["up", "-d"],
        1,
        [".devenv/snapshots", "not a folder"],
    ),
    (
        "run-link-dangling",
        {".devenv/run": Link("/tmp/devenv-gone-away")},
        ["up", "--no-tui"],
        0,
        ["cwd="],
    ),
    (
        "lock-a-folder",
        {".devenv/devenv.lock": Folder()},
        ["up", "--no-tui"],
        1,
        [".devenv/devenv.lock", "is a folder"],
    ),
    (
        "log-a-folder",
        {".devenv/logs/web.1.log": Folder()},
        ["logs", "web"],
        1,
        ["web.1.log", "is a folder"],
    ),
    ("log-not-utf8", {".devenv/logs/web.1.log": b"caf\xe9\n"}, ["logs", "web"], 0, ["caf\ufffd"]),
    ("log-missing", {}, ["logs", "web"], 2, ["no log for 'web'", "web"]),
]


@pytest.mark.parametrize(
    ("files", "argv", "code", "needles"),
    [pytest.param(f, a, c, n, id=i) for i, f, a, c, n in STATE_CASES],
)
def test_state(reachable_dir, files, argv, code, needles):
    """In a folder the services' account can enter when devenv runs as root (`up -d` cases)."""
    root = project(reachable_dir / "p", {**FILES, **files})
    assert_answered(run(root, *argv), code, *needles)


def test_logs_a_file_without_services(tmp_path):
    root = project(tmp_path / "p", {**FILES, ".devenv/logs": "x"})
    assert_answered(run(root, "up", "--no-tui", timeout=20), 1, ".devenv/logs", "not a folder")


# (id, file under .devenv/ made unreadable, argv, exit code, needles): run as an account that
# file modes bind (root drops the capabilities that ignore them)
UNREADABLE = [
    ("ports-json", "ports.json", ["up", "--no-tui"], 0, ["cwd="]),
    ("processes-json", "processes.json", ["status"], 0, ["NAME"]),
    ("stack-json", "stack.json", ["status"], 0, ["NAME"]),
    ("deps-json", "deps.json", ["status"], 0, ["NAME"]),
    ("lock", "devenv.lock", ["up", "--no-tui"], 1, ["devenv.lock", "Permission denied"]),
]


@pytest.mark.parametrize(
    ("name", "argv", "code", "needles"),
    [pytest.param(n, a, c, k, id=i) for i, n, a, c, k in UNREADABLE],
)
def test_unreadable_state(tmp_path, name, argv, code, needles):
    root = project(tmp_path / "p", {**FILES, f".devenv/{name}": Mode("{}", 0o000)})
    assert_answered(run(root, *argv, modes_apply=True), code, *needles)


def test_a_read_only_devenv_folder(tmp_path):
    root = project(tmp_path / "p", FILES)
    (root / ".devenv").mkdir(mode=0o500)
    result = run(root, "up", "--no-tui", modes_apply=True)
    assert_answered(result, 1, ".devenv", "Permission denied")


def test_a_read_only_project(tmp_path):
    root = project(tmp_path / "p", FILES)
    root.chmod(0o500)
    result = run(root, "up", "--no-tui", modes_apply=True)
    root.chmod(0o700)
    assert_answered(result, 1, ".devenv", "Permission denied")


@pytest.mark.parametrize(
    "name",
    [
        "with spaces",
        'it\'s "quoted" $HOME `x`',
        "ünïcödé",
        os.fsdecode(b"latin1-caf\xe9"),
        "semi;colon&amp|pipe",
    ],
    ids=["spaces", "quotes-dollar-backtick", "unicode", "not-utf8-bytes", "shell-chars"],
)
def test_odd_project_paths(tmp_path, name):
    root = tmp_path / name
    project(root, FILES)
    result = run(root, "up", "--no-tui")
    assert_answered(result, 0, "cwd=")
    assert_answered(run(root, "status"), 0, "NAME")


def test_odd_path_in_an_error(tmp_path):
    """An error that names a folder whose name is not UTF-8 is still printed."""
    root = tmp_path / os.fsdecode(b"caf\xe9")
    root.mkdir()
    assert_answered(run(root, "status"), 2, "no devenv.toml", "devenv init")


def test_odd_path_in_a_config_error(tmp_path):
    root = tmp_path / os.fsdecode(b"caf\xe9 x")
    project(root, {"devenv.toml": '[project]\nprocfile = "Procfile.dev"\n'})
    assert_answered(run(root, "status"), 2, "devenv.toml:2", "Procfile.dev")


def test_the_40th_project_of_a_user_can_start_its_processes(tmp_path):
    env = environ(XDG_STATE_HOME=str(tmp_path / "state"))
    for number in range(41):
        root = project(tmp_path / f"p{number}", {"devenv.toml": P, "Procfile": "web: true\n"})
        result = run(root, "up", "--no-tui", env=env)
        assert_answered(result, 0, "web.1")


def test_a_virtualenv_below_a_path_that_is_not_utf8(tmp_path):
    root = tmp_path / os.fsdecode(b"caf\xe9")
    project(root, {**FILES, **LOCK})
    assert_answered(run(root, "up", "--no-tui"), 1, "not UTF-8", "rename")
