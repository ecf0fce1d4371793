"""The support bundle: what a maintainer needs to help, with the secrets taken out.

``write_bundle(report)`` writes ``devenv-doctor-<time>.tar.gz`` (mode 0600)
into the project's ``.devenv/`` (git-ignored, so it is never committed by
accident), or into the current folder outside a project, and returns its
path. Inside one folder of the same name:

- ``doctor.json``, ``doctor.txt``: the report, as ``--json`` and as printed;
- ``versions.json``: devenv, the OS, the servers, Python (devenv's and the
  project's virtualenv's), node and uv;
- ``project/``: the config file (devenv.toml or pyproject.toml), the Procfile,
  ``.env`` (names only), ``.python-version``, the project's own recipes,
  ``.devenv/ports.json`` and ``.devenv/processes.json``;
- ``logs/``: the last lines of every log in ``.devenv/logs``.

Every file goes through ``devenv.doctor.redact`` first.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections import deque
from pathlib import Path

from devenv import __version__
from devenv.doctor.checks import Context, Report
from devenv.doctor.redact import SECRET_NAME, Redactor, env_values, redact_env_file

LOG_LINES = 200
LOG_BYTES = 64 * 1024
PROBE_TIMEOUT = 10.0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _tail(path: Path) -> str:
    with open(path, "rb") as log:
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - LOG_BYTES))
        text = log.read().decode("utf-8", "replace")
    return "\n".join(deque(text.splitlines(), maxlen=LOG_LINES)) + "\n"


def _tool_version(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return f"could not run {argv[0]}: {err}"
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return lines[0] if lines else f"{argv[0]} printed nothing (exit code {result.returncode})"


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


def _distribution() -> str:
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]}"
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return ""


def versions(context: Context) -> dict:
    """devenv's, the OS's, the servers', Python's, node's and uv's versions."""
    from devenv.project import privileges

    node = shutil.which("node")
    uv = _uv()
    info: dict = {
        "devenv": __version__,
        "os": {
            "platform": platform.platform(),
            "distribution": _distribution(),
            "machine": platform.machine(),
        },
        "root": privileges.is_root(),
        "python": {"devenv": platform.python_version(), "executable": sys.executable},
        "node": _tool_version([node, "--version"]) if node else None,
        "uv": _tool_version([uv, "--version"]) if uv else None,
        "servers": _servers(context),
    }
    if context.config is not None:
        from devenv.doctor.environment import project_env
        from devenv.environment.installed import venv_python_version

        info["python"]["venv"] = venv_python_version(project_env(context).venv)
    return info


def _servers(context: Context) -> dict:
    if context.config is None:
        return {}
    from devenv.services.installations import find_installation
    from devenv.services.recipes import recipe_for

    found = {}
    for name, config in context.config.services.items():
        try:
            installation = find_installation(recipe_for(config), config.version)
        except Exception as err:  # the report's binaries.<name> says the same
            found[name] = {"error": str(err)}
            continue
        found[name] = {"version": str(installation.version), "path": str(installation.server)}
    return found


def _project_files(context: Context) -> list[Path]:
    """The project's files that say how it is set up (those that exist)."""
    if context.root is None:
        return []
    root, config = context.root, context.config
    files = [context.config_file] if context.config_file else []
    if config is not None:
        files += [config.project.procfile, config.project.env_file]
        files += [service.recipe for service in config.services.values() if not service.bundled]
    else:
        files += [root / "Procfile", root / ".env"]
    files += [root / ".python-version", root / ".devenv" / "ports.json"]
    files += [root / ".devenv" / "processes.json"]
    return [path for path in dict.fromkeys(files) if path is not None and path.is_file()]


def _env_file(context: Context) -> Path | None:
    if context.config is not None:
        return context.config.project.env_file
    return context.root / ".env" if context.root is not None else None


def _secret_settings(data: object) -> list[str]:
    """String values under secret-looking keys anywhere in a parsed TOML document."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and SECRET_NAME.match(str(key)):
                found.append(value)
            else:
                found += _secret_settings(value)
    elif isinstance(data, list):
        for item in data:
            found += _secret_settings(item)
    return found


def secrets(context: Context) -> list[str]:
    """The literal values to take out everywhere: every value of .env, the config file's
    values under secret-looking keys (a process's STRIPE_KEY), read from the raw TOML so that
    a config that does not load still gives them up, and the project's generated password."""
    import tomllib

    values: list[str] = []
    env_file = _env_file(context)
    if env_file is not None:
        values += env_values(_read(env_file) or "").values()
    if context.config_file is not None:
        # A file that is not TOML gives nothing here; rule 3 still masks NAME = "value" in it.
        with contextlib.suppress(tomllib.TOMLDecodeError):
            values += _secret_settings(tomllib.loads(_read(context.config_file) or ""))
    if context.root is not None:
        from devenv.errors import DevenvError
        from devenv.project.layout import Layout
        from devenv.services.password import read_password

        with contextlib.suppress(DevenvError, OSError):
            values.append(read_password(Layout(context.root)) or "")
    return [value for value in values if value]


def contents(report: Report) -> dict[str, str]:
    """Archive name -> text, before redaction."""
    context = report.context
    files = {
        "doctor.json": json.dumps(report.as_json(), indent=2) + "\n",
        "doctor.txt": "\n".join(report.lines()) + "\n",
        "versions.json": json.dumps(versions(context), indent=2) + "\n",
    }
    env_file = _env_file(context)
    for path in _project_files(context):
        text = _read(path)
        if text is None:
            continue
        if path == env_file:
            text = redact_env_file(text)
        files[f"project/{context.shown(path)}"] = text
    if context.root is not None:
        logs = context.root / ".devenv" / "logs"
        for log in sorted(logs.glob("*.log")) if logs.is_dir() else []:
            try:
                files[f"logs/{log.name}"] = _tail(log)
            except OSError as err:
                files[f"logs/{log.name}"] = f"(could not read: {err})\n"
    return files


def _open_new(folder: Path, stem: str) -> tuple[Path, int]:
    """A new file ``stem.tar.gz`` (or ``stem-2.tar.gz``, ...) in ``folder``, mode 0600."""
    for attempt in range(1, 100):
        name = stem if attempt == 1 else f"{stem}-{attempt}"
        path = folder / f"{name}.tar.gz"
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(f"too many support bundles named {stem}* in {folder}")


def write_bundle(report: Report) -> Path:
    """Write the redacted support bundle; return its path (see the module's docstring)."""
    context = report.context
    if context.root is not None:
        folder = context.root / ".devenv"
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = context.start
    redact = Redactor(secrets(context))
    files = contents(report)
    now = time.time()
    stem = f"devenv-doctor-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    path, fd = _open_new(folder, stem)
    top = path.name.removesuffix(".tar.gz")
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, text in files.items():
            data = redact(text).encode("utf-8")
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o600, int(now)
            tar.addfile(info, io.BytesIO(data))
    return path
