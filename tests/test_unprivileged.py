"""devenv run by a normal user: the path every laptop takes.

CI runs the suite as root, so this test runs devenv as PostgreSQL's
unprivileged account instead, from a copy of devenv that account can read
(the checkout and its venv may sit below a root-only folder). As root it also
plays a second local account (``nobody``), who must not get into the
project's servers: TCP needs the project's password, which only the owner can read.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
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

    def devenv(*args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", "devenv", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **as_user,
            **kw,
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
        _only_the_owner_gets_in(project, info, devenv, python, env, as_user)
    finally:
        down = devenv("down")
    assert down.returncode == 0, down.stderr
    assert all(_gone(info[name]["pid"]) for name in ("postgres", "redis"))


def _only_the_owner_gets_in(project, info, devenv, python, env, as_user) -> None:
    """The project's password: 0600, the owner's; every client of the owner connects without a
    prompt and without the password on a command line; another account is refused."""
    secret = project / ".devenv" / "password"
    st = secret.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == as_user.get("user", os.geteuid())
    password = secret.read_text().strip()
    pg_port, redis_port = str(info["postgres"]["port"]), str(info["redis"]["port"])
    psql, redis_cli = _client_binary(project, "postgres"), _client_binary(project, "redis")
    # No controlling terminal: a client that wanted to prompt would fail, not wait.
    detached = {"stdin": subprocess.DEVNULL, "start_new_session": True}

    # The owner: `devenv psql` and `devenv redis-cli`, then the plain clients and the URL
    # with only `devenv env` exported, over the socket and over TCP.
    one = devenv("psql", "-At", "-c", "SELECT 1", **detached)
    assert (one.returncode, one.stdout.strip()) == (0, "1"), one.stderr
    ping = devenv("redis-cli", "ping", **detached)
    assert (ping.returncode, ping.stdout.strip()) == (0, "PONG"), ping.stderr
    exports = devenv("env")
    assert exports.returncode == 0, exports.stderr
    create = (
        "import os, psycopg2; c = psycopg2.connect(os.environ['DATABASE_URL']); "
        "c.autocommit = True; c.cursor().execute('CREATE DATABASE test_app'); "
        "c.cursor().execute('DROP DATABASE test_app'); print('created')"
    )
    script = (
        f'eval "$1" && {psql} -w -At -c "SELECT current_user" '
        f'&& {psql} -w -At -h 127.0.0.1 -c "SELECT current_user" '
        f'&& {redis_cli} -p {redis_port} PING && "$2" -c "$3"'
    )
    owner = subprocess.run(
        ["sh", "-c", script, "sh", exports.stdout, python, create],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **as_user,
        **detached,
    )
    assert owner.returncode == 0, owner.stdout + owner.stderr
    assert owner.stdout.split() == ["app", "app", "PONG", "created"]

    # Nothing of the password on any command line while the clients run.
    slow = [
        subprocess.Popen(
            [python, "-m", "devenv", *argv],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **as_user,
            **detached,
        )
        for argv in (("psql", "-c", "SELECT pg_sleep(3)"), ("redis-cli", "BLPOP", "none", "3"))
    ]
    seen = ""
    deadline = time.monotonic() + 30
    while not ("pg_sleep" in seen and "BLPOP" in seen) and time.monotonic() < deadline:
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
        seen += ps.stdout
    for proc in slow:
        proc.wait(30)
    assert "pg_sleep" in seen and "BLPOP" in seen  # the clients were seen running
    assert password not in seen

    if not as_user:
        return  # not root: no second account to play
    parsed = dict(
        line.removeprefix("export ").split("=", 1)
        for line in exports.stdout.splitlines()
        if line.startswith("export ")
    )
    nobody = pwd.getpwnam("nobody")
    other = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    other_env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}

    def as_nobody(*argv: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv,
            env={**other_env, **extra_env},
            capture_output=True,
            text=True,
            timeout=30,
            cwd="/",
            **other,
            **detached,
        )

    for role in ("postgres", "app"):
        tcp = [psql, "-w", "-h", "127.0.0.1", "-p", pg_port, "-U", role, "-d", "postgres"]
        refused = as_nobody(*tcp, "-c", "SELECT 1")
        assert refused.returncode != 0
        assert "no password supplied" in refused.stderr, refused.stderr
        guessed = as_nobody(*tcp, "-c", "SELECT 1", PGPASSWORD="guess")
        assert "password authentication failed" in guessed.stderr, guessed.stderr
        socket = as_nobody(psql, "-w", "-h", parsed["PGHOST"], "-p", pg_port, "-U", role)
        assert socket.returncode != 0  # the socket folder is the owner's alone
    noauth = as_nobody(redis_cli, "-h", "127.0.0.1", "-p", redis_port, "PING")
    assert "NOAUTH" in noauth.stdout + noauth.stderr, noauth.stdout + noauth.stderr
    stolen = as_nobody("cat", str(secret))
    assert stolen.returncode != 0 and password not in stolen.stdout


def _client_binary(project: Path, service: str) -> str:
    """The client devenv itself runs for ``service`` (psql, redis-cli)."""
    from devenv.config import load_config
    from devenv.services.installations import find_installation
    from devenv.services.recipes import recipe_for

    config = load_config(project / "devenv.toml").services[service]
    return str(find_installation(recipe_for(config), config.version).binaries["client"])


def _gone(pid: int) -> bool:
    """Exited; a zombie counts (a container's pid 1 may be slow to reap what devenv left)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
