"""Bad input, part 5: `devenv init` on projects as they come. It never loses a hand-written
file, never writes a config devenv then rejects, and turns a Procfile line that starts a server
devenv runs itself (redis-server, postgres, pg_ctl) into that service."""

from __future__ import annotations

import tomllib

import pytest

from tests.bad_inputs import Folder, Link, Mode, assert_answered, project, run

HAND = '# written by hand\n[project]\nname = "mine"\n'


def test_force_twice_keeps_the_hand_written_original(tmp_path):
    root = project(tmp_path / "p", {"devenv.toml": HAND, "Procfile": "web: sleep 1\n"})
    first = run(root, "init", "--force")
    assert_answered(first, 0, "devenv.toml.bak")
    generated = (root / "devenv.toml").read_text()
    second = run(root, "init", "--force")
    assert_answered(second, 0, "devenv.toml.bak.1")
    assert (root / "devenv.toml.bak").read_text() == HAND
    assert (root / "devenv.toml.bak.1").read_text() == generated
    third = run(root, "init", "--force")
    assert_answered(third, 0, "devenv.toml.bak.2")
    assert (root / "devenv.toml.bak").read_text() == HAND


def test_force_in_a_pyproject_project_refuses(tmp_path):
    pyproject = '[project]\nname = "shop"\n\n[tool.devenv.services.redis]\n'
    root = project(tmp_path / "p", {"pyproject.toml": pyproject})
    result = run(root, "init", "--force")
    assert_answered(result, 2, "pyproject.toml", "[tool.devenv]", "Nothing was written")
    assert not (root / "devenv.toml").exists()
    assert (root / "pyproject.toml").read_text() == pyproject


def test_init_twice_without_force(tmp_path):
    root = project(tmp_path / "p", {"devenv.toml": HAND})
    assert_answered(run(root, "init"), 2, "already has a devenv config", "--force")
    assert (root / "devenv.toml").read_text() == HAND


# (id, Procfile, the service it becomes, the processes left)
SERVER_LINES = [
    ("redis-by-name", "web: python app.py\nredis: redis-server\n", "redis", ["web"]),
    ("redis-other-name", "web: python app.py\ncache: redis-server --port 7000\n", "redis", ["web"]),
    ("redis-full-path", "cache: /usr/bin/redis-server ./redis.conf\nweb: x\n", "redis", ["web"]),
    ("postgres", "db: postgres -D ./data\nweb: python app.py\n", "postgres", ["web"]),
    ("pg-ctl", "web: python app.py\ndb: pg_ctl -D data start\n", "postgres", ["web"]),
    ("postgres-by-name", "postgres: ./scripts/db.sh\nweb: python app.py\n", "postgres", ["web"]),
    ("exec-and-env", "cache: exec env A=1 redis-server\nweb: x\n", "redis", ["web"]),
]


@pytest.mark.parametrize(
    ("procfile", "service", "left"), [pytest.param(p, s, k, id=i) for i, p, s, k in SERVER_LINES]
)
def test_a_procfile_server_becomes_a_service(tmp_path, procfile, service, left):
    root = project(tmp_path / "p", {"Procfile": procfile})
    result = run(root, "init")
    assert_answered(result, 0, "Procfile", service, "Procfile.bak")
    config = tomllib.loads((root / "devenv.toml").read_text())
    assert service in config["services"]
    assert list(config.get("processes", {})) == left
    assert (root / "Procfile.bak").read_text() == procfile
    kept = (root / "Procfile").read_text()
    assert all(line.startswith("#") for line in kept.splitlines() if service in line)
    # what init wrote passes devenv's own checks, and init refuses a second time cleanly
    assert_answered(run(root, "status"), 0, "NAME")
    assert_answered(run(root, "init"), 2, "already has a devenv config")


@pytest.mark.parametrize(
    ("procfile", "service", "port"),
    [
        ("web: python app.py\nredis: redis-server --port 6380\n", "redis", 6380),
        ("web: x\ndb: pg_ctl -D data -o '-p 5433' start\n", "postgres", 5433),
        ("web: x\ncache: redis-server --port 99999\n", "redis", None),
    ],
)
def test_a_procfile_servers_port_is_kept(tmp_path, procfile, service, port):
    """The app was run against the port the Procfile's server line gave: the service keeps it
    (a port that is no port is left out, devenv chooses)."""
    root = project(tmp_path / "p", {"Procfile": procfile})
    assert_answered(run(root, "init"), 0, "Procfile")
    config = tomllib.loads((root / "devenv.toml").read_text())
    assert config["services"][service].get("port") == port
    assert_answered(run(root, "status"), 0, "NAME")


