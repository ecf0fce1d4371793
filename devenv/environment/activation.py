"""The project's environment for a child: ``VIRTUAL_ENV`` and ``PATH``, as ``activate`` sets them.

Every process, hook and ``devenv run`` command gets it, and ``devenv env``
prints it, so that ``python``, ``pytest`` or ``gunicorn`` mean the project's
own, and ``node_modules/.bin`` tools are found, with nothing activated by hand.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

from devenv.config import dotenv
from devenv.environment.project import ProjectEnv


def path_prefix(env: ProjectEnv) -> list[str]:
    """The folders put first on PATH: the venv's bin (Python projects), node_modules/.bin (Node)."""
    prefix = []
    if env.python_lockfiles or env.venv.is_dir():
        prefix.append(str(env.venv_bin))
    if env.node_lockfiles or env.node_modules.is_dir():
        prefix.append(str(env.node_modules / ".bin"))
    return prefix


def activate(env: ProjectEnv, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the project's environment first (a new dict; ``base`` is left alone)."""
    result = dict(base)
    prefix = path_prefix(env)
    if not prefix:
        return result
    rest = [p for p in result.get("PATH", os.defpath).split(os.pathsep) if p and p not in prefix]
    result["PATH"] = os.pathsep.join([*prefix, *rest])
    if str(env.venv_bin) in prefix:
        result["VIRTUAL_ENV"] = str(env.venv)
        result.pop("PYTHONHOME", None)  # would point the venv's python at another stdlib
    return result


def export_lines(env: ProjectEnv) -> list[str]:
    """``export`` lines for ``eval "$(devenv env)"`` and direnv; PATH keeps the shell's own."""
    prefix = path_prefix(env)
    if not prefix:
        return []
    lines = []
    if str(env.venv_bin) in prefix:
        lines += dotenv.export_lines({"VIRTUAL_ENV": str(env.venv)})
    joined = shlex.quote(os.pathsep.join(prefix))
    lines.append(f'export PATH={joined}:"$PATH"')
    return lines
