"""The project's own environment, for real: uv makes the virtualenv from the lockfile.

Projects here have no services (so no server starts) and install small wheels
built by tests/wheels.py from a local folder, through pip's own settings
(PIP_FIND_LINKS, PIP_NO_INDEX), which devenv hands to uv: no network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.config import load_project
from devenv.environment.installers import ToolMissing, plan
from devenv.environment.project import ProjectEnv
from devenv.errors import DevenvError
from tests.cli import devenv


def project(root: Path, lock: str, toml: str = "", procfile: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "devenv.toml").write_text(toml)
    (root / "requirements.lock").write_text(lock)
    if procfile is not None:
        (root / "Procfile").write_text(procfile)
    return root


def test_first_up_creates_the_virtualenv_before_the_hooks(tmp_path, offline):
    root = project(
        tmp_path / "app",
        "alpha==1.0\nbeta==1.0\n",
        "[hooks]\nafter_ready = [\"python -c 'import alpha, sys; print(alpha.__version__, "
        "sys.prefix)'\"]\n",
    )

    result = devenv(root, "up", "-d", env=offline)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "installing the project's packages (first start: installing requirements.lock)" in out
    assert out.index("uv venv") < out.index("uv pip sync") < out.index("packages installed")
    assert f"1.0 {root / '.venv'}" in out  # the hook ran in the new venv
    site = next((root / ".venv").glob("lib/python*/site-packages"))
    assert {p.name for p in site.glob("*.dist-info")} == {
        "alpha-1.0.dist-info",
        "beta-1.0.dist-info",
    }
    assert "uv pip sync" in (root / ".devenv" / "logs" / "deps.log").read_text()

    again = devenv(root, "up", "-d", env=offline)  # in sync: nothing is installed
    assert again.returncode == 0, again.stderr
    assert "installing" not in again.stdout


def test_sync_fixes_a_wrong_version_and_a_missing_package(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n", '[prod]\npython = "3.11"\n')
    assert devenv(root, "sync", env=offline).returncode == 0
    (root / "requirements.lock").write_text("alpha==2.0\ngamma==3.0\n")

    dry = devenv(root, "sync", "--dry-run", env=offline)
    assert dry.returncode == 1
    assert "1 missing (gamma)" in dry.stdout and "alpha 2.0 locked, 1.0 installed" in dry.stdout
    assert "would run: uv pip sync" in dry.stdout

    result = devenv(root, "sync", env=offline)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(devenv(root, "status", "--json", env=offline).stdout)
    assert status["deps"]["requirements.lock"]["state"] == "in-sync"
    python = status["parity"]["python"]  # the venv was made with prod's Python
    assert (python["prod"], python["state"]) == ("3.11", "ok")
    assert python["local"].startswith("3.11.")
    ran = devenv(root, "run", "python", "-c", "import alpha, gamma; print(alpha.__version__)")
    assert ran.stdout.strip() == "2.0"

    assert devenv(root, "sync", env=offline).stdout.strip().endswith("in sync: nothing to install")


def test_a_failed_install_leaves_the_environment_working(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n")
    assert devenv(root, "sync", env=offline).returncode == 0
    (root / "requirements.lock").write_text("alpha==9.9\n")  # no such version anywhere

    result = devenv(root, "sync", env=offline)

    assert result.returncode == 1
    assert "failed with exit code" in result.stderr
    assert "the environment is as it was before" in result.stderr
    assert "Traceback" not in result.stderr
    ran = devenv(root, "run", "python", "-c", "import alpha; print(alpha.__version__)", env=offline)
    assert ran.stdout.strip() == "1.0"


def test_a_failed_hook_says_its_last_line_first(tmp_path, offline):
    """The reason a hook failed is mostly its last line (a traceback's exception): the error
    says it in its first line, where a short view (the TUI's panel, a CI summary) shows it."""
    hook = (
        'python -c \'import sys; print(\\"Traceback ...\\"); '
        'sys.exit(\\"psycopg2.errors.UndefinedTable: relation notes does not exist\\")\''
    )
    root = project(tmp_path / "app", "alpha==1.0\n", f'[hooks]\nafter_ready = ["{hook}"]\n')

    result = devenv(root, "up", "-d", env=offline)

    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert first.endswith(
        "failed with exit code 1: psycopg2.errors.UndefinedTable: relation notes does not exist "
        "(hooks.after_ready in devenv.toml). Its last lines:"
    ), result.stderr
    assert "  Traceback ..." in result.stderr  # the lines are still there, below
    assert result.stderr.rstrip().endswith("All of its output: `devenv logs hooks`")


def test_a_failed_first_install_stops_up_before_the_hooks_and_leaves_no_half_venv(
    tmp_path, offline
):
    root = project(tmp_path / "app", "alpha==9.9\n", '[hooks]\nafter_ready = ["touch hook-ran"]\n')

    result = devenv(root, "up", "-d", env=offline)

    assert result.returncode == 1
    assert "devenv logs deps" in result.stderr
    assert not (root / "hook-ran").exists()
    assert not (root / ".venv").exists()  # the next `up` tries again from the start


def test_pins_of_the_top_level_packages_alone_get_their_dependencies(tmp_path, offline, wheels):
    """A hand-written requirements.txt pins what the app imports (Django==4.2.3), not what
    that needs (asgiref): devenv resolves the rest; a locker's file is installed exactly."""
    from tests.wheels import build_wheel

    build_wheel(wheels, "delta", "1.0", requires=("gamma==3.0",))
    root = project(tmp_path / "app", "")
    (root / "requirements.lock").unlink()
    (root / "requirements.txt").write_text("delta==1.0\n")

    up = devenv(root, "up", "-d", env=offline)

    assert up.returncode == 0, up.stdout + up.stderr
    assert "uv pip install --python .venv/bin/python -r requirements.txt" in up.stdout
    ran = devenv(root, "run", "python", "-c", "import delta, gamma; print(gamma.__version__)")
    assert ran.stdout.strip() == "3.0", ran.stdout + ran.stderr
    deps = json.loads(devenv(root, "status", "--json", env=offline).stdout)["deps"]
    assert deps["requirements.txt"]["state"] == "in-sync"
    assert deps["requirements.txt"]["extra"] == ["gamma"]  # said, never drift

    # Made by a locker (its "# via" lines): exactly the lock, what is not in it removed.
    (root / "requirements.txt").write_text("alpha==1.0\n    # via -r requirements.in\n")
    synced = devenv(root, "sync", env=offline)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "uv pip sync --python .venv/bin/python requirements.txt" in synced.stdout
    site = next((root / ".venv").glob("lib/python*/site-packages"))
    assert {p.name for p in site.glob("*.dist-info")} == {"alpha-1.0.dist-info"}


def test_ranges_are_installed_and_reported_as_not_reproducible(tmp_path, offline):
    root = project(tmp_path / "app", "")
    (root / "requirements.lock").unlink()
    (root / "requirements.txt").write_text("alpha>=1,<2\nbeta\n")

    assert devenv(root, "up", "-d", env=offline).returncode == 0
    deps = json.loads(devenv(root, "status", "--json", env=offline).stdout)["deps"]

    assert deps["requirements.txt"]["state"] == "in-sync"
    assert sorted(deps["requirements.txt"]["unpinned"]) == ["alpha", "beta"]
    ran = devenv(root, "run", "python", "-c", "import alpha; print(alpha.__version__)")
    assert ran.stdout.strip() == "1.0"


def test_env_and_run_put_the_project_environment_first(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n")

    exports = devenv(root, "env", env=offline).stdout.splitlines()
    assert f"export VIRTUAL_ENV={root / '.venv'}" in exports
    assert f'export PATH={root / ".venv" / "bin"}:"$PATH"' in exports

    # `devenv run` installs a missing environment first, like `uv run`.
    ran = devenv(root, "run", "python", "-c", "import os, sys; print(sys.prefix)", env=offline)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(root / ".venv")

    missing = devenv(root, "run", "no-such-tool", env=offline)
    assert missing.returncode == 127
    assert "`no-such-tool` is not in the project's environment (.venv/bin)" in missing.stderr


# -- what a sync will run (plan is pure: it runs nothing) ------------------------------------


def plan_for(root: Path, files: dict[str, str], toml: str = "", which=lambda tool: None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "devenv.toml").write_text(toml)
    for name, text in files.items():
        (root / name).write_text(text)
    config = load_project(root)
    return [step.display for step in plan(config, ProjectEnv.from_config(config), which=which)]


def test_plan_creates_the_venv_with_the_projects_python(tmp_path):
    steps = plan_for(tmp_path, {"requirements.lock": "alpha==1\n", ".python-version": "3.11\n"})
    assert steps == [
        "uv venv .venv --python 3.11",  # commands run in the project root
        "uv pip sync --python .venv/bin/python requirements.lock",
    ]


def test_plan_uses_each_lockfiles_own_tool(tmp_path):
    tools = {"poetry": "/opt/bin/poetry", "npm": "/usr/bin/npm", "yarn": "/usr/bin/yarn"}
    steps = plan_for(
        tmp_path,
        {"poetry.lock": "", "package-lock.json": "{}", "uv.lock": "version = 1\n"},
        which=tools.get,
    )
    assert steps[1:] == ["poetry install --sync --no-interaction", "uv sync --frozen", "npm ci"]

    berry = plan_for(tmp_path / "b", {"yarn.lock": "__metadata:\n  version: 8\n"}, which=tools.get)
    assert berry == ["yarn install --immutable"]
    classic = plan_for(tmp_path / "c", {"yarn.lock": "# yarn lockfile v1\n"}, which=tools.get)
    assert classic == ["yarn install --frozen-lockfile"]


def test_a_missing_tool_names_the_tool_and_how_to_get_it(tmp_path):
    with pytest.raises(ToolMissing) as caught:
        plan_for(tmp_path, {"Pipfile.lock": "{}"})
    assert str(caught.value) == (
        "Pipfile.lock is pipenv's lockfile and pipenv is not installed: pipx install pipenv, "
        "then run `devenv sync`"
    )


def test_a_venv_below_a_folder_whose_name_is_not_utf8_is_refused_before_uv_runs(tmp_path):
    root = tmp_path / os.fsdecode(b"caf\xe9") / "shop"
    with pytest.raises(DevenvError) as caught:
        plan_for(root, {"requirements.lock": "alpha==1\n"})
    message = str(caught.value)
    assert f"the folder {tmp_path}/caf\\xe9 has a name that is not UTF-8 text" in message
    assert "rename it" in message
    # No virtualenv, nothing to refuse: node_modules do not care.
    web = root.with_name("web")
    assert plan_for(web, {"package-lock.json": "{}"}, which={"npm": "npm"}.get) == ["npm ci"]


def test_a_sync_command_from_the_config_replaces_devenvs_own(tmp_path):
    steps = plan_for(
        tmp_path,
        {"requirements.lock": "alpha==1\n"},
        '[lockfiles.sync]\n"requirements.lock" = "make deps"\n',
    )
    assert steps == ["uv venv .venv", "make deps"]


# -- Node: npm ci, for real, from local tarballs (no registry) --------------------------------


def npm(cwd: Path, *args: str) -> None:
    subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def tiny_tarball(folder: Path, version: str) -> str:
    """``npm pack`` of a one-file package 'tiny' with a ``tiny`` command; returns its file name."""
    source = folder / f"tiny-src-{version}"
    source.mkdir(parents=True)
    (source / "package.json").write_text(
        json.dumps({"name": "tiny", "version": version, "bin": {"tiny": "bin.js"}})
    )
    (source / "bin.js").write_text(f'#!/usr/bin/env node\nconsole.log("tiny {version}");\n')
    npm(source, "pack", "--silent", "--pack-destination", str(folder))
    return f"tiny-{version}.tgz"


def lock_node(root: Path, tarball: str) -> None:
    (root / "package.json").write_text(
        json.dumps({"name": "app", "version": "0.0.0", "dependencies": {"tiny": f"file:{tarball}"}})
    )
    npm(root, "install", "--package-lock-only", "--silent")


def test_a_node_lockfile_is_installed_with_npm_ci_and_kept_on_failure(tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "devenv.toml").write_text("")
    lock_node(root, tiny_tarball(root, "1.2.3"))
    env = dict(os.environ, PATH="/usr/local/bin:/usr/bin:/bin")

    up = devenv(root, "up", "-d", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "npm ci" in up.stdout
    assert devenv(root, "run", "tiny", env=env).stdout.strip() == "tiny 1.2.3"  # .bin on PATH

    lock_node(root, tiny_tarball(root, "1.2.4"))
    deps = json.loads(devenv(root, "status", "--json", env=env).stdout)["deps"]
    assert deps["package-lock.json"]["wrong"] == [
        {"name": "tiny", "locked": "1.2.4", "installed": "1.2.3"}
    ]
    assert devenv(root, "sync", env=env).returncode == 0
    assert devenv(root, "run", "tiny", env=env).stdout.strip() == "tiny 1.2.4"

    lock_node(root, tiny_tarball(root, "1.2.5"))
    lock = json.loads((root / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/tiny"]
    entry["integrity"] = "sha512-" + "A" * 86 + "=="  # a tarball that is not what was locked
    (root / "package-lock.json").write_text(json.dumps(lock))
    env["npm_config_cache"] = str(tmp_path / "npm-cache")  # not the copy npm cached before
    failed = devenv(root, "sync", env=env)  # npm ci empties node_modules first, then fails
    assert failed.returncode == 1
    assert "`npm ci` failed" in failed.stderr
    assert devenv(root, "run", "tiny", env=env).stdout.strip() == "tiny 1.2.4"  # put back


def test_a_folder_in_the_venvs_place_is_never_touched(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n")
    (root / ".venv").mkdir()
    (root / ".venv" / "notes.txt").write_text("mine")

    result = devenv(root, "up", "-d", env=offline)

    assert result.returncode == 1
    assert ".venv exists but is not a virtualenv (no bin/python)" in result.stderr
    assert "set another path in [environment] venv" in result.stderr
    assert (root / ".venv" / "notes.txt").read_text() == "mine"


def test_a_lockfile_that_cannot_be_read_is_said_plainly(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n")
    (root / "uv.lock").write_text("version = 1\n[[package]\n")  # not TOML

    result = devenv(root, "up", "-d", env=offline)

    assert "Traceback" not in result.stderr
    assert "uv.lock:2" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def node_tools(tmp_path_factory) -> Path:
    """A bin folder with yarn (classic) and pnpm, from the npm registry."""
    folder = tmp_path_factory.mktemp("node-tools")
    npm(folder, "install", "--silent", "--prefix", str(folder), "yarn@1", "pnpm@9")
    return folder / "node_modules" / ".bin"


@pytest.mark.parametrize(("tool", "lockfile"), [("yarn", "yarn.lock"), ("pnpm", "pnpm-lock.yaml")])
def test_yarn_and_pnpm_lockfiles_are_installed_by_their_tools(tmp_path, node_tools, tool, lockfile):
    root = tmp_path / "app"
    root.mkdir()
    (root / "devenv.toml").write_text("")
    tarball = tiny_tarball(root, "1.2.3")
    (root / "package.json").write_text(
        json.dumps({"name": "app", "version": "0.0.0", "dependencies": {"tiny": f"file:{tarball}"}})
    )
    env = dict(os.environ, PATH=f"{node_tools}:/usr/local/bin:/usr/bin:/bin")
    subprocess.run(
        [node_tools / tool, "install"], cwd=root, env=env, check=True, capture_output=True
    )
    shutil.rmtree(root / "node_modules")  # what a fresh clone has: the lockfile only

    synced = devenv(root, "sync", env=env)

    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"{tool} install --frozen-lockfile" in synced.stdout
    assert devenv(root, "run", "tiny", env=env).stdout.strip() == "tiny 1.2.3"
    deps = json.loads(devenv(root, "status", "--json", env=env).stdout)["deps"]
    assert deps[lockfile]["state"] == "in-sync"


def test_a_program_that_is_not_installed_is_named(tmp_path, offline):
    root = project(
        tmp_path / "app",
        "alpha==1.0\n",
        '[processes.web]\nrestart = "never"\n',
        "web: gunicorn app:app --bind 127.0.0.1:$PORT\n",
    )

    result = devenv(root, "up", "--no-tui", env={**offline, "NO_COLOR": "1"})

    assert "exited with code 127" in result.stdout
    assert (
        "`gunicorn` is not installed: it is in no folder of PATH (the project's environment, "
        f"{root / '.venv' / 'bin'}, comes first). Is it in the lockfile?"
    ) in result.stdout


def test_a_copied_projects_venv_is_named_not_used_silently(tmp_path, offline):
    """A venv is not relocatable: the copy's scripts would run the original's Python."""
    original = project(tmp_path / "app", "alpha==1.0\n")
    assert devenv(original, "sync", env=offline).returncode == 0
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)

    up = devenv(copy, "up", "-d", env=offline)
    doctor = json.loads(devenv(copy, "doctor", "--json", env=offline).stdout)

    assert f".venv was made for {original / '.venv'} (this project was copied or moved)" in (
        up.stdout
    )
    check = next(c for c in doctor["checks"] if c["id"] == "venv-location")
    assert check["state"] == "fail"
    assert check["fix"].startswith("remove .venv and run `devenv sync`")
    assert (copy / ".venv").is_dir()  # told, never deleted
    own = next(c for c in json.loads(devenv(original, "doctor", "--json").stdout)["checks"]
               if c["id"] == "venv-location")  # fmt: skip
    assert own["state"] == "ok"


def test_extra_counts_against_every_lockfile_of_the_environment(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n")
    (root / "requirements-dev.lock").write_text("beta==1.0\n")
    assert devenv(root, "sync", env=offline).returncode == 0
    python = root / ".venv/bin/python"
    hand = [
        "pip",
        "install",
        "-q",
        "--python",
        python,
        "--no-index",
        "--find-links",
        offline["PIP_FIND_LINKS"],
    ]
    subprocess.run([sys.executable, "-m", "uv", *hand, "gamma"], check=True)  # locked nowhere

    deps = json.loads(devenv(root, "status", "--json", env=offline).stdout)["deps"]

    assert deps["requirements.lock"]["extra"] == ["gamma"]  # not beta: the dev lock has it
    assert deps["requirements-dev.lock"]["extra"] == ["gamma"]
    assert {d["state"] for d in deps.values()} == {"in-sync"}


def test_with_nothing_to_supervise_up_runs_the_hooks_and_returns(tmp_path, offline):
    root = project(tmp_path / "app", "alpha==1.0\n", '[hooks]\nafter_ready = ["touch hook-ran"]\n')

    result = devenv(root, "up", "--no-tui", env=offline, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "hook-ran").exists()  # hooks run without any service too
    assert "nothing to supervise: no services in devenv.toml and no processes" in result.stdout


def test_a_reader_that_leaves_early_does_not_stop_the_work(tmp_path, offline):
    """`devenv up -d | head -1`: the install and the hooks still happen, with no traceback."""
    root = project(tmp_path / "app", "alpha==1.0\n", '[hooks]\nafter_ready = ["touch hook-ran"]\n')
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "devenv", "up", "-d"],
        cwd=root,
        env=offline,
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        pipe.readline()  # the first line, then the reader is gone, as `head -1` does
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert (root / "hook-ran").exists()
    assert (root / ".venv" / "bin" / "python").exists()
