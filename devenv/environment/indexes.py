"""A package index configured for pip keeps working when devenv installs with uv.

uv reads its own settings (``UV_*``, uv.toml), not pip's. A team or a company
laptop often has pip set up instead: ``pip.conf`` or ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_CERT``.
``uv_environment`` carries those over to the matching ``UV_*`` variables,
unless uv's own are already set, with pip's meaning of extra indexes (the
best version across all of them, not uv's first-index-wins).
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from pathlib import Path

# pip's option -> (uv's variable, how several values are joined)
_OPTIONS = {
    "index-url": ("UV_INDEX_URL", None),
    "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "no-index": ("UV_NO_INDEX", None),
    "cert": ("SSL_CERT_FILE", None),
}


def pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's config files, in the order pip reads them (later ones win)."""
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    home = Path(env.get("HOME", str(Path.home())))
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d]
    files.append(Path("/etc/pip.conf"))
    if sys.platform == "darwin":
        files.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
    files.append(home / ".pip" / "pip.conf")
    files.append(Path(env.get("XDG_CONFIG_HOME", str(home / ".config"))) / "pip" / "pip.conf")
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def pip_settings(env: Mapping[str, str]) -> dict[str, str]:
    """pip's index settings: its config files' [global] and [install], then PIP_* variables."""
    found: dict[str, str] = {}
    for path in pip_config_files(env):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # pip itself would complain about a broken file; not ours to report
        for section in ("global", "install"):
            if parser.has_section(section):
                for option in _OPTIONS:
                    if parser.has_option(section, option):
                        found[option] = parser.get(section, option)
    for option in _OPTIONS:
        variable = "PIP_" + option.upper().replace("-", "_")
        if env.get(variable):
            found[option] = env[variable]
    return found


def uv_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The ``UV_*`` variables to add so that uv uses the indexes pip is configured with."""
    result: dict[str, str] = {}
    for option, value in pip_settings(env).items():
        variable, joiner = _OPTIONS[option]
        if env.get(variable):
            continue  # uv's own setting wins
        if option == "no-index":
            if value.strip().lower() in ("1", "true", "yes", "on"):
                result[variable] = "1"
            continue
        values = value.split()
        result[variable] = joiner.join(values) if joiner else values[0] if values else ""
    if result.get("UV_EXTRA_INDEX_URL") and not env.get("UV_INDEX_STRATEGY"):
        # pip takes the best version across all its indexes; uv by default only looks at the
        # first index that has a package. Keep pip's meaning, since it is pip's setting.
        result["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return {k: v for k, v in result.items() if v}
