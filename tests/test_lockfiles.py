"""The lockfile readers, on real lockfiles written by the real tools (tests/data/lockfiles,
see its README), cross-checked against the files' own structure read another way and, for
uv, against `uv export` run on the same lock. Errors: on broken copies in tmp_path."""

from __future__ import annotations

import contextlib
import json
import random
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker

from devenv.environment.lock_markers import graph_markers
from devenv.environment.lock_toml import parse_simple, slim
from devenv.environment.lockfiles import (
    LOCKFILE_TOOLS,
    LockfileError,
    read_lockfile,
    tool_for,
)
from devenv.environment.model import Locked
from devenv.errors import DevenvError

DATA = Path(__file__).parent / "data" / "lockfiles"

# Environments to evaluate markers in: two markers mean the same when they agree in all.
ENVIRONMENTS = [
    {"sys_platform": "linux", "python_full_version": "3.11.7", "implementation_name": "cpython"},
    {"sys_platform": "linux", "python_full_version": "3.12.3", "implementation_name": "cpython"},
    {"sys_platform": "win32", "python_full_version": "3.13.1", "implementation_name": "cpython"},
    {"sys_platform": "darwin", "python_full_version": "3.14.0", "implementation_name": "pypy"},
    {
        "sys_platform": "emscripten",
        "python_full_version": "3.11.2",
        "implementation_name": "cpython",
    },
]


def _environment(values: dict) -> dict:
    version = values["python_full_version"]
    pypy = values["implementation_name"] == "pypy"
    return {
        **values,
        "python_version": ".".join(version.split(".")[:2]),
        "platform_python_implementation": "PyPy" if pypy else "CPython",
        "platform_system": {"win32": "Windows", "darwin": "Darwin"}.get(
            values["sys_platform"], "Linux"
        ),
        "os_name": "nt" if values["sys_platform"] == "win32" else "posix",
        "platform_machine": "x86_64",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": version,
        "extra": "",
    }


def _applies(marker: str | None, values: dict) -> bool:
    return marker is None or Marker(marker).evaluate(_environment(values))


def _pins(packages) -> dict[tuple[str, str | None], str | None]:
    return {(p.name, p.version): p.marker for p in packages if not p.local}


def _read(relative: str):
    return read_lockfile(DATA / relative)


def _copy(relative: str, tmp_path: Path, name: str | None = None) -> Path:
    target = tmp_path / (name or Path(relative).name)
    shutil.copyfile(DATA / relative, target)
    return target


# ---------------------------------------------------------------- which reader


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements.lock", "requirements"),
        ("requirements-dev.lock", "requirements"),
        ("constraints.txt", "requirements"),
        ("uv.lock", "uv"),
        ("poetry.lock", "poetry"),
        ("Pipfile.lock", "pipenv"),
        ("pdm.lock", "pdm"),
        ("package-lock.json", "npm"),
        ("yarn.lock", "yarn"),
        ("pnpm-lock.yaml", "pnpm"),
        ("Gemfile.lock", None),
        ("Cargo.lock", None),
        ("package.json", None),
        ("Pipfile", None),
        ("other.lock", None),
    ],
)
def test_tool_for_goes_by_the_name_alone(name, tool):
    assert tool_for(Path("/nowhere") / name) == tool
    if name in LOCKFILE_TOOLS:
        assert LOCKFILE_TOOLS[name] == tool


def test_a_name_devenv_does_not_read_is_a_lockfile_error(tmp_path):
    path = tmp_path / "Gemfile.lock"
    path.write_text("GEM\n")
    with pytest.raises(LockfileError, match=r"Gemfile\.lock: not a lockfile devenv can read"):
        read_lockfile(path)
    assert issubclass(LockfileError, DevenvError)


@pytest.mark.parametrize("name", ["uv.lock", "requirements.txt", "yarn.lock"])
def test_a_missing_lockfile_is_a_lockfile_error(tmp_path, name):
    with pytest.raises(LockfileError, match="does not exist"):
        read_lockfile(tmp_path / name)


def test_a_folder_is_a_lockfile_error(tmp_path):
    (tmp_path / "poetry.lock").mkdir()
    with pytest.raises(LockfileError, match="is a folder"):
        read_lockfile(tmp_path / "poetry.lock")


# ---------------------------------------------------------------- requirements files


def test_requirements_compiled_by_uv_with_hashes():
    lock = _read("requirements/requirements.txt")
    assert (lock.ecosystem, lock.tool, lock.includes) == ("python", "requirements", ())
    text = (DATA / "requirements/requirements.txt").read_text()
    pin_lines = re.findall(r"^[A-Za-z0-9][^\s=]*==", text, re.MULTILINE)
    assert len(pin_lines) == 143
    assert len(lock.packages) == 144  # the pins and the workspace member, -e file:///...
    [member] = [p for p in lock.packages if p.local]
    assert member == Locked(
        "shop-utils", None, spec="-e file:///tmp/shopapp/packages/shop-utils", local=True
    )
    assert all(p.version is not None for p in lock.packages if not p.local)
    pins = _pins(lock.packages)
    assert pins[("django", "5.1.15")] is None
    assert pins[("pywin32", "312")] == 'sys_platform == "win32"'
    # A universal resolution: docutils and sphinx pinned once per Python range.
    assert pins[("docutils", "0.22.4")] == 'python_full_version < "3.13"'
    assert pins[("docutils", "0.23")] == 'python_full_version >= "3.13"'
    assert len([name for name, _ in pins if name == "sphinx"]) == 3
    # Names normalised: the file says "types-requests", PyPI says "types_requests" for some.
    assert all(p.name == p.name.lower() and "_" not in p.name for p in lock.packages)


def test_requirements_pin_what_uv_lock_pins():
    """uv pip compile and uv lock, run on the same pyproject.toml: the same resolution."""
    compiled = _pins(_read("requirements/requirements.txt").packages)
    locked = _pins(_read("uv/uv.lock").packages)
    assert set(compiled) == set(locked)


