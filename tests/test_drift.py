"""Drift: compare() on records built by hand, check() on real venvs (uv), real node_modules
trees and real state files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from devenv.environment.drift import check, compare, summary
from devenv.environment.fingerprint import fingerprint, forget, remember
from devenv.environment.model import Drift, Locked, Lockfile, Wrong
from devenv.environment.project import ProjectEnv
from devenv.errors import DevenvError
from tests.venvs import install, make_venv

# ---------------------------------------------------------------- compare(), pure


def _lock(*packages: Locked, ecosystem: str = "python") -> Lockfile:
    name = "requirements.lock" if ecosystem == "python" else "package-lock.json"
    tool = "requirements" if ecosystem == "python" else "npm"
    return Lockfile(Path("/p") / name, ecosystem, tool, tuple(packages))


def test_everything_installed_as_locked_is_in_sync():
    lock = _lock(Locked("alpha", "1.0"), Locked("beta", "2.0"))
    drift = compare(lock, {"alpha": "1.0", "beta": "2.0"}, None)
    assert drift == Drift(Path("/p/requirements.lock"), "in-sync")
    assert drift.as_json() == {
        "state": "in-sync",
        "missing": [],
        "wrong": [],
        "extra": [],
        "unpinned": [],
    }


def test_missing_and_wrong_make_drift_sorted_by_name():
    lock = _lock(Locked("zeta", "1.0"), Locked("alpha", "1.0"), Locked("redis", "5.0"))
    drift = compare(lock, {"zeta": "0.9", "alpha": "0.1"}, None)
    assert drift.state == "drift"
    assert drift.missing == ("redis",)
    assert drift.wrong == (Wrong("alpha", "1.0", "0.1"), Wrong("zeta", "1.0", "0.9"))


@pytest.mark.parametrize(
    ("locked", "installed", "same"),
    [
        ("1.0", "1.0.0", True),
        ("1.0.0", "1.0", True),
        ("2.1.0", "2.1.0+cpu", True),  # what pip install name==2.1.0 accepts
        ("2.1.0+cu118", "2.1.0+cpu", False),
        ("2.1.0+cpu", "2.1.0", False),
        ("1.0", "1.0.post1", False),
        ("1.0rc1", "1.0", False),
        ("1.0-beta", "1.0b0", True),  # PEP 440 normalisation
        ("weird", "weird", True),  # not PEP 440: the strings decide
        ("weird", "weirder", False),
    ],
)
def test_python_versions_are_compared_per_pep_440(locked, installed, same):
    drift = compare(_lock(Locked("pkg", locked)), {"pkg": installed}, None)
    assert (drift.state == "in-sync") is same
    assert drift.wrong == (() if same else (Wrong("pkg", locked, installed),))


def test_node_versions_are_compared_as_written():
    lock = _lock(Locked("lodash", "4.17.21"), Locked("ms", "2.1"), ecosystem="node")
    drift = compare(lock, {"lodash": "4.17.21", "ms": "2.1.0"}, None)
    assert drift.wrong == (Wrong("ms", "2.1", "2.1.0"),)


def test_a_name_locked_several_times_accepts_any_of_its_versions():
    lock = _lock(Locked("debug", "2.6.9"), Locked("debug", "4.3.4"), ecosystem="node")
    assert compare(lock, {"debug": "4.3.4"}, None).state == "in-sync"
    assert compare(lock, {"debug": "2.6.9"}, None).state == "in-sync"
    assert compare(lock, {"debug": "3.0.0"}, None).wrong == (
        Wrong("debug", "2.6.9 or 4.3.4", "3.0.0"),
    )


def test_optional_packages_are_never_missing_but_can_be_wrong():
    lock = _lock(
        Locked("@esbuild/darwin-arm64", "0.20.0", optional=True),
        Locked("@esbuild/linux-x64", "0.20.0", optional=True),
        ecosystem="node",
    )
    assert compare(lock, {"@esbuild/linux-x64": "0.20.0"}, None).state == "in-sync"
    drift = compare(lock, {"@esbuild/linux-x64": "0.19.0"}, None)
    assert drift.missing == ()
    assert drift.wrong == (Wrong("@esbuild/linux-x64", "0.20.0", "0.19.0"),)


def test_local_packages_are_neither_missing_wrong_unpinned_nor_extra():
    lock = _lock(Locked("myproject", None, spec="-e .", local=True), Locked("alpha", "1.0"))
    assert compare(lock, {"alpha": "1.0"}, None) == Drift(Path("/p/requirements.lock"), "in-sync")
    drift = compare(lock, {"alpha": "1.0", "myproject": "0.0.0"}, None)
    assert drift == Drift(Path("/p/requirements.lock"), "in-sync")


def test_unpinned_packages_are_listed_and_accept_any_version():
    lock = _lock(Locked("flask", None, spec="flask>=3"), Locked("alpha", "1.0"))
    drift = compare(lock, {"flask": "3.0.2", "alpha": "1.0"}, None)
    assert drift.state == "in-sync"
    assert drift.unpinned == ("flask",)
    assert drift.wrong == ()
    # Unpinned is not installed all the same.
    assert compare(lock, {"alpha": "1.0"}, None).missing == ("flask",)


def test_a_marker_that_does_not_hold_means_the_package_is_not_expected():
    env = {"python_version": "3.9", "python_full_version": "3.9.18", "sys_platform": "linux"}
    lock = _lock(
        Locked("tomli", "2.0.1", marker='python_version < "3.11"'),
        Locked("exceptiongroup", "1.2.0", marker='python_version >= "3.11"'),
        Locked("pywin32", "306", marker='sys_platform == "win32"'),
        Locked("dev-only", "1.0", marker='extra == "dev"'),
    )
    drift = compare(lock, {}, env)
    assert drift.missing == ("tomli",)
    # The same lock for a 3.12 venv expects the other one.
    env312 = dict(env, python_version="3.12", python_full_version="3.12.1")
    assert compare(lock, {}, env312).missing == ("exceptiongroup",)
    # A package the lock names under a marker that does not hold is still not "extra".
    assert compare(lock, {"tomli": "2.0.1", "pywin32": "306"}, env).extra == ()


def test_a_marker_packaging_cannot_parse_keeps_the_package_expected():
    lock = _lock(Locked("odd", "1.0", marker="python_version <<< '3'"))
    assert compare(lock, {}, None).missing == ("odd",)


def test_extra_is_informational_and_leaves_out_the_venv_seed():
    lock = _lock(Locked("alpha", "1.0"))
    installed = {"alpha": "1.0", "zzz": "1", "pip": "24.0", "setuptools": "69", "wheel": "0.42"}
    drift = compare(lock, installed, None)
    assert drift.state == "in-sync"
    assert drift.extra == ("zzz",)
    # Listed by the lock, pip is checked like anything else.
    drift = compare(_lock(Locked("pip", "25.0")), installed, None)
    assert drift.wrong == (Wrong("pip", "25.0", "24.0"),)
    # node has no seed: everything unlisted is extra.
    assert compare(_lock(ecosystem="node"), {"pip": "1.0.0"}, None).extra == ("pip",)


def test_no_environment_at_all_is_not_installed_and_lists_what_it_would_install():
    lock = _lock(
        Locked("alpha", "1.0"),
        Locked("pywin32", "306", marker='sys_platform == "win32"'),
        Locked("flask", None, spec="flask>=3"),
    )
    drift = compare(lock, None, {"sys_platform": "linux"})
    assert drift.state == "not-installed"
    assert drift.missing == ("alpha", "flask")
    assert drift.unpinned == ("flask",)
    assert summary(drift) == "requirements.lock: not installed (2 packages to install)"


def test_summary_lines():
    path = Path("/p/requirements.lock")
    drift = Drift(
        path,
        "drift",
        missing=("psycopg2-binary", "redis"),
        wrong=(Wrong("packaging", "26.4", "25.0"),),
    )
    assert summary(drift) == (
        "requirements.lock: 2 missing (psycopg2-binary, redis), "
        "1 wrong (packaging 26.4 locked, 25.0 installed)"
    )
    assert summary(Drift(path, "in-sync")) == "requirements.lock: in sync"
    many = Drift(path, "in-sync", unpinned=("a", "b", "c", "d", "e"), extra=("z",))
    assert summary(many) == (
        "requirements.lock: in sync, 5 unpinned (a, b, c and 2 more), 1 not in the lockfile (z)"
    )
    broken = Drift(path, "unknown", error="line 3: no version")
    assert summary(broken) == "requirements.lock: unknown (line 3: no version)"


# ---------------------------------------------------------------- check() on real environments


class Reader:
    """Reads the test lockfiles, counting the reads: ``requirements*.lock`` as ``name==version
    ; marker`` lines (``name`` alone is unpinned, ``-r FILE`` includes FILE, ``!`` is an
    error), ``package-lock.json`` as npm's v3 ``packages`` map."""

    def __init__(self) -> None:
        self.reads: list[Path] = []

    def __call__(self, path: Path) -> Lockfile:
        self.reads.append(path)
        if path.name == "package-lock.json":
            data = json.loads(path.read_text())
            packages = tuple(
                Locked(key.rpartition("node_modules/")[2], entry["version"])
                for key, entry in data["packages"].items()
                if key
            )
            return Lockfile(path, "node", "npm", packages)
        packages, includes = self._requirements(path)
        return Lockfile(path, "python", "requirements", packages, includes)

    def _requirements(self, path: Path) -> tuple[tuple[Locked, ...], tuple[Path, ...]]:
        packages: list[Locked] = []
        includes: list[Path] = []
        for line in path.read_text().splitlines():
            requirement, _, marker = (part.strip() for part in line.partition(";"))
            if not requirement:
                continue
            if requirement == "!":
                raise DevenvError(f"{path}: a line devenv cannot read")
            if requirement.startswith("-r "):
                included = path.parent / requirement[3:].strip()
                includes.append(included)
                more, deeper = self._requirements(included)
                packages.extend(more)
                includes.extend(deeper)
                continue
            name, _, version = requirement.partition("==")
            packages.append(Locked(name, version or None, spec=requirement, marker=marker or None))
        return tuple(packages), tuple(includes)


