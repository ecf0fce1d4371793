"""The git questions and commands the onboarding's steps need, in the project's repository.

``Git(root)`` runs the real ``git``; a command that fails raises DevenvError
with git's own words, never a traceback. Questions ("which branch", "does
this file differ") return plain values and change nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError

MAIN_CANDIDATES = ("main", "master", "trunk", "develop")


@dataclass(frozen=True)
class Git:
    root: Path

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        if shutil.which("git") is None:
            raise DevenvError("git is not installed: install it, then run `devenv onboard` again")
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise DevenvError(f"`git {' '.join(args)}` failed: {detail}")
        return result

    def query(self, *args: str) -> str | None:
        """git's answer (stdout, stripped), or None when it has none: not a repository, the
        key unset, git not installed or not answering within 10 s. Never raises."""
        try:
            result = subprocess.run(
                ["git", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=10,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        answer = result.stdout.strip()
        return answer if result.returncode == 0 and answer else None

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def ok(self, *args: str) -> bool:
        return self.run(*args, check=False).returncode == 0

    # -- the repository ------------------------------------------------------------

    def is_repository(self) -> bool:
        result = self.run("rev-parse", "--show-toplevel", check=False)
        return result.returncode == 0

    def branch(self) -> str | None:
        """The current branch, or None when HEAD is detached."""
        result = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def head(self) -> str | None:
        result = self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def main_branch(self) -> str:
        """The main branch: origin's HEAD when known, else the first of main, master, trunk,
        develop that exists, else the current branch."""
        result = self.run(
            "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip().split("/", 1)[-1]
        for name in MAIN_CANDIDATES:
            if self.ok("show-ref", "--verify", "--quiet", f"refs/heads/{name}"):
                return name
        return self.branch() or "main"

    def rev(self, ref: str) -> str | None:
        result = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def branch_exists(self, name: str) -> bool:
        return self.ok("show-ref", "--verify", "--quiet", f"refs/heads/{name}")

    def upstream(self) -> str | None:
        """The commit of the current branch's upstream (its remote-tracking branch), if any."""
        return self.rev("@{upstream}")

    def identity(self) -> tuple[str | None, str | None]:
        name = self.run("config", "--get", "user.name", check=False).stdout.strip() or None
        email = self.run("config", "--get", "user.email", check=False).stdout.strip() or None
        return name, email

    # -- changes -------------------------------------------------------------------

    def differs(self, base: str, path: Path) -> bool:
        """Whether ``path`` in the working tree differs from its version in ``base`` (a file
        that is new, or deleted, differs)."""
        relative = self.relative(path)
        in_base = self.ok("cat-file", "-e", f"{base}:{relative}")
        if not in_base:
            return path.exists()
        if not path.exists():
            return True
        return not self.ok("diff", "--quiet", base, "--", relative)

    def changed_since(self, base: str) -> bool:
        """Whether anything in the working tree (tracked or new) differs from ``base``."""
        if not self.ok("diff", "--quiet", base):
            return True
        return bool(self.out("ls-files", "--others", "--exclude-standard"))

    def uncommitted(self, path: Path | None = None) -> bool:
        """Whether tracked changes (staged or not) are not committed, for ``path`` or all."""
        args = ["diff", "--quiet", "HEAD"]
        if path is not None:
            args += ["--", self.relative(path)]
        return not self.ok(*args)

    def commits_since(self, base: str) -> int:
        return int(self.out("rev-list", "--count", f"{base}..HEAD") or 0)

    def untracked(self) -> list[str]:
        return self.out("ls-files", "--others", "--exclude-standard").splitlines()

    def tree_fingerprint(self) -> str:
        """A hash of the working tree's content (tracked and new files, not ignored ones),
        the same before and after it is committed: git's tree of it, built in a copy of the
        index so that the real one is left alone."""
        index = Path(self.out("rev-parse", "--git-path", "index"))
        if not index.is_absolute():
            index = self.root / index
        with tempfile.TemporaryDirectory(prefix="devenv-onboard-") as tmp:
            copy = Path(tmp) / "index"
            if index.exists():
                shutil.copyfile(index, copy)  # its stat cache makes `add -A` fast
            env = {**os.environ, "GIT_INDEX_FILE": str(copy)}
            self.run("add", "--all", "--", ".", env=env)
            tree = self.run("write-tree", env=env).stdout.strip()
        return hashlib.sha256(tree.encode()).hexdigest()[:16]

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)