def test_requirements_with_includes_constraints_options_and_editables():
    lock = _read("requirements/includes/requirements-dev.txt")
    folder = (DATA / "requirements/includes").absolute()
    assert lock.includes == (
        folder / "requirements.txt",
        folder / "tools/lint.txt",
        folder / "constraints.txt",
    )
    packages = {p.name: p for p in lock.packages}
    assert len(packages) == len(lock.packages) == 18
    # From requirements.txt (-r), with extras dropped and markers kept.
    assert packages["django"] == Locked("django", "5.1.15")
    assert packages["celery"] == Locked("celery", "5.7.0")
    assert packages["colorama"] == Locked("colorama", "0.4.6", marker='sys_platform == "win32"')
    # A range pinned by constraints.txt (-c), in the included file and in this one.
    assert packages["requests"] == Locked("requests", "2.34.2", spec="requests>=2.31")
    assert packages["mypy"] == Locked("mypy", "2.4.1", spec="mypy")
    assert packages["coverage"] == Locked("coverage", "7.17.5", spec="coverage[toml]")
    # The constraints add nothing.
    assert "numpy" not in packages
    # From tools/lint.txt (--requirement=, relative to the including file).
    assert packages["ruff"] == Locked("ruff", "0.17.6")
    # Unpinned: a range and a bare name without a constraint.
    assert packages["pytest"] == Locked("pytest", None, spec="pytest>=8,<10")
    assert packages["pytest-django"] == Locked("pytest-django", None, spec="pytest-django")
    # Continuation lines with --hash options; a marker after extras.
    assert packages["black"] == Locked("black", "24.3.0")
    assert packages["hypothesis"] == Locked(
        "hypothesis", "6.100.0", marker='python_version >= "3.10"'
    )
    # Editables: local folders (named by their pyproject.toml) and a VCS URL.
    assert packages["shopapp"] == Locked("shopapp", None, spec="-e .", local=True)
    assert packages["shop-utils"].local and packages["shop-utils"].version is None
    assert packages["devtools"] == Locked(
        "devtools",
        None,
        spec="-e git+https://github.com/example/devtools.git@v1.2#egg=devtools",
    )
    # A URL is unpinned, a local wheel is local.
    assert packages["internal-sdk"].version is None and not packages["internal-sdk"].local
    assert packages["internal-sdk"].spec.startswith("internal-sdk @ https://")
    assert packages["localpkg"] == Locked(
        "localpkg", None, spec="./wheels/localpkg-0.1-py3-none-any.whl", local=True
    )


def test_requirements_lock_names_and_option_spellings(tmp_path):
    (tmp_path / "base.txt").write_text("alpha==1.0\n")
    (tmp_path / "more.txt").write_text("beta==2.0\n")
    (tmp_path / "pins.txt").write_text("gamma==3.0\ndelta==4.0 ; python_version >= '3'\n")
    (tmp_path / "libs/fast").mkdir(parents=True)
    (tmp_path / "libs/fast/pyproject.toml").write_text('[project]\nname = "Fast_Lib"\n')
    path = tmp_path / "requirements-dev.lock"  # rye's name
    path.write_text(
        "-rbase.txt\n"
        "--requirement more.txt\n"
        "--constraint=pins.txt\n"
        "gamma \\\n"
        "  # a comment line ends the continuation, as in pip\n"
        "delta>=1 --config-settings editable_mode=compat\n"
        "--hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        "epsilon===1.0.0+local  # === is a pin too\n"
        "zeta==1.*\n"
        "-e ./libs/fast[speedups]\n"
        "helper @ ./libs/helper\n"
    )
    lock = read_lockfile(path)
    assert lock.tool == "requirements"
    assert lock.packages == (
        Locked("alpha", "1.0"),
        Locked("beta", "2.0"),
        Locked("gamma", "3.0", spec="gamma"),
        Locked("delta", "4.0", spec="delta>=1"),
        Locked("epsilon", "1.0.0+local"),
        Locked("zeta", None, spec="zeta==1.*"),
        Locked("fast-lib", None, spec="-e ./libs/fast[speedups]", local=True),
        Locked("helper", None, spec="helper @ ./libs/helper", local=True),
    )
    assert lock.includes == tuple(tmp_path / n for n in ("base.txt", "more.txt", "pins.txt"))


def test_a_file_included_twice_is_read_twice_and_counted_once(tmp_path):
    (tmp_path / "common.txt").write_text("alpha==1.0\n")
    (tmp_path / "a.txt").write_text("-r common.txt\n")
    (tmp_path / "b.txt").write_text("-r common.txt\n")
    path = tmp_path / "requirements.txt"
    path.write_text("-r a.txt\n-r b.txt\n")
    lock = read_lockfile(path)
    assert lock.packages == (Locked("alpha", "1.0"),)
    assert [p.name for p in lock.includes] == ["a.txt", "common.txt", "b.txt"]


