"""Prod parity against this machine: the real PostgreSQL and Redis (running and not), real
virtualenvs made with uv and venv, the real node, and what is missing.

The expected local versions are read independently of devenv.environment.parity
(the interpreter's own platform.python_version(), node's own output, the
binaries devenv's installations found), and [prod] values are built around
them, so every state is reached on whatever versions this machine has.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.config import load_config
from devenv.config.versions import Version
from devenv.environment.parity import (
    Parity,
    check_parity,
    compare,
    hint,
    node_parity,
    node_version,
    python_parity,
    service_parity,
    uv_python_version,
    venv_python_version,
)
from devenv.services.stack import Stack
from tests.servers import reachable_tmpdir

V = Version.parse


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def write_project(root: Path, body: str) -> Stack:
    root.mkdir(parents=True, exist_ok=True)
    (root / "devenv.toml").write_text(f'[project]\nname = "{root.name}"\n\n{body}')
    return Stack(load_config(root / "devenv.toml"))


def bump(version: Version, index: int, by: int = 1) -> str:
    """``version`` with the number at ``index`` changed (padded), cut after it."""
    parts = list(version.parts) + [0] * (index + 1 - len(version.parts))
    parts[index] = parts[index] + by if parts[index] + by >= 0 else parts[index] + 1
    return ".".join(map(str, parts[: index + 1]))


# ---------------------------------------------------------------- comparing


@pytest.mark.parametrize(
    ("prod", "local", "state"),
    [
        ("15", "15.4", "ok"),
        ("15.4", "15.4", "ok"),
        ("15.4", "15.4.2", "ok"),  # prod says no more than 15.4
        ("15.4.0", "15.4", "ok"),  # 15.4 is 15.4.0
        ("7.0.11", "7.0.15", "patch"),
        ("7.0.1", "7.0", "patch"),
        ("15.4", "15.6", "minor"),
        ("7.2.1", "7.0.15", "minor"),
        ("16", "15.4", "major"),
        ("14.9", "15.4", "major"),
        ("3.12", None, "missing"),
    ],
)
def test_compare(prod, local, state):
    assert compare(V(prod), None if local is None else V(local)) == state


@pytest.mark.parametrize(
    ("prod", "local", "state"),
    [("15.4", "15.18", "patch"), ("15", "15.18", "ok"), ("16", "15.18", "major")],
)
def test_a_second_number_that_is_the_bug_fix_release_is_a_patch(prod, local, state):
    assert compare(V(prod), V(local), bugfix_second=True) == state


def test_severity_message_and_json():
    major = Parity("postgres", "16", "15.4", "major", "server", "install PostgreSQL 16 with `x`")
    assert major.severity == "warning"
    assert major.message == (
        "postgres: prod runs 16, you run 15.4 (major): install PostgreSQL 16 with `x`"
    )
    assert major.as_json() == {"prod": "16", "local": "15.4", "state": "major"}
    patch = Parity("redis", "7.0.11", "7.0.15", "patch", "binaries")
    assert patch.severity == "note"
    assert patch.message == "redis: prod runs 7.0.11, you have 7.0.15 (patch)"
    ok = Parity("node", "20", "20.1.0", "ok", "path")
    assert (ok.severity, ok.message) == ("ok", "node: prod runs 20, you have 20.1.0")
    missing = Parity("python", "3.12", None, "missing", None, "`uv python install 3.12`")
    assert missing.severity == "warning"
    assert missing.as_json() == {"prod": "3.12", "local": None, "state": "missing"}
    assert "no virtualenv" in missing.message and missing.message.endswith("3.12`")


# ---------------------------------------------------------------- services


@pytest.fixture(scope="module")
def running():
    """A project whose PostgreSQL 15 and Redis run (started by devenv's Stack)."""
    base = reachable_tmpdir("devenv-parity-")
    stack = write_project(
        base / "shop", '[services.postgres]\nversion = "15"\n\n[services.redis]\n'
    )
    try:
        stack.start(hooks=False)
        yield stack
    finally:
        try:
            stack.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def binaries_version(stack: Stack, name: str) -> Version:
    return stack.service(name).ctx.installation.version


def server_says(stack: Stack, name: str) -> Version:
    """What the server reports, asked with its own client (psql, redis-cli)."""
    from devenv.services.stack import client_command

    args = ["-At", "-c", "SHOW server_version"] if name == "postgres" else ["INFO", "server"]
    out = subprocess.run(
        client_command(stack, name, args),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **stack.env()},  # redis-cli takes the password from REDISCLI_AUTH
    ).stdout
    if name == "redis":
        out = next(line for line in out.splitlines() if line.startswith("redis_version:"))
    return Version.search(out.split(":")[-1])