# (id, files, exit code, needles, whether devenv.toml may exist afterwards)
INIT_CASES = [
    (
        "procfile-bad-line",
        {"Procfile": "web python app.py\n"},
        2,
        ["Procfile:1", "name: command"],
        False,
    ),
    ("procfile-a-folder", {"Procfile": Folder()}, 2, ["Procfile", "is a folder"], False),
    ("procfile-not-utf8", {"Procfile": b"web: \xff\n"}, 2, ["Procfile:1", "UTF-8"], False),
    (
        "config-a-dangling-link",
        {"devenv.toml": Link("shared/devenv.toml")},
        2,
        ["devenv.toml", "shared/devenv.toml", "does not exist"],
        False,
    ),
    ("config-a-folder", {"devenv.toml": Folder()}, 2, ["devenv.toml", "is a folder"], False),
    ("package-json-a-list", {"package.json": "[1, 2]"}, 0, ["wrote devenv.toml"], True),
    ("package-json-broken", {"package.json": "{"}, 0, ["wrote devenv.toml"], True),
    (
        "pyproject-project-a-string",
        {"pyproject.toml": 'project = "x"\n'},
        0,
        ["wrote devenv.toml"],
        True,
    ),
    (
        "pyproject-not-utf8",
        {"pyproject.toml": b'[project]\nname = "caf\xe9"\n'},
        0,
        ["wrote devenv.toml"],
        True,
    ),
    (
        "gitignore-a-folder",
        {".gitignore": Folder()},
        0,
        ["wrote devenv.toml", ".gitignore", "is a folder"],
        True,
    ),
    ("gitignore-not-utf8", {".gitignore": b"caf\xe9\n"}, 0, ["added .devenv/"], True),
    (
        "requirements-not-utf8",
        {"requirements.txt": b"caf\xe9==1\n"},
        0,
        ["requirements.txt", "cannot be read"],
        True,
    ),
    (
        "name-with-odd-characters",
        {"package.json": '{"name": "@scope/My App!"}'},
        0,
        ["wrote devenv.toml"],
        True,
    ),
    ("process-names-odd", {"Procfile": "web-1: a\nWeb_2: b\n"}, 0, ["wrote devenv.toml"], True),
    (
        "dotenv-a-folder",
        {".env/pyvenv.cfg": "home = /usr/bin\n"},
        2,
        [".env", "is a folder", "init wrote nothing"],
        False,
    ),
]


@pytest.mark.parametrize(
    ("files", "code", "needles", "written"),
    [pytest.param(f, c, n, w, id=i) for i, f, c, n, w in INIT_CASES],
)
def test_init(tmp_path, files, code, needles, written):
    root = project(tmp_path / "p", files)
    result = run(root, "init")
    assert_answered(result, code, *needles)
    config = root / "devenv.toml"
    if written:
        assert_answered(run(root, "status"), 0, "NAME")  # what init wrote, devenv accepts
    else:
        assert not config.is_file() or isinstance(files.get("devenv.toml"), str)
        assert not (root / "shared").exists()  # nothing written through a dangling link


def test_init_in_a_read_only_folder(tmp_path):
    root = project(tmp_path / "p", {"Procfile": "web: sleep 1\n"})
    root.chmod(0o500)
    result = run(root, "init", modes_apply=True)
    root.chmod(0o700)
    assert_answered(result, 1, "devenv.toml", "Permission denied")
    assert not (root / "devenv.toml").exists()


def test_init_with_an_unreadable_procfile(tmp_path):
    root = project(tmp_path / "p", {"Procfile": Mode("web: x\n", 0o000)})
    result = run(root, "init", modes_apply=True)
    assert_answered(result, 2, "Procfile", "Permission denied")
    assert not (root / "devenv.toml").exists()