def _env(root: Path, *lockfiles: str) -> ProjectEnv:
    return ProjectEnv(
        root=root,
        venv=root / ".venv",
        lockfiles=tuple(root / name for name in lockfiles),
        state_file=root / ".devenv" / "deps.json",
    )


def _settle(*paths: Path, seconds_ago: float = 60) -> None:
    """Give files an mtime well in the past: the fingerprint trusts only files that have
    not changed within fingerprint.RACY_NS (a tick of the filesystem's clock could hide a write)."""
    stamp = time.time_ns() - int(seconds_ago * 1e9)
    for path in paths:
        os.utime(path, ns=(stamp, stamp))


def _write(path: Path, text: str, seconds_ago: float = 60) -> Path:
    path.write_text(text)
    _settle(path, seconds_ago=seconds_ago)
    return path


@pytest.fixture
def venv_project(tmp_path):
    """A project whose requirements.lock pins alpha 1.0 and beta-pkg 2.0.0, installed."""
    _write(tmp_path / "requirements.lock", "alpha==1.0\nbeta-pkg==2.0.0\n")
    make_venv(tmp_path / ".venv", {"alpha": "1.0", "beta-pkg": "2.0.0"})
    return _env(tmp_path, "requirements.lock")


def test_check_a_real_venv_in_sync(venv_project):
    results = check(venv_project, reader=Reader())
    lock = venv_project.root / "requirements.lock"
    assert list(results) == [lock]
    assert results[lock] == Drift(lock, "in-sync")
    assert results[lock].details["cached"] is False