def test_a_missing_include_names_the_including_file_and_line(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("alpha==1.0\n\n# tools\n-r tools/lint.txt\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: includes {tmp_path / 'tools/lint.txt'}")
    assert "does not exist" in message and "relative to the including file" in message


def test_a_missing_constraints_file_names_the_including_file_and_line(tmp_path):
    (tmp_path / "dev.txt").write_text("alpha==1.0\n-c ../constraints.txt\n")
    path = tmp_path / "requirements.txt"
    path.write_text("-r dev.txt\n")
    with pytest.raises(LockfileError, match=rf"^{re.escape(str(tmp_path / 'dev.txt'))}:2: "):
        read_lockfile(path)


def test_an_include_cycle_names_the_file_and_line_that_closes_it(tmp_path):
    (tmp_path / "a.txt").write_text("alpha==1.0\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("# b\n\n-r a.txt\n")
    path = tmp_path / "requirements.txt"
    path.write_text("-r a.txt\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert str(caught.value).startswith(f"{tmp_path / 'b.txt'}:3: includes {tmp_path / 'a.txt'}")
    assert "requirements.txt -> a.txt -> b.txt -> a.txt" in str(caught.value)


def test_including_a_folder_names_the_including_line(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("alpha==1.0\n-r .\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert str(caught.value) == f"{path}:2: includes {tmp_path}, which is a folder"


def test_an_editable_folder_without_pyproject_is_named_after_the_folder(tmp_path):
    (tmp_path / "My_Tool").mkdir()
    path = tmp_path / "requirements.txt"
    path.write_text("-e .\n-e ./My_Tool/\n")
    assert [p.name for p in read_lockfile(path).packages] == [
        tmp_path.name.lower().replace("_", "-"),
        "my-tool",
    ]


def test_a_file_that_includes_itself_is_a_cycle(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("-r ./requirements.txt\n")
    with pytest.raises(LockfileError, match=r"requirements\.txt:1: .*cycle"):
        read_lockfile(path)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("django==", "is not a valid requirement"),
        ("django>=5 ; python_version <", "is not a valid requirement"),
        ("not a requirement at all", "is not a valid requirement"),
        ("-r", "-r needs a file name"),
        ("-e", "-e needs a path or URL"),
        ("-e git+https://example.invalid/repo.git", "cannot tell which package"),
        ("https://example.invalid/download", "cannot tell which package"),
        ("./pkg ; python_version <<< '3'", "invalid environment marker"),
    ],
)
def test_an_invalid_line_is_an_error_with_file_and_line(tmp_path, line, problem):
    path = tmp_path / "requirements.txt"
    path.write_text(f"alpha==1.0 \\\n  --hash=sha256:00\n\n{line}\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert problem in str(caught.value)


def test_a_constraint_that_contradicts_a_pin_is_an_error(tmp_path):
    (tmp_path / "constraints.txt").write_text("# pins\nalpha==2.0\n")
    path = tmp_path / "requirements.txt"
    path.write_text("-c constraints.txt\nalpha==1.0\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert str(caught.value).startswith(f"{path}:2: alpha is pinned to 1.0 here, but ")
    assert f"{tmp_path / 'constraints.txt'}:2 constrains it to 2.0" in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"alpha==1.0\nbeta==2.0\n# caf\xe9\n")
    with pytest.raises(LockfileError, match=r"requirements\.txt:3: is not UTF-8 text"):
        read_lockfile(path)


def test_a_bom_and_crlf_line_ends_are_read(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"\xef\xbb\xbfalpha==1.0 \\\r\n    --hash=sha256:00\r\nbeta\r\n")
    assert read_lockfile(path).packages == (Locked("alpha", "1.0"), Locked("beta", None, "beta"))


# ---------------------------------------------------------------- uv.lock


def test_uv_lock_every_package_with_the_project_and_its_member_local():
    lock = _read("uv/uv.lock")
    assert (lock.ecosystem, lock.tool) == ("python", "uv")
    raw = tomllib.loads((DATA / "uv/uv.lock").read_text())["package"]
    assert len(raw) == len(lock.packages) == 145
    assert [(p.name, p.version) for p in lock.packages] == [
        (p["name"], None if p["name"] in ("shopapp", "shop-utils") else p["version"]) for p in raw
    ]
    local = [p for p in lock.packages if p.local]
    assert local == [
        Locked("shop-utils", None, spec="packages/shop-utils", local=True),
        Locked("shopapp", None, spec=".", local=True),
    ]
    # Every package is reached by `uv sync` (the dev group is a default group).
    assert not [p for p in lock.packages if p.optional]


def test_uv_lock_markers_come_from_the_graph():
    packages = _pins(_read("uv/uv.lock").packages)
    # Only Windows asks for pywin32 (shop-utils' dependency), uvloop only elsewhere.
    assert packages[("pywin32", "312")] == "sys_platform == 'win32'"
    assert packages[("uvloop", "0.23.0")] == "sys_platform != 'win32'"
    # Reached through a conditional edge and nothing else: pexpect, then ptyprocess below it.
    assert (
        packages[("ptyprocess", "0.7.0")]
        == "sys_platform != 'emscripten' and sys_platform != 'win32'"
    )
    # A fork: three versions of sphinx, each with its Python range.
    assert packages[("sphinx", "9.0.4")] == "python_full_version < '3.12'"
    assert packages[("sphinx", "9.2.0")] == "python_full_version >= '3.13'"
    # Reached unconditionally from somewhere: no marker.
    assert packages[("django", "5.1.15")] is None
    for marker in packages.values():
        if marker is not None:
            Marker(marker)  # packaging reads every one


def test_uv_lock_markers_mean_what_uv_export_says():
    """`uv export` (written from the same uv.lock) states each package's marker as uv sees it:
    the graph's markers must select the same packages in every environment tried."""
    ours = _pins(_read("uv/uv.lock").packages)
    exported = _pins(_read("requirements/requirements-export.txt").packages)
    assert set(ours) == set(exported)
    for values in ENVIRONMENTS:
        selected = {key for key, marker in ours.items() if _applies(marker, values)}
        wanted = {key for key, marker in exported.items() if _applies(marker, values)}
        assert selected == wanted, values


@pytest.fixture
def uv_project(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "uv", tmp_path / "uv")
    return tmp_path / "uv"


def _uv_export(project: Path, *args: str) -> set[tuple[str, str]]:
    import uv

    out = subprocess.run(
        [
            uv.find_uv_bin(),
            "export",
            "--frozen",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
            "--format",
            "requirements-txt",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        env={"UV_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(project)},
    )
    found = re.findall(r"^([a-z0-9._-]+)==(\S+)", out.stdout, re.MULTILINE)
    return set(found)


def test_uv_lock_without_default_groups_matches_uv_export_no_dev(uv_project):
    """With `default-groups = []`, `uv sync` installs no dev group: those packages become
    optional (listed, never missing), and the required ones are what uv exports."""
    pyproject = uv_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.uv]\ndefault-groups = []\n")
    packages = read_lockfile(uv_project / "uv.lock").packages
    required = {(p.name, p.version) for p in packages if not p.optional and not p.local}
    optional = {(p.name, p.version) for p in packages if p.optional}
    assert required == _uv_export(uv_project)
    assert required | optional == _uv_export(uv_project, "--all-groups")
    assert ("pytest", "9.2.0") in optional and ("django", "5.1.15") in required
    assert len(required) == 71


def test_uv_lock_with_all_default_groups_is_all_required(uv_project):
    assert _uv_export(uv_project) == _uv_export(uv_project, "--all-groups")  # one group only
    pyproject = uv_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.uv]\ndefault-groups = "all"\n')
    packages = read_lockfile(uv_project / "uv.lock").packages
    assert not [p for p in packages if p.optional]


def test_graph_markers_join_paths_with_or_and_edges_with_and():
    a, b, c, d, e = ((name, "1", None) for name in "abcde")
    edges = {
        a: [(b, "m1"), (c, None)],
        b: [(d, "m2")],
        c: [(d, "m3"), (e, "m4")],
        d: [(b, None)],  # a cycle back to b
        e: [(b, "m4")],
    }
    markers = graph_markers([a], edges)
    assert markers[a] is None and markers[c] is None
    assert markers[e] == "m4"
    # b: m1 directly, m4 through e, and through d (m3, or m1 and m2: implied by m1).
    assert markers[b] == "(m1) or (m3) or (m4)"
    assert markers[d] == "((m1) and (m2)) or ((m2) and (m4)) or (m3)"


def test_graph_markers_an_unconditional_path_wins_and_unreached_nodes_are_absent():
    a, b, c, z = ((name, "1", None) for name in "abcz")
    edges = {a: [(b, "m1"), (c, None)], c: [(b, None)], z: [(b, "m9")]}
    markers = graph_markers([a], edges)
    assert markers == {a: None, b: None, c: None}


@pytest.mark.parametrize(
    "relative",
    ["uv/uv.lock", "poetry/v2/poetry.lock", "poetry/v1/poetry.lock", "pdm/pdm.lock"],
)
def test_slimming_toml_keeps_every_field_the_readers_use(relative):
    text = (DATA / relative).read_text()
    slimmed = slim(text)
    assert len(slimmed) < len(text) / 3
    full, lean = tomllib.loads(text), tomllib.loads(slimmed)
    assert full.get("manifest") == lean.get("manifest")
    used = ["name", "version", "markers", "marker", "groups", "optional", "develop", "path"]
    used += ["editable", "dependencies", "optional-dependencies", "dev-dependencies"]
    used += ["resolution-markers"]
    for before, after in zip(full["package"], lean["package"], strict=True):
        assert {k: before.get(k) for k in used} == {k: after.get(k) for k in used} | {
            "optional": before.get("optional")  # "optional = false" goes: false is the default
        }
        assert (before.get("optional") is True) == (after.get("optional") is True)
        source = before.get("source", {})
        if "url" not in source and "registry" not in source:
            assert source == after.get("source", {})


# ---------------------------------------------------------------- poetry.lock


def test_poetry_2_lock_with_markers_per_group():
    lock = _read("poetry/v2/poetry.lock")
    assert (lock.ecosystem, lock.tool) == ("python", "poetry")
    raw = tomllib.loads((DATA / "poetry/v2/poetry.lock").read_text())["package"]
    # Every package, and first the project itself, which `poetry install` installs.
    assert len(raw) + 1 == len(lock.packages) == 144
    assert lock.packages[0] == Locked("shopapp", None, spec=".", local=True)
    packages = {p.name: p for p in lock.packages}
    assert packages["shop-utils"] == Locked(
        "shop-utils", None, spec="packages/shop-utils", local=True
    )
    # markers = {main = "sys_platform == \"win32\""}, groups main and dev: always, for dev.
    assert '"win32"' in str(raw[[p["name"] for p in raw].index("colorama")]["markers"])
    assert packages["colorama"].marker is None
    assert packages["pywin32"].marker == 'sys_platform == "win32"'
    assert packages["uvloop"].marker == 'sys_platform != "win32"'
    # The dev group is read too.
    assert packages["pytest"].version == "9.2.0" and packages["django"].version == "5.1.15"
    # The same resolution as uv's, up to the days between them: most pins agree.
    uv = {(p.name, p.version) for p in _read("uv/uv.lock").packages}
    assert len({(p.name, p.version) for p in lock.packages} & uv) > 130


def test_poetry_2_markers_table_with_every_group_conditional(tmp_path):
    path = tmp_path / "poetry.lock"
    path.write_text(
        '[[package]]\nname = "Colorama"\nversion = "0.4.6"\noptional = false\n'
        'groups = ["main", "dev"]\n'
        'markers = {main = "sys_platform == \\"win32\\"", '
        'dev = "platform_system == \\"Windows\\""}\n'
        '\n[[package]]\nname = "redis"\nversion = "5.0.0"\noptional = true\ngroups = ["main"]\n'
        '\n[metadata]\nlock-version = "2.1"\n'
    )
    assert read_lockfile(path).packages == (
        Locked(
            "colorama",
            "0.4.6",
            marker='(sys_platform == "win32") or (platform_system == "Windows")',
        ),
        Locked("redis", "5.0.0", optional=True),
    )


def test_poetry_1_lock():
    lock = _read("poetry/v1/poetry.lock")
    raw = tomllib.loads((DATA / "poetry/v1/poetry.lock").read_text())["package"]
    assert len(raw) + 1 == len(lock.packages) == 142
    assert lock.packages[0] == Locked("shopapp", None, spec=".", local=True)
    assert (
        "# This file is automatically @generated by Poetry 1.8.5"
        in ((DATA / "poetry/v1/poetry.lock").read_text().splitlines()[0])
    )
    packages = {p.name: p for p in lock.packages}
    assert packages["shop-utils"].local and packages["django"].version == "5.1.15"
    # Poetry 1 writes no package markers: they come from the graph and pyproject.toml.
    assert "\nmarkers = " not in (DATA / "poetry/v1/poetry.lock").read_text()
    assert packages["pywin32"].marker == 'sys_platform == "win32"'  # shop-utils' dependency
    assert packages["uvloop"].marker == "sys_platform != 'win32'"  # pyproject.toml's
    # psycopg[binary]: 'implementation_name != "pypy" and extra == "binary"', extra asked for.
    assert packages["psycopg-binary"].marker == 'implementation_name != "pypy"'
    assert packages["django"].marker is None


def test_poetry_1_graph_markers_mean_what_poetry_2_writes():
    """The same pyproject.toml locked by poetry 1.8 and 2.5 the same day: the markers worked
    out from poetry 1's graph select the same packages as poetry 2's own, everywhere tried."""
    one = _pins(_read("poetry/v1/poetry.lock").packages)
    two = _pins(_read("poetry/v2/poetry.lock").packages)
    common = set(one) & set(two)
    assert len(common) == 140
    assert len([key for key in common if two[key]]) == 12
    for values in ENVIRONMENTS:
        assert {k for k in common if _applies(one[k], values)} == {
            k for k in common if _applies(two[k], values)
        }, values


def test_poetry_1_without_pyproject_starts_from_what_nothing_depends_on(tmp_path):
    path = _copy("poetry/v1/poetry.lock", tmp_path)
    packages = {p.name: p for p in read_lockfile(path).packages}
    # uvloop was conditional only in pyproject.toml: now a root, unconditional.
    assert packages["uvloop"].marker is None
    assert packages["pywin32"].marker == 'sys_platform == "win32"'


@pytest.mark.parametrize(
    ("marker", "left"),
    [
        ('extra == "redis"', None),
        ("extra == 'a' or extra == 'b'", None),
        ('implementation_name != "pypy" and extra == "binary"', 'implementation_name != "pypy"'),
        ('extra == "crypto" and sys_platform == "win32"', 'sys_platform == "win32"'),
        ('python_version < "3.11" and (extra == "a" or extra == "b")', 'python_version < "3.11"'),
        ('sys_platform == "linux"', 'sys_platform == "linux"'),
        ('extra == "a" and python_version < "3" or extra == "b"', None),
    ],
)
def test_poetry_1_dependency_markers_lose_their_extra(marker, left, tmp_path):
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\nname = "app"\nversion = "1.0"\n\n'
        f'[package.dependencies]\ndep = {{version = "*", markers = {json.dumps(marker)}}}\n\n'
        '[[package]]\nname = "dep"\nversion = "2.0"\n\n'
        '[metadata]\nlock-version = "2.0"\n'
    )
    packages = {p.name: p for p in read_lockfile(lock).packages}
    assert packages["dep"].marker == (str(Marker(left)) if left else None)


# ---------------------------------------------------------------- Pipfile.lock


def test_pipfile_lock_default_and_develop():
    lock = _read("pipenv/Pipfile.lock")
    assert (lock.ecosystem, lock.tool) == ("python", "pipenv")
    raw = json.loads((DATA / "pipenv/Pipfile.lock").read_text())
    both = set(raw["default"]) & set(raw["develop"])
    assert len(raw["default"]) + len(raw["develop"]) - len(both) == len(lock.packages) == 82
    packages = {p.name: p for p in lock.packages}
    assert packages["django"] == Locked("django", "5.1.15", marker="python_version >= '3.10'")
    assert packages["pytest"].version == "9.2.0"
    assert packages["shop-utils"] == Locked(
        "shop-utils", None, spec="-e ./packages/shop-utils", local=True
    )
    # pipenv leaves a package of another platform unresolved: "*".
    assert packages["colorama"] == Locked(
        "colorama", None, spec="colorama", marker="sys_platform == 'win32'"
    )
    assert packages["uvloop"] == Locked("uvloop", "0.23.0", marker="sys_platform != 'win32'")


def test_pipfile_lock_git_and_file_entries(tmp_path):
    path = tmp_path / "Pipfile.lock"
    path.write_text(
        json.dumps(
            {
                "_meta": {},
                "default": {
                    "requests": {"git": "https://github.com/psf/requests.git", "ref": "abc123"},
                    "local-wheel": {"file": "./dist/local_wheel-1.0-py3-none-any.whl"},
                    "remote": {"file": "https://example.invalid/remote-1.0.tar.gz"},
                    "ranged": {"version": ">=1.0"},
                },
                "develop": {},
            }
        )
    )
    assert read_lockfile(path).packages == (
        Locked("requests", None, spec="requests @ git+https://github.com/psf/requests.git@abc123"),
        Locked("local-wheel", None, spec="./dist/local_wheel-1.0-py3-none-any.whl", local=True),
        Locked("remote", None, spec="remote @ https://example.invalid/remote-1.0.tar.gz"),
        Locked("ranged", None, spec="ranged>=1.0"),
    )


# ---------------------------------------------------------------- pdm.lock


def test_the_project_itself_is_local_when_its_tool_installs_it(tmp_path):
    for name in ("poetry.lock", "pyproject.toml"):
        shutil.copyfile(DATA / "poetry/v2" / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.poetry]\n", "[tool.poetry]\npackage-mode = false\n")
    )
    assert "shopapp" not in {p.name for p in read_lockfile(tmp_path / "poetry.lock").packages}
    pyproject.unlink()
    assert "shopapp" not in {p.name for p in read_lockfile(tmp_path / "poetry.lock").packages}
    # pdm installs the project when it is a distribution: here it says it is not.
    for name in ("pdm.lock", "pyproject.toml"):
        shutil.copyfile(DATA / "pdm" / name, tmp_path / name)
    assert "distribution = false" in pyproject.read_text()
    assert "shopapp" not in {p.name for p in read_lockfile(tmp_path / "pdm.lock").packages}
    pyproject.write_text(
        pyproject.read_text().replace("distribution = false", "distribution = true")
    )
    packages = read_lockfile(tmp_path / "pdm.lock").packages
    assert packages[0] == Locked("shopapp", None, spec=".", local=True)


def test_pdm_lock():
    lock = _read("pdm/pdm.lock")
    assert (lock.ecosystem, lock.tool) == ("python", "pdm")
    raw = tomllib.loads((DATA / "pdm/pdm.lock").read_text())["package"]
    assert len(raw) == 147  # pdm repeats a package once per set of extras asked for it
    assert len({(p["name"], p["version"]) for p in raw}) == len(lock.packages) == 141
    packages = {p.name: p for p in lock.packages}
    assert packages["shop-utils"] == Locked(
        "shop-utils", None, spec="./packages/shop-utils", local=True
    )
    assert packages["uvloop"] == Locked("uvloop", "0.23.0", marker='sys_platform != "win32"')
    assert packages["celery"] == Locked("celery", "5.7.0")
    assert packages["pytest"].version == "9.2.0"


# ---------------------------------------------------------------- package-lock.json


def _npm_top_level(relative: str) -> dict[str, dict]:
    packages = json.loads((DATA / relative).read_text())["packages"]
    return {
        key.split("/", 1)[1]: entry
        for key, entry in packages.items()
        if key.split("/")[0] == "node_modules" and key.count("node_modules") == 1
    }


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_package_lock_v2_and_v3_top_level_only(version):
    relative = f"npm/{version}/package-lock.json"
    lock = _read(relative)
    assert (lock.ecosystem, lock.tool) == ("node", "npm")
    top = _npm_top_level(relative)
    assert len(top) == len(lock.packages) == 731
    packages = {p.name: p for p in lock.packages}
    assert set(packages) == set(top)
    assert json.loads((DATA / relative).read_text())["lockfileVersion"] == int(version[1])
    assert packages["react"] == Locked("react", "18.3.1")
    assert packages["@babel/core"] == Locked("@babel/core", "7.29.13")
    assert packages["fsevents"] == Locked("fsevents", "2.3.3", optional=True)
    assert packages["@webshop/ui"] == Locked("@webshop/ui", None, spec="packages/ui", local=True)
    assert "webshop" not in packages and "packages/ui" not in packages
    # A nested copy (another version under its parent) is not the top level's.
    nested = json.loads((DATA / relative).read_text())["packages"]
    assert any(key.count("node_modules/") == 2 for key in nested)


def test_package_lock_v2_and_v3_agree():
    assert _read("npm/v2/package-lock.json").packages == _read("npm/v3/package-lock.json").packages


def test_package_lock_v1():
    lock = _read("npm/v1/package-lock.json")
    raw = json.loads((DATA / "npm/v1/package-lock.json").read_text())
    assert raw["lockfileVersion"] == 1 and "packages" not in raw
    assert len(raw["dependencies"]) == len(lock.packages) == 277
    packages = {p.name: p for p in lock.packages}
    assert packages["fsevents"] == Locked("fsevents", "2.3.3", optional=True)
    assert packages["webpack"].version == "5.113.0"


def test_package_lock_v1_git_and_file_dependencies(tmp_path):
    path = tmp_path / "package-lock.json"
    path.write_text(
        json.dumps(
            {
                "lockfileVersion": 1,
                "dependencies": {
                    "left-pad": {"version": "github:stevemao/left-pad#5d8ab1b"},
                    "ui": {"version": "file:packages/ui"},
                    "lodash": {"version": "4.17.21", "dev": True},
                },
            }
        )
    )
    assert read_lockfile(path).packages == (
        Locked("left-pad", None, spec="github:stevemao/left-pad#5d8ab1b"),
        Locked("ui", None, spec="file:packages/ui", local=True),
        Locked("lodash", "4.17.21"),
    )


# ---------------------------------------------------------------- yarn.lock


def _yarn_headers(relative: str) -> list[str]:
    return [
        line
        for line in (DATA / relative).read_text().splitlines()
        if line and not line.startswith(("#", " ", "__metadata"))
    ]


def test_yarn_v1_lock_one_entry_per_block():
    lock = _read("yarn/v1/yarn.lock")
    assert (lock.ecosystem, lock.tool) == ("node", "yarn")
    headers = _yarn_headers("yarn/v1/yarn.lock")
    assert len(headers) == len(lock.packages) == 783
    versions = re.findall(r'^  version "([^"]+)"$', (DATA / "yarn/v1/yarn.lock").read_text(), re.M)
    assert sorted(versions) == sorted(p.version for p in lock.packages)
    # A name can appear with several versions.
    by_name: dict[str, list[str]] = {}
    for package in lock.packages:
        by_name.setdefault(package.name, []).append(package.version)
    assert len(by_name) == 728
    assert sorted(by_name["find-up"]) == ["4.1.0", "5.0.0", "6.3.0"]
    # Only ever wanted under optionalDependencies (jest-haste-map, chokidar): optional.
    fsevents = [p for p in lock.packages if p.name == "fsevents"]
    assert fsevents == [Locked("fsevents", "2.3.3", optional=True)]
    assert [p.name for p in lock.packages if p.optional] == ["fsevents"]
    # Scoped names keep their scope.
    assert Locked("@babel/core", "7.29.13") in lock.packages


def test_yarn_berry_lock():
    lock = _read("yarn/berry/yarn.lock")
    assert "__metadata:\n  version: 10" in (DATA / "yarn/berry/yarn.lock").read_text()
    headers = _yarn_headers("yarn/berry/yarn.lock")
    patches = [h for h in headers if "@patch:" in h]
    assert len(headers) == 806 and len(patches) == 3
    # Patched blocks (fsevents, resolve, typescript) repeat their package: counted once.
    assert len(lock.packages) == len(headers) - len(patches) == 803
    assert [p for p in lock.packages if p.local] == [
        Locked("@webshop/ui", None, spec="@webshop/ui@workspace:packages/ui", local=True),
        Locked("webshop", None, spec="webshop@workspace:.", local=True),
    ]
    assert [p for p in lock.packages if p.name == "fsevents"] == [
        Locked("fsevents", "2.3.3", optional=True)  # conditions: os=darwin
    ]
    # Berry gives fsevents a node-gyp dependency (it has an install script): node-gyp and
    # what only it needs are installed on macOS only, so they are optional too.
    optional = {p.name: p.version for p in lock.packages if p.optional}
    assert len(optional) == 19 and optional["node-gyp"] == "13.1.0"
    assert "tar" in optional and "tinyglobby" in optional
    # What berry requires is exactly what yarn 1 requires for the same package.json.
    v1 = _read("yarn/v1/yarn.lock").packages
    required = {p for p in lock.packages if not p.optional and not p.local}
    assert required == {p for p in v1 if not p.optional}
    assert len(required) == 782


def test_yarn_v1_what_only_an_optional_package_needs_is_optional(tmp_path):
    """Hand-written, in yarn 1's format: chokidar 2 with fsevents 1 under its
    optionalDependencies, and fsevents 1's own dependencies (nan, and bindings that
    chokidar's other path needs too)."""
    lock = (
        "# yarn lockfile v1\n\n\n"
        'chokidar@^2.1.8:\n  version "2.1.8"\n  dependencies:\n    upath "^1.1.1"\n'
        '    bindings "^1.5.0"\n  optionalDependencies:\n    fsevents "^1.2.7"\n\n'
        'fsevents@^1.2.7:\n  version "1.2.13"\n  dependencies:\n'
        '    bindings "^1.5.0"\n    nan "^2.12.1"\n\n'
        'bindings@^1.5.0:\n  version "1.5.0"\n\n'
        'nan@^2.12.1:\n  version "2.17.0"\n\n'
        'upath@^1.1.1:\n  version "1.2.0"\n\n'
        'a@^1:\n  version "1.0.0"\n  dependencies:\n    b "^1"\n\n'
        'b@^1:\n  version "1.0.0"\n  dependencies:\n    a "^1"\n'
    )
    (tmp_path / "yarn.lock").write_text(lock)
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"a": "^1"}}))
    packages = {p.name: p for p in read_lockfile(tmp_path / "yarn.lock").packages}
    assert {name for name, p in packages.items() if p.optional} == {"fsevents", "nan"}
    # a and b refer to each other: package.json says a is the project's.
    assert not packages["a"].optional and not packages["b"].optional
    # Without package.json, the walk starts from what no block refers to.
    (tmp_path / "package.json").unlink()
    packages = {p.name: p for p in read_lockfile(tmp_path / "yarn.lock").packages}
    assert {name for name, p in packages.items() if p.optional} == {"fsevents", "nan", "a", "b"}


