"""Bad input, part 1: devenv.toml, [tool.devenv] in pyproject.toml, a project's own recipe and
the Procfile. Each row is a project and what `devenv status` must answer: the exit code and the
words a person needs (file, line, key, what to do), never a traceback."""

from __future__ import annotations

import pytest

from tests.bad_inputs import Folder, Link, Mode, assert_answered, project, run

P = '[project]\nname = "shop"\n'
PROCFILE = "web: python -m http.server $PORT\nworker: sleep 1\n"
BOM = "\ufeff"

# (id, files, exit code, needles)
CONFIG_CASES = [
    # -- the file itself
    ("bom-is-accepted", {"devenv.toml": (BOM + P).encode()}, 0, ["NAME"]),
    ("not-utf8", {"devenv.toml": P.encode() + b"# caf\xe9\n"}, 2, ["devenv.toml:3", "UTF-8"]),
    (
        "dangling-symlink",
        {"devenv.toml": Link("elsewhere.toml")},
        2,
        ["devenv.toml", "elsewhere.toml", "does not exist"],
    ),
    ("a-folder", {"devenv.toml": Folder()}, 2, ["devenv.toml", "is a folder"]),
    ("empty-is-fine", {"devenv.toml": ""}, 0, ["NAME"]),
    # -- TOML syntax
    (
        "duplicate-key",
        {"devenv.toml": P + 'name = "again"\n'},
        2,
        ["devenv.toml:3", "project.name", "line 2"],
    ),
    (
        "duplicate-table",
        {"devenv.toml": P + "[project]\n"},
        2,
        ["devenv.toml:3", "[project]", "line 1"],
    ),
    (
        "duplicate-key-in-service",
        {"devenv.toml": "[services.redis]\nport = 1\nport = 2\n"},
        2,
        ["devenv.toml:3", "services.redis.port", "line 2"],
    ),
    ("missing-value", {"devenv.toml": "[project]\nname =\n"}, 2, ["devenv.toml:2", "invalid TOML"]),
    (
        "unterminated-string",
        {"devenv.toml": '[project]\nname = "shop\n'},
        2,
        ["devenv.toml:2", "invalid TOML"],
    ),
    ("unclosed-table-header", {"devenv.toml": "[project\n"}, 2, ["devenv.toml:1", "invalid TOML"]),
    # -- keys and values
    (
        "unknown-top-key",
        {"devenv.toml": "[servics.redis]\n"},
        2,
        ["devenv.toml:1", "servics", "did you mean 'services'"],
    ),
    (
        "unknown-service",
        {"devenv.toml": "[services.postgress]\n"},
        2,
        ["devenv.toml:1", "postgress", "did you mean 'postgres'"],
    ),
    (
        "top-key-not-a-table",
        {"devenv.toml": "project = 5\n"},
        2,
        ["devenv.toml:1", "project", "expected a table"],
    ),
    (
        "port-a-string",
        {"devenv.toml": '[services.redis]\nport = "abc"\n'},
        2,
        ["devenv.toml:2", "services.redis.port", "from 1 to 65535", "'abc'"],
    ),
    (
        "port-too-big",
        {"devenv.toml": "[services.redis]\nport = 70000\n"},
        2,
        ["devenv.toml:2", "services.redis.port", "70000"],
    ),
    (
        "port-zero",
        {"devenv.toml": "[services.redis]\nport = 0\n"},
        2,
        ["devenv.toml:2", "services.redis.port"],
    ),
    (
        "port-negative",
        {"devenv.toml": "[services.redis]\nport = -1\n"},
        2,
        ["devenv.toml:2", "services.redis.port"],
    ),
    (
        "port-float",
        {"devenv.toml": "[services.redis]\nport = 6379.5\n"},
        2,
        ["devenv.toml:2", "services.redis.port"],
    ),
    (
        "port-bool",
        {"devenv.toml": "[services.redis]\nport = true\n"},
        2,
        ["devenv.toml:2", "services.redis.port", "true"],
    ),
    (
        "version-nonsense",
        {"devenv.toml": '[services.redis]\nversion = "banana"\n'},
        2,
        ["devenv.toml:2", "services.redis.version", "banana"],
    ),
    (
        "version-a-number",
        {"devenv.toml": "[services.redis]\nversion = 7\n"},
        2,
        ["devenv.toml:2", "services.redis.version", '"15"'],
    ),
    (
        "settings-a-list",
        {"devenv.toml": "[services.redis]\nsettings = { maxmemory = [1] }\n"},
        2,
        ["devenv.toml:2", "services.redis.settings.maxmemory"],
    ),
    (
        "prod-like-a-string",
        {"devenv.toml": '[services.redis]\nprod_like = "yes"\n'},
        2,
        ["devenv.toml:2", "prod_like", "true or false"],
    ),
    (
        "database-bad-name",
        {"devenv.toml": '[services.postgres]\n[[services.postgres.databases]]\nname = "my-db"\n'},
        2,
        ["devenv.toml:3", "databases[0].name", "my-db"],
    ),
    (
        "database-no-name",
        {"devenv.toml": '[services.postgres]\n[[services.postgres.databases]]\nowner = "x"\n'},
        2,
        ["devenv.toml:2", "missing name"],
    ),
    (
        "database-twice",
        {
            "devenv.toml": '[[services.postgres.databases]]\nname = "a"\n'
            '[[services.postgres.databases]]\nname = "a"\n'
        },
        2,
        ["devenv.toml:4", "declared twice"],
    ),
    (
        "databases-on-redis",
        {"devenv.toml": '[[services.redis.databases]]\nname = "a"\n'},
        2,
        ["devenv.toml:1", "only be declared for postgres"],
    ),
    (
        "init-sql-missing",
        {"devenv.toml": '[[services.postgres.databases]]\nname = "a"\ninit_sql = "db/init.sql"\n'},
        2,
        ["devenv.toml:3", "db/init.sql", "does not exist"],
    ),
    (
        "procfile-missing",
        {"devenv.toml": P + 'procfile = "Procfile.dev"\n'},
        2,
        ["devenv.toml:3", "Procfile.dev", "does not exist"],
    ),
    (
        "procfile-a-folder",
        {"devenv.toml": P + 'procfile = "run"\n', "run": Folder()},
        2,
        ["devenv.toml:3", "is a folder"],
    ),
    (
        "env-file-a-number",
        {"devenv.toml": P + "env_file = 5\n"},
        2,
        ["devenv.toml:3", "project.env_file", "a path"],
    ),
    (
        "venv-outside",
        {"devenv.toml": '[environment]\nvenv = "/tmp/elsewhere"\n'},
        2,
        ["devenv.toml:2", "environment.venv", "inside the project"],
    ),
    (
        "on-drift-unknown",
        {"devenv.toml": '[environment]\non_drift = "maybe"\n'},
        2,
        ["devenv.toml:2", "environment.on_drift", "'maybe'"],
    ),
    ("prod-unknown", {"devenv.toml": '[prod]\nmysql = "8"\n'}, 2, ["devenv.toml:2", "mysql"]),
    (
        "prod-version-words",
        {"devenv.toml": '[prod]\npython = "three"\n'},
        2,
        ["devenv.toml:2", "prod.python", "three"],
    ),
    (
        "onboarding-no-test",
        {"devenv.toml": '[onboarding]\nlint = "ruff"\n'},
        2,
        ["devenv.toml:1", "missing test"],
    ),
    (
        "first-change-missing-file",
        {
            "devenv.toml": '[onboarding]\ntest = "pytest"\n'
            '[onboarding.first_change]\ntitle = "t"\nfile = "nope.py"\n'
        },
        2,
        ["devenv.toml:5", "nope.py"],
    ),
    (
        "hooks-a-string",
        {"devenv.toml": '[hooks]\nafter_ready = "migrate"\n'},
        2,
        ["devenv.toml:2", "hooks.after_ready", "list of strings"],
    ),
    (
        "watch-a-string",
        {"devenv.toml": '[lockfiles]\nwatch = "uv.lock"\n'},
        2,
        ["devenv.toml:2", "lockfiles.watch", "list of strings"],
    ),
    # -- processes
    (
        "process-not-in-procfile",
        {"devenv.toml": "[processes.wbe]\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:1", "wbe", "did you mean 'web'"],
    ),
    (
        "process-no-procfile",
        {"devenv.toml": "[processes.web]\n"},
        2,
        ["devenv.toml:1", "no Procfile", "create Procfile"],
    ),
    (
        "restart-unknown",
        {"devenv.toml": '[processes.web]\nrestart = "sometimes"\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.restart", "'on-failure'"],
    ),
    (
        "max-restarts-negative",
        {"devenv.toml": "[processes.web]\nmax_restarts = -1\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "max_restarts", ">= 0"],
    ),
    (
        "concurrency-zero",
        {"devenv.toml": "[processes.web]\nconcurrency = 0\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "concurrency"],
    ),
    (
        "stop-timeout-words",
        {"devenv.toml": '[processes.web]\nstop_timeout = "5s"\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "stop_timeout", "seconds"],
    ),
    (
        "depends-on-unknown",
        {"devenv.toml": '[processes.web]\ndepends_on = ["wroker"]\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "wroker", "did you mean 'worker'"],
    ),
    (
        "depends-on-itself",
        {"devenv.toml": '[processes.web]\ndepends_on = ["web"]\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "cannot depend on itself"],
    ),
    (
        "depends-on-cycle",
        {
            "devenv.toml": '[processes.web]\ndepends_on = ["worker"]\n'
            '[processes.worker]\ndepends_on = ["web"]\n',
            "Procfile": PROCFILE,
        },
        2,
        ["devenv.toml:2", "cycle", "web -> worker -> web"],
    ),
    (
        "depends-on-condition",
        {
            "devenv.toml": '[processes.web]\ndepends_on = { worker = "done" }\n',
            "Procfile": PROCFILE,
        },
        2,
        ["devenv.toml:2", "'completed'", "'done'"],
    ),
    (
        "ready-two-probes",
        {
            "devenv.toml": '[processes.web]\nready = { tcp = 5000, log = "up" }\n',
            "Procfile": PROCFILE,
        },
        2,
        ["devenv.toml:2", "exactly one of http, tcp or log"],
    ),
    (
        "ready-bad-url",
        {
            "devenv.toml": '[processes.web]\nready = { http = "localhost:5000" }\n',
            "Procfile": PROCFILE,
        },
        2,
        ["devenv.toml:2", "http://"],
    ),
    (
        "ready-bad-regex",
        {"devenv.toml": '[processes.web]\nready = { log = "([" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "regular expression"],
    ),
    (
        "ready-tcp-port-range",
        {"devenv.toml": "[processes.web]\nready = { tcp = 70000 }\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.ready.tcp", "65535"],
    ),
    (
        "env-a-list",
        {"devenv.toml": "[processes.web]\nenv = { A = [1, 2] }\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.env.A"],
    ),
    (
        "env-name-with-equals",
        {"devenv.toml": '[processes.web]\nenv = { "A=B" = "x" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "A=B", "variable name"],
    ),
    (
        "env-name-empty",
        {"devenv.toml": '[processes.web]\nenv = { "" = "x" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "variable name"],
    ),
    (
        "env-value-nul",
        {"devenv.toml": '[processes.web]\nenv = { A = "a\\u0000b" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.env.A", "NUL"],
    ),
    (
        "env-port-words",
        {"devenv.toml": '[processes.web]\nenv = { PORT = "abc" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.env.PORT", "port number"],
    ),
    (
        "env-bad-reference",
        {"devenv.toml": '[processes.web]\nenv = { A = "${B" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.env.A", "$$"],
    ),
    (
        "process-named-like-service",
        {"devenv.toml": "[services.redis]\n", "Procfile": "redis: redis-server\n"},
        2,
        ["Procfile:1", "redis", "rename one"],
    ),
    # -- pyproject.toml [tool.devenv]
    (
        "pyproject-unknown-key",
        {"pyproject.toml": '[project]\nname = "shop"\n\n[tool.devenv.servics]\n'},
        2,
        ["pyproject.toml:4", "tool.devenv", "servics"],
    ),
    (
        "pyproject-not-a-table",
        {"pyproject.toml": '[tool]\ndevenv = "yes"\n'},
        2,
        ["pyproject.toml:2", "tool.devenv", "expected a table"],
    ),
    (
        "pyproject-syntax",
        {"pyproject.toml": "[tool.devenv]\nproject = {\n"},
        2,
        ["pyproject.toml:2", "invalid TOML"],
    ),
    (
        "pyproject-duplicate-key",
        {"pyproject.toml": '[tool.devenv.project]\nname = "a"\nname = "b"\n'},
        2,
        ["pyproject.toml:3", "tool.devenv.project.name", "line 2"],
    ),
    (
        "pyproject-bad-port",
        {"pyproject.toml": "[tool.devenv.services.redis]\nport = 0\n"},
        2,
        ["pyproject.toml:2", "tool.devenv.services.redis.port"],
    ),
    # -- a project's own recipe
    (
        "recipe-missing",
        {"devenv.toml": '[services.memcached]\nrecipe = "services/memcached.toml"\n'},
        2,
        ["devenv.toml:2", "services/memcached.toml", "does not exist"],
    ),
    (
        "recipe-for-bundled",
        {
            "devenv.toml": '[services.redis]\nrecipe = "services/redis.toml"\n',
            "services/redis.toml": "",
        },
        2,
        ["devenv.toml:2", "bundled", "remove this line"],
    ),
    (
        "recipe-service-name",
        {"devenv.toml": '[services."mem cached"]\nrecipe = "m.toml"\n', "m.toml": ""},
        2,
        ["devenv.toml:1", "mem cached", "letters, digits"],
    ),
    # -- found by the second sweep
    (
        "stop-timeout-nan",
        {"devenv.toml": "[processes.web]\nstop_timeout = nan\n", "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "stop_timeout", "nan"],
    ),
    (
        "ready-timeout-inf",
        {
            "devenv.toml": '[processes.web]\nready = { log = "up", timeout = inf }\n',
            "Procfile": PROCFILE,
        },
        2,
        ["devenv.toml:2", "ready.timeout", "inf"],
    ),
    (
        "two-services-one-port",
        {"devenv.toml": "[services.redis]\nport = 7000\n[services.postgres]\nport = 7000\n"},
        2,
        ["devenv.toml:4", "services.postgres.port", "services.redis.port"],
    ),
    (
        "database-template1",
        {"devenv.toml": '[[services.postgres.databases]]\nname = "template1"\n'},
        2,
        ["devenv.toml:2", "template1", "another name"],
    ),
    (
        "env-command-substitution",
        {"devenv.toml": '[processes.web]\nenv = { A = "$(whoami)" }\n', "Procfile": PROCFILE},
        2,
        ["devenv.toml:2", "processes.web.env.A", "$$("],
    ),
    ("symlink-loop", {"devenv.toml": Link("devenv.toml")}, 2, ["devenv.toml", "symbolic links"]),
    (
        "nul-byte",
        {"devenv.toml": '[project]\nname = "a\x00b"\n'},
        2,
        ["devenv.toml:2", "invalid TOML"],
    ),
    (
        "pyproject-bom",
        {"pyproject.toml": (BOM + '[project]\nname = "shop"\n[tool.devenv]\n').encode()},
        0,
        ["NAME"],
    ),
    (
        "procfile-symlink-loop",
        {"devenv.toml": P, "Procfile": Link("Procfile")},
        2,
        ["Procfile", "symbolic links"],
    ),
]

RECIPE_HEAD = '[services.memcached]\nrecipe = "services/memcached.toml"\n'
GOOD_RECIPE = (
    'default_port = 11211\n[binaries]\nserver = "memcached"\n'
    '[run]\ncommand = ["{server}", "-p", "{port}"]\n'
)
GOOD_ENV = '[env]\nMC_URL = "127.0.0.1:{port}"\n'
RECIPE_CASES = [
    (
        "syntax",
        'default_port = \n[binaries]\nserver = "memcached"\n',
        2,
        ["memcached.toml:1", "invalid TOML"],
    ),
    ("unknown-key", GOOD_RECIPE + "[ready]\n", 2, ["memcached.toml:6", "unknown key 'ready'"]),
    (
        "no-binaries",
        'default_port = 11211\n[run]\ncommand = ["x"]\n',
        2,
        ["memcached.toml", "binaries", 'server = "'],
    ),
    (
        "no-server",
        '[binaries]\nclient = "mc"\n[run]\ncommand = ["x"]\n',
        2,
        ["memcached.toml:1", "server"],
    ),
    ("port-words", GOOD_RECIPE.replace("11211", '"x"'), 2, ["memcached.toml:1", "default_port"]),
    (
        "driver-unknown",
        'driver = "mysql"\n' + GOOD_RECIPE,
        2,
        ["memcached.toml", "driver", "mysql"],
    ),
    (
        "readiness-kind",
        GOOD_RECIPE + '[readiness]\nkind = "magic"\n',
        2,
        ["memcached.toml:7", "readiness.kind", "magic"],
    ),
    (
        "no-run",
        'default_port = 11211\n[binaries]\nserver = "memcached"\n',
        2,
        ["memcached.toml", "[run]"],
    ),
    (
        "unknown-placeholder",
        GOOD_RECIPE + '[env]\nMC_URL = "127.0.0.1:{prot}"\n',
        2,
        ["memcached.toml:7", "env.MC_URL", "{prot}", "did you mean"],
    ),
    (
        "unbalanced-brace",
        GOOD_RECIPE + '[env]\nMC_URL = "127.0.0.1:{port"\n',
        2,
        ["memcached.toml:7", "braces"],
    ),
    ("not-utf8", GOOD_RECIPE.encode() + b"# \xff\n", 2, ["memcached.toml:6", "UTF-8"]),
    ("bom-is-accepted", (BOM + GOOD_RECIPE + GOOD_ENV).encode(), 0, ["export MC_URL=127.0.0.1"]),
]

PROCFILE_CASES = [
    ("no-colon", "web python app.py\n", 2, ["Procfile:1", "name: command"]),
    ("dotted-name", "web.1: python app.py\n", 2, ["Procfile:1", "web.1", "letters, digits"]),
    ("indented", "  web: python app.py\n", 2, ["Procfile:1", "name: command"]),
    ("empty-command", "web:   \n", 2, ["Procfile:1", "empty command"]),
    ("twice", "web: a\nweb: b\n", 2, ["Procfile:2", "defined twice", "lines 1 and 2"]),
    ("not-utf8", b"web: echo \xff\n", 2, ["Procfile:1", "UTF-8"]),
    ("a-folder", Folder(), 2, ["Procfile", "is a folder"]),
    ("dangling-symlink", Link("Procfile.real"), 2, ["Procfile", "Procfile.real", "does not exist"]),
]


@pytest.mark.parametrize(
    ("files", "code", "needles"),
    [pytest.param(f, c, n, id=i) for i, f, c, n in CONFIG_CASES],
)
def test_config(tmp_path, files, code, needles):
    result = run(project(tmp_path / "p", files), "status")
    assert_answered(result, code, *needles)


@pytest.mark.parametrize(
    ("recipe", "code", "needles"), [pytest.param(r, c, n, id=i) for i, r, c, n in RECIPE_CASES]
)
def test_own_recipe(tmp_path, recipe, code, needles):
    """`devenv env` reads the recipe without starting anything (`status` shows the same error
    in the service's row)."""
    root = project(tmp_path / "p", {"devenv.toml": RECIPE_HEAD, "services/memcached.toml": recipe})
    result = run(root, "env")
    assert_answered(result, code, *needles)


@pytest.mark.parametrize(
    ("procfile", "code", "needles"),
    [pytest.param(p, c, n, id=i) for i, p, c, n in PROCFILE_CASES],
)
def test_procfile(tmp_path, procfile, code, needles):
    root = project(tmp_path / "p", {"devenv.toml": P, "Procfile": procfile})
    result = run(root, "status")
    assert_answered(result, code, *needles)


@pytest.mark.parametrize(
    ("name", "files", "needles"),
    [
        ("devenv.toml", {"devenv.toml": Mode(P, 0o000)}, ["devenv.toml", "Permission denied"]),
        (
            "Procfile",
            {"devenv.toml": P, "Procfile": Mode("web: x\n", 0o000)},
            ["Procfile", "Permission denied"],
        ),
        (
            "recipe",
            {"devenv.toml": RECIPE_HEAD, "services/memcached.toml": Mode(GOOD_RECIPE, 0)},
            ["memcached.toml", "Permission denied"],
        ),
        (
            "pyproject",
            {"pyproject.toml": Mode("[tool.devenv]\n", 0o000)},
            ["pyproject.toml", "Permission denied"],
        ),
    ],
)
def test_unreadable(tmp_path, name, files, needles):
    root = project(tmp_path / "p", files)
    root.parent.chmod(0o755)
    result = run(root, "env", modes_apply=True)
    assert_answered(result, 2, *needles)


@pytest.mark.parametrize(
    "procfile",
    [
        pytest.param((BOM + "web: echo hello-from-web\n").encode(), id="bom"),
        pytest.param(b"web: echo hello-from-web\r\nworker: true\r\n", id="crlf"),
        pytest.param("# the app\n\n   \nweb: echo hello-from-web\n", id="comments-and-blanks"),
    ],
)
def test_procfile_accepted(tmp_path, procfile):
    root = project(tmp_path / "p", {"devenv.toml": P, "Procfile": procfile})
    result = run(root, "up", "--no-tui")
    assert_answered(result, 0, "web.1", "hello-from-web")