def test_check_a_real_venv_with_one_wrong_and_one_missing(venv_project):
    install(venv_project.venv, {"alpha": "0.9", "zzz-extra": "1.0"})
    lock = venv_project.root / "requirements.lock"

    drift = check(venv_project, reader=Reader())[lock]

    assert drift.state == "drift"
    assert drift.missing == ("beta-pkg",)
    assert drift.wrong == (Wrong("alpha", "1.0", "0.9"),)
    assert drift.extra == ("zzz-extra",)
    assert summary(drift) == (
        "requirements.lock: 1 missing (beta-pkg), 1 wrong (alpha 1.0 locked, 0.9 installed), "
        "1 not in the lockfile (zzz-extra)"
    )


def test_check_unpinned_and_markers_in_a_real_venv(venv_project):
    _write(
        venv_project.root / "requirements.lock",
        "alpha\n"
        "beta-pkg==2.0.0\n"
        'never-here==1.0 ; sys_platform == "win32"\n'
        'old-python-only==1.0 ; python_version < "3.0"\n'
        'this-python==1.0 ; python_version >= "3.0"\n',
    )
    drift = check(venv_project, reader=Reader())[venv_project.root / "requirements.lock"]
    assert drift.state == "drift"
    assert drift.missing == ("this-python",)
    assert drift.unpinned == ("alpha",)
    assert drift.wrong == ()


