"""Procfile parsing with line numbers, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from honcho.environ import parse_procfile as honcho_parse_procfile

from devenv.config.procfile import ProcfileEntry, parse_procfile
from devenv.errors import ConfigError

GOOD = """\
# processes of the shop

web: gunicorn app:app --bind 127.0.0.1:$PORT
worker:python -m jobs --queue=default
  # an indented comment
release-task_2: ./manage.py migrate && echo done: ok
"""


def write_procfile(tmp_path: Path, text: str, name: str = "Procfile") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parses_names_commands_and_lines_in_order(tmp_path: Path):
    entries = parse_procfile(write_procfile(tmp_path, GOOD))
    assert entries == {
        "web": ProcfileEntry(3, "gunicorn app:app --bind 127.0.0.1:$PORT"),
        "worker": ProcfileEntry(4, "python -m jobs --queue=default"),
        "release-task_2": ProcfileEntry(6, "./manage.py migrate && echo done: ok"),
    }
    assert list(entries) == ["web", "worker", "release-task_2"]


def test_commands_are_the_same_as_honchos(tmp_path: Path):
    entries = parse_procfile(write_procfile(tmp_path, GOOD))
    honcho = honcho_parse_procfile(GOOD).processes
    assert {name: entry.command for name, entry in entries.items()} == dict(honcho)


def test_empty_procfile(tmp_path: Path):
    assert parse_procfile(write_procfile(tmp_path, "\n# nothing yet\n")) == {}


def test_crlf_line_endings(tmp_path: Path):
    path = tmp_path / "Procfile"
    path.write_bytes(b"web: serve\r\nworker: work\r\n")
    assert parse_procfile(path) == {
        "web": ProcfileEntry(1, "serve"),
        "worker": ProcfileEntry(2, "work"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web: serve\nxyz\n", "Procfile:2: expected 'name: command', got 'xyz'"),
        ("web serve\n", "Procfile:1: expected 'name: command', got 'web serve'"),
        ("web:\n", "Procfile:1: expected 'name: command', got 'web:'"),
        ("  web: serve\n", "Procfile:1: expected 'name: command', got '  web: serve'"),
        (
            "web.1: serve\n",
            "Procfile:1: 'web.1' is not a process name: use letters, digits, '_' and '-' "
            "(honcho numbers the instances itself: web.1, web.2)",
        ),
        ("web:   \n", "Procfile:1: process 'web' has an empty command"),
        (
            "web: a\n\nworker: b\nweb: c\n",
            "Procfile:4: process 'web' is defined twice, on lines 1 and 4",
        ),
    ],
)
def test_bad_lines(tmp_path: Path, text: str, message: str):
    with pytest.raises(ConfigError) as caught:
        parse_procfile(write_procfile(tmp_path, text))
    assert str(caught.value) == message


def test_errors_use_the_display_name(tmp_path: Path):
    path = write_procfile(tmp_path, "oops\n", name="Procfile.dev")
    with pytest.raises(ConfigError) as caught:
        parse_procfile(path, display="deploy/Procfile.dev")
    assert str(caught.value) == "deploy/Procfile.dev:1: expected 'name: command', got 'oops'"
    assert caught.value.line == 1


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        parse_procfile(tmp_path / "Procfile")
    assert str(caught.value) == "Procfile: cannot read it: No such file or directory"


def test_not_utf8_is_a_config_error(tmp_path: Path):
    path = tmp_path / "Procfile"
    path.write_bytes(b"web: echo \xff\n")
    with pytest.raises(ConfigError) as caught:
        parse_procfile(path)
    assert str(caught.value) == (
        "Procfile:1: is not UTF-8 text (byte 0xff on this line); save it as UTF-8"
    )
