"""devenv.files: the one atomic write, on real files."""

from __future__ import annotations

import os
import stat

import pytest

from devenv.files import write_atomic, write_new


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_atomic_replaces_with_exact_mode_whatever_the_umask(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    old_umask = os.umask(0o077)
    try:
        write_atomic(path, "new ✓", mode=0o644)
    finally:
        os.umask(old_umask)
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert _mode(path) == 0o644
    write_atomic(path, b"\x00bytes")
    assert path.read_bytes() == b"\x00bytes"
    assert _mode(path) == 0o600
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_failure_after_the_temp_file_exists_leaves_the_old_file_and_no_litter(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "half \udc80 written")  # fails while the temp file is open
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_failed_rename_leaves_the_target_and_no_litter(tmp_path):
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        write_atomic(target, "data")  # a rename cannot replace a non-empty folder
    assert (target / "inside").is_dir()
    assert sorted(os.listdir(tmp_path)) == ["taken"]


def test_a_symlinked_target_is_replaced_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not yours")
    link = tmp_path / "state.json"
    link.symlink_to(elsewhere)
    write_atomic(link, "mine")
    assert elsewhere.read_text() == "not yours"
    assert not link.is_symlink() and link.read_text() == "mine"


def test_write_new_never_replaces_and_says_who_won(tmp_path):
    path = tmp_path / "password"
    assert write_new(path, "first\n") is True
    assert write_new(path, "second\n") is False
    assert path.read_text() == "first\n"
    assert _mode(path) == 0o600
    assert os.listdir(tmp_path) == ["password"]