def test_yarn_aliases_and_local_ranges(tmp_path):
    """Hand-written, in yarn 1's documented format: an npm: alias merged into a block, and
    file:/link: dependencies."""
    path = tmp_path / "yarn.lock"
    path.write_text(
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"
        "# yarn lockfile v1\n\n\n"
        '"string-width-cjs@npm:string-width@^4.2.0", string-width@^4.1.0:\n'
        '  version "4.2.3"\n'
        '  resolved "https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz"\n'
        "  dependencies:\n"
        '    strip-ansi "^6.0.1"\n\n'
        '"ui@file:./packages/ui":\n'
        '  version "0.2.0"\n\n'
        '"@scope/tool@link:../tool":\n'
        '  version "0.0.0"\n'
    )
    assert read_lockfile(path).packages == (
        Locked("string-width-cjs", "4.2.3"),
        Locked("string-width", "4.2.3"),
        Locked("ui", None, spec="ui@file:./packages/ui", local=True),
        Locked("@scope/tool", None, spec="@scope/tool@link:../tool", local=True),
    )


# ---------------------------------------------------------------- pnpm-lock.yaml


def _declared(relative: str) -> dict[str, str]:
    manifest = json.loads((DATA / relative).read_text())
    sections = ("dependencies", "devDependencies", "optionalDependencies")
    return {name: s for s in sections for name in manifest.get(s, {})}