def test_a_running_postgresql_is_asked(running):
    local = server_says(running, "postgres")
    assert local.major == 15
    expected = {
        "15": "ok",
        str(local): "ok",
        bump(local, 1): "patch",  # PostgreSQL 15.x: the second number is the bug-fix release
        "16": "major",
        "14": "major",
    }
    for prod, state in expected.items():
        parity = service_parity(running, "postgres", V(prod))
        assert (parity.local, parity.state, parity.source) == (str(local), state, "server"), prod
        assert parity.severity == {"ok": "ok", "patch": "note"}.get(state, "warning")
    major = service_parity(running, "postgres", V("16"), system="linux")
    assert major.message.startswith(
        f"postgres: prod runs 16, you run {local} (major): install PostgreSQL 16 with `"
    )
    assert "apt-get install postgresql-16`" in major.hint  # that major's package, not 15's
    # The project allows only 15 (services.postgres.version): the hint says what to change.
    assert major.hint.endswith(", and allow it: services.postgres.version = \"16\" (now '15')")
    patch = service_parity(running, "postgres", V(bump(local, 1)), system="linux")
    assert patch.hint == ""  # a note, nothing to install


def test_a_running_redis_is_asked(running):
    local = server_says(running, "redis")
    assert local.major == 7
    expected = {
        "7": "ok",
        f"{local.parts[0]}.{local.parts[1]}": "ok",
        str(local): "ok",
        bump(local, 2, -1): "patch",
        bump(local, 1): "minor",
        "6": "major",
    }
    for prod, state in expected.items():
        parity = service_parity(running, "redis", V(prod))
        assert (parity.local, parity.state, parity.source) == (str(local), state, "server"), prod
    patch = service_parity(running, "redis", V(bump(local, 2, -1)))
    assert patch.severity == "note" and patch.hint == ""
    assert patch.message.endswith(f"you run {local} (patch)")


def test_a_server_running_the_binaries_found_is_known_without_asking_it(running):
    """`devenv status` comes here: the versions are the servers' own, and psycopg2 (~15 ms
    to import) is not loaded to learn them."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from devenv.config import load_config\n"
        "from devenv.environment.parity import server_version\n"
        "from devenv.services.stack import Stack\n"
        "stack = Stack(load_config(Path('devenv.toml')))\n"
        "print(*(server_version(stack.service(n)) for n in ('postgres', 'redis')))\n"
        "print('psycopg2' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=running.config.root,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    versions = f"{server_says(running, 'postgres')} {server_says(running, 'redis')}"
    assert result.stdout.splitlines() == [versions, "False"]


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_a_server_running_other_binaries_than_those_found_is_asked(running, name, tmp_path):
    """Binaries found now that the server does not run (a copy here: same bytes, another
    file) say nothing of the server's version; the server is asked."""
    from dataclasses import replace

    from devenv.environment.parity import server_version
    from devenv.services.installations import Installation

    service = running.service(name)
    found = service.ctx.installation
    copy = tmp_path / found.server.name
    shutil.copy2(found.server, copy)
    other = Installation(tmp_path, V("99.1"), {**found.binaries, "server": copy})
    elsewhere = type(service)(replace(service.ctx, installation=other))
    assert server_version(elsewhere) == server_says(running, name)
    assert server_version(service) == found.version == server_says(running, name)


def test_running_version_is_the_installations_only_for_the_file_the_process_runs(tmp_path):
    from devenv.services.installations import Installation, running_version

    sleep = Path(os.path.realpath(shutil.which("sleep")))
    copy = tmp_path / "sleep"
    shutil.copy2(sleep, copy)
    proc = subprocess.Popen([str(sleep), "30"])
    try:
        it = Installation(sleep.parent, V("1.2"), {"server": sleep})
        assert running_version(it, proc.pid) == V("1.2")
        through_link = tmp_path / "link"
        through_link.symlink_to(sleep)
        assert running_version(Installation(tmp_path, V("1.2"), {"server": through_link}), proc.pid)
        assert running_version(Installation(tmp_path, V("1.2"), {"server": copy}), proc.pid) is None
        gone = Installation(tmp_path, V("1.2"), {"server": tmp_path / "nothing"})
        assert running_version(gone, proc.pid) is None
    finally:
        proc.kill()
        proc.wait()
    assert running_version(it, proc.pid) is None  # no such process any more


