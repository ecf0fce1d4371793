"""`devenv doctor --bundle`: what goes in the archive, and that no secret does."""

from __future__ import annotations

import json
import os
import platform
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

from devenv import __version__
from devenv.doctor.redact import MASK, Redactor, env_values, redact_env_file

# Each of these is a real secret: none may be found anywhere in the extracted bundle.
ENV_SECRET = "s3cr3t-from-dotenv-9f2"
PG_PASSWORD = "pg-pass-7Yx!q"  # "!" is URL-encoded as %21 in the URL below
REDIS_PASSWORD = "redis-pw-41c"
TOKEN = "tok_live_5d1e88"
SPACED = "two words secret"
REQUIREPASS = "requirepass-secret-x1"
PROCESS_KEY = "sk_live_process_0a9"
LOG_ONLY_PASSWORD = "hunter2-in-a-log"
URL_ONLY_PASSWORD = "url-pw-only-in-log"

ENV_FILE = f"""\
# the app's settings
SECRET_KEY={ENV_SECRET}
DATABASE_URL=postgresql://app:pg-pass-7Yx%21q@127.0.0.1:5432/app
REDIS_URL="redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0"
export API_TOKEN='{TOKEN}'
PASSPHRASE="{SPACED}"
DEBUG=1
"""

CONFIG = f"""\
[project]
name = "shop"

[services.redis]
settings = {{ requirepass = "{REQUIREPASS}", maxmemory = "64mb" }}

[processes.web]
env = {{ STRIPE_KEY = "{PROCESS_KEY}", GREETING = "hello" }}
"""

LOG = f"""\
12:00:01 web.1 | GET /health 200
12:00:02 web.1 | booting with SECRET_KEY={ENV_SECRET}
12:00:03 web.1 | connecting to postgresql://app:pg-pass-7Yx%21q@127.0.0.1:5432/app
12:00:04 web.1 | redis at redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0 token {TOKEN}
12:00:05 web.1 | config {{"password": "{LOG_ONLY_PASSWORD}", "user": "app"}}
12:00:06 web.1 | stripe {PROCESS_KEY} phrase {SPACED}
12:00:07 web.1 | DB_PASSWORD={PG_PASSWORD} PGPASSWORD='{PG_PASSWORD}'
12:00:08 web.1 | replica postgresql://reader:{URL_ONLY_PASSWORD}@10.0.0.2:5432/app
"""

SECRETS = [
    ENV_SECRET,
    PG_PASSWORD,
    "pg-pass-7Yx%21q",
    REDIS_PASSWORD,
    TOKEN,
    SPACED,
    REQUIREPASS,
    PROCESS_KEY,
    LOG_ONLY_PASSWORD,
    URL_ONLY_PASSWORD,
]


def make_project(parent: Path) -> Path:
    project = parent / "shop"
    (project / ".devenv" / "logs").mkdir(parents=True)
    (project / "devenv.toml").write_text(CONFIG)
    (project / "Procfile").write_text("web: python -m http.server $PORT\n")
    (project / ".env").write_text(ENV_FILE)
    (project / ".devenv" / "logs" / "web.1.log").write_text(LOG)
    (project / ".devenv" / "logs" / "redis.log").write_text("Ready to accept connections\n")
    return project


