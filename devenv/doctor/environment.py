"""The project's dependencies: drift per lockfile, parity with prod, the virtualenv's Python.

Ids: ``deps.<lockfile>`` (its path in the project), ``parity.<name>``,
``python-version`` (only when the virtualenv exists). The answers come from
``devenv.environment`` (drift, parity, pyversion); doctor only turns them into
checks. Installing is ``devenv sync``'s job, so none of these is fixable here,
and removing a virtualenv is never done without asking.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from devenv.doctor.checks import Check, Context, fail, ok, warn

if TYPE_CHECKING:
    from devenv.environment.project import ProjectEnv

SYNC = "`devenv sync`"


def project_env(context: Context) -> ProjectEnv:
    """The project's environment (venv, lockfiles) as devenv.environment sees it."""
    from devenv.environment.project import ProjectEnv

    assert context.config is not None
    return ProjectEnv.from_config(context.config)


def deps(context: Context) -> Iterator[Check]:
    from devenv.environment import drift

    for path, found in drift.check(project_env(context)).items():
        check_id = f"deps.{context.shown(path)}"
        message = drift.summary(found)
        if found.state == "in-sync" and found.unpinned and path.suffix == ".txt":
            yield warn(
                check_id,
                f"{message}: not reproducible, each install may pick other versions",
                f"pin it: `uv pip compile {path.name} -o {path.stem}.lock`, commit that lock "
                "and watch it instead ([lockfiles] watch)",
            )
        elif found.state == "in-sync":
            yield ok(check_id, message)
        elif found.state in ("drift", "not-installed"):
            yield warn(check_id, message, f"{SYNC} installs what {path.name} pins")
        else:
            yield fail(
                check_id,
                message,
                f"correct or regenerate {path.name} as the message says (or leave it out of "
                "[lockfiles] watch)",
            )


def parity(context: Context) -> Iterator[Check]:
    from devenv.environment.parity import check_parity

    venv = project_env(context).venv
    for name, found in check_parity(context.stack, venv).items():
        check_id = f"parity.{name}"
        # Parity.message ends with the hint; here the hint is the check's fix.
        message = found.message.removesuffix(f": {found.hint}") if found.hint else found.message
        if found.state in ("ok", "patch"):
            yield ok(check_id, message)
        else:  # "major", "minor", or "missing" here while prod has it
            yield warn(check_id, message, found.hint or f"install the {name} [prod] names")


def venv_location(context: Context) -> Iterator[Check]:
    from devenv.environment.startup import moved_venv_notice

    env = project_env(context)
    if not env.venv.is_dir():
        return
    moved = moved_venv_notice(env)
    shown = context.shown(env.venv)
    if moved is None:
        yield ok("venv-location", f"{shown} belongs to this project")
    else:
        message, _, fix = moved.partition(". Remove ")
        yield fail("venv-location", message, f"remove {fix}")


def python_version(context: Context) -> Iterator[Check]:
    from devenv.environment.installed import venv_python_version
    from devenv.environment.pyversion import python_request, satisfies

    assert context.config is not None
    venv = project_env(context).venv
    have = venv_python_version(venv)
    if have is None:
        return  # no virtualenv yet: deps.<lockfile> says "not installed"
    shown = context.shown(venv)
    request = python_request(context.config)
    if request is None:
        yield ok("python-version", f"{shown} has Python {have} (the project names no version)")
    elif satisfies(have, request.request):
        yield ok(
            "python-version", f"{shown} has Python {have} ({request.source}: {request.request})"
        )
    else:
        yield fail(
            "python-version",
            f"{shown} has Python {have}, but {request.source} asks for {request.request}",
            f"remove {shown} and run {SYNC}: it makes the virtualenv again with the right "
            "Python (devenv never deletes it for you)",
        )
