"""The project's generated password: the file, and what `devenv up` does with it end to end.

The file tests use real files and real processes racing; the end-to-end tests run the
real CLI against real PostgreSQL and Redis, in folders the servers' account can enter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from devenv.errors import DevenvError
from devenv.project.layout import Layout
from devenv.services.password import mask_url, password_file, project_password, read_password
from tests.cli import devenv as run_devenv

# ---------------------------------------------------------------- the file


def test_the_password_is_made_once_private_and_url_safe(tmp_path):
    layout = Layout(tmp_path)
    assert read_password(layout) is None
    assert not layout.base.exists()  # reading makes nothing
    old = os.umask(0)  # the most open umask: the file must still be 0600
    try:
        made = project_password(layout)
    finally:
        os.umask(old)
    path = password_file(layout)
    assert path == tmp_path / ".devenv" / "password"
    assert path.stat().st_mode & 0o777 == 0o600
    assert layout.base.stat().st_mode & 0o077 == 0
    assert len(made) >= 32 and all(c.isalnum() or c in "-_" for c in made)
    assert project_password(layout) == made == read_password(layout)
    assert [p.name for p in layout.base.iterdir()] == ["password"]  # no temporary file left
    assert project_password(Layout(tmp_path / "other")) != made


def test_devenvs_racing_to_make_it_all_get_the_same(tmp_path):
    code = (
        "import sys; from pathlib import Path; from devenv.project.layout import Layout; "
        "from devenv.services.password import project_password; "
        "sys.stdin.read(); print(project_password(Layout(Path(sys.argv[1]))))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for proc in procs:  # all started and imported; now let them go at once
        proc.stdin.close()
    outputs = {proc.stdout.read().strip() for proc in procs}
    assert [proc.wait() for proc in procs] == [0] * 6
    assert len(outputs) == 1
    assert outputs == {read_password(Layout(tmp_path))}


def test_a_copied_project_keeps_its_password(tmp_path):
    made = project_password(Layout(tmp_path / "a"))
    subprocess.run(["cp", "-a", str(tmp_path / "a"), str(tmp_path / "b")], check=True)
    assert project_password(Layout(tmp_path / "b")) == made


def test_a_password_file_loosened_by_hand_is_made_private_again(tmp_path):
    layout = Layout(tmp_path)
    made = project_password(layout)
    password_file(layout).chmod(0o644)
    assert read_password(layout) == made
    assert password_file(layout).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("kind", ["garbage", "empty", "symlink", "folder"])
def test_a_password_file_devenv_did_not_make_is_refused_with_what_to_do(tmp_path, kind):
    layout = Layout(tmp_path)
    layout.base.mkdir()
    path = password_file(layout)
    if kind == "garbage":
        path.write_text("my password with spaces\n")
    elif kind == "empty":
        path.write_text("")
    elif kind == "symlink":
        target = tmp_path / "elsewhere"
        target.write_text("A" * 32)
        path.symlink_to(target)
    else:
        path.mkdir()
    with pytest.raises(DevenvError) as caught:
        project_password(layout)
    message = str(caught.value)
    assert str(path) in message
    assert "remove it" in message.lower()


def test_mask_url():
    assert mask_url("postgresql://app:s3cret@127.0.0.1:5432/app") == (
        "postgresql://app:***@127.0.0.1:5432/app"
    )
    assert mask_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert mask_url("postgresql://app@127.0.0.1:5432/app") == "postgresql://app@127.0.0.1:5432/app"


# ---------------------------------------------------------------- end to end

CONFIG = """\
[project]
name = "locked"

[[services.postgres.databases]]
name = "app"
owner = "app"

