"""devenv's own pins: pyproject.toml declares what the code imports, and the two locks are what
uv compiles from it.

requirements.lock pins devenv's runtime dependencies (what `./bootstrap.sh` and a wheel
install need); requirements-test.lock pins the same versions plus the test extra (what
`./bootstrap.sh test` installs). Both are regenerated here with the command written at their
top, the committed lock's pins serving as uv's preferences (so the versions stay; the hashes
come from the index), and must come out byte for byte the same: a dependency added to
pyproject.toml and not locked, one removed and still locked, a range that excludes its pin,
or a hand-edited pin or hash all fail.
"""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

RUNTIME_LOCK = "requirements.lock"
TEST_LOCK = "requirements-test.lock"
COMMON = "--generate-hashes --universal --python-version 3.11"
# In this order: the test lock is compiled with the runtime lock as constraints.
COMMANDS = {
    RUNTIME_LOCK: f"uv pip compile pyproject.toml {COMMON} -o {RUNTIME_LOCK}",
    TEST_LOCK: (
        f"uv pip compile pyproject.toml --extra test -c {RUNTIME_LOCK} {COMMON} -o {TEST_LOCK}"
    ),
}

# Test-extra packages that the tests do not import: the tools the suite runs, and why.
TOOLS = {
    "ruff": ("tests/test_lint.py", '"ruff"'),  # runs `ruff check` and `ruff format --check`
    "pytest-timeout": ("pyproject.toml", "timeout = "),  # the suite's timeout option
    "pytest-textual-snapshot": ("tests/test_tui_snapshots.py", "snap_compare"),  # its fixture
    "mypy": ("tests/test_types.py", '"mypy"'),  # runs `mypy` over devenv/
    # The stubs mypy reads for devenv's imports of psutil and psycopg2.
    "types-psutil": ("tests/test_types.py", "types-psutil"),
    "types-psycopg2": ("tests/test_types.py", "types-psycopg2"),
}


def declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def third_party_imports(*folders: str) -> dict[str, str]:
    """Every top-level module imported anywhere (lazily too) in FOLDERS that is neither the
    standard library nor this checkout's own, mapped to the first file importing it."""
    own = {"devenv", "tests", "benchmarks", "_bench"}
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "corpus" in path.relative_to(ROOT).parts:  # real projects' files, never imported
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in own:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def distributions(modules: dict[str, str]) -> dict[str, str]:
    """The installed distributions providing MODULES (psycopg2 -> psycopg2-binary)."""
    providers = importlib.metadata.packages_distributions()
    result = {}
    for module, where in modules.items():
        assert module in providers, f"{where} imports {module}, which no installed package provides"
        for dist in providers[module]:
            result[canonicalize_name(dist)] = where
    return result


def pins(lock: str) -> dict[str, str]:
    """A lock's requirements (name -> the whole entry: pin, marker and hashes)."""
    entries: dict[str, str] = {}
    name = ""
    for line in (ROOT / lock).read_text().splitlines():
        if line[:1].isalnum():
            name = canonicalize_name(Requirement(line.removesuffix("\\")).name)
            entries[name] = line
        elif line.lstrip().startswith("--hash="):
            entries[name] += "\n" + line
    return entries


def test_runtime_dependencies_are_exactly_what_devenv_imports() -> None:
    imported = distributions(third_party_imports("devenv"))

    assert declared(PYPROJECT["project"]["dependencies"]) == set(imported), imported


def test_the_test_extra_is_what_the_tests_import_and_run() -> None:
    runtime = declared(PYPROJECT["project"]["dependencies"])
    test_extra = declared(PYPROJECT["project"]["optional-dependencies"]["test"])
    imported = distributions(third_party_imports("tests", "benchmarks"))

    undeclared = {name: where for name, where in imported.items() if name not in runtime}
    assert set(undeclared) <= test_extra, undeclared
    for name in test_extra - set(imported):
        assert name in TOOLS, f"{name} is in the test extra but nothing imports or runs it"
        file, needle = TOOLS[name]
        assert needle in (ROOT / file).read_text(), f"{file} no longer uses {name}"


def test_the_test_lock_pins_what_the_runtime_lock_pins() -> None:
    runtime, test = pins(RUNTIME_LOCK), pins(TEST_LOCK)

    assert {"textual", "psycopg2-binary"} <= set(runtime)
    for name, entry in runtime.items():
        assert test.get(name) == entry, name
    assert {"pytest", "ruff", "redis"} <= set(test) - set(runtime)


def test_the_locks_are_what_uv_compiles_from_pyproject(tmp_path: Path) -> None:
    import uv

    shutil.copy2(ROOT / "pyproject.toml", tmp_path)
    for lock in COMMANDS:
        # The pins alone, as uv's preferences: uv would take the hashes of an existing output
        # file as they are, so they must come from the index to be checked.
        bare = (entry.partition(" \\")[0] for entry in pins(lock).values())
        (tmp_path / lock).write_text("".join(f"{line}\n" for line in bare))
    for lock, command in COMMANDS.items():
        header = (ROOT / lock).read_text().splitlines()[:2]
        assert header == [
            "# This file was autogenerated by uv via the following command:",
            f"#    {command}",
        ], lock
        args = [uv.find_uv_bin(), *command.split()[1:], "--quiet"]
        compiled = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert compiled.returncode == 0, compiled.stderr

        assert (tmp_path / lock).read_text() == (ROOT / lock).read_text(), (
            f"{lock} is not what `{command}` makes of pyproject.toml: run it"
        )
