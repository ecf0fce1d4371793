"""Bad input, part 2: `.env` and the `env` of devenv.toml's processes, as `devenv up --no-tui`
hands them to a process. A `.env` reads the way a shell or dotenv user expects (`export`,
quotes, comments, `$VAR`); a line that cannot be read is an error naming `.env` and its line.

No services here: a project of one process that prints variable A and exits, so each case
takes a moment."""

from __future__ import annotations

import sys

import pytest

from tests.bad_inputs import Folder, Link, Mode, assert_answered, environ, project, run

SHOW = f"show: {sys.executable} -c \"import os; print('A=' + repr(os.environ.get('A')))\"\n"
BASE = '[project]\nname = "shop"\n'
BOM = "\ufeff"

# (id, .env content, exit code, needles); a needle "A=..." is what the process printed.
DOTENV_CASES = [
    # -- what a shell or dotenv user expects
    ("apostrophe", "A=it's fine\n", 0, ['A="it\'s fine"']),
    ("export", "export A=bar\n", 0, ["A='bar'"]),
    ("double-quotes", 'A="hello world"\n', 0, ["A='hello world'"]),
    ("single-quotes-literal", "A='single $quoted \\n'\n", 0, ["A='single $quoted \\\\n'"]),
    ("spaces-unquoted", "A=hello world\n", 0, ["A='hello world'"]),
    ("trailing-comment", "A=bar # the bar\n", 0, ["A='bar'"]),
    ("hash-inside-value", "A=bar#baz\n", 0, ["A='bar#baz'"]),
    ("quoted-hash", 'A="bar # baz"\n', 0, ["A='bar # baz'"]),
    ("comments-blank-lines", "# settings\n\n   \nA=1\n# end\n", 0, ["A='1'"]),
    ("spaces-around-equals", "A = spaced\n", 0, ["A='spaced'"]),
    ("empty-value", "A=\n", 0, ["A=''"]),
    ("empty-quotes", 'A=""\n', 0, ["A=''"]),
    ("reference-braces", "B=one\nA=${B}-two\n", 0, ["A='one-two'"]),
    ("reference-bare", "B=one\nA=$B/x\n", 0, ["A='one/x'"]),
    ("reference-environment", "A=$FROM_OUTSIDE\n", 0, ["A='outside'"]),
    ("reference-default", "A=${NOPE:-fallback}\n", 0, ["A='fallback'"]),
    ("reference-in-single-quotes", "A='$NOPE'\n", 0, ["A='$NOPE'"]),
    ("dollar-dollar", "A=pa$$word\n", 0, ["A='pa$word'"]),
    ("backslash-dollar", 'A="cost \\$5"\n', 0, ["A='cost $5'"]),
    (
        "escapes-in-double-quotes",
        'A="line1\\nline2\\ttab \\"q\\""\n',
        0,
        ["A='line1\\nline2\\ttab \"q\"'"],
    ),
    ("multi-line-double-quotes", 'A="first\nsecond"\nB=2\n', 0, ["A='first\\nsecond'"]),
    ("later-wins", "A=1\nA=2\n", 0, ["A='2'"]),
    ("bom", (BOM + "A=bom\n").encode(), 0, ["A='bom'"]),
    ("crlf", b"A=bar\r\nB=baz\r\n", 0, ["A='bar'"]),
    (
        "url-value",
        "A=postgres://u:p@127.0.0.1:5/db?x=1&y=2\n",
        0,
        ["A='postgres://u:p@127.0.0.1:5/db?x=1&y=2'"],
    ),
    # -- lines that cannot be read: .env, the line, what to do
    ("unterminated-double", 'B=1\nA="open\n', 2, [".env:2", "closing", '"']),
    ("unterminated-single", "A='open\n", 2, [".env:1", "closing", "'"]),
    ("no-name", "=x\n", 2, [".env:1", "NAME=value"]),
    ("no-equals", "JUSTANAME\n", 2, [".env:1", "NAME=value", "JUSTANAME"]),
    ("bad-name", "1A=x\n", 2, [".env:1", "'1A'", "variable name"]),
    ("two-words-name", "A B=x\n", 2, [".env:1", "variable name"]),
    ("export-alone", "export\n", 2, [".env:1", "NAME=value"]),
    ("text-after-quotes", 'A="x" y\n', 2, [".env:1", "after the closing quote"]),
    ("undefined-reference", "A=$NOPE\n", 2, [".env:1", "$NOPE", "not set", "${NOPE:-}"]),
    ("unclosed-brace", "A=${B\n", 2, [".env:1", "${", "$$"]),
    ("port-words", "PORT=abc\n", 2, [".env:1", "PORT", "port number", "'abc'"]),
    ("port-out-of-range", "PORT=70000\n", 2, [".env:1", "PORT", "65535"]),
    ("not-utf8", b"B=1\nA=caf\xe9\n", 2, [".env:2", "UTF-8"]),
    ("a-folder", Folder(), 2, [".env", "is a folder"]),
    ("dangling-symlink", Link(".env.shared"), 2, [".env", ".env.shared", "does not exist"]),
    ("nul", "A=a\x00b\n", 2, [".env:1", "NUL"]),
    ("command-substitution", "A=$(whoami)\n", 2, [".env:1", "$$("]),
    ("port-zero", "PORT=0\n", 2, [".env:1", "PORT", "'0'"]),
]