def test_markers_are_evaluated_for_the_venvs_python(tmp_path):
    from tests.test_installed import _other_python

    other = _other_python()
    if other is None:
        pytest.skip("no other python3.X to make a venv with")
    make_venv(tmp_path / ".venv", {"alpha": "1.0"}, python=other)
    minor = (tmp_path / ".venv" / "pyvenv.cfg").read_text().split("version_info = 3.")[1]
    minor = minor.split(".")[0]
    _write(
        tmp_path / "requirements.lock",
        f'alpha==1.0 ; python_version == "3.{minor}"\n'
        f'beta-pkg==2.0 ; python_version != "3.{minor}"\n',
    )
    env = _env(tmp_path, "requirements.lock")
    assert check(env, reader=Reader())[tmp_path / "requirements.lock"].state == "in-sync"


def test_no_venv_is_not_installed(tmp_path):
    _write(tmp_path / "requirements.lock", "alpha==1.0\n")
    drift = check(_env(tmp_path, "requirements.lock"), reader=Reader())[
        tmp_path / "requirements.lock"
    ]
    assert drift.state == "not-installed"
    assert drift.missing == ("alpha",)


def test_an_unreadable_lockfile_is_unknown_with_the_reason(tmp_path):
    _write(tmp_path / "requirements.lock", "alpha==1.0\n!\n")
    _write(tmp_path / "gone.lock", "x")
    (tmp_path / "gone.lock").unlink()
    env = _env(tmp_path, "requirements.lock", "gone.lock")

    results = check(env, reader=Reader())

    broken = results[tmp_path / "requirements.lock"]
    assert broken.state == "unknown"
    assert "a line devenv cannot read" in broken.error
    assert broken.as_json()["error"] == broken.error
    assert results[tmp_path / "gone.lock"].state == "unknown"
    assert "gone.lock" in results[tmp_path / "gone.lock"].error


# ---------------------------------------------------------------- node_modules


def _package(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "package.json", json.dumps({"name": name, "version": version}))
    return folder


def _package_lock(root: Path, packages: dict[str, str]) -> Path:
    entries = {"": {"name": "app"}} | {
        f"node_modules/{k}": {"version": v} for k, v in packages.items()
    }
    return _write(
        root / "package-lock.json", json.dumps({"lockfileVersion": 3, "packages": entries})
    )


