"""devenv run by a normal user: the path every laptop takes.

CI runs the suite as root, so this test runs devenv as PostgreSQL's
unprivileged account instead, from a copy of devenv that account can read
(the checkout and its venv may sit below a root-only folder).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
# async-timeout: redis-py needs it below Python 3.11.3, and pip's --python-version
# does not evaluate python_full_version markers, so it is named outright.
NEEDED = ("psycopg2-binary", "redis", "psutil", "honcho", "async-timeout", "packaging")


def _pins_without_hashes(base: Path) -> Path:
    """requirements.lock's pins as a constraints file: with its hashes, pip would insist
    that every package named on the command line be pinned and hashed too."""
    pins = [
        line.rstrip(" \\")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    path = base / "constraints.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


def _copy_devenv(base: Path, python: str) -> Path:
    """devenv's source and the packages the service commands import, readable by anyone.

    The packages are installed from the pinned lock for ``python``'s exact version
    (redis-py needs a backport below 3.11.3, for example).
    """
    src = base / "src"
    for part in ("devenv", "services", "templates"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--target",
            src,
            "--only-binary=:all:",
            "--python-version",
            version,
            "-c",
            _pins_without_hashes(base),
            *NEEDED,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    return src


def _python_for(uid: int) -> str:
    if uid == os.geteuid():
        return sys.executable
    # root's interpreter may live below a folder the user cannot enter: use the system's,
    # which must be the same minor version for the compiled packages to load.
    system = shutil.which("python3", path="/usr/bin:/bin")
    assert system, "a system python3 is needed to run devenv as another user"
    version = subprocess.run(
        [system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    assert version == str(sys.version_info[:2]), f"{system} is {version}, not {sys.version}"
    return system


def test_a_normal_user_runs_postgres_and_redis_as_itself(reachable_dir):
    if os.geteuid() == 0:
        user = pwd.getpwnam(os.environ.get("DEVENV_SERVICE_USER", "postgres"))
    else:
        user = pwd.getpwuid(os.geteuid())
    python = _python_for(user.pw_uid)
    src = _copy_devenv(reachable_dir, python)
    project = reachable_dir / "project"
    project.mkdir()
    (project / "devenv.toml").write_text(
        '[[services.postgres.databases]]\nname = "app"\n\n[services.redis]\n'
    )
    home = reachable_dir / "home"
    home.mkdir()
    if os.geteuid() == 0:
        for path in (reachable_dir, *reachable_dir.rglob("*")):
            os.lchown(path, user.pw_uid, user.pw_gid)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONPATH": str(src),
        "LANG": "C.UTF-8",
    }
    as_user = {}
    if user.pw_uid != os.geteuid():
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def devenv(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", "devenv", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **as_user,
        )

    try:
        up = devenv("up", "-d")
        assert up.returncode == 0, up.stderr + up.stdout
        assert "running as root" not in up.stdout
        info = json.loads(devenv("status", "--json").stdout)["services"]
        for name in ("postgres", "redis"):
            assert info[name]["state"] == "ready"
            assert psutil.Process(info[name]["pid"]).uids().real == user.pw_uid
        query = devenv("psql", "-At", "-c", "SELECT current_database()")
        assert query.stdout.strip() == "app", query.stderr
    finally:
        down = devenv("down")
    assert down.returncode == 0, down.stderr
    assert all(_gone(info[name]["pid"]) for name in ("postgres", "redis"))


def _gone(pid: int) -> bool:
    """Exited; a zombie counts (a container's pid 1 may be slow to reap what devenv left)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
