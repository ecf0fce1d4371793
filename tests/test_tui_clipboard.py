"""Copying says truly whether it copied (devenv.tui.clipboard): the system's tool when there
is one (a real program on PATH here), else the terminal's OSC 52, said as only sent."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from devenv.tui import clipboard

CAT = shutil.which("cat")


def tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def desktop(tmp_path, monkeypatch):
    """An X11 session whose PATH has only the test's tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(clipboard.sys, "platform", "linux")
    return bin_dir


def test_the_systems_tool_takes_it_and_says_so(desktop, tmp_path):
    got = tmp_path / "got"
    tool(desktop, "xclip", f'{CAT} > "{got}"')  # PATH holds only the test's tools
    sent: list[str] = []
    assert clipboard.copy("export A=1", sent.append) is True
    assert got.read_text() == "export A=1"
    assert sent == []  # nothing sent to the terminal


def test_a_tool_that_fails_falls_back_to_the_terminal(desktop):
    tool(desktop, "xclip", "exit 1")
    sent: list[str] = []
    assert clipboard.copy("x", sent.append) is False
    assert sent == ["x"]


def test_without_a_desktop_it_is_only_sent_to_the_terminal(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(clipboard.sys, "platform", "linux")
    assert clipboard.system_tool() is None
    sent: list[str] = []
    assert clipboard.copy("y", sent.append) is False
    assert sent == ["y"]
    assert "OSC 52" in clipboard.SENT and "not every terminal" in clipboard.SENT
    assert os.environ.get("DISPLAY") is None
