"""Root handling: PostgreSQL refuses root, so devenv runs it as an unprivileged account."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

import pytest

from devenv.errors import DevenvError
from devenv.project import privileges
from tests.servers import pg_bindir, reachable_tmpdir

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the root path needs root")


def test_not_root_means_the_current_user(monkeypatch):
    monkeypatch.setattr(privileges.os, "geteuid", lambda: 4242)
    entry = pwd.struct_passwd(("dev", "x", 4242, 100, "", "/home/dev", "/bin/sh"))
    monkeypatch.setattr(privileges.pwd, "getpwuid", lambda uid: entry)
    user = privileges.service_user()
    assert (user.name, user.uid) == ("dev", 4242)


@as_root
def test_root_runs_postgres_as_an_unprivileged_account_and_initdb_works():
    user = privileges.service_user()
    assert user.uid != 0
    base = reachable_tmpdir("devenv-priv-")
    try:
        privileges.give_to(base, user)
        privileges.ensure_reachable(base / "data", user)
        done = subprocess.run(
            [pg_bindir() / "initdb", "-N", "-A", "trust", "-D", base / "data"],
            capture_output=True,
            text=True,
            **user.popen_kwargs(),
        )
        assert done.returncode == 0, done.stderr
        assert (base / "data" / "PG_VERSION").stat().st_uid == user.uid
    finally:
        shutil.rmtree(base)


@as_root
def test_initdb_as_root_really_is_refused():
    """The reason this module exists; if this ever passes, the module can go."""
    base = reachable_tmpdir("devenv-priv-")
    try:
        done = subprocess.run(
            [pg_bindir() / "initdb", "-D", base / "data"], capture_output=True, text=True
        )
        assert done.returncode != 0
        assert "root" in done.stderr
    finally:
        shutil.rmtree(base)


@as_root
def test_an_unreachable_project_folder_is_a_clear_error(tmp_path):
    user = privileges.service_user()
    locked = tmp_path / "locked"
    (locked / "project").mkdir(parents=True)
    locked.chmod(0o700)

    with pytest.raises(DevenvError) as err:
        privileges.ensure_reachable(locked / "project" / ".devenv" / "state", user)

    message = str(err.value)
    assert f"PostgreSQL runs as '{user.name}' because devenv is root" in message
    assert f"cannot enter {privileges.blocking_folder(locked / 'project', user)}" in message
    assert "chmod o+x" in message


@as_root
def test_service_user_from_the_environment(monkeypatch):
    monkeypatch.setenv(privileges.SERVICE_USER_ENV, "nobody")
    assert privileges.service_user().name == "nobody"

    monkeypatch.setenv(privileges.SERVICE_USER_ENV, "no-such-user-here")
    with pytest.raises(DevenvError, match="DEVENV_SERVICE_USER=no-such-user-here: no such user"):
        privileges.service_user()

    monkeypatch.setenv(privileges.SERVICE_USER_ENV, "root")
    with pytest.raises(DevenvError, match="is root; PostgreSQL refuses to run as root"):
        privileges.service_user()


def test_blocking_folder_is_none_for_a_reachable_path():
    base = reachable_tmpdir("devenv-priv-")
    try:
        assert privileges.blocking_folder(base / "x", privileges.current_user()) is None
    finally:
        shutil.rmtree(base)