def test_a_stopped_service_is_the_binaries_devenv_would_start(tmp_path):
    stack = write_project(tmp_path / "idle", "[services.postgres]\n[services.redis]\n")
    for name in ("postgres", "redis"):
        installed = binaries_version(stack, name)
        parity = service_parity(stack, name, V(str(installed.major)))
        assert (parity.local, parity.state, parity.source) == (str(installed), "ok", "binaries")
    installed = binaries_version(stack, "postgres")
    parity = service_parity(stack, "postgres", V("99"), system="linux")
    assert parity.state == "major"
    assert parity.message.startswith(f"postgres: prod runs 99, you have {installed} (major): ")


def test_a_service_with_no_matching_binaries_is_missing(tmp_path):
    stack = write_project(tmp_path / "old", '[services.postgres]\nversion = "9"\n')
    parity = service_parity(stack, "postgres", V("9.6"), system="linux")
    assert (parity.local, parity.state, parity.source) == (None, "missing", None)
    assert parity.severity == "warning"
    assert parity.message.startswith("postgres: prod runs 9.6, no postgres found here (missing)")
    assert "install PostgreSQL 9.6 with `" in parity.hint


def test_install_hints_follow_the_system(tmp_path):
    """The recipe's command for this system's package manager (here: none on PATH, so all)."""
    from devenv.services.recipes import recipe_for

    stack = write_project(tmp_path / "p", "[services.postgres]\n")
    recipe = recipe_for(stack.config.services["postgres"])
    parity = Parity("postgres", "16", "15.4", "major", "server")
    for system in ("linux", "macos"):
        text = hint(parity, recipe, system=system, path=str(tmp_path / "no-tools"))
        assert "brew install postgresql@16" in text and "apt-get install postgresql" in text
    assert hint(Parity("postgres", "15.4", "15.6", "patch"), recipe) == ""
    assert hint(Parity("postgres", "15", "15.6", "ok"), recipe) == ""


# ---------------------------------------------------------------- python


def interpreter_version(python: Path) -> Version:
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return V(out.strip())


@pytest.fixture(scope="module")
def uv_venv(tmp_path_factory) -> tuple[Path, Version]:
    """A real virtualenv made with uv, and its Python's version as the Python itself says."""
    venv = tmp_path_factory.mktemp("uvvenv") / ".venv"
    subprocess.run([uv_bin(), "venv", "-q", "--no-python-downloads", venv], check=True)
    return venv, interpreter_version(venv / "bin" / "python")


def test_python_is_the_virtualenvs(uv_venv):
    venv, local = uv_venv
    root = venv.parent
    assert venv_python_version(venv) == local
    cases = {
        f"{local.parts[0]}.{local.parts[1]}": "ok",
        str(local): "ok",
        bump(local, 2): "patch",
        bump(local, 1): "minor",
        bump(local, 0): "major",
    }
    for prod, state in cases.items():
        parity = python_parity(V(prod), venv, root)
        assert (parity.local, parity.state, parity.source) == (str(local), state, "venv"), prod
    minor = python_parity(V(bump(local, 1)), venv, root)
    assert minor.message == (
        f"python: prod runs {bump(local, 1)}, the virtualenv has {local} (minor): "
        f"`uv python install {bump(local, 1)}`, then make .venv with "
        f"`uv venv --python {bump(local, 1)} .venv`"
    )


def test_a_virtualenv_made_by_the_venv_module(tmp_path):
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    assert "version_info" not in (venv / "pyvenv.cfg").read_text()  # "version = ..." only
    local = interpreter_version(venv / "bin" / "python")
    parity = python_parity(V(str(local)), venv, tmp_path)
    assert (parity.local, parity.state, parity.source) == (str(local), "ok", "venv")


