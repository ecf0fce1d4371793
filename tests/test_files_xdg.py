"""devenv.files: devenv's folders outside any project, from the environment at the call."""

from __future__ import annotations

from devenv.files import cache_dir, runtime_dir, state_dir


def test_the_variables_name_the_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "c" / "devenv"
    assert state_dir() == tmp_path / "s" / "devenv"
    assert runtime_dir() == tmp_path


def test_unset_or_relative_variables_fall_back_to_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative")
    assert cache_dir() == tmp_path / ".cache" / "devenv"
    assert state_dir() == tmp_path / ".local" / "state" / "devenv"
    assert runtime_dir() is None


def test_a_runtime_folder_that_is_missing_is_none(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "gone"))
    assert runtime_dir() is None
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert runtime_dir() is None