def test_pnpm_v9_root_importer():
    lock = _read("pnpm/v9/pnpm-lock.yaml")
    assert (lock.ecosystem, lock.tool) == ("node", "pnpm")
    assert (DATA / "pnpm/v9/pnpm-lock.yaml").read_text().startswith("lockfileVersion: '9.0'")
    packages = {p.name: p for p in lock.packages}
    assert set(packages) == set(_declared("pnpm/v9/package.json"))
    assert len(lock.packages) == 21
    # Peer suffixes removed: 6.30.6(react-dom@18.3.1(react@18.3.1))(react@18.3.1).
    assert packages["react-router-dom"] == Locked("react-router-dom", "6.30.6")
    assert packages["@webshop/ui"] == Locked(
        "@webshop/ui", None, spec="link:packages/ui", local=True
    )
    assert packages["fsevents"] == Locked("fsevents", "2.3.3", optional=True)
    # The workspace's own dependency (clsx, importer packages/ui) is not the root's.
    assert "clsx" not in packages
    # Resolved the same day as package-lock.json: the same versions.
    npm = set(_read("npm/v3/package-lock.json").packages)
    assert {p for p in lock.packages if not p.local} <= npm


def test_pnpm_v6_single_project_top_level_sections():
    lock = _read("pnpm/v6/pnpm-lock.yaml")
    text = (DATA / "pnpm/v6/pnpm-lock.yaml").read_text()
    assert text.startswith("lockfileVersion: '6.0'") and "\nimporters:" not in text
    packages = {p.name: p for p in lock.packages}
    assert set(packages) == set(_declared("pnpm/v6/package.json"))
    assert len(lock.packages) == 15
    assert packages["@babel/preset-env"] == Locked("@babel/preset-env", "7.29.14")
    assert packages["fsevents"].optional
    npm_v1 = set(_read("npm/v1/package-lock.json").packages)
    assert {p for p in lock.packages if not p.optional} <= npm_v1


