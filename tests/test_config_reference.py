"""The README's configuration section agrees with the declaration of the keys: its key reference
is the one devenv.config.reference writes from devenv.config.schema, and its example devenv.toml
loads (so it shows no key that does not exist)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.config import load_config
from devenv.config.reference import COMMAND, END, START, main, render, update

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _section(text: str) -> str:
    return text[text.index(START) + len(START) : text.index(END)]


def test_the_readme_key_reference_is_the_declared_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, f"README.md lost its {START} / {END} markers"
    assert _section(text).strip() == render().strip(), (
        f"README.md's key reference differs from devenv/config/schema.py; run: {COMMAND}"
    )


def test_the_readme_example_loads(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    configuration = text[text.index("## Configuration") :]
    example = re.search(r"```toml\n(.*?)```", configuration, re.S)
    assert example is not None
    (tmp_path / "devenv.toml").write_text(example.group(1))
    (tmp_path / "Procfile").write_text("web: python -m demoapp\nmigrate: python -m migrate\n")
    for name in ("db/init.sql", "devenv/memcached.toml", "demoapp/greeting.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    config = load_config(tmp_path / "devenv.toml")
    assert config.project.name == "shop"
    assert config.onboarding is not None
    assert [step.id for step in config.onboarding.own_steps] == ["sample-data"]


def test_update_replaces_only_what_is_between_the_markers() -> None:
    text = f"# Title\n\nbefore\n{START}\nSTALE LINE\n{END}\nafter\n"
    new = update(text)
    assert new.startswith(f"# Title\n\nbefore\n{START}\n")
    assert new.endswith(f"{END}\nafter\n")
    assert "STALE LINE" not in new
    assert update(new) == new
    with pytest.raises(ValueError):
        update("no markers here\n")


def test_check_fails_on_a_stale_reference_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nstale\n{END}\n")
    assert main(["--check", str(readme)]) == 1
    assert COMMAND in capsys.readouterr().err
    assert main(["--write", str(readme)]) == 0
    assert main(["--check", str(readme)]) == 0
    assert readme.read_text().startswith(f"intro\n{START}\n")


def test_the_command_runs_as_the_readme_says() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devenv.config.reference", "--check", str(README)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