@pytest.fixture
def node_project(tmp_path):
    """package-lock.json and a node_modules tree as npm and pnpm lay them out."""
    _package_lock(
        tmp_path,
        {
            "lodash": "4.17.21",
            "@types/node": "20.11.5",
            "ms": "2.1.3",
            "lodash/node_modules/ms": "2.0.0",
        },
    )
    nm = tmp_path / "node_modules"
    _package(nm / "lodash", "lodash", "4.17.21")
    _package(nm / "lodash" / "node_modules" / "ms", "ms", "2.0.0")
    _package(nm / "@types" / "node", "@types/node", "20.11.5")
    real = _package(nm / ".pnpm" / "ms@2.1.3" / "node_modules" / "ms", "ms", "2.1.3")
    os.symlink(os.path.relpath(real, nm), nm / "ms")
    return _env(tmp_path, "package-lock.json")


def test_check_a_node_modules_tree_in_sync(node_project):
    lock = node_project.root / "package-lock.json"
    assert check(node_project, reader=Reader())[lock] == Drift(lock, "in-sync")


def test_check_a_node_modules_tree_with_drift(node_project):
    nm = node_project.node_modules
    _package(nm / "lodash", "lodash", "4.17.20")
    (nm / "ms").unlink()
    _package(nm / "left-pad", "left-pad", "1.3.0")
    lock = node_project.root / "package-lock.json"

    drift = check(node_project, reader=Reader())[lock]

    assert drift.missing == ("ms",)
    assert drift.wrong == (Wrong("lodash", "4.17.21", "4.17.20"),)
    assert drift.extra == ("left-pad",)


def test_no_node_modules_is_not_installed(tmp_path):
    _package_lock(tmp_path, {"lodash": "4.17.21"})
    drift = check(_env(tmp_path, "package-lock.json"), reader=Reader())[
        tmp_path / "package-lock.json"
    ]
    assert drift.state == "not-installed"


def test_python_and_node_lockfiles_of_one_project(venv_project, tmp_path):
    _package_lock(tmp_path, {"lodash": "4.17.21"})
    _package(tmp_path / "node_modules" / "lodash", "lodash", "4.17.21")
    env = _env(tmp_path, "requirements.lock", "package-lock.json")
    results = check(env, reader=Reader())
    assert [d.state for d in results.values()] == ["in-sync", "in-sync"]


# ---------------------------------------------------------------- the fingerprint


def test_unchanged_state_is_answered_without_reading(venv_project):
    reader = Reader()
    first = check(venv_project, reader=reader)
    second = check(venv_project, reader=reader)

    assert len(reader.reads) == 1
    assert second == first
    lock = venv_project.root / "requirements.lock"
    assert second[lock].details["cached"] is True


def test_a_state_file_written_by_hand_is_what_check_returns(venv_project):
    lock = venv_project.root / "requirements.lock"
    invented = Drift(lock, "drift", missing=("invented",), wrong=(Wrong("x", "1", "2"),))
    invented.details["fingerprint"] = fingerprint(venv_project, lock)
    assert invented.details["fingerprint"] is not None
    assert remember(venv_project, {lock: invented})
    reader = Reader()

    assert check(venv_project, reader=reader)[lock] == invented
    assert reader.reads == []


def test_a_changed_lockfile_is_read_again(venv_project):
    reader = Reader()
    lock = venv_project.root / "requirements.lock"
    check(venv_project, reader=reader)
    _write(lock, "alpha==1.0\nbeta-pkg==2.0.0\ngamma==3.0\n", seconds_ago=30)

    assert check(venv_project, reader=reader)[lock].missing == ("gamma",)
    assert len(reader.reads) == 2


def test_a_lockfile_replaced_with_the_same_size_and_mtime_is_read_again(venv_project):
    reader = Reader()
    lock = venv_project.root / "requirements.lock"
    check(venv_project, reader=reader)
    before = lock.stat()
    replacement = _write(lock.with_name("new.lock"), "alpha==1.0\nbeta-pkg==2.0.1\n")
    assert replacement.stat().st_size == before.st_size
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, lock)  # as git and editors save: a new inode

    assert check(venv_project, reader=reader)[lock].wrong == (Wrong("beta-pkg", "2.0.1", "2.0.0"),)
    assert len(reader.reads) == 2


