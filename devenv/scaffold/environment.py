"""The project's environment as ``devenv init`` finds it: the lockfiles devenv will watch (and
the installer each needs), requirements files that hold ranges, manifests without a lockfile
yet, and a virtualenv that already exists."""

from __future__ import annotations

from devenv.environment.lockfiles import LOCKFILE_TOOLS
from devenv.scaffold.evidence import Finding
from devenv.scaffold.reading import ProjectFiles

_OWN = {"uv": "uv, devenv's own"}
# lockfile name -> what installs it (devenv runs it, except for the last three: devenv watches
# those, the language's own tool installs them)
INSTALLERS = {
    **{name: _OWN.get(tool, tool) for name, tool in LOCKFILE_TOOLS.items()},
    "Gemfile.lock": "bundler: `bundle install`; devenv watches it, it does not install gems",
    "Cargo.lock": "cargo; devenv watches it only",
    "go.sum": "go; devenv watches it only",
}
REQUIREMENTS_INSTALLER = "uv pip, devenv's own"
# A manifest whose lockfile a later install writes: watched from then on, if watch is left out.
MANIFEST_LOCKS = {
    "package.json": "package-lock.json (npm install), yarn.lock or pnpm-lock.yaml",
    "Gemfile": "Gemfile.lock (bundle install)",
    "Pipfile": "Pipfile.lock (pipenv lock)",
}
# Lockfiles devenv has no reader for: a manifest beside one is not waiting for a lockfile.
UNREAD_LOCKS = {
    "bun.lock": ("package.json", "bun install"),
    "bun.lockb": ("package.json", "bun install"),
    "npm-shrinkwrap.json": ("package.json", "npm ci"),
}


def installer_of(name: str) -> str:
    return INSTALLERS.get(name, REQUIREMENTS_INSTALLER)


def lockfiles(files: ProjectFiles) -> list[Finding]:
    """The lockfiles in the root (as devenv's own detection finds them), each with its
    installer. With none in the root, those of the one app folder that has some (app/
    requirements.txt beside app/manage.py): devenv installs only what [lockfiles] watch names
    outside the root, and the app's hooks need its packages."""
    from devenv.config import detect_lockfiles

    out = []
    for path in detect_lockfiles(files.root):
        rel = path.relative_to(files.root).as_posix()
        out.append(
            Finding("lockfile", rel, rel, rel, None, f"installed with {installer_of(path.name)}")
        )
    if out:
        return out
    below = {
        folder: detect_lockfiles(files.root / folder)
        for folder in files.app_folders()
        if folder not in ("requirements", "reqs", "requirements.d")
    }
    below = {folder: paths for folder, paths in below.items() if paths}
    if len(below) != 1:
        return out
    ((folder, paths),) = below.items()
    for path in paths:
        rel = path.relative_to(files.root).as_posix()
        why = f"installed with {installer_of(path.name)}; the app's, in {folder}/"
        out.append(Finding("lockfile", rel, rel, rel, None, why))
    return out


def notes(files: ProjectFiles, found: list[Finding]) -> list[str]:
    """Ranges in requirements files, manifests waiting for a lockfile, requirements/ folders."""
    from devenv.environment.lockfiles import LockfileError, read_lockfile

    out = []
    names = {f.value for f in found}
    for finding in found:
        if not finding.value.endswith(".txt"):
            continue
        path = files.root / finding.value
        try:
            packages = read_lockfile(path).packages
        except (LockfileError, OSError, ValueError) as err:  # UnicodeDecodeError: a ValueError
            out.append(f"{path.name} cannot be read: {err}")
            continue
        loose = [p.name for p in packages if p.version is None and not p.local]
        if loose:
            shown = ", ".join(loose[:4]) + (f" and {len(loose) - 4} more" if len(loose) > 4 else "")
            out.append(
                f"{path.name} has ranges, not pins ({shown}): devenv installs it all the same, "
                "but not reproducibly. Pin it: `uv pip compile "
                f"{path.name} -o {path.stem}.lock`, "
                "commit it and watch it instead ([lockfiles] watch)."
            )
    unread = {}
    for name, (manifest, command) in UNREAD_LOCKS.items():
        if files.exists(name) and manifest not in unread:
            unread[manifest] = name
            out.append(
                f"{name}: devenv cannot read this lockfile, so it neither installs from it nor "
                f"watches it for drift; install with `{command}` yourself"
            )
    for manifest, lock in MANIFEST_LOCKS.items():
        stem = lock.split(" ", 1)[0]
        if (
            files.exists(manifest)
            and manifest not in unread
            and stem not in names
            and not (manifest == "package.json" and names & {"yarn.lock", "pnpm-lock.yaml"})
        ):
            out.append(
                f"{manifest} has no lockfile beside it yet: {lock} will be watched once it "
                "exists ([lockfiles] watch is left out so that devenv finds it)"
                if not found
                else f"{manifest} has no lockfile beside it yet: once {lock} exists, add it to "
                "[lockfiles] watch"
            )
    from devenv.config import detect_lockfiles

    for folder in files.app_folders():
        if folder in ("requirements", "reqs", "requirements.d"):
            continue
        below = [
            path.relative_to(files.root).as_posix()
            for path in detect_lockfiles(files.root / folder)
        ]
        if below and not set(below) <= names:
            out.append(
                f"{folder}/ holds {', '.join(below[:5])}: devenv watches the root's lockfiles by "
                "default; add the app's to [lockfiles] watch to have devenv install it"
            )
    for folder in ("requirements", "reqs"):
        if files.is_dir(folder):
            listed = [r for r in files.glob("*.txt", depth=1) if r.startswith(f"{folder}/")]
            if listed:
                out.append(
                    f"{folder}/ holds {', '.join(listed[:5])}: devenv watches the root's lockfiles "
                    "by default; add the one dev uses to [lockfiles] watch"
                )
    return out


def existing_venv(files: ProjectFiles) -> Finding | None:
    """A virtualenv already in the project (a folder with pyvenv.cfg), .venv first."""
    # Not .env: that name is the dotenv file devenv reads ([project] env_file).
    for name in (".venv", "venv", "env"):
        if (files.root / name / "pyvenv.cfg").is_file():
            return Finding(
                "venv", name, f"{name}/pyvenv.cfg", "pyvenv.cfg", None, "an existing virtualenv"
            )
    return None
