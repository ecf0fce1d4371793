"""Bad input, part 3: the command line. Unknown commands and flags, missing arguments, `-C` at a
file or nowhere, names that do not exist; every usage or configuration mistake exits 2, and an
unexpected exception is one line saying it is a bug and where its trace was written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.bad_inputs import Mode, assert_answered, environ, project, run

P = '[project]\nname = "shop"\n'
FILES = {"devenv.toml": P, "Procfile": "web: sleep 1\nworker: sleep 1\n", "notes.txt": "x"}

# (id, argv, exit code, needles); run in a project with FILES
CLI_CASES = [
    ("unknown-command", ["frobnicate"], 2, ["invalid choice", "frobnicate"]),
    ("unknown-flag", ["status", "--bogus"], 2, ["unrecognized arguments", "--bogus"]),
    ("extra-argument", ["status", "now"], 2, ["unrecognized arguments", "now"]),
    ("no-command", [], 2, ["usage: devenv"]),
    ("logs-without-name", ["logs"], 2, ["required", "name"]),
    ("logs-lines-words", ["logs", "web", "-n", "abc"], 2, ["-n", "'abc'"]),
    ("logs-lines-negative", ["logs", "web", "-n", "-5"], 2, ["-n", "'-5'"]),
    ("logs-unknown-name", ["logs", "wbe"], 2, ["'wbe'", "web", "worker"]),
    ("logs-name-with-slash", ["logs", "../../notes"], 2, ["'../../notes'", "web"]),
    ("restore-without-name", ["restore"], 2, ["required", "name"]),
    ("up-tui-and-detach", ["up", "--no-tui", "-d"], 2, ["--detach", "--no-tui"]),
    ("dash-C-without-folder", ["-C"], 2, ["-C", "expected one argument"]),
    ("dash-C-a-file", ["-C", "notes.txt", "status"], 2, ["-C notes.txt", "not a folder"]),
    ("dash-C-missing", ["-C", "nowhere", "status"], 2, ["-C nowhere", "no such folder"]),
    ("psql-without-postgres", ["psql", "-c", "select 1"], 2, ["no postgres service", "[services]"]),
    ("redis-cli-without-redis", ["redis-cli", "ping"], 2, ["no redis service", "[services]"]),
    ("run-without-command", ["run"], 2, ["needs a command"]),
    ("run-missing-program", ["run", "no-such-program-here"], 127, ["no-such-program-here"]),
    ("init-unknown-flag", ["init", "--forse"], 2, ["unrecognized arguments", "--forse"]),
    ("demo-without-dir", ["demo"], 2, ["required", "DIR"]),
    ("demo-where-it-cannot-be", ["demo", "/proc/nope/demo"], 1, ["/proc/nope", "No such file"]),
    ("snapshot-without-postgres", ["snapshot", "x"], 2, ["no postgres service", "its services"]),
    ("restore-without-postgres", ["restore", "x"], 2, ["no postgres service", "its services"]),
    ("reset-unknown-service", ["reset", "postgress", "--yes"], 2, ["postgress", "its services"]),
    ("demo-into-a-file", ["demo", "notes.txt"], 2, ["notes.txt", "choose another folder"]),
    ("demo-into-a-full-folder", ["demo", "."], 2, ["not empty", "choose another folder"]),
]


@pytest.mark.parametrize(
    ("argv", "code", "needles"), [pytest.param(a, c, n, id=i) for i, a, c, n in CLI_CASES]
)
def test_command_line(tmp_path, argv, code, needles):
    result = run(project(tmp_path / "p", FILES), *argv)
    assert_answered(result, code, *needles)


@pytest.mark.parametrize(
    ("folder", "needles"),
    [
        ("a folder", ["NAME"]),
        ('it\'s "$HOME" & `x`', ["NAME"]),
        ("tab\there", ["NAME"]),
    ],
)
def test_dash_C_odd_folder_names(tmp_path, folder, needles):
    project(tmp_path / folder, FILES)
    assert_answered(run(tmp_path, "-C", folder, "status"), 0, *needles)


def test_dash_C_a_folder_it_may_not_enter(tmp_path):
    root = project(tmp_path / "p", FILES)
    (tmp_path / "closed").mkdir(mode=0o000)
    result = run(root, "-C", str(tmp_path / "closed"), "status", modes_apply=True)
    assert_answered(result, 2, "closed", "Permission denied")


def test_no_config_anywhere(tmp_path):
    result = run(project(tmp_path / "empty", {}), "status")
    assert_answered(result, 2, "no devenv.toml", "devenv init")


def test_a_broken_config_stops_every_command_with_2(tmp_path):
    root = project(tmp_path / "p", {"devenv.toml": "[project\n"})
    for argv in (["status"], ["env"], ["logs", "web"], ["onboard"], ["sync", "--dry-run"]):
        assert_answered(run(root, *argv), 2, "devenv.toml:1")


def test_unreadable_log(tmp_path):
    root = project(tmp_path / "p", {**FILES, ".devenv/logs/web.log": Mode("line\n", 0o000)})
    result = run(root, "logs", "web", modes_apply=True)
    assert_answered(result, 1, "web.log", "Permission denied")


# An exception devenv did not expect, raised inside a real command, in a real `devenv` process.
CRASH = """
import sys
import devenv.commands.services as services

def status(args):
    raise RuntimeError("the unexpected")

services.status = status
from devenv.cli import main
sys.exit(main(["status"]))
"""


def test_an_internal_error_is_one_line_and_a_trace_file(tmp_path):
    root = project(tmp_path / "p", FILES)
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-c", CRASH],
        cwd=root,
        env=environ(XDG_STATE_HOME=str(state)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 70, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "a bug in devenv" in lines[0]
    assert "RuntimeError: the unexpected" in lines[0]
    traces = list((state / "devenv").glob("crash-*.txt"))
    assert len(traces) == 1
    assert str(traces[0]) in lines[0]
    trace = traces[0].read_text()
    assert "Traceback" in trace and "in status" in trace and "RuntimeError: the unexpected" in trace
    assert "argv: " in trace and "devenv " in trace  # what was run, and which devenv


def test_an_internal_error_with_nowhere_to_write_still_says_so(tmp_path):
    root = project(tmp_path / "p", FILES)
    (tmp_path / "state").write_text("a file where the state folder should be")
    result = subprocess.run(
        [sys.executable, "-c", CRASH],
        cwd=root,
        env=environ(XDG_STATE_HOME=str(tmp_path / "state"), TMPDIR=str(tmp_path / "state")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 70, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "a bug in devenv" in lines[0] and "RuntimeError: the unexpected" in lines[0]
    assert "Traceback" in result.stderr  # no file for it: the trace itself, after the line