def test_a_changed_installed_set_is_compared_again(venv_project):
    reader = Reader()
    lock = venv_project.root / "requirements.lock"
    check(venv_project, reader=reader)
    install(venv_project.venv, {"alpha": "1.0", "beta-pkg": "1.9"})

    assert check(venv_project, reader=reader)[lock].wrong == (Wrong("beta-pkg", "2.0.0", "1.9"),)
    install(venv_project.venv, {"alpha": "1.0", "beta-pkg": "2.0.0"})
    assert check(venv_project, reader=reader)[lock].state == "in-sync"
    assert len(reader.reads) == 3


def test_a_changed_package_json_is_compared_again(node_project):
    reader = Reader()
    lock = node_project.root / "package-lock.json"
    check(node_project, reader=reader)
    _package(node_project.node_modules / "@types" / "node", "@types/node", "20.11.6")

    assert check(node_project, reader=reader)[lock].wrong == (
        Wrong("@types/node", "20.11.5", "20.11.6"),
    )
    assert len(reader.reads) == 2


def test_a_changed_included_file_is_read_again(venv_project):
    root = venv_project.root
    _write(root / "base.lock", "alpha==1.0\n")
    _write(root / "requirements.lock", "-r base.lock\nbeta-pkg==2.0.0\n")
    reader = Reader()
    check(venv_project, reader=reader)
    check(venv_project, reader=reader)
    assert len(reader.reads) == 1

    _write(root / "base.lock", "alpha==1.1\n", seconds_ago=30)

    drift = check(venv_project, reader=reader)[root / "requirements.lock"]
    assert drift.wrong == (Wrong("alpha", "1.1", "1.0"),)
    assert len(reader.reads) == 2


def test_a_lockfile_modified_just_now_is_not_trusted_to_stay_the_same(venv_project):
    lock = venv_project.root / "requirements.lock"
    # A write a moment from now (or within the same filesystem clock tick) could leave the
    # stat as it is: such a result is not remembered under a fingerprint.
    _write(lock, "alpha==1.0\nbeta-pkg==2.0.0\n", seconds_ago=-5)
    reader = Reader()
    check(venv_project, reader=reader)
    check(venv_project, reader=reader)
    assert len(reader.reads) == 2
    assert fingerprint(venv_project, lock) is None
    _settle(lock)
    assert fingerprint(venv_project, lock) is not None


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage",
        b"",
        b"[]",
        b'{"format": 999, "lockfiles": {}}',
        b'{"format": 1, "devenv": "0.0.0-someone-else", "lockfiles": {}}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": []}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": {"LOCK": "x"}}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": {"LOCK": {"fingerprint": "FP"}}}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": {"LOCK": {"fingerprint": "FP", '
        b'"drift": {"state": "bogus", "missing": [], "wrong": [], "extra": [], "unpinned": []}}}}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": {"LOCK": {"fingerprint": "FP", '
        b'"drift": {"state": "drift", "missing": "abc", "wrong": [], "extra": [], '
        b'"unpinned": []}}}}',
        b'{"format": 1, "devenv": "VERSION", "lockfiles": {"LOCK": {"fingerprint": "FP", '
        b'"drift": {"state": "drift", "missing": [], "wrong": [{"name": 1}], "extra": [], '
        b'"unpinned": []}}}}',
    ],
)
def test_a_corrupt_or_foreign_state_file_is_ignored_and_rewritten(venv_project, content):
    from devenv import __version__

    lock = venv_project.root / "requirements.lock"
    content = (
        content.replace(b"VERSION", __version__.encode())
        .replace(b"LOCK", str(lock).encode())
        .replace(b"FP", fingerprint(venv_project, lock).encode())
    )
    venv_project.state_file.parent.mkdir(parents=True)
    venv_project.state_file.write_bytes(content)
    reader = Reader()

    assert check(venv_project, reader=reader)[lock] == Drift(lock, "in-sync")
    assert len(reader.reads) == 1
    check(venv_project, reader=reader)
    assert len(reader.reads) == 1  # the rewritten file is good