[services.redis]
{extra}"""

# What pg_hba.conf said before devenv gave TCP a password.
TRUSTING_HBA = """\
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
host    all   all   ::1/128        trust
"""


def devenv(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return run_devenv(project, *args, env=env)


def ok(project: Path, *args: str) -> str:
    result = devenv(project, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def env_of(project: Path) -> dict[str, str]:
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in ok(project, "env").splitlines()
        if line.startswith("export ")
    )
    return {key: value.strip("'") for key, value in pairs}


@pytest.fixture
def project(reachable_dir):
    path = reachable_dir / "locked"
    path.mkdir()
    (path / "devenv.toml").write_text(CONFIG.format(extra=""))
    yield path
    devenv(path, "down")


def _login(url: str) -> str:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as err:
        return str(err)
    return "in"


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, retry=None, decode_responses=True, protocol=2)


def _make_it_old(project: Path) -> None:
    """Turn the running project into one devenv made before passwords: roles without one
    (and without CREATEDB), a trusting pg_hba.conf, a Redis without requirepass, and no
    .devenv/password."""
    state = project / ".devenv" / "state"
    superuser = ("psql", "-U", "postgres", "-c")
    ok(project, *superuser, "ALTER ROLE postgres PASSWORD NULL")
    ok(project, *superuser, "ALTER ROLE app PASSWORD NULL NOCREATEDB")
    (state / "postgres" / "pg_hba.conf").write_text(TRUSTING_HBA)
    ok(project, *superuser, "SELECT pg_reload_conf()")
    ok(project, "redis-cli", "CONFIG", "SET", "requirepass", "")
    conf = state / "redis" / "redis.conf"
    lines = conf.read_text().splitlines(keepends=True)
    conf.write_text("".join(line for line in lines if not line.startswith("requirepass")))
    (project / ".devenv" / "password").unlink()


def _assert_locked_with_data(project: Path, old_db_url: str, old_redis_url: str) -> None:
    env = env_of(project)
    assert "no password supplied" in _login(old_db_url)
    import psycopg2
    import redis

    conn = psycopg2.connect(env["DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM kept")
        assert cur.fetchall() == [("row",)]
        cur.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'app'")
        assert cur.fetchone() == (True,)
    conn.close()
    with pytest.raises(redis.AuthenticationError):
        _redis(old_redis_url).get("kept")
    assert _redis(env["REDIS_URL"]).get("kept") == "key"


def test_a_project_from_before_passwords_moves_to_them_on_up_keeping_its_data(project):
    ok(project, "up", "-d")
    ok(project, "psql", "-c", "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('row')")
    assert ok(project, "redis-cli", "SET", "kept", "key").strip() == "OK"
    env = env_of(project)
    port = env["PGPORT"]
    old_db_url = f"postgresql://app@127.0.0.1:{port}/app"
    old_redis_url = env["REDIS_URL"].replace(f":{env['REDISCLI_AUTH']}@", "")
    assert "no password supplied" in _login(old_db_url)

    # Servers from before, stopped: the next `up` renders the new files and sets passwords.
    _make_it_old(project)
    ok(project, "down")
    assert not (project / ".devenv" / "password").exists()
    ok(project, "up", "-d")
    _assert_locked_with_data(project, old_db_url, old_redis_url)
    first = read_password(Layout(project))

    # Servers from before, still running (devenv upgraded under them): `up` adopts them,
    # reloads PostgreSQL's files and gives Redis its password, without a restart.
    pids = {name: info["pid"] for name, info in _services(project).items()}
    _make_it_old(project)
    ok(project, "up", "-d")
    assert {name: info["pid"] for name, info in _services(project).items()} == pids
    _assert_locked_with_data(project, old_db_url, old_redis_url)
    assert read_password(Layout(project)) != first


def _services(project: Path) -> dict:
    import json

    return json.loads(ok(project, "status", "--json"))["services"]


def test_the_password_stays_out_of_the_support_bundle(project, tmp_path):
    """A hook that prints what devenv hands it: its log goes into `doctor --bundle`, which
    must not carry the password, in a URL, in a variable, or bare."""
    hook = (
        'python -c "import os; e = os.environ; '
        "print(e['DATABASE_URL'], e['REDIS_URL']); "
        "print('PGPASSWORD=' + e['PGPASSWORD'], 'REDISCLI_AUTH=' + e['REDISCLI_AUTH'])\""
    )
    (project / "devenv.toml").write_text(
        CONFIG.format(extra=f"\n[hooks]\nafter_ready = [{_toml(hook)}]\n")
    )
    ok(project, "up", "-d")
    password = read_password(Layout(project))
    assert password is not None
    assert password in (project / ".devenv" / "logs" / "hooks.log").read_text()
    result = devenv(project, "doctor", "--bundle")
    line = [x for x in result.stdout.splitlines() if x.startswith("support bundle")][-1]
    bundle = Path(line.rsplit(": ", 1)[1])
    with tarfile.open(bundle) as tar:
        texts = {
            member.name: tar.extractfile(member).read().decode("utf-8", "replace")
            for member in tar.getmembers()
            if member.isfile()
        }
    assert any(name.endswith("logs/hooks.log") for name in texts)
    leaked = [name for name, text in texts.items() if password in text]
    assert leaked == []


def test_a_password_printed_bare_stays_out_of_the_support_bundle(project):
    hook = "python -c \"import os; print('connecting with', os.environ['PGPASSWORD'])\""
    (project / "devenv.toml").write_text(
        CONFIG.format(extra=f"\n[hooks]\nafter_ready = [{_toml(hook)}]\n")
    )
    ok(project, "up", "-d")
    password = read_password(Layout(project))
    result = devenv(project, "doctor", "--bundle")
    line = [x for x in result.stdout.splitlines() if x.startswith("support bundle")][-1]
    with tarfile.open(Path(line.rsplit(": ", 1)[1])) as tar:
        texts = [
            tar.extractfile(m).read().decode("utf-8", "replace")
            for m in tar.getmembers()
            if m.isfile()
        ]
    assert password and not any(password in text for text in texts)


def _toml(text: str) -> str:
    """``text`` as a TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
