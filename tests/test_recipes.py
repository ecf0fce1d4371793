"""Service recipes and finding their binaries: real recipe files, this machine's real
PostgreSQL and Redis, and stub server scripts in temporary folders for the search logic."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from devenv.config import load_config
from devenv.config.versions import Version, VersionConstraint
from devenv.errors import ConfigError
from devenv.resources import services_dir
from devenv.services.installations import (
    Installation,
    MissingBinary,
    cache_file,
    find_installation,
    install_hint,
)
from devenv.services.recipes import Recipe, load_recipe, recipe_for

SUDO = "" if os.geteuid() == 0 else "sudo "


pytestmark = pytest.mark.usefixtures("private_cache")  # see tests/conftest.py


def bundled(name: str) -> Recipe:
    return load_recipe(services_dir() / f"{name}.toml")


def write_recipe(folder: Path, text: str, name: str = "memcached.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def stub_server(folder: Path, name: str, output: str, counter: Path | None = None) -> Path:
    """An executable that prints ``output`` for --version (and counts its runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    count = f'echo run >> "{counter}"\n' if counter else ""
    script.write_text(f"#!/bin/sh\n{count}echo '{output}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


MEMCACHED = """\
    # A project's own service: no driver, run from [run].
    name = "memcached"
    title = "Memcached"
    default_port = 11211

    [binaries]
    server = "memcached"

    [search]
    linux = ["{search}"]

    [version]
    command = ["{{server}}", "--version"]
    pattern = 'memcached (\\d+(?:\\.\\d+)*)'

    [install]
    apt = "apt-get install memcached"
    dnf = "dnf install memcached"
    brew = "brew install memcached"

    [readiness]
    kind = "tcp"
    timeout = 5

    [run]
    command = ["{{server}}", "-l", "127.0.0.1", "-p", "{{port}}", "-U", "0"]
    stop_signal = "SIGINT"

    [env]
    MEMCACHED_URL = "127.0.0.1:{{port}}"
"""


def memcached_recipe(folder: Path, search: Path) -> Path:
    return write_recipe(folder, MEMCACHED.format(search=search))


# ---------------------------------------------------------------- bundled recipes


def test_bundled_recipes_load():
    postgres = bundled("postgres")
    assert postgres.name == "postgres"
    assert postgres.title == "PostgreSQL"
    assert postgres.driver == "postgres"
    assert postgres.default_port == 5432
    assert postgres.binaries["server"] == "postgres"
    assert postgres.binaries["init"] == "initdb"
    assert "/usr/lib/postgresql/*/bin" in postgres.search["linux"]
    assert postgres.version_command == ("{server}", "--version")
    assert postgres.readiness["kind"] == "sql"
    assert postgres.template_path().is_file()
    assert postgres.template_path("hba").is_file()
    assert postgres.source == services_dir() / "postgres.toml"

    redis = bundled("redis")
    assert redis.driver == "redis"
    assert redis.server == "redis-server"
    assert redis.default_port == 6379
    assert redis.readiness["kind"] == "ping"
    assert redis.install["apt"] == "apt-get install redis-server"
    assert redis.template_path().is_file()


def test_every_bundled_recipe_loads():
    for path in services_dir().glob("*.toml"):
        assert load_recipe(path).name == path.stem


def test_recipe_for_a_configured_service(tmp_path):
    bin_dir = tmp_path / "bin"
    stub_server(bin_dir, "memcached", "memcached 1.6.21")
    (tmp_path / "devenv").mkdir()
    memcached_recipe(tmp_path / "devenv", bin_dir)
    (tmp_path / "devenv.toml").write_text(
        '[services.postgres]\n[services.memcached]\nrecipe = "devenv/memcached.toml"\n'
    )
    config = load_config(tmp_path / "devenv.toml")
    assert recipe_for(config.services["postgres"]) == bundled("postgres")
    memcached = recipe_for(config.services["memcached"])
    assert memcached.source == tmp_path / "devenv" / "memcached.toml"
    assert memcached.driver is None  # the generic runner's


# ---------------------------------------------------------------- this machine's servers


def test_finds_this_machines_postgresql_15():
    found = find_installation(bundled("postgres"), VersionConstraint.parse("15"))
    assert isinstance(found, Installation)
    assert found.version.major == 15
    # The versioned folder, where initdb and psql live, even if PATH has a symlink.
    assert (found.bindir / "initdb").is_file()
    assert found.binaries["init"] == found.bindir / "initdb"
    assert found.binaries["client"] == found.bindir / "psql"
    assert found.server == found.bindir / "postgres"


def test_finds_this_machines_redis_7():
    found = find_installation(bundled("redis"), VersionConstraint.parse(">=7,<8"))
    assert found.version.major == 7
    # redis-server is a link to redis-check-rdb, which acts by its name: keep the name.
    assert found.server.name == "redis-server"
    assert found.binaries["client"] == found.bindir / "redis-cli"


def test_symlink_on_path_resolves_to_the_versioned_folder(tmp_path):
    real = tmp_path / "opt" / "pg" / "16" / "bin"
    for name in ("initdb", "psql"):
        stub_server(real, name, "")
    stub_server(real, "postgres", "postgres (PostgreSQL) 16.2")
    links = tmp_path / "local" / "bin"
    links.mkdir(parents=True)
    (links / "postgres").symlink_to(real / "postgres")
    found = find_installation(bundled("postgres"), None, path=str(links), system="Linux")
    # The real PostgreSQL 15 from the search folders is older: the stub 16.2 wins.
    assert found.bindir == real
    assert found.version == Version.parse("16.2")
    assert found.binaries["init"] == real / "initdb"


def test_constraint_nothing_matches_names_what_was_found():
    postgres = bundled("postgres")
    found = find_installation(postgres, None)
    with pytest.raises(MissingBinary) as err:
        find_installation(postgres, VersionConstraint.parse(">=99"))
    assert str(err.value) == (
        f"no PostgreSQL matching '>=99' found; found {found.version} in {found.bindir}. "
        f"Install a matching version ({install_hint(postgres)}) or change "
        "services.postgres.version in devenv.toml"
    )
    assert f"{found.version} in {found.bindir}" in str(err.value)
    assert "apt-get install postgresql" in str(err.value)  # apt-get is on this Debian


# ---------------------------------------------------------------- not installed


def test_server_nowhere_gives_every_install_hint(tmp_path):
    # An empty PATH folder: no binary and no package manager to detect, so every hint is shown.
    empty = tmp_path / "empty"
    empty.mkdir()
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    with pytest.raises(MissingBinary) as err:
        find_installation(recipe, None, path=str(empty), system="Linux")
    assert str(err.value) == (
        "Memcached (memcached) is not installed: install it with "
        f"`{SUDO}apt-get install memcached` (Debian/Ubuntu), "
        f"`{SUDO}dnf install memcached` (Fedora/RHEL) or `brew install memcached` (macOS)"
    )


def test_install_hint_uses_this_machines_package_manager(tmp_path):
    recipe = bundled("postgres")
    tools = tmp_path / "tools"
    stub_server(tools, "dnf", "")
    assert install_hint(recipe, system="Linux", path=str(tools)) == (
        f"`{SUDO}dnf install postgresql-server`"
    )
    stub_server(tools, "apt-get", "")  # apt-get comes before dnf
    assert install_hint(recipe, system="Linux", path=str(tools)) == (
        f"`{SUDO}apt-get install postgresql`"
    )
    stub_server(tools, "brew", "")
    assert install_hint(recipe, system="Darwin", path=str(tools)) == "`brew install postgresql@16`"


def test_missing_server_names_the_package_for_this_machine(tmp_path):
    # A PATH with apt-get but no memcached, as on a fresh Debian machine: only apt's hint.
    tools = tmp_path / "tools"
    stub_server(tools, "apt-get", "")
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    with pytest.raises(MissingBinary) as err:
        find_installation(recipe, None, system="Linux", path=str(tools))
    assert str(err.value) == (
        f"Memcached (memcached) is not installed: install it with `{SUDO}apt-get install memcached`"
    )


def test_server_that_prints_no_version_is_reported(tmp_path):
    bin_dir = tmp_path / "bin"
    stub_server(bin_dir, "memcached", "usage: memcached [options]")
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    with pytest.raises(MissingBinary) as err:
        find_installation(recipe, None, path=str(bin_dir), system="Linux")
    assert str(err.value).startswith(
        f"found Memcached (memcached) but could not read its version: `{bin_dir}/memcached "
        "--version` did not print a version (exit code 0: usage: memcached [options]). "
        "Reinstall it with `"
    )


# ---------------------------------------------------------------- choosing a version


def test_constraint_picks_the_matching_version_and_the_newest_wins(tmp_path):
    old, new = tmp_path / "v1.5" / "bin", tmp_path / "v1.6" / "bin"
    stub_server(old, "memcached", "memcached 1.5.22")
    stub_server(new, "memcached", "memcached 1.6.21")
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "v*" / "bin"))
    empty = str(tmp_path / "empty")

    assert find_installation(recipe, None, path=empty, system="Linux").bindir == new
    found = find_installation(recipe, VersionConstraint.parse("1.5"), path=empty, system="Linux")
    assert (found.bindir, found.version) == (old, Version.parse("1.5.22"))
    found = find_installation(recipe, VersionConstraint.parse(">=1.5"), path=empty, system="Linux")
    assert (found.bindir, found.version) == (new, Version.parse("1.6.21"))
    # PATH order comes first, but the newest version still wins over it.
    found = find_installation(recipe, None, path=str(old), system="Linux")
    assert found.bindir == new

    with pytest.raises(MissingBinary) as err:
        find_installation(recipe, VersionConstraint.parse("2"), path=empty, system="Linux")
    assert f"found 1.5.22 in {old}, 1.6.21 in {new}." in str(err.value)
    assert "change services.memcached.version in devenv.toml" in str(err.value)


