"""Per-project ports, with real sockets on free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from devenv.errors import DevenvError
from devenv.project.layout import Layout
from devenv.project.ports import Allocation, Holder, PortBook, PortTaken, is_free, port_holder

ME = Holder(os.getpid(), psutil.Process().name())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def listening(port: int | None = None, host: str = "127.0.0.1") -> Iterator[int]:
    """A socket of this process listening on ``port`` (a free one if None)."""
    with socket.socket() as sock:
        sock.bind((host, port or 0))
        sock.listen()
        yield sock.getsockname()[1]


def book(tmp_path, project: str = "shop") -> PortBook:
    return PortBook(Layout(tmp_path / project).ports_file)


def test_a_listening_socket_makes_the_port_taken_and_names_this_process():
    with listening() as port:
        assert not is_free(port)
        holder = port_holder(port)
        assert holder == ME
        assert str(holder) == f"{ME.name} (pid {os.getpid()})"
    assert is_free(port)
    assert port_holder(port) is None


def test_a_wildcard_listener_takes_the_loopback_port():
    with listening(host="0.0.0.0") as port:
        assert not is_free(port)
        assert port_holder(port) == ME


def test_time_wait_does_not_count_as_taken():
    with socket.socket() as server:
        # As PostgreSQL and Redis do; without it Linux keeps the port from everyone.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end goes to TIME_WAIT
            assert client.recv(1) == b""
    states = {
        conn.status
        for conn in psutil.net_connections(kind="tcp")
        if conn.laddr and conn.laddr.port == port
    }
    assert psutil.CONN_TIME_WAIT in states
    assert is_free(port)
    assert port_holder(port) is None


def test_allocate_keeps_the_default_when_free(tmp_path):
    default = free_port()
    ports = book(tmp_path)
    assert ports.allocate("redis", configured=None, default=default) == Allocation(default)
    assert ports.remembered("redis") == default
    saved = json.loads((tmp_path / "shop" / ".devenv" / "ports.json").read_text())
    assert saved == {"redis": default}


def test_allocate_moves_off_a_taken_default_with_a_notice(tmp_path):
    ports = book(tmp_path)
    with listening() as default:
        allocation = ports.allocate("redis", configured=None, default=default)
    assert allocation.port != default
    assert allocation.notice == (
        f"port {default} is taken by {ME}; redis uses {allocation.port} "
        "(remembered in .devenv/ports.json)"
    )
    assert ports.remembered("redis") == allocation.port


def test_remembered_port_is_kept_across_instances(tmp_path):
    with listening() as default:
        first = book(tmp_path).allocate("redis", configured=None, default=default)
    # The default is free again, but the project keeps the port it got.
    again = book(tmp_path).allocate("redis", configured=None, default=default)
    assert again == Allocation(first.port)


def test_taken_remembered_port_falls_back_to_the_default(tmp_path):
    ports = book(tmp_path)
    default = free_port()
    with listening() as remembered:
        ports.remember("redis", remembered)
        allocation = ports.allocate("redis", configured=None, default=default)
    assert allocation == Allocation(
        default,
        f"port {remembered} is taken by {ME}; redis uses {default} "
        "(remembered in .devenv/ports.json)",
    )
    assert ports.remembered("redis") == default


def test_no_default_gets_a_free_port_from_the_os(tmp_path):
    allocation = book(tmp_path).allocate("mailpit", configured=None, default=None)
    assert allocation.notice is None
    assert is_free(allocation.port)


def test_configured_port_is_used_as_is(tmp_path):
    ports = book(tmp_path)
    configured = free_port()
    assert ports.allocate("postgres", configured=configured, default=5432) == Allocation(configured)
    # Remembered too: the remembered port is where our running server is looked for.
    assert ports.remembered("postgres") == configured


def test_configured_and_taken_raises_with_the_holder(tmp_path):
    with listening() as port, pytest.raises(PortTaken) as err:
        book(tmp_path).allocate("postgres", configured=port, default=5432)
    assert isinstance(err.value, DevenvError)
    assert str(err.value) == (
        f"port {port} for postgres (services.postgres.port in devenv.toml) is taken by "
        f"{ME.name} (pid {os.getpid()}); stop it or choose another port"
    )


def test_two_projects_get_different_ports_when_the_default_is_held(tmp_path):
    with listening() as default:
        shop = book(tmp_path, "shop").allocate("redis", configured=None, default=default)
        blog = book(tmp_path, "blog").allocate("redis", configured=None, default=default)
        # Each project's server now holds its port; the next run of each keeps its own.
        with listening(shop.port), listening(blog.port):
            pass
    assert len({default, shop.port, blog.port}) == 3
    assert book(tmp_path, "shop").remembered("redis") == shop.port
    assert book(tmp_path, "blog").remembered("redis") == blog.port


def test_forget(tmp_path):
    ports = book(tmp_path)
    ports.remember("redis", 6390)
    ports.remember("postgres", 5440)
    ports.forget("redis")
    ports.forget("memcached")  # nothing to forget
    assert ports.remembered("redis") is None
    assert book(tmp_path).remembered("postgres") == 5440


def test_a_damaged_ports_file_is_an_empty_memory(tmp_path):
    ports = book(tmp_path)
    ports.path.parent.mkdir(parents=True)
    ports.path.write_text("{not json")
    assert ports.remembered("redis") is None
    default = free_port()
    assert ports.allocate("redis", configured=None, default=default).port == default
    assert json.loads(ports.path.read_text()) == {"redis": default}
    assert [p.name for p in ports.path.parent.iterdir()] == ["ports.json"]  # no temp files


def test_a_real_redis_server_on_the_default_is_named_in_the_notice(tmp_path):
    default = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            *("--port", str(default), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while is_free(default):
            assert server.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not listen"
            time.sleep(0.005)
        holder = port_holder(default)
        assert holder == Holder(server.pid, "redis-server")
        allocation = book(tmp_path).allocate("redis", configured=None, default=default)
        assert allocation.notice == (
            f"port {default} is taken by redis-server (pid {server.pid}); redis uses "
            f"{allocation.port} (remembered in .devenv/ports.json)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_allocate_block_moves_the_processes_off_a_taken_port_and_remembers(tmp_path):
    from devenv.project.ports import allocate_block

    book = PortBook(tmp_path / "ports.json")
    offsets = [0, 1, 100]
    holder = socket.socket()
    for base in range(20100, 60000, 1000):  # a block whose second process type's port we can take
        try:
            holder.bind(("127.0.0.1", base + 100))
            break
        except OSError:
            continue
    holder.listen()
    try:
        allocation = allocate_block(book, offsets, default=base)
    finally:
        holder.close()

    assert allocation.port != base
    assert (allocation.port - base) % 1000 == 0
    assert f"port {base + 100} is taken by" in allocation.notice
    assert f"the processes' PORT starts at {allocation.port}" in allocation.notice
    assert PortBook(tmp_path / "ports.json").remembered("processes") == allocation.port
    again = allocate_block(PortBook(tmp_path / "ports.json"), offsets, default=base)
    assert (again.port, again.notice) == (allocation.port, None)  # remembered, and now quiet


def test_no_block_holds_a_port_that_browsers_refuse(tmp_path):
    """6000 is X11's: browsers refuse to open it (and 6665-6669, IRC's), free or not."""
    from devenv.project.ports import BROWSER_BLOCKED, allocate_block, is_free

    for default, offsets in ((6000, [0]), (5900, [0, 100]), (6600, [66, 67])):
        allocation = allocate_block(PortBook(tmp_path / f"{default}.json"), offsets, default)
        ports = {allocation.port + offset for offset in offsets}
        assert not ports & BROWSER_BLOCKED, (default, ports)
        assert all(is_free(port) for port in ports)
        assert allocation.port != default  # the first candidate held a blocked port


def test_a_remembered_block_on_a_refused_port_moves_and_says_why(tmp_path):
    from devenv.project.ports import PROCESSES_KEY, allocate_block

    book = PortBook(tmp_path / "ports.json")
    book.remember(PROCESSES_KEY, 6000)  # given out by an older devenv

    allocation = allocate_block(book, [0, 100], default=6000)

    assert allocation.port != 6000
    assert allocation.notice.startswith("port 6000 is one browsers refuse to open; the processes'")
    assert book.remembered(PROCESSES_KEY) == allocation.port
