"""The per-user registry of process port blocks, with real files, sockets and processes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from devenv.project.port_registry import BlockRegistry
from devenv.project.ports import BROWSER_BLOCKED, PortBook, allocate_block, is_free

OFFSETS = [0, 100]


def free_base() -> int:
    """A base in a quiet range whose block and the next few thousands are free now."""
    for base in range(21000, 40000, 1000):
        if all(is_free(base + 1000 * k + o) for k in range(4) for o in OFFSETS):
            return base
    raise AssertionError("no free range of ports on this machine")


def project(root: Path) -> PortBook:
    (root / ".devenv").mkdir(parents=True, exist_ok=True)
    return PortBook(root / ".devenv" / "ports.json")


def test_projects_started_in_the_same_moment_get_blocks_of_their_own(tmp_path):
    """Six real processes allocate at once: six different blocks, none a browser refuses."""
    default = free_base()
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from devenv.project.port_registry import BlockRegistry
        from devenv.project.ports import PortBook, allocate_block
        root = Path(sys.argv[1])
        (root / ".devenv").mkdir(parents=True)
        sys.stdin.read()  # all start together
        book = PortBook(root / ".devenv" / "ports.json")
        print(allocate_block(book, {OFFSETS}, {default}, BlockRegistry(Path(sys.argv[2]))).port)
        """
    )
    registry = tmp_path / "state"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / f"p{i}"), str(registry)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    for proc in procs:
        proc.stdin.close()  # go
    bases = [int(proc.stdout.read()) for proc in procs]
    assert all(proc.wait(timeout=30) == 0 for proc in procs)

    assert len(set(bases)) == 6, bases
    assert not {b + o for b in bases for o in OFFSETS} & BROWSER_BLOCKED
    claims = json.loads((registry / "port-blocks.json").read_text())
    assert {int(b) for b in claims} == set(bases)
    assert (registry / "port-blocks.json").stat().st_mode & 0o077 == 0


def test_a_busy_remembered_block_is_lent_out_for_one_run_and_comes_back(tmp_path):
    """Bookmarks keep working: the remembered block is not silently replaced."""
    registry = BlockRegistry(tmp_path / "state")
    default = free_base()
    book = project(tmp_path / "app")
    assert allocate_block(book, OFFSETS, default, registry).port == default

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", default + 100))
        holder.listen()
        lent = allocate_block(book, OFFSETS, default, registry)
    assert lent.port != default
    assert f"port {default + 100} is taken by" in lent.notice
    assert f"PORT starts at {lent.port} this time, and at {default} again" in lent.notice
    assert book.remembered("processes") == default

    again = allocate_block(book, OFFSETS, default, registry)
    assert (again.port, again.notice) == (default, None)


def test_a_copied_project_gets_its_own_block_and_the_original_keeps_its(tmp_path):
    registry = BlockRegistry(tmp_path / "state")
    default = free_base()
    original = project(tmp_path / "original")
    assert allocate_block(original, OFFSETS, default, registry).port == default
    shutil.copytree(tmp_path / "original", tmp_path / "copy", symlinks=True)
    copy = PortBook(tmp_path / "copy" / ".devenv" / "ports.json")
    assert copy.remembered("processes") == default  # the copy believes it is the original

    moved = allocate_block(copy, OFFSETS, default, registry)

    assert moved.port != default
    assert moved.notice == (
        f"the ports at {default} belong to the project in {tmp_path / 'original'}; the "
        f"processes' PORT starts at {moved.port} (remembered in .devenv/ports.json)"
    )
    assert copy.remembered("processes") == moved.port
    assert allocate_block(original, OFFSETS, default, registry) == allocate_block(
        original, OFFSETS, default, registry
    )
    assert allocate_block(original, OFFSETS, default, registry).port == default


def test_a_removed_projects_block_is_free_for_the_next(tmp_path):
    registry = BlockRegistry(tmp_path / "state")
    default = free_base()
    first = project(tmp_path / "first")
    assert allocate_block(first, OFFSETS, default, registry).port == default
    assert allocate_block(project(tmp_path / "second"), OFFSETS, default, registry).port != default

    shutil.rmtree(tmp_path / "first")

    assert allocate_block(project(tmp_path / "third"), OFFSETS, default, registry).port == default


def test_a_damaged_or_unusable_registry_never_stops_allocation(tmp_path):
    default = free_base()
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "port-blocks.json").write_text("{not json")
    book = project(tmp_path / "a")
    assert allocate_block(book, OFFSETS, default, BlockRegistry(damaged)).port == default
    assert json.loads((damaged / "port-blocks.json").read_text()) == {
        str(default): str(book.path.resolve())
    }

    (tmp_path / "a-file").write_text("")  # the registry's folder cannot be made
    unusable = BlockRegistry(tmp_path / "a-file" / "devenv")
    # Without a registry nothing says that `a` holds the block: `b` is given it, as before.
    assert allocate_block(project(tmp_path / "b"), OFFSETS, default, unusable).port == default


def test_when_every_block_is_claimed_one_of_a_project_not_running_is_lent(tmp_path):
    import fcntl
    import os

    registry = BlockRegistry(tmp_path / "state")
    default = 63000  # three candidate blocks: 63000, 64000, 65000
    blocks = [default + 1000 * k for k in range(3)]
    assert all(is_free(b + o) for b in blocks for o in OFFSETS)
    holders = [project(tmp_path / f"p{k}") for k in range(3)]
    assert [allocate_block(h, OFFSETS, default, registry).port for h in holders] == blocks
    # p0 and p1 run (their devenv holds the foreground lock); p2 does not.
    locks = []
    for holder in holders[:2]:
        fd = os.open(holder.path.with_name("devenv.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        locks.append(fd)
    try:
        lent = allocate_block(project(tmp_path / "newcomer"), OFFSETS, default, registry)
    finally:
        for fd in locks:
            os.close(fd)

    assert lent.port == blocks[2]
    assert lent.notice == (
        f"every block of process ports is claimed; the processes' PORT starts at {blocks[2]}, "
        f"lent by the project in {tmp_path / 'p2'} (not running now)"
    )
    assert (
        PortBook(tmp_path / "newcomer" / ".devenv" / "ports.json").remembered("processes")
        == blocks[2]
    )