def test_pnpm_v5_inline_versions_and_aliases(tmp_path):
    """Hand-written, in pnpm 7's lockfile 5.4 format (inline versions, "_" peer suffixes,
    /name/version aliases) and pnpm 8's v6 alias form."""
    path = tmp_path / "pnpm-lock.yaml"
    path.write_text(
        "lockfileVersion: 5.4\n\n"
        "specifiers:\n  react: ^18.2.0\n  react-dom: ^18.2.0\n  lodash-es: npm:lodash@^4\n\n"
        "dependencies:\n"
        "  react: 18.2.0\n"
        "  react-dom: 18.2.0_react@18.2.0\n"
        "  lodash-es: /lodash/4.17.21\n"
        "  local-lib: link:../lib\n\n"
        "devDependencies:\n"
        "  '@types/react': 18.2.0\n\n"
        "packages:\n\n"
        "  /react/18.2.0:\n    resolution: {integrity: sha512-x}\n    dev: false\n"
    )
    assert read_lockfile(path).packages == (
        Locked("react", "18.2.0"),
        Locked("react-dom", "18.2.0"),
        Locked("lodash-es", "4.17.21"),
        Locked("local-lib", None, spec="link:../lib", local=True),
        Locked("@types/react", "18.2.0"),
    )
    path.write_text(
        "lockfileVersion: '6.0'\n\n"
        "importers:\n\n"
        "  packages/a:\n    dependencies:\n      other:\n        specifier: ^1\n"
        "        version: 1.0.0\n\n"
        "  .:\n    dependencies:\n      lodash-es:\n        specifier: npm:lodash@^4\n"
        "        version: /lodash@4.17.21\n"
        "      left-pad:\n        specifier: github:stevemao/left-pad\n"
        "        version: github.com/stevemao/left-pad/5d8ab1b\n"
        '    devDependencies:\n      "@scope/x":\n        specifier: ^2\n'
        "        version: 2.0.0(react@18.2.0)\n\n"
        "packages:\n\n  /lodash@4.17.21:\n    resolution: {integrity: sha512-x}\n"
    )
    assert read_lockfile(path).packages == (
        Locked("lodash-es", "4.17.21"),
        Locked("left-pad", None, spec="github.com/stevemao/left-pad/5d8ab1b"),
        Locked("@scope/x", "2.0.0"),
    )


