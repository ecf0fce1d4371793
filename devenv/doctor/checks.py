"""The Check record, what checks look at (``Context``), the list of checks, and running them.

A caller may rely on: ``run_checks(start)`` never raises for anything it
finds (a crashed check is a "fail" naming the error); the ids are stable; the
"config" check always comes first, and when the config is missing or broken
the checks that need it are left out, not shown as ok; ``Check.as_json()`` is
the shape ``devenv doctor --json`` prints.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, ParamSpec

from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.config import Config
    from devenv.project.layout import Layout
    from devenv.services.base import Service
    from devenv.services.stack import Stack

State = Literal["ok", "warn", "fail"]
STATES: tuple[State, ...] = ("ok", "warn", "fail")
BUG_FIX = "this is a bug in devenv: please report it with the file `devenv doctor --bundle` writes"


@dataclass(frozen=True)
class Check:
    """One thing looked at: its state, a sentence for people, and what to do about it.

    ``repair``, when set, is a safe fix (it never deletes data) that
    ``apply_fixes`` runs; it returns a sentence saying what it did.
    """

    id: str
    state: State
    message: str
    fix: str = ""
    repair: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @property
    def fixable(self) -> bool:
        return self.repair is not None and self.state != "ok"

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "message": self.message,
            "fix": self.fix,
            "fixable": self.fixable,
        }


def ok(check_id: str, message: str) -> Check:
    return Check(check_id, "ok", message)


def warn(check_id: str, message: str, fix: str, repair: Callable[[], str] | None = None) -> Check:
    return Check(check_id, "warn", message, fix, repair)


def fail(check_id: str, message: str, fix: str, repair: Callable[[], str] | None = None) -> Check:
    return Check(check_id, "fail", message, fix, repair)


def crashed(check_id: str, err: BaseException) -> Check:
    """The check itself failed: shown as a failing check, never as a traceback."""
    if isinstance(err, DevenvError):
        return Check(check_id, "fail", str(err), "correct what the message says, then run again")
    return Check(check_id, "fail", f"the check failed: {type(err).__name__}: {err}", BUG_FIX)


_Args = ParamSpec("_Args")


def guarded(
    check_id: str, probe: Callable[_Args, Check | None], *args: _Args.args, **kwargs: _Args.kwargs
) -> Check | None:
    """``probe(*args, **kwargs)``, or a failing check named ``check_id`` when it raises."""
    try:
        return probe(*args, **kwargs)
    except Exception as err:
        return crashed(check_id, err)


# ---------------------------------------------------------------- what checks look at


@dataclass
class Context:
    """The project being checked: its folder and config when they could be found and read."""

    start: Path
    root: Path | None = None  # the folder holding the config file
    config_file: Path | None = None
    config: Config | None = None  # None when missing or broken
    _services: dict[str, Service | None] = field(default_factory=dict, repr=False)

    @cached_property
    def layout(self) -> Layout:
        from devenv.project.layout import Layout

        assert self.root is not None, "a check that needs the project ran without one"
        return Layout(self.root)

    @cached_property
    def stack(self) -> Stack:
        from devenv.events import ignore
        from devenv.services.stack import Stack

        assert self.config is not None, "a check that needs the config ran without one"
        return Stack(self.config, ignore)

    def service(self, name: str) -> Service | None:
        """The project's service ``name``, or None when it cannot be built (binaries says why)."""
        if name not in self._services:
            try:
                self._services[name] = self.stack.service(name)
            except DevenvError:
                self._services[name] = None
        return self._services[name]

    def shown(self, path: Path) -> str:
        """``path`` relative to the project when it is inside it, for messages."""
        if self.root is not None:
            try:
                return str(path.relative_to(self.root))
            except ValueError:
                pass
        return str(path)

    @property
    def project_name(self) -> str:
        if self.config is not None:
            return self.config.project.name
        return self.root.name if self.root is not None else self.start.name


def load_context(start: Path) -> tuple[Context, Check]:
    """The context for ``start`` and the "config" check that says how loading it went."""
    from devenv.config import find_config, load_config

    context = Context(start)
    try:
        path = find_config(start)
    except DevenvError as err:
        return context, fail("config", str(err), "run `devenv init` in the project's folder")
    context.root, context.config_file = path.parent, path
    try:
        config = load_config(path)
    except DevenvError as err:
        fix = (
            f"correct {path.name} where the message says (the checks that need the config "
            "were skipped)"
        )
        return context, fail("config", str(err), fix)
    except Exception as err:
        return context, crashed("config", err)
    context.config = config
    what = [
        f"{len(config.services)} service{'s' if len(config.services) != 1 else ''}",
        f"{len(config.processes)} process{'es' if len(config.processes) != 1 else ''}",
    ]
    return context, ok("config", f"{path.name} is valid ({', '.join(what)})")