# (id, [processes.show] env line, .env, exit code, needles)
TOML_ENV_CASES = [
    ("from-dotenv", 'A = "$FOO"', "FOO=bar\n", 0, ["A='bar'"]),
    ("braces-and-suffix", 'A = "${FOO}-x"', "FOO=bar\n", 0, ["A='bar-x'"]),
    ("from-environment", 'A = "$FROM_OUTSIDE/bin"', "", 0, ["A='outside/bin'"]),
    ("dollar-dollar-literal", 'A = "$$HOME and $$"', "", 0, ["A='$HOME and $'"]),
    ("default", 'A = "${NOPE:-dflt}"', "", 0, ["A='dflt'"]),
    (
        "port-of-the-process",
        'A = "http://127.0.0.1:$PORT/"',
        "PORT=7300\n",
        0,
        ["A='http://127.0.0.1:7300/'"],
    ),
    ("integer", "A = 8000", "", 0, ["A='8000'"]),
    (
        "undefined",
        'A = "$NOPE"',
        "",
        2,
        ["devenv.toml:4", "processes.show.env.A", "$NOPE", "not set"],
    ),
    (
        "unclosed-brace",
        'A = "${FOO"',
        "FOO=1\n",
        2,
        ["devenv.toml:4", "processes.show.env.A", "$$"],
    ),
    ("lone-dollar-as-in-a-shell", 'A = "5$ and $1"', "", 0, ["A='5$ and $1'"]),
]


def _project(tmp_path, dotenv, env_line=None):
    toml = BASE + ("[processes.show]\nenv = { " + env_line + " }\n" if env_line else "")
    return project(tmp_path / "p", {"devenv.toml": toml, "Procfile": SHOW, ".env": dotenv})


def _up(root, **extra):
    return run(root, "up", "--no-tui", env=environ(FROM_OUTSIDE="outside", **extra), timeout=60)


@pytest.mark.parametrize(
    ("dotenv", "code", "needles"), [pytest.param(d, c, n, id=i) for i, d, c, n in DOTENV_CASES]
)
def test_dotenv(tmp_path, dotenv, code, needles):
    assert_answered(_up(_project(tmp_path, dotenv)), code, *needles)


@pytest.mark.parametrize(
    ("line", "dotenv", "code", "needles"),
    [pytest.param(line, d, c, n, id=i) for i, line, d, c, n in TOML_ENV_CASES],
)
def test_process_env(tmp_path, line, dotenv, code, needles):
    assert_answered(_up(_project(tmp_path, dotenv, line)), code, *needles)


def test_a_bad_dotenv_is_named_before_anything_starts(tmp_path):
    """`status` and `up -d` read the same .env: the mistake is said at once, by every command."""
    root = _project(tmp_path, "A=1\nB='x\n")
    for command in (["status"], ["up", "-d"], ["env"]):
        assert_answered(run(root, *command), 2, ".env:2")


def test_port_words_in_the_environment(tmp_path):
    result = _up(_project(tmp_path, ""), PORT="abc")
    assert_answered(result, 2, "PORT", "environment", "'abc'")


def test_unreadable_dotenv(tmp_path):
    root = _project(tmp_path, Mode("A=1\n", 0o000))
    assert_answered(run(root, "status", modes_apply=True), 2, ".env", "Permission denied")
