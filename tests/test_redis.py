"""RedisService against the real redis-server: start, readiness, data, stop, adoption, faults."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import psutil
import pytest

from devenv.config import load_config
from devenv.errors import ConfigError
from devenv.events import ServiceStarting, ServiceStopped
from devenv.project import privileges
from devenv.project.layout import Layout
from devenv.services.base import ServiceContext, ServiceStartError
from devenv.services.installations import find_installation
from devenv.services.recipes import recipe_for
from devenv.services.redis import RedisService
from devenv.services.registry import service_class
from tests.servers import free_port

_USED_DIRS: list[Path] = []


def _our_redis_servers(dirs: list[Path]) -> list[psutil.Process]:
    found = []
    roots = [str(d.resolve()) for d in dirs]
    for proc in psutil.process_iter(["name"]):
        if proc.info.get("name") != "redis-server":
            continue
        try:
            cwd = proc.cwd()
        except psutil.Error:
            continue
        if any(cwd == root or cwd.startswith(root + os.sep) for root in roots):
            found.append(proc)
    return found


@pytest.fixture(scope="module", autouse=True)
def no_redis_left_behind():
    yield
    left = _our_redis_servers(_USED_DIRS)
    for proc in left:
        proc.kill()
    assert not left, f"redis-server left running: {left}"


pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py


@pytest.fixture
def make_redis(reachable_dir):
    """Build RedisServices for a project in ``reachable_dir``; all are stopped afterwards."""
    _USED_DIRS.append(reachable_dir)
    made: list[RedisService] = []

    def make(settings: str = "", prod_like: bool = False, port: int | None = None):
        toml = textwrap.dedent(
            f"""\
            [project]
            name = "shop"

            [services.redis]
            prod_like = {"true" if prod_like else "false"}
            """
        )
        if settings:
            toml += f"settings = {settings}\n"
        path = reachable_dir / "devenv.toml"
        path.write_text(toml, encoding="utf-8")
        config = load_config(path)
        service = config.services["redis"]
        recipe = recipe_for(service)
        user = privileges.service_user()
        layout = Layout(config.root)
        layout.ensure(runtime_owner=user.uid)
        events: list = []
        ctx = ServiceContext(
            project=config.project.name,
            config=service,
            recipe=recipe,
            installation=find_installation(recipe, service.version),
            layout=layout,
            port=port or free_port(),
            user=user,
            emit=events.append,
        )
        cls = service_class(recipe)
        assert cls is RedisService
        svc = cls(ctx)
        svc.events = events  # type: ignore[attr-defined]
        made.append(svc)
        return svc

    yield make
    for svc in made:
        with contextlib.suppress(Exception):
            svc.stop()
    for proc in _our_redis_servers([reachable_dir]):
        proc.kill()
        proc.wait(5)

    for svc in made:
        shutil.rmtree(svc.ctx.layout.runtime, ignore_errors=True)


def client(svc: RedisService):
    import redis

    return redis.Redis(
        unix_socket_path=str(svc.socket_path),
        password=svc.password,
        retry=None,
        decode_responses=True,
    )


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def test_cold_start_is_ready_and_env(make_redis):
    svc = make_redis()
    ready = svc.start()
    assert not ready.adopted
    assert ready.port == svc.port
    assert svc.is_ready()
    assert client(svc).ping()
    password = svc.password
    assert svc.env() == {
        "REDIS_URL": f"redis://:{password}@127.0.0.1:{svc.port}/0",
        "REDIS_SOCKET": str(svc.socket_path),
        "REDISCLI_AUTH": password,
    }
    # reachable over TCP too, as REDIS_URL says, and only with the password
    import redis

    assert redis.Redis.from_url(svc.env()["REDIS_URL"], retry=None).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=svc.port, retry=None, protocol=2).ping()
    assert any(isinstance(e, ServiceStarting) for e in svc.events)
    assert svc.status().state == "ready"

    conf = svc.conf_file.read_text()
    assert f"port {svc.port}\n" in conf
    assert f'unixsocket "{svc.socket_path}"\n' in conf  # quoted: paths may hold spaces
    assert f'dir "{svc.data_dir}"\n' in conf
    assert "appendfsync no\n" in conf
    assert f'requirepass "{password}"\n' in conf
    assert svc.conf_file.stat().st_mode & 0o777 == 0o600  # it holds the password
    assert svc.data_dir == svc.ctx.layout.root / ".devenv" / "state" / "redis"

    # it runs as the service user, who owns its data
    user = svc.ctx.user
    proc = psutil.Process(ready.pid)
    assert proc.uids().real == user.uid
    assert svc.data_dir.stat().st_uid == user.uid
    assert svc.argv() == [str(svc.binary("server")), str(svc.conf_file)]


def test_data_survives_stop_and_start_and_stop_uses_shutdown(make_redis):
    svc = make_redis()
    first = svc.start()
    assert client(svc).set("greeting", "hello")
    assert svc.stop() is True
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).status() == "zombie"
    assert isinstance(svc.events[-1], ServiceStopped)
    log = svc.log_file.read_text()
    assert "User requested shutdown" in log  # SHUTDOWN, not a signal
    assert "ready to exit" in log
    assert "Received SIGTERM" not in log
    assert not svc.socket_path.exists()
    assert svc.status().state == "stopped"
    assert svc.stop() is False

    second = svc.start()
    assert second.pid != first.pid
    assert client(svc).get("greeting") == "hello"


def test_kill_9_keeps_data_and_stale_socket_does_not_block(make_redis):
    svc = make_redis()
    first = svc.start()
    assert client(svc).set("k", "v")
    os.kill(first.pid, signal.SIGKILL)
    reap(first.pid)
    assert svc.socket_path.exists()  # left behind by the killed server
    assert svc.find_running() is None
    second = svc.start()
    assert not second.adopted
    assert second.pid != first.pid
    assert client(svc).get("k") == "v"


def test_running_server_is_adopted_after_pid_record_was_lost(make_redis):
    svc = make_redis()
    first = svc.start()
    svc.pid_file.unlink()
    assert svc.find_running() == first.pid
    assert svc.pid_file.exists()  # recorded again
    svc.pid_file.unlink()
    again = svc.start()
    assert again.adopted
    assert again.pid == first.pid
    assert [p.pid for p in _our_redis_servers([svc.ctx.layout.root])] == [first.pid]
    assert svc.stop() is True
    assert _our_redis_servers([svc.ctx.layout.root]) == []


def test_orphan_that_lost_its_socket_is_restarted_not_doubled(make_redis):
    svc = make_redis()
    first = svc.start()
    assert client(svc).set("k", "kept")
    svc.pid_file.unlink()
    svc.socket_path.unlink()  # e.g. the runtime folder was cleaned
    second = svc.start()
    assert not second.adopted
    assert second.pid != first.pid
    reap(first.pid)
    assert [p.pid for p in _our_redis_servers([svc.ctx.layout.root])] == [second.pid]
    assert client(svc).get("k") == "kept"


def test_bad_setting_fails_with_redis_complaint(make_redis):
    svc = make_redis(settings='{ maxmemory = "lots" }')
    with pytest.raises(ServiceStartError) as caught:
        svc.start()
    tail = "\n".join(caught.value.log_tail)
    assert "FATAL CONFIG FILE ERROR" in tail
    assert "maxmemory" in tail
    assert "maxmemory" in str(caught.value)
    assert svc.find_running() is None


def test_settings_are_rendered(make_redis):
    svc = make_redis(
        settings='{ maxmemory = "64mb", maxmemory-policy = "allkeys-lru", '
        "lazyfree-lazy-eviction = true, hz = 20 }",
        prod_like=True,
    )
    svc.prepare()
    conf = svc.conf_file.read_text()
    assert "appendfsync always\n" in conf
    assert "maxmemory 64mb\n" in conf
    assert "maxmemory-policy allkeys-lru\n" in conf
    assert "lazyfree-lazy-eviction yes\n" in conf
    assert "hz 20" in conf
    svc.start()
    c = client(svc)
    assert c.config_get("maxmemory") == {"maxmemory": str(64 * 1024 * 1024)}
    assert c.config_get("appendfsync") == {"appendfsync": "always"}


def test_config_is_written_only_when_changed(make_redis):
    svc = make_redis()
    svc.prepare()
    before = svc.conf_file.stat().st_mtime_ns
    os.utime(svc.conf_file, ns=(before - 10**9, before - 10**9))
    svc.prepare()
    assert svc.conf_file.stat().st_mtime_ns == before - 10**9


def test_setting_with_newline_is_refused(make_redis):
    svc = make_redis(settings='{ maxmemory = "1mb\\nrequirepass x" }')
    with pytest.raises(ConfigError) as caught:
        svc.prepare()
    assert "services.redis.settings.maxmemory" in str(caught.value)


def test_setting_devenv_owns_is_refused(make_redis):
    svc = make_redis(settings="{ daemonize = true }")
    with pytest.raises(ConfigError) as caught:
        svc.prepare()
    assert "services.redis.settings.daemonize" in str(caught.value)


def test_client_argv_runs_real_redis_cli(make_redis):
    svc = make_redis()
    svc.start()
    argv = svc.client_argv(["PING"])
    assert argv[1:3] == ["-s", str(svc.socket_path)]
    assert svc.password not in " ".join(argv)  # it goes by REDISCLI_AUTH, never argv
    env = {**os.environ, **svc.env()}
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True, env=env)
    assert out.stdout.strip() == "PONG"
    assert "Warning" not in out.stderr  # what redis-cli says of a password given with -a
    bare = {k: v for k, v in env.items() if k != "REDISCLI_AUTH"}
    refused = subprocess.run(argv, capture_output=True, text=True, timeout=10, env=bare)
    assert "NOAUTH" in refused.stdout + refused.stderr  # the socket wants it too


def _tcp(svc: RedisService, password: str | None = None):
    import redis

    return redis.Redis(
        host="127.0.0.1", port=svc.port, password=password, retry=None, decode_responses=True
    )


def test_tcp_and_the_socket_need_the_password(make_redis):
    import redis

    svc = make_redis()
    svc.start()
    with pytest.raises(redis.AuthenticationError):
        _tcp(svc).get("k")
    with pytest.raises(redis.AuthenticationError):
        _tcp(svc, "wrong").ping()
    assert _tcp(svc, svc.password).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(unix_socket_path=str(svc.socket_path), retry=None).get("k")
    password_file = svc.ctx.layout.base / "password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert password_file.read_text().strip() == svc.password


def _make_it_old(svc: RedisService) -> None:
    """As a server devenv started before it gave Redis a password: none in redis.conf nor in
    the server, and no .devenv/password."""
    client(svc).config_set("requirepass", "")
    lines = svc.conf_file.read_text().splitlines(keepends=True)
    svc.conf_file.write_text("".join(x for x in lines if not x.startswith("requirepass")))
    (svc.ctx.layout.base / "password").unlink()


def test_a_server_from_before_passwords_moves_to_them_keeping_its_data(make_redis):
    import redis

    svc = make_redis()
    svc.start()
    client(svc).set("kept", "yes")
    for running in (True, False):
        _make_it_old(svc)
        assert _tcp(svc).get("kept") == "yes"  # open to anyone, as before
        if not running:
            assert svc.stop() is True  # its probes get in without a password too
        fresh = RedisService(svc.ctx)
        assert fresh.start().adopted is running
        fresh.provision()
        with pytest.raises(redis.AuthenticationError):
            _tcp(fresh).get("kept")
        assert _tcp(fresh, fresh.password).get("kept") == "yes"
        assert f'requirepass "{fresh.password}"' in fresh.conf_file.read_text()
        assert fresh.conf_file.stat().st_mode & 0o777 == 0o600
        svc = fresh
    assert svc.stop() is True
    assert "User requested shutdown" in svc.log_file.read_text()  # SHUTDOWN got through


def test_a_password_made_anew_while_the_server_runs_is_given_to_it(make_redis):
    """.devenv/password removed while Redis runs with it: devenv still reaches the server (with
    the password of its redis.conf), and the next provision gives it the new one."""
    import redis

    svc = make_redis()
    svc.start()
    old = svc.password
    (svc.ctx.layout.base / "password").unlink()
    fresh = RedisService(svc.ctx)
    assert fresh.start().adopted
    assert fresh.status().state == "ready"
    fresh.provision()
    assert fresh.password != old
    with pytest.raises(redis.AuthenticationError):
        _tcp(fresh, old).ping()
    assert _tcp(fresh, fresh.password).ping()
    assert fresh.stop() is True


def test_resp_sends_the_password_first_and_says_why_it_was_refused(make_redis):
    from devenv.services import resp

    svc = make_redis()
    svc.start()
    sock = svc.socket_path
    assert resp.command(sock, "PING", password=svc.password) == "PONG"
    with pytest.raises(resp.RespError, match=r"^NOAUTH"):
        resp.command(sock, "PING")
    with pytest.raises(resp.RespError, match=r"^WRONGPASS"):  # AUTH's refusal, not NOAUTH's
        resp.command(sock, "PING", password="wrong")
    assert resp.info(sock, password=svc.password)["process_id"] == str(svc.find_running())
    # A server with no password (one from before) refuses the AUTH and answers all the same.
    assert resp.command(sock, "CONFIG", "SET", "requirepass", "", password=svc.password) == "OK"
    assert resp.command(sock, "PING", password=svc.password) == "PONG"
