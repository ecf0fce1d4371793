"""The ``devenv`` command line.

Only ``os`` and ``sys`` are imported at module level, so that ``devenv --version``
answers before argparse and pathlib are loaded and ``devenv --help`` starts fast;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys

from devenv import __version__

TYPE_CHECKING = False  # typing itself costs ~4 ms to import
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from types import SimpleNamespace

    from devenv.errors import DevenvError

    Handler = Callable[[argparse.Namespace], int]


def _not_there_yet(command: str, what: str) -> Handler:
    """A command whose work lands later: it checks the project's config, then says so."""

    def handler(args: argparse.Namespace) -> int:
        from pathlib import Path

        from devenv.config import load_project

        load_project(Path.cwd())
        print(
            f"devenv {command}: not there yet in devenv {__version__} ({what}). "
            "See README.md, 'Status'.",
            file=sys.stderr,
        )
        return 3

    return handler


def _cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devenv.commands.init import init_project

    result = init_project(Path.cwd(), force=args.force, dry_run=args.dry_run)
    for line in result.report():
        print(line)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devenv.commands.demo import create_demo

    demo = create_demo(Path(args.dir).expanduser().resolve())
    print(f"Created the demo project in {demo.path}")
    print(f"  a git repository whose 'origin' is {demo.origin}")
    print("Next:")
    print(f"  cd {demo.path} && {_devenv_command()} up")
    return 0


def _devenv_command() -> str:
    """How the user can run devenv again: ``devenv`` if that is on PATH, else its full path."""
    import shutil
    from pathlib import Path

    beside_python = Path(sys.executable).parent / "devenv"
    on_path = shutil.which("devenv")
    if on_path and (not beside_python.exists() or Path(on_path).samefile(beside_python)):
        return "devenv"
    return str(beside_python) if beside_python.exists() else "devenv"