def doctor(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devenv", "doctor", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def extract(bundle: Path, into: Path) -> dict[str, str]:
    with tarfile.open(bundle) as tar:
        tar.extractall(into, filter="data")
    return {
        str(path.relative_to(into)): path.read_text()
        for path in sorted(into.rglob("*"))
        if path.is_file()
    }


def test_the_bundle_holds_what_helps_and_no_secret(tmp_path):
    project = make_project(tmp_path)

    result = doctor(project, "--bundle")

    assert "Traceback" not in result.stderr
    line = [x for x in result.stdout.splitlines() if x.startswith("support bundle")][-1]
    bundle = Path(line.rsplit(": ", 1)[1])
    assert bundle.parent == project / ".devenv"
    assert bundle.name.startswith("devenv-doctor-") and bundle.name.endswith(".tar.gz")
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600

    files = extract(bundle, tmp_path / "out")
    top = bundle.name.removesuffix(".tar.gz")
    names = {name.removeprefix(top + "/") for name in files}
    assert {
        "doctor.json",
        "doctor.txt",
        "versions.json",
        "project/devenv.toml",
        "project/Procfile",
        "project/.env",
        "logs/web.1.log",
        "logs/redis.log",
    } <= names

    # No secret survives, in any file, in any form.
    everything = "\n".join(files.values())
    for secret in SECRETS:
        assert secret not in everything, secret
    grep = subprocess.run(
        ["grep", "-rF", *(arg for s in SECRETS for arg in ("-e", s)), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert grep.returncode == 1, grep.stdout  # 1: no line matched

    # What helps is still there.
    get = {name.removeprefix(top + "/"): text for name, text in files.items()}
    versions = json.loads(get["versions.json"])
    assert versions["devenv"] == __version__
    assert versions["python"]["devenv"] == platform.python_version()
    assert versions["os"]["platform"] == platform.platform()
    assert versions["servers"]["redis"]["version"][0].isdigit()
    assert "node" in versions and "uv" in versions
    report = json.loads(get["doctor.json"])
    assert report["checks"][0]["id"] == "config"
    assert "GET /health 200" in get["logs/web.1.log"]
    assert f"connecting to {MASK}" in get["logs/web.1.log"]  # all of DATABASE_URL, from .env
    assert f"postgresql://reader:{MASK}@10.0.0.2:5432/app" in get["logs/web.1.log"]
    assert "Ready to accept connections" in get["logs/redis.log"]
    assert "maxmemory" in get["project/devenv.toml"] and "GREETING" in get["project/devenv.toml"]
    assert f"SECRET_KEY={MASK}" in get["project/.env"]
    assert "# the app's settings" in get["project/.env"]
    assert "web: python -m http.server $PORT" in get["project/Procfile"]


def test_json_names_the_bundle_and_a_broken_project_still_gets_one(tmp_path):
    project = make_project(tmp_path)
    (project / "devenv.toml").write_text(CONFIG + "\n[services.postgres]\nverison = '15'\n")

    result = doctor(project, "--json", "--bundle")

    assert result.returncode == 1
    payload = json.loads(result.stdout)
    bundle = Path(payload["bundle"])
    files = extract(bundle, tmp_path / "out")
    everything = "\n".join(files.values())
    assert "verison" in everything  # the broken config is what a maintainer needs to see
    for secret in SECRETS:
        assert secret not in everything, secret


def test_outside_a_project_the_bundle_goes_to_the_current_folder(tmp_path):
    result = doctor(tmp_path, "--bundle")

    assert result.returncode == 1
    bundles = list(tmp_path.glob("devenv-doctor-*.tar.gz"))
    assert len(bundles) == 1
    assert stat.S_IMODE(bundles[0].stat().st_mode) == 0o600
    assert str(bundles[0]) in result.stdout


def test_two_bundles_in_one_second_do_not_overwrite_each_other(tmp_path):
    project = make_project(tmp_path)

    first, second = doctor(project, "--bundle"), doctor(project, "--bundle")

    assert first.returncode == second.returncode
    assert len(list((project / ".devenv").glob("devenv-doctor-*.tar.gz"))) == 2


# ---------------------------------------------------------------- the rules, one by one


def test_url_passwords_are_masked_and_the_rest_of_the_url_kept():
    redact = Redactor()
    assert redact("postgresql://user:pw@db:5432/x") == f"postgresql://user:{MASK}@db:5432/x"
    assert redact("redis://:pw@127.0.0.1:6379/0") == f"redis://:{MASK}@127.0.0.1:6379/0"
    assert redact("http://example.com:8080/path") == "http://example.com:8080/path"
    assert redact("postgresql://app@127.0.0.1:5432/app") == "postgresql://app@127.0.0.1:5432/app"


def test_secret_looking_names_lose_their_values_in_every_notation():
    redact = Redactor()
    assert redact("API_TOKEN=abc123") == f"API_TOKEN={MASK}"
    assert redact('password = "x y"') == f'password = "{MASK}"'
    masked = f'{{"client_secret": "{MASK}", "user": "u"}}'
    assert redact('{"client_secret": "zz", "user": "u"}') == masked
    assert redact("requirepass foobared") == f"requirepass {MASK}"
    assert redact("user=app port=5432") == "user=app port=5432"


def test_env_values_however_they_are_written_and_short_plain_values_kept_elsewhere():
    text = "A=plain-value\nexport B=\"quoted value\"\nC='single'\nD=1\nE=true # comment\n"
    assert env_values(text) == {
        "A": "plain-value",
        "B": "quoted value",
        "C": "single",
        "D": "1",
        "E": "true",
    }
    redact = Redactor(env_values(text).values())
    assert redact("plain-value and quoted value and single, 1 true") == (
        f"{MASK} and {MASK} and {MASK}, 1 true"
    )
    assert redact_env_file(text).splitlines() == [
        f"A={MASK}",
        f"export B={MASK}",
        f"C={MASK}",
        f"D={MASK}",
        f"E={MASK}",
    ]


def test_the_bundle_is_never_readable_by_others_whatever_the_umask(tmp_path):
    project = make_project(tmp_path)
    old = os.umask(0)
    try:
        result = doctor(project, "--bundle")
    finally:
        os.umask(old)
    bundle = next((project / ".devenv").glob("devenv-doctor-*.tar.gz"))
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600, result.stdout
