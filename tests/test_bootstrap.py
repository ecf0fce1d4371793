"""bootstrap.sh, run for real by bash, with the system commands it calls stubbed on PATH.

Each test builds a sandbox: a copy of the checkout's bootstrap.sh, its two locks and
pyproject.toml (so the real checkout never changes), and a bin directory that is the
*whole* PATH: symlinks to the few real tools the script needs, plus stubs (uname, id,
sudo, brew, apt-get, dnf, python3.12, initdb, ...) that log their argv and cwd. The stub
Python creates a fake .venv whose pip, python and devenv log too, so the venv and pip
steps are observed, not performed.

The fixed directories the script also looks in (/usr/lib/postgresql/*/bin,
/opt/homebrew/bin, ...) are looked up under DEVENV_BOOTSTRAP_SYSROOT, an empty folder of
the sandbox standing in for /, so what this machine has installed does not matter; a test
puts stub binaries there to check that they are found.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
REAL_TOOLS = ("bash", "env", "cat", "sha256sum", "dirname")

UNSUPPORTED_OS = (
    "unsupported OS 'FreeBSD': devenv's bootstrap supports Linux (apt or dnf) and macOS "
    "(Homebrew); install PostgreSQL and Redis yourself, then: python3 -m venv .venv && "
    ".venv/bin/pip install -r requirements.lock && .venv/bin/pip install --no-deps -e ."
)

# What the script has sh run (as root) to stop Debian creating a cluster on port 5432.
SKIP_MAIN_CLUSTER = 'mkdir -p "$1" && echo "create_main_cluster = false" >"$1/createcluster.conf"'

# One stub program for every stubbed command; CONFIG is prepended when it is written.
STUB_BODY = r"""
import json, os, sys

name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    entry = {"cmd": CONFIG.get("log_as", name), "argv": args, "cwd": os.getcwd()}
    entry["env"] = {k: os.environ[k] for k in ("DEBIAN_FRONTEND", "PATH") if k in os.environ}
    log.write(json.dumps(entry) + "\n")

kind = CONFIG["kind"]
if kind == "print":
    print(CONFIG["output"])
elif kind == "id":
    print(CONFIG["uid"] if args == ["-u"] else "uid=%s" % CONFIG["uid"])
elif kind == "sudo":
    # Run the command as given, except shell snippets (they would write to /etc).
    if args and args[0] != "sh":
        os.execvp(args[0], args)
elif kind == "python":
    if args[:1] == ["-c"]:
        print(CONFIG["version"])
    elif args[:2] == ["-m", "venv"]:
        venv_bin = os.path.join(args[2], "bin")
        os.makedirs(venv_bin)
        for tool, config in CONFIG["venv"].items():
            path = os.path.join(venv_bin, tool)
            with open(path, "w") as f:
                f.write(CONFIG["template"].replace("CONFIG = {}", "CONFIG = " + repr(config), 1))
            os.chmod(path, 0o755)
    elif args[:2] == ["-m", "pytest"]:
        sys.exit(int(os.environ.get("STUB_PYTEST_EXIT", "0")))
elif kind == "devenv":
    if args[:1] == ["demo"]:
        os.makedirs(args[1])