# ---------------------------------------------------------------- the list


Needs = Literal["nothing", "project", "config"]


@dataclass(frozen=True)
class Family:
    """A kind of check: ``target`` ("module:function" under devenv.doctor) yields its checks.

    ``needs`` says what must have loaded for it to run: "project" (the folder
    was found, even with a broken config) or "config". ``id`` names the
    failing check reported when the family itself crashes.
    """

    id: str
    needs: Needs
    target: str | Callable[[Context], Iterable[Check]]

    def run(self, context: Context) -> Iterable[Check]:
        target = self.target
        if isinstance(target, str):
            module, _, function = target.partition(":")
            target = getattr(importlib.import_module(f"devenv.doctor.{module}"), function)
        return target(context)


FAMILIES: tuple[Family, ...] = (
    Family("service-user", "project", "services:service_user"),
    Family("binaries", "config", "services:binaries"),
    Family("ports", "config", "services:ports"),
    Family("stale-pid", "config", "services:stale_pids"),
    Family("stale-sockets", "project", "host:stale_sockets"),
    Family("leftovers", "project", "processes:leftovers"),
    Family("socket-path", "project", "host:socket_path"),
    Family("disk", "nothing", "host:disk"),
    Family("git-hooks", "config", "repository:git_hooks"),
    Family("deps", "config", "environment:deps"),
    Family("parity", "config", "environment:parity"),
    Family("python-version", "config", "environment:python_version"),
    Family("venv-location", "config", "environment:venv_location"),
)


@dataclass(frozen=True)
class Report:
    """The checks of one run, in order, and the context they looked at."""

    context: Context
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return any(check.state == "fail" for check in self.checks)

    def as_json(self) -> dict:
        return {"checks": [check.as_json() for check in self.checks]}

    def lines(self) -> list[str]:
        """The report for people: one line per check, and under each problem what to do."""
        width = max((len(check.id) for check in self.checks), default=0)
        marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
        out = []
        for check in self.checks:
            out.append(f"{marks[check.state]}  {check.id:<{width}}  {check.message}")
            if check.state != "ok" and check.fix:
                out.append(f"{'':<{width + 6}}  fix: {check.fix}")
        failures = sum(check.state == "fail" for check in self.checks)
        warnings = sum(check.state == "warn" for check in self.checks)
        fixable = sum(check.fixable for check in self.checks)
        if not failures and not warnings:
            out.append(f"all {len(self.checks)} checks passed")
        else:
            parts = [_count(failures, "failure"), _count(warnings, "warning")]
            summary = ", ".join(part for part in parts if part)
            if fixable:
                summary += f"; `devenv doctor --fix` repairs {fixable} of them"
            out.append(summary)
        return out


def _count(n: int, word: str) -> str:
    return "" if n == 0 else f"{n} {word}{'s' if n != 1 else ''}"


def run_checks(start: Path, families: Iterable[Family] = FAMILIES) -> Report:
    """Every check for the project around ``start``; see the module's docstring."""
    context, config_check = load_context(start)
    checks = [config_check]
    for family in families:
        if family.needs == "config" and context.config is None:
            continue
        if family.needs == "project" and context.root is None:
            continue
        checks.extend(_run_family(family, context))
    return Report(context, tuple(checks))


def _run_family(family: Family, context: Context) -> list[Check]:
    found: list[Check] = []
    try:
        found.extend(check for check in family.run(context) if check is not None)
    except Exception as err:
        found.append(crashed(family.id, err))
    return found


# ---------------------------------------------------------------- fixing


@dataclass(frozen=True)
class Fixed:
    """What one repair did (``done``), or why it could not (``done`` False)."""

    id: str
    done: bool
    message: str

    def as_json(self) -> dict:
        return {"id": self.id, "done": self.done, "message": self.message}


def apply_fixes(checks: Iterable[Check]) -> list[Fixed]:
    """Run the repair of every fixable check, in order; a repair that raises is reported."""
    results = []
    for check in checks:
        if not check.fixable:
            continue
        assert check.repair is not None
        try:
            results.append(Fixed(check.id, True, check.repair()))
        except Exception as err:
            message = str(err) if isinstance(err, DevenvError) else f"{type(err).__name__}: {err}"
            results.append(Fixed(check.id, False, message))
    return results