def test_the_state_file_is_private_and_written_whole(venv_project):
    check(venv_project, reader=Reader())
    state = venv_project.state_file
    assert state.stat().st_mode & 0o777 == 0o600
    assert os.listdir(state.parent) == [state.name]  # no temp file left behind
    data = json.loads(state.read_text())
    entry = data["lockfiles"][str(venv_project.root / "requirements.lock")]
    assert entry["drift"]["state"] == "in-sync"


def test_forget_makes_the_next_check_read_everything(venv_project):
    reader = Reader()
    check(venv_project, reader=reader)
    forget(venv_project)
    assert not venv_project.state_file.exists()
    forget(venv_project)  # nothing to forget is fine
    check(venv_project, reader=reader)
    assert len(reader.reads) == 2


def test_a_lockfile_no_longer_watched_leaves_the_state(venv_project, tmp_path):
    _write(tmp_path / "requirements-dev.lock", "alpha==1.0\n")
    both = _env(tmp_path, "requirements.lock", "requirements-dev.lock")
    check(both, reader=Reader())
    check(_env(tmp_path, "requirements.lock"), reader=Reader())
    stored = json.loads(both.state_file.read_text())["lockfiles"]
    assert list(stored) == [str(tmp_path / "requirements.lock")]


def test_a_state_file_that_cannot_be_written_costs_only_time(venv_project):
    venv_project.state_file.parent.write_text("not a folder")
    reader = Reader()
    lock = venv_project.root / "requirements.lock"
    assert check(venv_project, reader=reader)[lock].state == "in-sync"
    assert check(venv_project, reader=reader)[lock].state == "in-sync"
    assert len(reader.reads) == 2


def test_a_racy_result_that_did_not_change_is_not_written_again(venv_project):
    lock = venv_project.root / "requirements.lock"
    _write(lock, "alpha==1.0\nbeta-pkg==2.0.0\n", seconds_ago=-5)
    check(venv_project, reader=Reader())
    written = venv_project.state_file.stat()
    assert (
        json.loads(venv_project.state_file.read_text())["lockfiles"][str(lock)]["fingerprint"]
        is None
    )
    check(venv_project, reader=Reader())
    again = venv_project.state_file.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


# ---------------------------------------------------------------- with the real readers


def test_check_reads_real_lockfiles_and_their_includes(tmp_path):
    root = tmp_path
    _write(root / "base.txt", "alpha==1.0\n")
    _write(root / "constraints.txt", "beta-pkg==2.0.0\n")
    _write(
        root / "requirements.txt",
        '-r base.txt\n-c constraints.txt\nbeta-pkg>=1\nnever-here==1.0 ; sys_platform == "win32"\n',
    )
    make_venv(root / ".venv", {"alpha": "1.0", "beta-pkg": "2.0.0"})
    env = _env(root, "requirements.txt")
    lock = root / "requirements.txt"

    first = check(env)[lock]

    assert first == Drift(lock, "in-sync")
    assert set(first.details["includes"]) == {root / "base.txt", root / "constraints.txt"}
    assert check(env)[lock].details["cached"] is True
    _write(root / "constraints.txt", "beta-pkg==2.0.1\n", seconds_ago=30)
    assert check(env)[lock].wrong == (Wrong("beta-pkg", "2.0.1", "2.0.0"),)
    _write(root / "base.txt", "alpha==1.0\ngamma==3.0\n", seconds_ago=20)
    assert check(env)[lock].missing == ("gamma",)


def test_a_broken_real_lockfile_is_unknown_with_the_readers_message(tmp_path):
    _write(tmp_path / "package-lock.json", '{"lockfileVersion": 3, "packages": ')
    lock = tmp_path / "package-lock.json"
    drift = check(_env(tmp_path, "package-lock.json"))[lock]
    assert drift.state == "unknown"
    assert drift.error.startswith(str(lock))
    assert summary(drift).startswith("package-lock.json: unknown (")