def _lazy(module: str, function: str, *extra: str) -> Handler:
    """A handler that imports ``devenv.commands.<module>`` only when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        import importlib

        target = getattr(importlib.import_module(f"devenv.commands.{module}"), function)
        return (target(*extra) if extra else target)(args)

    return handler


def _cmd_up(args: argparse.Namespace) -> int:
    if args.detach:
        from devenv.project import startplan

        try:
            startplan.spawn_early(os.getcwd())  # the last start's servers, before the imports
            from devenv.services import warmstart

            if warmstart.finish(os.getcwd()):  # nothing changed: done from the last start's record
                code = 0
            else:
                from devenv.commands.services import up_detached

                code = up_detached(args)
            _done.append(code)  # nothing left to finish: main may end the process at once
            return code
        finally:
            startplan.abandon()  # those the start did not take (it failed before them)
    if not args.no_tui and sys.stdin.isatty() and sys.stdout.isatty():
        from pathlib import Path

        from devenv.config import load_project
        from devenv.tui import run_tui

        return run_tui(load_project(Path.cwd()))
    from devenv.project import procplan

    try:
        procplan.spawn_early(os.getcwd())  # the last start's processes, before the imports
        from devenv.commands.up import up_foreground

        return up_foreground(args)
    finally:
        procplan.abandon()  # those the start did not take (it failed before them)


def _cmd_down(args: argparse.Namespace) -> int:
    from devenv.project import startplan

    try:
        startplan.stop_early(os.getcwd())  # the servers shut down while devenv loads
        from devenv.services import warmstart

        if warmstart.finish_down(os.getcwd()):  # they were all there was: done once they are gone
            code = 0
        else:
            from devenv.commands.services import down

            code = down(args)
        _done.append(code)  # nothing left to finish: main may end the process at once
        return code
    finally:
        startplan.abandon()  # the operation lock, if `down` did not get as far as taking it


def _add_commands(sub: argparse._SubParsersAction) -> None:
    import argparse

    p = sub.add_parser("up", help="start services and processes (the TUI on a terminal)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--no-tui", action="store_true", help="run in the foreground, plain output")
    how.add_argument(
        "-d",
        "--detach",
        action="store_true",
        help="start the services only and return once they are ready",
    )
    p.set_defaults(func=_cmd_up)

    p = sub.add_parser("down", help="stop everything this project runs (never deletes data)")
    p.set_defaults(func=_cmd_down)

    p = sub.add_parser("status", help="services and processes with state, pid, port")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_lazy("services", "status"))

    p = sub.add_parser("env", help="print export lines for DATABASE_URL, REDIS_URL, PG* ...")
    p.set_defaults(func=_lazy("services", "env"))

    for name, service in (("psql", "postgres"), ("redis-cli", "redis")):
        p = sub.add_parser(name, help=f"run {name} connected to this project's {service}")
        p.add_argument("args", nargs=argparse.REMAINDER, help=f"passed on to {name}")
        p.set_defaults(func=_lazy("services", "client", service))

    p = sub.add_parser("logs", help="show a process's or service's log")
    p.add_argument("name")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-n", "--lines", type=_count, default=100, metavar="N")
    p.set_defaults(func=_lazy("services", "logs"))

    p = sub.add_parser("reset", help="wipe a service's data (asks, snapshots first)")
    p.add_argument("service", nargs="?")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.set_defaults(func=_lazy("data", "reset"))

    p = sub.add_parser("snapshot", help="snapshot the databases")
    p.add_argument("name", nargs="?", help="default: the date and time")
    p.add_argument("--list", action="store_true", help="list the snapshots")
    p.set_defaults(func=_lazy("data", "snapshot"))

    p = sub.add_parser("restore", help="restore a snapshot (asks, snapshots first)")
    p.add_argument("name")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.set_defaults(func=_lazy("data", "restore"))

    p = sub.add_parser("sync", help="install what the lockfiles pin, restart what it affects")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be installed; exit 1 if anything would be",
    )
    p.set_defaults(func=_lazy("deps", "sync"))

    p = sub.add_parser("run", help="run a command inside the project's environment")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the command and its arguments")
    p.set_defaults(func=_lazy("deps", "run"))

    p = sub.add_parser("doctor", help="diagnose, repair safe things, write a support bundle")
    p.add_argument("--fix", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--bundle", action="store_true")
    p.set_defaults(func=_lazy("doctor", "doctor"))

    p = sub.add_parser("onboard", help="the first-day onboarding")
    p.add_argument("--reset", action="store_true", help="start the onboarding over")
    p.add_argument("--no-tui", action="store_true", help="run the steps in the terminal")
    p.add_argument("--json", action="store_true", help="steps and times as JSON; changes nothing")
    p.add_argument("-m", "--message", help="the commit's message (default: the change's title)")
    p.set_defaults(func=_lazy("onboard", "onboard"))

    p = sub.add_parser("init", help="write devenv.toml (and a Procfile) for this project")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing devenv.toml (the old one is kept as .bak)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the files it would write and why; write nothing",
    )
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("demo", help="copy the bundled demo project out to DIR")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=_cmd_demo)


def _count(text: str) -> int:
    """A number of lines: an integer >= 0."""
    import argparse

    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of lines >= 0, got '{text}'")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="devenv",
        description="A project's native PostgreSQL, Redis and Procfile processes, "
        "supervised in one terminal UI. No VMs, no Docker.",
    )
    parser.add_argument("--version", action="version", version=f"devenv {__version__}")
    parser.add_argument(
        "-C", dest="directory", metavar="DIR", help="run as if devenv was started in DIR"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_commands(sub)
    return parser


_PASSTHROUGH = ("psql", "redis-cli", "run")


def _protect_passthrough(argv: list[str]) -> list[str]:
    """Make ``devenv psql -c 'select 1'`` hand ``-c`` to psql, not to argparse."""
    i = 0
    while i < len(argv):
        if argv[i] == "-C":
            i += 2
            continue
        if argv[i] in _PASSTHROUGH:
            rest = argv[i + 1 :]
            if rest[:1] != ["--"]:
                return [*argv[: i + 1], "--", *rest]
            return argv
        if not argv[i].startswith("-"):
            return argv
        i += 1
    return argv


def parse_args(
    argv: Sequence[str], parser: argparse.ArgumentParser | None = None
) -> argparse.Namespace:
    """Parse ``argv`` (without the program name) as the ``devenv`` command does."""
    parser = parser or build_parser()
    args = parser.parse_args(_protect_passthrough(list(argv)))
    if getattr(args, "args", None) and args.args[0] == "--":
        args.args = args.args[1:]
    if args.command == "run" and not args.args:
        parser.error("run needs a command, e.g. `devenv run pytest -q`")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one devenv command; returns the exit code (README, "Commands": 0 done, 1 failed,
    2 a usage or configuration mistake, 3 not there yet, 70 a bug in devenv).

    Run for the process's own command line (``argv`` None), a ``devenv up -d`` or
    ``devenv down`` that succeeded ends the process here, after writing its output
    (``_exit_now``)."""
    _done.clear()
    code = _main(argv)
    if argv is None and _done:
        _exit_now(code)
    return code


