"""Reading what is installed from the files: real venvs made by uv, real node_modules trees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.environment.installed import (
    marker_environment,
    node_installed,
    python_installed,
    site_packages,
    venv_python_version,
)
from tests.venvs import make_venv


def _cfg(venv: Path, text: str) -> None:
    venv.mkdir(parents=True, exist_ok=True)
    (venv / "pyvenv.cfg").write_text(text)


# ---------------------------------------------------------------- Python


def test_python_installed_reads_a_real_venv_like_importlib_metadata(tmp_path):
    venv = make_venv(tmp_path / "venv", {"alpha": "1.0", "beta-pkg": "2.0.0", "Gamma_X": "3.0rc1"})

    found = python_installed(venv)

    assert found == {"alpha": "1.0", "beta-pkg": "2.0.0", "gamma-x": "3.0rc1"}
    # The venv's own interpreter, asked the slow way, agrees.
    listed = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    from packaging.utils import canonicalize_name

    slow = {canonicalize_name(k): v for k, v in json.loads(listed.stdout).items()}
    assert found == slow


def test_a_dist_info_name_that_cannot_be_split_is_read_from_its_metadata(tmp_path):
    venv = make_venv(tmp_path / "venv", {"alpha": "1.0"})
    site = site_packages(venv)
    # An old installer's folder with a dash in the project part, and egg-info in both forms.
    odd = site / "odd-name-4.2.dist-info"
    odd.mkdir()
    (odd / "METADATA").write_text("Metadata-Version: 2.1\nName: Odd-Name\nVersion: 4.2\n\nbody\n")
    egg = site / "legacy_pkg-0.5-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: legacy_pkg\nVersion: 0.5\n")
    (site / "distutils_thing-1.1-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: distutils-thing\nVersion: 1.1\n"
    )
    broken = site / "no-metadata-here-1.0.dist-info"
    broken.mkdir()

    assert python_installed(venv) == {
        "alpha": "1.0",
        "odd-name": "4.2",
        "legacy-pkg": "0.5",
        "distutils-thing": "1.1",
    }


def test_a_missing_venv_reads_as_empty(tmp_path):
    assert python_installed(tmp_path / "nope") == {}
    assert site_packages(tmp_path / "nope") is None
    assert venv_python_version(tmp_path / "nope") is None
    # A folder that is not (yet) a venv is no different.
    (tmp_path / "half").mkdir()
    assert python_installed(tmp_path / "half") == {}
    assert site_packages(tmp_path / "half") is None


def test_an_empty_venv_has_site_packages_and_nothing_in_it(tmp_path):
    venv = make_venv(tmp_path / "venv", {})
    assert site_packages(venv) is not None
    assert python_installed(venv) == {}


def test_venv_python_version_of_uv_and_venv_module_venvs(tmp_path):
    uv_venv = make_venv(tmp_path / "uv", {})
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "std"], check=True)
    expected = ".".join(map(str, sys.version_info[:3]))

    assert "version_info" in (uv_venv / "pyvenv.cfg").read_text()
    assert venv_python_version(uv_venv) == expected
    assert "version =" in (tmp_path / "std" / "pyvenv.cfg").read_text()
    assert venv_python_version(tmp_path / "std") == expected


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("version_info = 3.12.1.final.0", "3.12.1"),  # virtualenv
        ("version_info = 3.13.0.candidate.1", "3.13.0rc1"),
        ("version_info = 3.14.0.alpha.7", "3.14.0a7"),
        ("version = 3.9.18", "3.9.18"),
        ("version = not a version", None),
        ("home = /usr/bin", None),
    ],
)
def test_venv_python_version_shapes(tmp_path, line, version):
    _cfg(tmp_path / "v", f"home = /x\n{line}\n")
    assert venv_python_version(tmp_path / "v") == version


def test_site_packages_follows_pyvenv_cfg_when_an_upgrade_left_two(tmp_path):
    venv = tmp_path / "v"
    for minor in ("3.9", "3.12"):
        (venv / "lib" / f"python{minor}" / "site-packages").mkdir(parents=True)
    _cfg(venv, "version_info = 3.9.18\n")
    assert site_packages(venv) == venv / "lib" / "python3.9" / "site-packages"
    _cfg(venv, "version_info = 3.12.1\n")
    assert site_packages(venv) == venv / "lib" / "python3.12" / "site-packages"


def test_marker_environment_takes_the_venvs_python_not_devenvs(tmp_path):
    from packaging.markers import default_environment

    _cfg(tmp_path / "v", "home = /x\nimplementation = CPython\nversion_info = 3.9.18\n")
    env = marker_environment(tmp_path / "v")

    assert env["python_version"] == "3.9"
    assert env["python_full_version"] == "3.9.18"
    assert env["implementation_version"] == "3.9.18"
    mine = default_environment()
    for key in ("sys_platform", "platform_machine", "os_name", "implementation_name"):
        assert env[key] == mine[key]


def test_marker_environment_of_a_pypy_venv(tmp_path):
    _cfg(tmp_path / "v", "implementation = PyPy\nversion_info = 3.10.14.final.0\n")
    env = marker_environment(tmp_path / "v")
    assert env["python_version"] == "3.10"
    assert env["implementation_name"] == "pypy"
    assert env["platform_python_implementation"] == "PyPy"


def test_marker_environment_without_a_venv_is_devenvs_own(tmp_path):
    from packaging.markers import default_environment

    assert marker_environment(tmp_path / "nope") == default_environment()


def _other_python() -> str | None:
    """A python3.X of another minor version than this one that really runs: on PATH, or
    installed by pyenv (whose shims exist for versions that are not selected)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(9, 15):
        if minor == sys.version_info[1]:
            continue
        candidates = [shutil.which(f"python3.{minor}"), *pyenv.glob(f"3.{minor}.*/bin/python3")]
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
                return str(found)
    return None


