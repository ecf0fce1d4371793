"""What the onboarding tests share: a git identity of their own, a real webhook receiver (a
local http.server in a thread), and a small real project with a bare origin to push to."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

IDENTITY = ("Ada Lovelace", "ada@example.invalid")


# The default steps, in the order the issue gives them (the contract of `onboard --json`).
STEPS = [
    "prerequisites",
    "services",
    "dependencies",
    "git-hooks",
    "app",
    "branch",
    "first-change",
    "tests",
    "commit",
    "ship",
]


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def git_identity(folder: Path) -> dict[str, str]:
    """Variables that give git a global config of our own, with an identity in it."""
    config = folder / "gitconfig"
    config.write_text(
        f"[user]\n\tname = {IDENTITY[0]}\n\temail = {IDENTITY[1]}\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass
class Webhook:
    """A real HTTP server on a free port; every POST's JSON body lands in ``posts``."""

    posts: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    received: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/shipped"

    def __enter__(self) -> Webhook:
        posts, received = self.posts, self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                posts.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                received.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


LINT = """\
import sys

text = open("greeting.txt").read()
if "!!!" in text:
    print("greeting.txt:1: three exclamation marks are shouting")
    sys.exit(1)
"""

TEST = """\
import unittest


class Greeting(unittest.TestCase):
    def test_it_says_something(self):
        with open("greeting.txt") as f:
            self.assertTrue(f.read().strip(), "greeting.txt is empty")
"""


def tiny_project(parent: Path, *, webhook: str | None = None, onboarding: str = "") -> Path:
    """A project with no services and no processes: a greeting, a lint and a unittest, in a
    git repository on main whose origin is a bare repository beside it (``tiny-origin.git``).
    ``onboarding`` replaces the [onboarding] table's extra lines."""
    root = parent / "tiny"
    origin = parent / "tiny-origin.git"
    root.mkdir()
    python = sys.executable
    hook = f'webhook = "{webhook}"\n' if webhook else ""
    (root / "devenv.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "tiny"

            [onboarding]
            test = "{python} -m unittest -q"
            lint = "{python} lint.py"
            """
        )
        + hook
        + onboarding
        + textwrap.dedent(
            """
            [onboarding.first_change]
            title = "Say hello"
            file = "greeting.txt"
            hint = "Write a friendlier greeting."
            """
        )
    )
    (root / "greeting.txt").write_text("Hello.\n")
    (root / "lint.py").write_text(LINT)
    (root / "test_greeting.py").write_text(TEST)
    (root / ".gitignore").write_text(".devenv/\n__pycache__/\n")
    git(parent, "init", "-q", "--bare", "-b", "main", str(origin))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", "The tiny project")
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "-u", "origin", "main")
    return root