def test_equal_versions_prefer_path_order(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    stub_server(first, "memcached", "memcached 1.6.21")
    stub_server(second, "memcached", "memcached 1.6.21")
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    path = os.pathsep.join([str(second), str(first)])
    assert find_installation(recipe, None, path=path, system="Linux").bindir == second
    path = os.pathsep.join([str(first), str(second)])
    assert find_installation(recipe, None, path=path, system="Linux").bindir == first


def test_search_globs_are_per_system(tmp_path):
    bin_dir = tmp_path / "linux-only"
    stub_server(bin_dir, "memcached", "memcached 1.6.21")
    recipe = load_recipe(memcached_recipe(tmp_path, bin_dir))
    empty = str(tmp_path / "empty")
    assert find_installation(recipe, None, path=empty, system="Linux").bindir == bin_dir
    with pytest.raises(MissingBinary):
        find_installation(recipe, None, path=empty, system="Darwin")


# ---------------------------------------------------------------- the version cache


def test_version_cache_is_used_and_invalidated(tmp_path, private_cache):
    counter = tmp_path / "runs"
    bin_dir = tmp_path / "bin"
    server = stub_server(bin_dir, "memcached", "memcached 1.6.21", counter)
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))

    def find() -> Installation:
        return find_installation(recipe, None, path=str(bin_dir), system="Linux")

    assert find().version == Version.parse("1.6.21")
    assert runs(counter) == 1
    assert cache_file() == private_cache
    assert private_cache.is_file()
    assert find().version == Version.parse("1.6.21")
    assert runs(counter) == 1  # the warm start spawned nothing

    # A new binary (an upgrade: another size) is probed again, and its version is the new one.
    stub_server(bin_dir, "memcached", "memcached 1.6.100", counter)
    assert find().version == Version.parse("1.6.100")
    assert runs(counter) == 2
    assert find().version == Version.parse("1.6.100")
    assert runs(counter) == 2

    # Replaced by another file (a package upgrade renames a new file into place).
    replacement = tmp_path / "new-memcached"
    replacement.write_text(server.read_text().replace("1.6.100", "1.6.101"))
    replacement.chmod(0o755)
    os.replace(replacement, server)
    assert find().version == Version.parse("1.6.101")
    assert runs(counter) == 3

    # Same size, rewritten in place with another mtime: probed again.
    before = server.stat()
    stub_server(bin_dir, "memcached", "memcached 1.6.102", counter)
    os.utime(server, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert server.stat().st_size == before.st_size
    assert find().version == Version.parse("1.6.102")
    assert runs(counter) == 4


def test_a_damaged_cache_is_ignored(tmp_path, private_cache):
    counter = tmp_path / "runs"
    bin_dir = tmp_path / "bin"
    stub_server(bin_dir, "memcached", "memcached 1.6.21", counter)
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    private_cache.parent.mkdir(parents=True)
    private_cache.write_text("{not json")
    found = find_installation(recipe, None, path=str(bin_dir), system="Linux")
    assert found.version == Version.parse("1.6.21")
    assert runs(counter) == 1


# ---------------------------------------------------------------- a project's own recipe


def test_generic_project_recipe_loads_and_finds_a_stub(tmp_path):
    bin_dir = tmp_path / "bin"
    stub_server(bin_dir, "memcached", "memcached 1.6.21")
    recipe = load_recipe(memcached_recipe(tmp_path, tmp_path / "nowhere"))
    assert recipe.driver is None
    assert recipe.driver is None
    assert recipe.title == "Memcached"
    assert recipe.default_port == 11211
    assert recipe.run_command == ("{server}", "-l", "127.0.0.1", "-p", "{port}", "-U", "0")
    assert recipe.stop_signal == "SIGINT"
    assert dict(recipe.env) == {"MEMCACHED_URL": "127.0.0.1:{port}"}
    assert dict(recipe.readiness) == {"kind": "tcp", "timeout": 5.0}
    assert recipe.source == tmp_path / "memcached.toml"
    found = find_installation(recipe, VersionConstraint.parse("~=1.6"), path=str(bin_dir))
    assert found.bindir == bin_dir
    assert found.binaries == {"server": bin_dir / "memcached"}


def test_minimal_generic_recipe_has_defaults(tmp_path):
    path = write_recipe(
        tmp_path,
        """\
        [binaries]
        server = "mailpit"
        [run]
        command = ["{server}", "--smtp", "127.0.0.1:{port}"]
        """,
        name="mailpit.toml",
    )
    recipe = load_recipe(path)
    assert recipe.name == "mailpit"
    assert recipe.title == "mailpit"
    assert recipe.stop_signal == "SIGTERM"
    assert recipe.readiness["kind"] == "tcp"
    assert recipe.version_command == ("{server}", "--version")
    assert recipe.default_port is None


# ---------------------------------------------------------------- bad recipes

GOOD_HEAD = """\
name = "memcached"
driver = "postgres"
[binaries]
server = "memcached"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'name = "memcached"\ndefault_prot = 11211\n[binaries]\nserver = "memcached"\n',
            "2: unknown key 'default_prot'; did you mean 'default_port'?",
            id="unknown-top-key",
        ),
        pytest.param(
            'name = "memcached"\ndescription = "cache"\n[binaries]\nserver = "memcached"\n',
            '2: description: no longer read: remove this line (title = "..." names the '
            "service in messages)",
            id="description-no-longer-read",
        ),
        pytest.param(
            GOOD_HEAD + '[readiness]\nkind = "sql"\nquerry = "SELECT 1"\n',
            "7: readiness: unknown key 'querry'; did you mean 'query'?",
            id="unknown-readiness-key",
        ),
        pytest.param(
            'name = "memcached"\ndriver = "postgres"\n[binaries]\nclient = "mc"\n',
            '3: binaries: the server binary is missing; add server = "..."',
            id="missing-server",
        ),
        pytest.param(
            GOOD_HEAD + "[version]\npattern = 'v=(\\d+'\n",
            "6: version.pattern: invalid regular expression: missing ), unterminated "
            "subpattern at position 2",
            id="bad-regex",
        ),
        pytest.param(
            GOOD_HEAD + "[version]\npattern = 'v=\\d+'\n",
            "6: version.pattern: expected a regular expression with one group (the version), "
            "got 0 groups",
            id="regex-without-group",
        ),
        pytest.param(
            'name = "memcached"\ndefault_port = "11211"\n[binaries]\nserver = "memcached"\n',
            "2: default_port: expected an integer from 1 to 65535, got '11211'",
            id="port-type",
        ),
        pytest.param(
            GOOD_HEAD + '[install_version]\nbrew = "brew install memcached"\n',
            "6: install_version.brew: expected {major} in the command",
            id="install-version-without-major",
        ),
        pytest.param(
            GOOD_HEAD + '[search]\nlinux = "/usr/bin"\n',
            "6: search.linux: expected a list of strings, got '/usr/bin'",
            id="search-type",
        ),
        pytest.param(
            'name = "memcached"\n[binaries]\nserver = "memcached"\n',
            'run: missing; a recipe without a driver needs [run] with command = ["{server}", ...]',
            id="generic-without-run",
        ),
        pytest.param(
            'name = "memcached"\n[binaries]\nserver = "memcached"\n[run]\nstop_signal = "SIGINT"\n',
            '4: run: command is missing; add command = ["{server}", ...]',
            id="generic-without-run-command",
        ),
        pytest.param(
            GOOD_HEAD + '[readiness]\nkind = "http"\n',
            "6: readiness.kind: unknown readiness kind 'http'; expected 'sql', 'ping', 'tcp' "
            "or 'command'",
            id="unknown-readiness-kind",
        ),
        pytest.param(
            'name = "memcached"\n[binaries]\nserver = "memcached"\n[readiness]\nkind = "ping"\n'
            '[run]\ncommand = ["{server}"]\n',
            "5: readiness.kind: readiness kind 'ping' needs driver = \"redis\"; a recipe "
            "without a driver uses 'tcp' or 'command'",
            id="readiness-needs-driver",
        ),
        pytest.param(
            'name = "memcached"\n[binaries]\nserver = "memcached"\n[run]\n'
            'command = ["{server}", "-p", "{prot}"]\n',
            "5: run.command[2]: unknown placeholder '{prot}'; did you mean 'port'?; expected "
            "'{server}', '{port}', '{socket}', '{data_dir}' or '{bindir}'",
            id="unknown-placeholder",
        ),
        pytest.param(
            GOOD_HEAD + '[env]\nMEMCACHED_URL = "127.0.0.1:{port:d}"\n',
            "6: env.MEMCACHED_URL: placeholder '{port:d}' cannot have a format or conversion; "
            "write '{port}'",
            id="placeholder-with-format",
        ),
        pytest.param(
            GOOD_HEAD + '[run]\ncommand = ["{server", "-p"]\n',
            "6: run.command[0]: unbalanced braces in '{server'; write {{ and }} for literal braces",
            id="unbalanced-braces",
        ),
        pytest.param(
            'name = "memcached"\ndriver = "postgress"\n[binaries]\nserver = "memcached"\n',
            "2: driver: unknown driver 'postgress'; did you mean 'postgres'?; devenv has drivers "
            "for 'postgres' or 'redis' (leave driver out to run the service from [run])",
            id="unknown-driver",
        ),
        pytest.param(
            GOOD_HEAD + '[run]\ncommand = ["{server}"]\nstop_signal = "SIGTREM"\n',
            "7: run.stop_signal: unknown signal 'SIGTREM'; did you mean 'SIGTERM'?; expected a "
            "name like SIGTERM or SIGINT",
            id="unknown-signal",
        ),
        pytest.param(
            GOOD_HEAD + '[config]\ntemplate = "postgres/nope.conf"\n',
            "6: config.template: 'postgres/nope.conf' is not a file in devenv's templates folder",
            id="missing-template",
        ),
        pytest.param(
            GOOD_HEAD + '[install]\napt = "apt-get install memcached"\nport = "x"\n',
            "7: install: unknown key 'port'",
            id="unknown-manager",
        ),
        pytest.param(
            'name = "memcached"\n[binaries\nserver = "memcached"\n',
            "2:10: invalid TOML: Expected ']' at the end of a table declaration",
            id="toml-syntax",
        ),
    ],
)
def test_bad_recipe(tmp_path, text, message):
    path = write_recipe(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_recipe(path)
    expected = f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}"
    assert str(err.value) == expected


def test_bad_recipe_error_carries_file_line_and_key(tmp_path):
    path = write_recipe(tmp_path, GOOD_HEAD + '[readiness]\nkind = "http"\n')
    with pytest.raises(ConfigError) as err:
        load_recipe(path)
    assert (err.value.path, err.value.line, err.value.key) == (path, 6, "readiness.kind")
    assert err.value.exit_code == 2
