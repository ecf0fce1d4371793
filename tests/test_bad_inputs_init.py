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