def test_pnpm_without_lockfile_version_is_an_error(tmp_path):
    path = tmp_path / "pnpm-lock.yaml"
    path.write_text("dependencies:\n  react: 18.2.0\n")
    with pytest.raises(LockfileError, match=r"pnpm-lock\.yaml: has no lockfileVersion"):
        read_lockfile(path)


# ---------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    ("relative", "cut", "line"),
    [
        ("uv/uv.lock", 'name = "django"', None),
        ("poetry/v2/poetry.lock", "[[package]]", None),
        ("pdm/pdm.lock", "groups =", None),
    ],
)
def test_broken_toml_is_an_error_with_its_line(tmp_path, relative, cut, line):
    text = (DATA / relative).read_text()
    at = text.index(cut, len(text) // 2)
    broken = text[:at] + "name = = 1\n" + text[at:]
    path = tmp_path / Path(relative).name
    path.write_text(broken)
    expected = broken[:at].count("\n") + 1
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{expected}: is not valid TOML (")
    assert "regenerate it with `" in message


@pytest.mark.parametrize(
    "relative", ["npm/v3/package-lock.json", "pipenv/Pipfile.lock", "npm/v1/package-lock.json"]
)
def test_truncated_json_is_an_error_with_its_line(tmp_path, relative):
    text = (DATA / relative).read_text()
    path = tmp_path / Path(relative).name
    path.write_text(text[: len(text) // 2])
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: is not valid JSON \(", str(caught.value))


def test_a_lockfile_of_the_wrong_shape_is_an_error(tmp_path):
    (tmp_path / "uv.lock").write_text('version = 1\npackage = "nothing"\n')
    with pytest.raises(LockfileError, match=r"uv\.lock: `package` is not a list.*`uv lock`"):
        read_lockfile(tmp_path / "uv.lock")
    (tmp_path / "Pipfile.lock").write_text("[1, 2]")
    with pytest.raises(LockfileError, match='neither a "default" nor a "develop"'):
        read_lockfile(tmp_path / "Pipfile.lock")
    (tmp_path / "package-lock.json").write_text('{"name": "x"}')
    with pytest.raises(LockfileError, match='neither "packages" nor "dependencies"'):
        read_lockfile(tmp_path / "package-lock.json")
    (tmp_path / "yarn.lock").write_text('lodash@^4:\n  resolved "x"\n')
    with pytest.raises(LockfileError, match=r"yarn\.lock:1: the block for lodash@\^4 has no"):
        read_lockfile(tmp_path / "yarn.lock")
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\n"":\n  version "1"\n')
    with pytest.raises(LockfileError, match=r"yarn\.lock:3: a block without a package name"):
        read_lockfile(tmp_path / "yarn.lock")
    (tmp_path / "yarn.lock").write_text("# yarn lockfile v1\n\nlodash@^4\n")
    with pytest.raises(LockfileError, match=r"yarn\.lock:3: expected `spec, spec...:`"):
        read_lockfile(tmp_path / "yarn.lock")


ALL_FILES = sorted(
    str(path.relative_to(DATA))
    for path in DATA.rglob("*")
    if path.is_file() and tool_for(path) is not None and "includes" not in path.parts
)


def test_every_lockfile_in_the_data_is_read():
    assert len(ALL_FILES) == 14
    for relative in ALL_FILES:
        assert _read(relative).packages


@pytest.mark.parametrize(
    ("relative", "companion"),
    [
        ("uv/uv.lock", "pyproject.toml"),
        ("poetry/v1/poetry.lock", "pyproject.toml"),
        ("pdm/pdm.lock", "pyproject.toml"),
        ("yarn/v1/yarn.lock", "package.json"),
        ("pipenv/Pipfile.lock", None),
        ("npm/v3/package-lock.json", None),
        ("pnpm/v9/pnpm-lock.yaml", None),
    ],
)
def test_the_file_a_reader_consults_beside_the_lock_is_an_include(relative, companion):
    """drift fingerprints a lockfile with its includes: a change to default-groups or to
    package.json changes what the lock means."""
    lock = _read(relative)
    expected = () if companion is None else ((DATA / relative).parent.absolute() / companion,)
    assert lock.includes == expected


@pytest.mark.parametrize("relative", ALL_FILES)
def test_damaged_lockfiles_raise_lockfile_error_and_nothing_else(tmp_path, relative):
    """Cut at many places and with lines swapped: a Lockfile or a LockfileError, never a
    traceback of KeyError, TypeError, IndexError..."""
    text = (DATA / relative).read_text()
    lines = text.splitlines(keepends=True)
    rng = random.Random(relative)
    variants = [text[: rng.randrange(len(text))] for _ in range(8)]
    for _ in range(8):
        mixed = lines[:]
        i, j = rng.randrange(len(mixed)), rng.randrange(len(mixed))
        mixed[i], mixed[j] = mixed[j], mixed[i]
        variants.append("".join(mixed))
    variants += ["", "\n", "{}", "[]", "null", "0", '"text"', "a:\n  b: c\n", "[[package]]\n"]
    path = tmp_path / Path(relative).name
    for variant in variants:
        path.write_text(variant)
        with contextlib.suppress(LockfileError):
            read_lockfile(path)


# ---------------------------------------------------------------- the fast TOML subset


TOML_FILES = sorted(
    str(path.relative_to(DATA))
    for path in DATA.rglob("*")
    if path.name in ("uv.lock", "poetry.lock", "pdm.lock", "pyproject.toml")
)


@pytest.mark.parametrize("relative", TOML_FILES)
def test_the_toml_subset_reads_real_files_as_tomllib_does(relative):
    text = (DATA / relative).read_text()
    for version in (text, slim(text)):
        data = parse_simple(version)
        assert data is not None
        assert data == tomllib.loads(version)


@pytest.mark.parametrize("relative", ["uv/uv.lock", "poetry/v2/poetry.lock", "pdm/pdm.lock"])
def test_the_toml_subset_never_answers_differently_from_tomllib(relative):
    """Damaged copies (lines swapped, dropped, cut): either the subset reader declines
    (None), or tomllib reads the same thing."""
    lines = slim((DATA / relative).read_text()).splitlines(keepends=True)
    rng = random.Random(relative)
    declined = agreed = 0
    for _ in range(150):
        damaged = lines[:]
        i, j = rng.randrange(len(damaged)), rng.randrange(len(damaged))
        if rng.random() < 0.5:
            damaged[i], damaged[j] = damaged[j], damaged[i]
        else:
            del damaged[i]
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(len(damaged))]
        text = "".join(damaged)
        if rng.random() < 0.2:
            text = text[: rng.randrange(len(text) + 1)]
        data = parse_simple(text)
        if data is None:
            declined += 1
            continue
        assert data == tomllib.loads(text)
        agreed += 1
    assert declined > 10 and agreed > 10  # both outcomes were exercised


@pytest.mark.parametrize(
    "text",
    [
        'a = "x\\"y\\\\z\\u00e9\\U0001F600\\t"\nb = \'lit\\eral\'\n',
        "n = 3\nm = -1_000\nt = true\nf = false\n# comment\n",
        'a = { x = 1, y = [1, 2, ], z = { w = "q" } } # comment\n',
        "a = [\n  1,\n  2\n]\nb = [\n]\nc = [ [1, 2], [3] ]\n",
        "[a.b]\nx = 1\n[a]\ny = 2\n[[c]]\nz = 1\n[c.d]\nq = 1\n[[c]]\n[x.y.z]\n",
        '"quoted key" = 1\n[t] # a table\n',
    ],
)
def test_the_toml_subset_agrees_with_tomllib_on_what_it_reads(text):
    assert parse_simple(text) == tomllib.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "a.b = 1\n",  # dotted key: outside the subset
        'a = """x"""\n',  # multi-line string
        "a = 1979-05-27\n",
        "a = 1.5\n",
        "a = 0x10\n",
        "a = 1\na = 2\n",  # duplicates: invalid
        "[t]\n[t]\n",
        "a = { x = 1 }\n[a.b]\n",
        "a = [1]\n[[a]]\n",
        "a = { x = 1, }\n",
        'a = "bad \\q escape"\n',
        "a = [\n 1\n 2\n]\n",
        "a = [\n 1,\n",
        "[[t]\n",
        "a = 1 2\n",
        "a = 'x\x01'\n",
    ],
)
def test_the_toml_subset_declines_the_rest(text):
    assert parse_simple(text) is None