sys.exit(CONFIG.get("exit", 0))
"""
STUB_TEMPLATE = f"#!{sys.executable}\nCONFIG = {{}}\n{STUB_BODY}"


def stub_text(config: dict) -> str:
    return STUB_TEMPLATE.replace("CONFIG = {}", "CONFIG = " + repr(config), 1)


def python_stub_config(version: str = "3.12") -> dict:
    venv_python = {"kind": "python", "version": version, "log_as": "venv-python", "venv": {}}
    return {
        "kind": "python",
        "version": version,
        "template": STUB_TEMPLATE,
        "venv": {
            "python": {**venv_python, "template": STUB_TEMPLATE},
            "pip": {"kind": "log", "log_as": "pip"},
            "devenv": {"kind": "devenv", "log_as": "devenv"},
        },
    }


class Sandbox:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.root = tmp_path / "checkout"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "calls.jsonl"
        self.sysroot = tmp_path / "sysroot"  # stands in for /
        self.root.mkdir()
        self.bin.mkdir()
        self.sysroot.mkdir()
        for name in (
            "bootstrap.sh",
            "requirements.lock",
            "requirements-test.lock",
            "pyproject.toml",
        ):
            shutil.copy2(CHECKOUT / name, self.root / name)
        for tool in REAL_TOOLS:
            real = shutil.which(tool)
            assert real, f"{tool} is needed to run these tests"
            (self.bin / tool).symlink_to(real)
        self.env = {
            "PATH": str(self.bin),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "STUB_LOG": str(self.log),
            "DEVENV_BOOTSTRAP_ROOT": str(self.root),
            "DEVENV_BOOTSTRAP_SYSROOT": str(self.sysroot),
        }

    # -- stubs ----------------------------------------------------------------

    def stub(self, name: str, **config) -> None:
        config.setdefault("kind", "log")
        path = self.bin / name
        path.write_text(stub_text(config))
        path.chmod(0o755)

    def system_stub(self, path: str, **config) -> Path:
        """A stub at PATH under the stand-in for / (e.g. /usr/lib/postgresql/16/bin/initdb)."""
        config.setdefault("kind", "log")
        stub = self.sysroot / path.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(stub_text(config))
        stub.chmod(0o755)
        return stub

    def remove(self, name: str) -> None:
        (self.bin / name).unlink()

    def machine(self, os_name: str, uid: int = 501, sudo: bool = True) -> None:
        """uname, id, sudo and a Python 3.12 that makes a fake venv."""
        self.stub("uname", kind="print", output=os_name)
        self.stub("id", kind="id", uid=uid)
        if sudo:
            self.stub("sudo", kind="sudo")
        self.stub("python3.12", **python_stub_config())

    # -- running --------------------------------------------------------------

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        if self.log.exists():
            self.log.unlink()
        return subprocess.run(
            [str(self.root / "bootstrap.sh"), *args],
            cwd=self.tmp,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def entries(self, cmd: str) -> list[dict]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["cmd"] == cmd]

    def calls(self, cmd: str) -> list[list[str]]:
        return [e["argv"] for e in self.entries(cmd)]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


PIP_CALLS = [
    ["install", "--require-hashes", "-r", "requirements.lock"],
    ["install", "--no-deps", "-e", "."],
]
# `./bootstrap.sh test` installs the test lock: the same pins plus the test tools.
TEST_PIP_CALLS = [
    ["install", "--require-hashes", "-r", "requirements-test.lock"],
    ["install", "--no-deps", "-e", "."],
]


# --- macOS (Homebrew) ----------------------------------------------------------------


def test_macos_installs_with_brew_then_a_second_run_changes_nothing(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.stub("brew")

    first = sandbox.run("setup")

    assert first.returncode == 0, first.stderr
    assert sandbox.calls("brew") == [["install", "postgresql@16", "redis"]]
    assert "==> installing PostgreSQL and Redis with brew" in first.stdout
    assert "==> Python 3.12 found: " in first.stdout
    assert "==> creating .venv with Python 3.12" in first.stdout
    assert sandbox.calls("python3.12")[-1] == ["-m", "venv", str(sandbox.root / ".venv")]
    assert sandbox.calls("pip") == PIP_CALLS
    assert {e["cwd"] for e in sandbox.entries("pip")} == {str(sandbox.root)}
    assert (sandbox.root / ".venv" / ".bootstrap-stamp").is_file()
    assert sandbox.calls("sudo") == []
    assert "==> set-up done" in first.stdout

    # What brew installed is now there; the same lock and pyproject: nothing to do.
    sandbox.stub("initdb")
    sandbox.stub("redis-server")
    second = sandbox.run("setup")

    assert second.returncode == 0, second.stderr
    assert sandbox.calls("brew") == []
    assert sandbox.calls("pip") == []
    assert sandbox.calls("python3.12") == []
    assert sandbox.calls("sudo") == []
    assert "==> PostgreSQL found: " in second.stdout
    assert "==> Redis found: " in second.stdout
    assert "==> devenv in .venv is up to date with requirements.lock" in second.stdout
    assert "==> everything is up to date, nothing to do" in second.stdout
    assert "installing" not in second.stdout


def test_macos_with_postgres_and_redis_on_path_installs_nothing(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.stub("brew")
    sandbox.stub("initdb")
    sandbox.stub("redis-server")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("brew") == []
    assert sandbox.calls("sudo") == []
    assert f"==> PostgreSQL found: {sandbox.bin / 'initdb'}" in result.stdout
    assert f"==> Redis found: {sandbox.bin / 'redis-server'}" in result.stdout
    assert sandbox.calls("pip") == PIP_CALLS


def test_macos_installs_only_what_is_missing(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.stub("brew")
    sandbox.stub("initdb")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("brew") == [["install", "redis"]]
    assert "==> installing Redis with brew" in result.stdout


def test_a_changed_lockfile_reinstalls_into_the_venv(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.stub("initdb")
    sandbox.stub("redis-server")
    assert sandbox.run("setup").returncode == 0
    assert sandbox.calls("pip") == PIP_CALLS

    with (sandbox.root / "requirements.lock").open("a") as lock:
        lock.write("example-package==1.0\n")
    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("pip") == PIP_CALLS
    assert sandbox.calls("python3.12") == []  # the venv is reused
    assert "==> installing devenv and its pinned dependencies into .venv" in result.stdout


def test_macos_without_homebrew_points_to_brew_sh(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")

    result = sandbox.run("setup")

    assert result.returncode == 1
    assert "Homebrew is needed to install PostgreSQL and Redis on macOS" in result.stderr
    assert "https://brew.sh" in result.stderr
    assert sandbox.calls("pip") == []
    assert sandbox.calls("sudo") == []


def test_macos_installs_python_with_brew_when_there_is_none(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.remove("python3.12")
    sandbox.stub("python3", **python_stub_config("3.9"))  # too old
    sandbox.stub("brew")
    sandbox.stub("initdb")
    sandbox.stub("redis-server")

    result = sandbox.run("setup")

    # The stub brew installs nothing, so there is still no usable Python afterwards.
    assert sandbox.calls("brew") == [["install", "python@3.12"]]
    assert result.returncode == 1
    assert "devenv needs Python 3.11 or newer" in result.stderr
    assert sandbox.calls("pip") == []
    assert not (sandbox.root / ".venv").exists()


# --- Linux ---------------------------------------------------------------------------


def test_linux_apt_as_a_user_uses_sudo(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.stub("apt-get")
    sandbox.stub("dnf")  # apt-get wins

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert "==> installing PostgreSQL and Redis with apt-get" in result.stdout
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql", "redis-server"]
    conf_dir = str(sandbox.sysroot / "etc" / "postgresql-common")
    assert sandbox.calls("sudo") == [
        ["apt-get", "update"],
        ["sh", "-c", SKIP_MAIN_CLUSTER, "sh", conf_dir],
        ["env", "DEBIAN_FRONTEND=noninteractive", "UCF_FORCE_CONFFOLD=1", *install],
    ]
    assert "==> asking Debian's postgresql-common not to create a system cluster" in result.stdout
    assert sandbox.calls("apt-get") == [["update"], install[1:]]
    assert sandbox.entries("apt-get")[-1]["env"]["DEBIAN_FRONTEND"] == "noninteractive"
    assert sandbox.calls("dnf") == []
    assert sandbox.calls("pip") == PIP_CALLS


def test_linux_apt_keeps_an_existing_postgresql_common_config(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.stub("apt-get")
    conf = sandbox.sysroot / "etc" / "postgresql-common" / "createcluster.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("create_main_cluster = true\n")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert [call[0] for call in sandbox.calls("sudo")] == ["apt-get", "env"]
    assert "postgresql-common" not in result.stdout
    assert conf.read_text() == "create_main_cluster = true\n"


def test_linux_dnf_as_root_runs_without_sudo(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=0)
    sandbox.stub("dnf")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("dnf") == [["install", "-y", "postgresql-server", "redis"]]
    assert sandbox.calls("sudo") == []
    assert " with dnf" in result.stdout
    assert sandbox.calls("pip") == PIP_CALLS


def test_linux_with_postgres_and_redis_on_path_needs_no_package_manager(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.stub("initdb")
    sandbox.stub("redis-server")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("sudo") == []
    assert sandbox.calls("pip") == PIP_CALLS


def test_linux_without_apt_or_dnf_says_so(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=0)
    sandbox.stub("initdb")  # Redis is still missing

    result = sandbox.run("setup")

    assert result.returncode == 1
    assert "no supported package manager found to install Redis" in result.stderr
    assert "apt-get or dnf" in result.stderr
    assert sandbox.calls("pip") == []
    assert not (sandbox.root / ".venv").exists()


def test_linux_user_without_sudo_is_told_what_to_run(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000, sudo=False)
    sandbox.stub("apt-get")

    result = sandbox.run("setup")

    assert result.returncode == 1
    assert "needs root: you are not root and sudo was not found" in result.stderr
    assert "==> installing" not in result.stdout
    assert "Run this as root, then re-run ./bootstrap.sh:" in result.stderr
    command = "apt-get update && apt-get install -y --no-install-recommends postgresql redis-server"
    assert command in result.stderr
    assert sandbox.calls("apt-get") == []
    assert sandbox.calls("pip") == []


def test_linux_apt_installs_python_and_venv_support_when_missing(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.remove("python3.12")
    sandbox.stub("apt-get")
    sandbox.stub("initdb")
    sandbox.stub("redis-server")

    result = sandbox.run("setup")

    install = ["install", "-y", "--no-install-recommends", "python3", "python3-venv"]
    assert sandbox.calls("apt-get") == [["update"], install]
    assert "==> installing Python 3 with apt-get" in result.stdout
    assert result.returncode == 1  # the stub apt-get installed nothing
    assert "tried python3.13, python3.12, python3.11, python3" in result.stderr


# --- the fixed directories, under DEVENV_BOOTSTRAP_SYSROOT ---------------------------


@pytest.mark.parametrize(
    ("os_name", "initdb"),
    [
        ("Linux", "/usr/lib/postgresql/16/bin/initdb"),
        ("Linux", "/usr/pgsql-16/bin/initdb"),
        ("Darwin", "/opt/homebrew/opt/postgresql@16/bin/initdb"),
        ("Darwin", "/usr/local/opt/postgresql@16/bin/initdb"),
        ("Darwin", "/Applications/Postgres.app/Contents/Versions/16/bin/initdb"),
    ],
)
def test_postgres_is_found_in_its_usual_directories(
    sandbox: Sandbox, os_name: str, initdb: str
) -> None:
    sandbox.machine(os_name, uid=1000)
    sandbox.stub("redis-server")
    found = sandbox.system_stub(initdb)

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert f"==> PostgreSQL found: {found}" in result.stdout
    assert "installing PostgreSQL" not in result.stdout
    assert sandbox.calls("pip") == PIP_CALLS


@pytest.mark.parametrize("redis", ["/opt/homebrew/bin/redis-server", "/usr/local/bin/redis-server"])
def test_redis_is_found_in_its_usual_directories(sandbox: Sandbox, redis: str) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.stub("initdb")
    found = sandbox.system_stub(redis)

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert f"==> Redis found: {found}" in result.stdout
    assert sandbox.calls("pip") == PIP_CALLS


def test_linux_does_not_look_in_the_macos_directories(sandbox: Sandbox) -> None:
    sandbox.machine("Linux", uid=1000)
    sandbox.stub("apt-get")
    sandbox.stub("redis-server")
    sandbox.system_stub("/opt/homebrew/opt/postgresql@16/bin/initdb")
    sandbox.system_stub("/Applications/Postgres.app/Contents/Versions/16/bin/initdb")

    result = sandbox.run("setup")

    assert result.returncode == 0, result.stderr
    assert "==> installing PostgreSQL with apt-get" in result.stdout
    assert sandbox.calls("apt-get")[-1][-1] == "postgresql"


@pytest.mark.parametrize("brew", ["/opt/homebrew/bin/brew", "/usr/local/bin/brew"])
def test_macos_finds_homebrew_off_path_and_puts_it_on_path(sandbox: Sandbox, brew: str) -> None:
    sandbox.machine("Darwin")
    found = sandbox.system_stub(brew, log_as="brew")
    sandbox.system_stub(str(Path(brew).parent / "redis-server"))  # on PATH once brew is
    sandbox.stub("initdb")

    result = sandbox.run("test")

    assert result.returncode == 0, result.stderr
    assert f"==> Redis found: {found.parent / 'redis-server'}" in result.stdout
    assert sandbox.calls("brew") == [["install", "git", "tmux", "shellcheck", "memcached"]]
    assert found.parent.is_dir()


# --- unsupported systems, usage ------------------------------------------------------


def test_unsupported_os_is_refused_and_nothing_is_installed(sandbox: Sandbox) -> None:
    sandbox.machine("FreeBSD", uid=0)
    for tool in ("apt-get", "dnf", "brew"):
        sandbox.stub(tool)

    result = sandbox.run()

    assert result.returncode == 1
    assert UNSUPPORTED_OS in result.stderr
    assert result.stdout == ""
    for tool in ("apt-get", "dnf", "brew", "sudo", "python3.12", "pip", "devenv"):
        assert sandbox.calls(tool) == [], tool
    assert not (sandbox.root / ".venv").exists()


def test_help_and_an_unknown_command(sandbox: Sandbox) -> None:
    sandbox.machine("Linux")

    helped = sandbox.run("--help")
    unknown = sandbox.run("frobnicate")

    assert helped.returncode == 0
    assert "Usage: ./bootstrap.sh [setup | test [PYTEST ARGS...] | help]" in helped.stdout
    assert "DEVENV_DEMO_DIR" in helped.stdout
    assert "also installs git, tmux, shellcheck and memcached" in helped.stdout
    assert (
        "DEVENV_BOOTSTRAP_SYSROOT  for testing the script: a folder standing in for /"
        in helped.stdout
    )
    assert unknown.returncode == 2
    assert "unknown command: frobnicate" in unknown.stderr
    assert "Usage:" in unknown.stderr
    assert sandbox.calls("uname") == []


# --- the default command and `test` --------------------------------------------------


def ready_mac(sandbox: Sandbox) -> None:
    sandbox.machine("Darwin")
    sandbox.stub("brew")
    sandbox.stub("initdb")
    sandbox.stub("redis-server")


def test_default_copies_the_demo_once_and_execs_devenv_up_in_it(sandbox: Sandbox) -> None:
    ready_mac(sandbox)
    demo = sandbox.root / ".devenv" / "demo"

    first = sandbox.run()

    assert first.returncode == 0, first.stderr
    assert sandbox.calls("devenv") == [["demo", str(demo)], ["up"]]
    assert sandbox.entries("devenv")[-1]["cwd"] == str(demo)
    # devenv's own venv is not put on the demo's PATH: the demo gets a virtualenv of its own.
    venv_bin = str(sandbox.root / ".venv" / "bin")
    assert venv_bin not in sandbox.entries("devenv")[-1]["env"]["PATH"].split(os.pathsep)
    assert f"==> copying the demo project to {demo}" in first.stdout
    assert f"==> starting devenv in {demo}" in first.stdout

    second = sandbox.run()

    assert second.returncode == 0, second.stderr
    assert sandbox.calls("devenv") == [["up"]]
    assert "copying the demo" not in second.stdout


def test_default_honours_devenv_demo_dir(sandbox: Sandbox) -> None:
    ready_mac(sandbox)
    demo = sandbox.tmp / "elsewhere" / "demo"

    result = sandbox.run(DEVENV_DEMO_DIR=str(demo))

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("devenv") == [["demo", str(demo)], ["up"]]
    assert sandbox.entries("devenv")[-1]["cwd"] == str(demo)


def test_test_installs_its_tools_then_runs_pytest_with_the_args(sandbox: Sandbox) -> None:
    ready_mac(sandbox)

    result = sandbox.run("test", "-x", "-k", "not slow")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls("brew") == [["install", "git", "tmux", "shellcheck", "memcached"]]
    assert "==> installing git tmux shellcheck memcached with brew" in result.stdout
    assert sandbox.calls("pip") == TEST_PIP_CALLS
    assert "into .venv from requirements-test.lock" in result.stdout
    assert sandbox.calls("venv-python")[-1] == ["-m", "pytest", "-x", "-k", "not slow"]
    assert sandbox.entries("venv-python")[-1]["cwd"] == str(sandbox.root)
    assert sandbox.calls("devenv") == []


def test_a_venv_installed_for_the_tests_is_up_to_date_for_a_set_up(sandbox: Sandbox) -> None:
    """The test lock pins the runtime lock's versions, so a set-up after a test run installs
    nothing; a test run after a bare set-up installs the test lock."""
    ready_mac(sandbox)
    for tool in ("git", "tmux", "shellcheck", "memcached"):
        sandbox.stub(tool)
    assert sandbox.run("test").returncode == 0
    assert sandbox.calls("pip") == TEST_PIP_CALLS

    setup = sandbox.run("setup")

    assert setup.returncode == 0, setup.stderr
    assert sandbox.calls("pip") == []
    assert "==> devenv in .venv is up to date with requirements.lock" in setup.stdout

    # A changed runtime lock: the set-up installs it, then the tests need their lock again.
    with (sandbox.root / "requirements.lock").open("a") as lock:
        lock.write("example-package==1.0\n")
    assert sandbox.run("setup").returncode == 0
    assert sandbox.calls("pip") == PIP_CALLS
    tests = sandbox.run("test")
    assert tests.returncode == 0, tests.stderr
    assert sandbox.calls("pip") == TEST_PIP_CALLS
    assert "==> devenv in .venv is up to date" not in tests.stdout


@pytest.mark.parametrize(
    ("manager", "install"),
    [
        ("apt-get", ["install", "-y", "--no-install-recommends", "shellcheck", "memcached"]),
        ("dnf", ["install", "-y", "ShellCheck", "memcached"]),
    ],
)
def test_test_on_linux_installs_only_the_missing_tools(
    sandbox: Sandbox, manager: str, install: list[str]
) -> None:
    sandbox.machine("Linux", uid=0)
    sandbox.stub(manager)
    for tool in ("initdb", "redis-server", "git", "tmux"):
        sandbox.stub(tool)

    result = sandbox.run("test")

    assert result.returncode == 0, result.stderr
    assert sandbox.calls(manager)[-1] == install
    assert f"==> installing shellcheck memcached with {manager}" in result.stdout
    assert sandbox.calls("sudo") == []
    assert sandbox.calls("venv-python")[-1] == ["-m", "pytest"]


def test_test_with_its_tools_present_passes_pytest_exit_code_through(sandbox: Sandbox) -> None:
    ready_mac(sandbox)
    for tool in ("git", "tmux", "shellcheck", "memcached"):
        sandbox.stub(tool)

    result = sandbox.run("test", STUB_PYTEST_EXIT="5")  # 5: no tests collected

    assert result.returncode == 5
    assert sandbox.calls("brew") == []
    assert "==> git, tmux, shellcheck and memcached found" in result.stdout
    assert sandbox.calls("venv-python")[-1] == ["-m", "pytest"]


def run_on_a_terminal(sandbox: Sandbox, **env: str) -> str:
    """Run `bootstrap.sh setup` with stdout and stderr on a pseudo-terminal."""
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [str(sandbox.root / "bootstrap.sh"), "setup"],
            env={**sandbox.env, **env},
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=secondary,
            timeout=60,
        )
        os.close(secondary)
        output = b""
        with contextlib.suppress(OSError):  # EIO once everything is read
            while chunk := os.read(main, 4096):
                output += chunk
    finally:
        os.close(main)
    assert proc.returncode == 0, output
    return output.decode()


def test_colours_on_a_terminal_unless_no_color(sandbox: Sandbox) -> None:
    ready_mac(sandbox)

    coloured = run_on_a_terminal(sandbox)
    plain = run_on_a_terminal(sandbox, NO_COLOR="1")

    assert "\x1b[" in coloured
    assert "==>" in plain
    assert "\x1b[" not in plain


def test_ci_runs_the_readme_test_command() -> None:
    ci = (CHECKOUT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in ci
    assert ci.rstrip().endswith("exec ./bootstrap.sh test")
    for script in (CHECKOUT / ".ci" / "run", CHECKOUT / "bootstrap.sh"):
        assert os.access(script, os.X_OK), f"{script} is not executable"


def test_bootstrap_is_shellcheck_clean() -> None:
    assert shutil.which("shellcheck"), "shellcheck is not installed: run ./bootstrap.sh test"
    result = subprocess.run(
        ["shellcheck", str(CHECKOUT / "bootstrap.sh"), str(CHECKOUT / ".ci" / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
