"""The fingerprint of a lockfile and the installed set, and the results stored under it.

drift.check() answers from ``env.state_file`` (``.devenv/deps.json``) when a
lockfile's fingerprint equals the stored one.

What the fingerprint covers (see ``fingerprint()``):

- the lockfile and the files it includes (``Lockfile.includes``): size,
  mtime_ns, ctime_ns and inode of each;
- Python: the site-packages path, the sorted names of its ``*.dist-info`` and
  ``*.egg-info`` entries, and pyvenv.cfg's text. A dist-info name carries the
  version, so installing, removing, upgrading or downgrading anything changes
  the list; hashing the names is enough because names are all that
  ``python_installed()`` reads (METADATA is opened only for a name that cannot
  be split, and installers never rewrite it without renaming the folder);
- node: each top-level package's name and its package.json's stat. That costs
  a stat per package (~1 ms for 500) where ``node_modules/.package-lock.json``
  would cost one, but that file is npm's alone (yarn and pnpm do not write it)
  and a package folder removed or replaced by hand would not touch it.

A file stat'd less than ``RACY_NS`` after its last modification is *racy*
(git's word): another write in the same filesystem-timestamp tick could leave
its stat unchanged, so such a result is stored without a fingerprint and the
next ``check()`` computes it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.environment.installed import dist_entries, node_packages, site_packages
from devenv.environment.model import Drift, Wrong
from devenv.files import write_atomic

if TYPE_CHECKING:
    from devenv.environment.project import ProjectEnv

STATE_FORMAT = 1
RACY_NS = 1_000_000_000
_STATES = frozenset({"in-sync", "drift", "not-installed", "unknown"})


class Hash:
    """A digest fed field by field, with the newest mtime it saw and when it started
    looking (to tell racy files)."""

    def __init__(self) -> None:
        self.digest = hashlib.blake2b(digest_size=16)
        self.newest_ns = 0
        self.taken_ns = time.time_ns()

    @property
    def racy(self) -> bool:
        return self.newest_ns > self.taken_ns - RACY_NS

    def text(self, value: str) -> None:
        self.digest.update(value.encode("utf-8", "surrogateescape") + b"\0")

    def stat(self, path: Path | str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            self.text(f"{path}|absent")
            return
        self.text(f"{path}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}")
        self.newest_ns = max(self.newest_ns, st.st_mtime_ns)


def installed_part(env: ProjectEnv, ecosystem: str) -> Hash:
    part = Hash()
    if ecosystem == "node":
        node_modules = env.node_modules
        part.text(f"node|{node_modules}|{node_modules.is_dir()}")
        for name in node_packages(node_modules):
            part.stat(f"{node_modules}/{name}/package.json")
        return part
    site = site_packages(env.venv)
    part.text(f"python|{site}")
    for name in dist_entries(site):
        part.text(name)
    try:
        part.text((env.venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        part.text("no pyvenv.cfg")
    return part


def files_part(lockfile: Path, includes: Iterable[Path]) -> Hash:
    part = Hash()
    part.stat(lockfile)
    for path in includes:
        part.stat(path)
    return part


def combine(installed: Hash, files: Hash) -> str | None:
    if installed.racy or files.racy:
        return None
    return f"{installed.digest.hexdigest()}-{files.digest.hexdigest()}"


def fingerprint(env: ProjectEnv, lockfile: Path, includes: Iterable[Path] = ()) -> str | None:
    """A string that changes whenever ``lockfile``, one of ``includes`` or the installed
    set it is compared with (env's venv or node_modules, by the lockfile's name) may
    have changed; None when one of those files was modified within ``RACY_NS``, too
    recently for its stat to be trusted."""
    installed = installed_part(env, env.ecosystem(lockfile))
    return combine(installed, files_part(lockfile, includes))


# ---------------------------------------------------------------- the state file


def drift_from_json(path: Path, data: object) -> Drift | None:
    """A Drift from its stored as_json() form; None when it is not that shape."""
    if not isinstance(data, dict):
        return None
    try:
        lists = [data[key] for key in ("missing", "extra", "unpinned", "wrong")]
        if not all(isinstance(value, list) for value in lists):
            return None
        missing, extra, unpinned = (tuple(data[key]) for key in ("missing", "extra", "unpinned"))
        wrong = tuple(
            Wrong(name=w["name"], locked=w["locked"], installed=w["installed"])
            for w in data["wrong"]
        )
        state, error = data["state"], data.get("error", "")
    except (KeyError, TypeError, AttributeError):
        return None
    strings = [*missing, *extra, *unpinned, error]
    strings += [value for w in wrong for value in (w.name, w.locked, w.installed)]
    if state not in _STATES or not all(isinstance(value, str) for value in strings):
        return None
    return Drift(
        lockfile=path,
        state=state,
        missing=missing,
        wrong=wrong,
        extra=extra,
        unpinned=unpinned,
        error=error,
    )


def load_state(state_file: Path) -> dict[str, dict]:
    """The stored entries by lockfile path; {} when the file is missing, unreadable,
    corrupt, or written by another format or devenv version (then it is recomputed)."""
    from devenv import __version__

    try:
        data = json.loads(state_file.read_bytes())
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(data, dict)
        or data.get("format") != STATE_FORMAT
        or data.get("devenv") != __version__
        or not isinstance(data.get("lockfiles"), dict)
    ):
        return {}
    return {key: entry for key, entry in data["lockfiles"].items() if isinstance(entry, dict)}


def write_state(state_file: Path, entries: dict[str, dict]) -> bool:
    """Write atomically, mode 0600.
    False when it cannot be written: a state that is not stored is only slower."""
    from devenv import __version__

    data = {"format": STATE_FORMAT, "devenv": __version__, "lockfiles": entries}
    try:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(state_file, json.dumps(data, indent=1, sort_keys=True))
    except OSError:
        return False
    return True


def entry(drift: Drift) -> dict:
    details = drift.details
    return {
        "fingerprint": details.get("fingerprint"),
        "includes": [str(path) for path in details.get("includes", ())],
        "tool": details.get("tool", ""),
        "drift": drift.as_json(),
    }


def remember(env: ProjectEnv, results: Mapping[Path, Drift]) -> bool:
    """Store ``results`` in ``env.state_file`` for the next check(), keeping the entries of
    env's other lockfiles and dropping those of lockfiles env no longer has.

    The fingerprint stored is ``drift.details["fingerprint"]`` (check() puts it there,
    taken before anything was read); a Drift without one is stored so that the next
    check() computes it again. The file is not rewritten when that would not change it.
    Returns False when it cannot be written.
    """
    known = {str(path) for path in env.lockfiles}
    stored = load_state(env.state_file)
    entries = {key: e for key, e in stored.items() if key in known}
    entries.update({str(path): entry(drift) for path, drift in results.items()})
    return entries == stored or write_state(env.state_file, entries)


def forget(env: ProjectEnv) -> None:
    """Remove the stored state: the next check() computes everything."""
    with contextlib.suppress(FileNotFoundError):
        env.state_file.unlink()
