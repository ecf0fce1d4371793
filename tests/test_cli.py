"""The command-line contract: names, help, version, start-up cost, errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devenv import __version__
from devenv.cli import parse_args

CONTRACT = [
    "up",
    "down",
    "status",
    "env",
    "psql",
    "redis-cli",
    "logs",
    "reset",
    "snapshot",
    "restore",
    "sync",
    "doctor",
    "onboard",
    "init",
    "demo",
]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devenv", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_help_lists_every_command_of_the_contract():
    result = run("--help")
    assert result.returncode == 0
    for command in CONTRACT:
        assert f"    {command} " in result.stdout or f"    {command}\n" in result.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"devenv {__version__}"


def test_version_imports_neither_argparse_nor_the_rest_of_devenv():
    """``devenv --version`` is answered before argparse, pathlib or any other devenv module
    is loaded (it is what scripts call to see that devenv is there)."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from devenv.cli import main\n"
        "code = main(['--version'])\n"
        "print(code, sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    version, last = result.stdout.strip().splitlines()
    assert version == f"devenv {__version__}"
    assert last == "0 ['__future__', 'devenv', 'devenv.cli']"


def test_no_command_prints_help_and_fails():
    result = run()
    assert result.returncode == 2
    assert "usage: devenv" in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["up", "--no-tui"],
        ["up", "-d"],
        ["up", "--detach"],
        ["status", "--json"],
        ["logs", "web", "-f", "-n", "5"],
        ["reset", "postgres", "--yes"],
        ["snapshot"],
        ["snapshot", "before-migration"],
        ["restore", "before-migration"],
        ["doctor", "--fix", "--json", "--bundle"],
        ["sync", "--dry-run"],
        ["run", "pytest", "-q", "-x"],
        ["onboard", "--reset"],
        ["init", "--force"],
        ["psql", "-c", "select 1"],
        ["redis-cli", "ping"],
        ["demo", "somewhere"],
    ],
)
def test_the_documented_flags_parse(argv):
    args = parse_args(argv)
    assert args.command == argv[0]
    if argv[0] in ("psql", "redis-cli", "run"):
        assert args.args == argv[1:]


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from devenv.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'textual', 'psycopg2', 'redis', 'psutil', 'watchdog', 'honcho'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_onboarding_outside_a_git_repository_stops_at_the_branch_and_says_what_to_do(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n')
    result = run("onboard", "--no-tui", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "A branch off the main branch failed: " in result.stdout
    assert "What to do: clone the project with git, then run `devenv onboard` again" in (
        result.stdout
    )


def test_a_command_outside_a_project_says_how_to_start_one(tmp_path):
    result = run("up", cwd=tmp_path)
    assert result.returncode == 2  # no config: a usage mistake
    assert "Traceback" not in result.stderr
    assert "run `devenv init` to create one" in result.stderr


def test_a_broken_config_is_reported_by_the_command_without_a_traceback(tmp_path):
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n\n[servics.redis]\n')
    (tmp_path / "src").mkdir()
    result = run("up", "--no-tui", cwd=tmp_path / "src")
    assert result.returncode == 2
    assert result.stderr == (
        "devenv: devenv.toml:4: unknown key 'servics'; did you mean 'services'?\n"
    )


def test_dash_C_runs_in_another_folder(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    result = run("-C", str(project), "init")
    assert result.returncode == 0, result.stderr
    assert (project / "devenv.toml").exists()


def test_dash_C_with_a_missing_folder_is_a_clear_error(tmp_path):
    result = run("-C", str(tmp_path / "nope"), "status")
    assert result.returncode == 2
    assert result.stderr.strip() == f"devenv: -C {tmp_path / 'nope'}: no such folder"


@pytest.mark.parametrize("argv", [["up"], ["up", "-d"], ["up", "--detach"], ["up", "--no-tui"]])
def test_up_is_parsed_without_argparse_as_argparse_parses_it(argv):
    """main() reads `up`, `up -d` and `up --no-tui` without building the parser; what it makes is
    what parse_args makes (the attributes the up command reads)."""
    from devenv.cli import typed_often

    fast, parsed = typed_often(argv), parse_args(argv)
    for name in ("command", "directory", "detach", "no_tui"):
        assert getattr(fast, name) == getattr(parsed, name)
    assert fast.func is parsed.func


def test_down_is_parsed_without_argparse_as_argparse_parses_it(tmp_path):
    from devenv.cli import typed_often

    fast, parsed = typed_often(["down"]), parse_args(["down"])
    assert (fast.command, fast.directory) == (parsed.command, parsed.directory)
    (tmp_path / "devenv.toml").write_text('[project]\nname = "shop"\n')
    code = (
        "import sys\n"
        "from devenv.cli import main\n"
        "print(main(['down']), 'argparse' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 False"