# The code of a finished `up -d` or `down`: its servers run detached or are gone, its
# threads have joined, its files are closed. The interpreter's teardown would only free
# every module (~11 ms of a warm start that takes ~130 ms in all).
_done: list[int] = []


def _exit_now(code: int) -> None:
    """End the process with ``code`` without the interpreter's teardown, once stdout and
    stderr are written; return instead (the ordinary exit follows) when they cannot be,
    or when a thread still runs or an atexit function waits."""
    import atexit

    threading = sys.modules.get("threading")
    if atexit._ncallbacks() or (threading is not None and threading.active_count() > 1):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # the ordinary exit says what it says about a closed or broken stream
    os._exit(code)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # what argparse's version action prints, without loading it
        print(f"devenv {__version__}")
        return 0
    # A path that is not UTF-8 (a folder named in Latin-1) is printed as its bytes, not an error.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    if argv in (["status"], ["status", "--json"]):
        from devenv.commands import status_fast

        try:
            code = status_fast.answer(len(argv) == 2)  # from the last status's record, if it holds
        except Exception as err:  # a bug in the shortcut: reported as every bug is
            from devenv.errors import report_bug

            return report_bug(err, argv)
        if code is not None:
            return code
    args: argparse.Namespace | SimpleNamespace | None = typed_often(argv)
    if args is None:
        parser = build_parser()
        args = parse_args(argv, parser)
        if args.command is None:
            parser.print_help()
            return 2
    try:
        if args.directory:
            _change_directory(args.directory)
        return args.func(args)
    except _devenv_error() as err:  # evaluated only when something is raised
        print(f"devenv: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `devenv status --json | head`: the reader left. Nothing more to say; keep Python
        # from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell reports SIGPIPE
    except OSError as err:
        from devenv import errors as failure

        if err.filename is None:
            return failure.report_bug(err, argv)
        print(f"devenv: {failure.describe_os_error(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # anything else is a bug: one line, and the trace in a file
        from devenv import errors as failure

        return failure.report_bug(err, argv)


def _devenv_error() -> type[DevenvError]:
    """DevenvError, imported when an error is to be told apart: devenv.errors loads pathlib
    (~4 ms), which a warm `up -d` would otherwise pay before spawning its servers."""
    from devenv.errors import DevenvError

    return DevenvError


def typed_often(argv: list[str]) -> SimpleNamespace | None:
    """``devenv status``, ``devenv status --json``, ``devenv up`` (the dashboard),
    ``devenv up -d`` (``--detach``), ``devenv up --no-tui`` and ``devenv down`` as
    ``parse_args`` parses them, without importing argparse and building the parser (~10 ms:
    these are typed by hand, and run in loops by scripts); None for any other command line."""
    if argv in (["status"], ["status", "--json"]):
        from types import SimpleNamespace

        return SimpleNamespace(
            command="status", directory=None, json=len(argv) == 2, func=_lazy("services", "status")
        )
    if argv in (["up"], ["up", "-d"], ["up", "--detach"], ["up", "--no-tui"]):
        from types import SimpleNamespace

        detach = argv[1:] in (["-d"], ["--detach"])
        return SimpleNamespace(
            command="up",
            directory=None,
            detach=detach,
            no_tui=argv[1:] == ["--no-tui"],
            func=_cmd_up,
        )
    if argv == ["down"]:
        from types import SimpleNamespace

        return SimpleNamespace(command="down", directory=None, func=_cmd_down)
    return None


def _change_directory(folder: str) -> None:
    """``-C DIR``; a folder that cannot be entered is a usage mistake (exit 2)."""
    from devenv.errors import UsageError

    try:
        os.chdir(folder)
    except FileNotFoundError:
        raise UsageError(f"-C {folder}: no such folder") from None
    except NotADirectoryError:
        raise UsageError(f"-C {folder}: not a folder") from None
    except OSError as err:
        raise UsageError(f"-C {folder}: {err.strerror or err}") from None