# What init reads to find evidence, as projects come: never a traceback, the file named, the
# rest of the project still read. (id, files, needles)
ODD_EVIDENCE = [
    (
        "requirements-binary",
        {"requirements.txt": b"\x00\x01psycopg2\n", "Gemfile": "gem 'pg'\n"},
        ["requirements.txt", "binary"],
    ),
    (
        "settings-huge",
        {"app/settings.py": "x = 1\n" * 300_000, "Gemfile": "gem 'pg'\n"},
        ["app/settings.py", "larger than 1 MiB"],
    ),
    (
        "compose-not-yaml",
        {"docker-compose.yml": "services: [\n  {{{{ : :\n\t- -", "Gemfile": "gem 'pg'\n"},
        ["devenv.toml"],
    ),
    (
        "compose-binary",
        {"compose.yaml": b"\xff\xfe\x00services:\n", "Gemfile": "gem 'pg'\n"},
        ["compose.yaml", "binary"],
    ),
    (
        "app-json-broken",
        {"app.json": '{"addons": ["heroku-postgresql"', "Gemfile": "gem 'pg'\n"},
        ["app.json", "not valid JSON"],
    ),
    (
        "app-json-addons-odd",
        {"app.json": '{"addons": {"a": 1}}', "Gemfile": "gem 'pg'\n"},
        ["devenv.toml"],
    ),
    (
        "pipfile-broken",
        {"Pipfile": "[packages\nredis = '*'", "Gemfile": "gem 'pg'\n"},
        ["Pipfile", "not valid TOML"],
    ),
    (
        "package-json-deps-a-list",
        {
            "package.json": '{"dependencies": ["pg"], "engines": {"node": 20}}',
            "Gemfile": "gem 'pg'\n",
        },
        ["devenv.toml"],
    ),
    (
        "settings-link-out-of-the-project",
        {"settings.py": Link("/etc/passwd"), "Gemfile": "gem 'pg'\n"},
        ["settings.py", "symbolic link out of the project"],
    ),
    (
        "python-version-a-folder",
        {".python-version": Folder(), "Gemfile": "gem 'pg'\n"},
        [".python-version", "is a folder"],
    ),
    (
        "python-version-garbage",
        {".python-version": "system\n", ".nvmrc": "lts/*\n", "Gemfile": "gem 'pg'\n"},
        ["devenv.toml"],
    ),
    (
        "dockerfile-not-utf8",
        {"Dockerfile": b"FROM python:3.\xff\n", "Gemfile": "gem 'pg'\n"},
        ["Dockerfile", "not UTF-8"],
    ),
    (
        "release-script-a-link-loop",
        {
            "Procfile": "release: ./rel.sh\nweb: x\n",
            "rel.sh": Link("rel.sh"),
            "Gemfile": "gem 'pg'\n",
        },
        ["rel.sh", "symbolic link"],
    ),
]


@pytest.mark.parametrize(
    ("files", "needles"), [pytest.param(f, n, id=i) for i, f, n in ODD_EVIDENCE]
)
def test_init_reads_odd_files_without_a_traceback(tmp_path, files, needles):
    root = project(tmp_path / "p", files)
    dry = run(root, "init", "--dry-run")
    assert_answered(dry, 0, *needles)
    assert not (root / "devenv.toml").exists()
    result = run(root, "init")
    assert_answered(result, 0, *needles)
    config = tomllib.loads((root / "devenv.toml").read_text())
    assert list(config["services"]) == ["postgres"]  # the Gemfile is still read
    assert_answered(run(root, "status"), 0, "NAME")


def test_init_with_an_unreadable_settings_file(tmp_path):
    root = project(
        tmp_path / "p",
        {"app/settings.py": Mode("ENGINE = 'django.db.backends.postgresql'\n", 0o000)},
    )
    result = run(root, "init", modes_apply=True)
    assert_answered(result, 0, "app/settings.py", "Permission denied")
    assert "services" not in tomllib.loads((root / "devenv.toml").read_text())


def test_a_broken_manifest_is_named_once(tmp_path):
    """package.json is read for its dependencies, its name, its engines and its start script:
    that it is not JSON is said once, not once a reader."""
    root = project(tmp_path / "p", {"package.json": "{not json"})
    for args in (("init", "--dry-run"), ("init",)):
        result = run(root, *args)
        assert_answered(result, 0, "package.json is not valid JSON")
        assert result.stdout.count("package.json is not valid JSON") == 1, result.stdout