def installed_pythons() -> dict[Version, Path]:
    """One interpreter per CPython version uv finds installed here."""
    out = subprocess.run(
        [uv_bin(), "python", "list", "--only-installed", "--output-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[Version, Path] = {}
    for entry in json.loads(out):
        if entry.get("implementation") == "cpython":
            found.setdefault(V(entry["version"]), Path(entry["path"]))
    return found


def test_without_a_virtualenv_the_python_uv_would_make_it_with(tmp_path, monkeypatch):
    pythons = installed_pythons()
    if len(pythons) < 2:
        pytest.skip("needs two Python versions installed (uv python list)")
    root = tmp_path / "fresh"
    root.mkdir()
    usual = uv_python_version(root)
    assert usual in pythons
    other = next(version for version in pythons if version != usual)
    # An active virtualenv (devenv's own, say) is not what `uv venv` builds on.
    active = tmp_path / "active"
    subprocess.run([uv_bin(), "venv", "-q", "--python", pythons[other], active], check=True)
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    assert uv_python_version(root) == usual
    # A .python-version is honoured, as `uv venv` honours it.
    (root / ".python-version").write_text(f"{other}\n")
    parity = python_parity(V(str(other)), root / ".venv", root)
    assert (parity.local, parity.state, parity.source) == (str(other), "ok", "uv")
    assert f"there is no virtualenv yet; uv would make it with {other}" in parity.message
    made = root / ".venv"
    subprocess.run([uv_bin(), "venv", "-q", "--no-python-downloads", made], cwd=root, check=True)
    assert interpreter_version(made / "bin" / "python") == other  # uv venv agrees


def test_no_virtualenv_and_no_python_is_missing(tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    (root / ".python-version").write_text("3.99\n")  # no such Python here, none downloaded
    parity = python_parity(V("3.99"), root / ".venv", root)
    assert (parity.local, parity.state, parity.source) == (None, "missing", None)
    assert parity.message == (
        "python: prod runs 3.99, no virtualenv, and no Python that uv would make one with "
        "(missing): `uv python install 3.99`, then make .venv with `uv venv --python 3.99 .venv`"
    )


# ---------------------------------------------------------------- node


@pytest.fixture
def real_node() -> tuple[Path, Version]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed on this machine")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return Path(node), V(out.strip().lstrip("v"))


def test_node_on_path(real_node, tmp_path):
    _, local = real_node
    patch = bump(local, 2, -1)
    cases = {
        str(local.major): "ok",
        str(local): "ok",
        patch: "patch",
        bump(local, 1): "minor",
        bump(local, 0, 2): "major",
    }
    for prod, state in cases.items():
        parity = node_parity(V(prod), tmp_path)
        assert (parity.local, parity.state, parity.source) == (str(local), state, "path"), prod


def test_node_modules_bin_comes_first_and_none_is_missing(real_node, tmp_path):
    node, local = real_node
    empty = tmp_path / "empty-path"
    empty.mkdir()
    root = tmp_path / "web"
    (root / "node_modules" / ".bin").mkdir(parents=True)
    assert node_version(root, path=str(empty)) is None
    missing = node_parity(V("22"), root, path=str(empty), system="linux")
    assert (missing.local, missing.state) == (None, "missing")
    assert missing.message.startswith(
        "node: prod runs 22, no node on PATH or in node_modules/.bin (missing): "
    )
    (root / "node_modules" / ".bin" / "node").symlink_to(node)  # as npm's "node" package does
    assert node_version(root, path=str(empty)) == local


def test_node_hints(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    parity = Parity("node", "22", "20.20.2", "major", "path")
    # No package manager on PATH: every system's command, each named.
    text = hint(parity, system="macos", path=str(tools))
    assert "`brew install node@22` (macOS)" in text and "nodejs22" in text
    apt = tools / "apt-get"
    apt.write_text("#!/bin/sh\nexit 1\n")  # only looked up on PATH, never run
    apt.chmod(0o755)
    assert "nvm install 22" in hint(parity, system="linux", path=str(tools))


# ---------------------------------------------------------------- all of it


def test_check_parity_reads_prod_from_the_config(running, uv_venv, real_node, tmp_path):
    venv, python = uv_venv
    _, node = real_node
    pg = server_says(running, "postgres")
    root = running.config.root
    text = (root / "devenv.toml").read_text()
    prod = (
        f'[prod]\npostgres = "16"\nredis = "7"\npython = "{python.parts[0]}.{python.parts[1]}"\n'
        f'node = "{bump(node, 1)}"\n'
    )
    (root / "devenv.toml").write_text(text + prod)
    try:
        stack = Stack(load_config(root / "devenv.toml"))
        result = check_parity(stack, venv)
    finally:
        (root / "devenv.toml").write_text(text)
    assert list(result) == ["postgres", "redis", "python", "node"]
    shapes = {name: parity.as_json() for name, parity in result.items()}
    assert shapes["postgres"] == {"prod": "16", "local": str(pg), "state": "major"}
    assert shapes["redis"]["state"] == "ok"
    minor = f"{python.parts[0]}.{python.parts[1]}"
    assert shapes["python"] == {"prod": minor, "local": str(python), "state": "ok"}
    assert shapes["node"] == {"prod": bump(node, 1), "local": str(node), "state": "minor"}
    json.dumps(shapes)  # the status --json "parity" object
    warnings = [p.message for p in result.values() if p.severity == "warning"]
    assert len(warnings) == 2 and all(": install " in w for w in warnings)


def test_checking_imports_nothing_heavy_until_asked():
    code = (
        "import sys, devenv.environment.parity; "
        "print(sorted(m for m in ('psycopg2', 'redis', 'textual', 'uv') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "[]"