def test_marker_environment_of_a_real_venv_of_another_python(tmp_path):
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = _other_python()
    if other is None:
        pytest.skip("no other python3.X on PATH to make a venv with")
    venv = make_venv(tmp_path / "venv", {}, python=other)
    asked = subprocess.run(
        [venv / "bin" / "python", "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    env = marker_environment(venv)

    assert env["python_full_version"] == asked
    assert env["python_version"] == ".".join(asked.split(".")[:2]) != mine


# ---------------------------------------------------------------- node


def _package(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "version": version}))
    return folder


def test_node_installed_reads_plain_scoped_and_skips_nested_and_dot_entries(tmp_path):
    nm = tmp_path / "node_modules"
    _package(nm / "lodash", "lodash", "4.17.21")
    _package(nm / "@types" / "node", "@types/node", "20.11.5")
    _package(nm / "@types" / "react", "@types/react", "18.2.0")
    # A nested copy at another version is the dependent's business, not the project's.
    _package(nm / "lodash" / "node_modules" / "debug", "debug", "2.6.9")
    _package(nm / "debug", "debug", "4.3.4")
    _package(nm / ".bin" / "fake", "fake", "1.0.0")
    (nm / ".package-lock.json").write_text("{}")
    (nm / "no-package-json").mkdir()
    (nm / "half-written").mkdir()
    (nm / "half-written" / "package.json").write_text('{"name": "half-wr')
    _package(nm / "no-version", "no-version", "1.0.0")
    (nm / "no-version" / "package.json").write_text('{"name": "no-version"}')

    assert node_installed(tmp_path) == {
        "lodash": "4.17.21",
        "@types/node": "20.11.5",
        "@types/react": "18.2.0",
        "debug": "4.3.4",
    }


def test_node_installed_follows_pnpm_links(tmp_path):
    nm = tmp_path / "node_modules"
    store = nm / ".pnpm"
    real = _package(store / "ms@2.1.3" / "node_modules" / "ms", "ms", "2.1.3")
    scoped = _package(
        store / "@babel+core@7.24.0" / "node_modules" / "@babel" / "core", "@babel/core", "7.24.0"
    )
    (nm / "@babel").mkdir(parents=True)
    os.symlink(os.path.relpath(real, nm), nm / "ms")
    os.symlink(os.path.relpath(scoped, nm / "@babel"), nm / "@babel" / "core")
    os.symlink("does-not-exist", nm / "dangling")

    assert node_installed(tmp_path) == {"ms": "2.1.3", "@babel/core": "7.24.0"}


def test_node_installed_without_node_modules_is_empty(tmp_path):
    assert node_installed(tmp_path) == {}
