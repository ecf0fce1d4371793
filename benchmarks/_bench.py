"""What the benchmark scripts share: the run's folder and environment, machine facts,
the interpreter baseline, the results table, and the main loop that always cleans up.

Imported by the scripts as ``_bench`` (their folder is on sys.path when run as
``.venv/bin/python benchmarks/X.py``); not a benchmark itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

TIMEOUT = 120  # seconds, for any one timed command

# ---------------------------------------------------------------- the run's folder, env


class BaseBench:
    """A fresh base folder (the service user may enter it) and the environment the timed
    commands run with: the venv's bin first on PATH, ``drop`` removed, and bytecode.

    An installed devenv has its bytecode compiled; a checkout run with
    PYTHONDONTWRITEBYTECODE=1 (as in CI here) recompiles devenv on every command
    (~25 ms). The bytecode is kept in this run's folder, so the checkout stays untouched.
    """

    def __init__(self, prefix: str, parent: Path | None = None, drop: Iterable[str] = ()) -> None:
        self.base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.base.chmod(0o755)
        self.env = dict(os.environ)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env['PATH']}"
        for name in drop:
            self.env.pop(name, None)
        self.dont_write_bytecode = self.env.pop("PYTHONDONTWRITEBYTECODE", None) is not None
        self.env["PYTHONPYCACHEPREFIX"] = str(self.base / "pycache")

    def cleanup(self) -> list[str]:
        """Stop everything, remove every folder; return what could not be done."""
        raise NotImplementedError


def mark_onboarded(project: Path) -> None:
    """Record the onboarding of ``project`` as finished for this person: the first `devenv up`
    then shows the dashboard, not the onboarding screen (the benchmarks time the dashboard)."""
    import time

    from devenv.onboarding.progress import Progress, who

    progress = Progress.load(project, who(project))
    progress.finished_at = time.time()
    progress.save()


def processes_of(base: Path, markers: Iterable[str] = ()) -> list:
    """Live processes (psutil) of a run: working in ``base`` or a folder under it, or with
    one of ``markers`` in their command line. Neither this process nor zombies count."""
    import psutil

    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name", "cwd", "cmdline", "status"]):
        info = proc.info
        if info["pid"] == me or info["status"] in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            continue
        cwd = info["cwd"]
        cmdline = " ".join(info["cmdline"] or [])
        if (cwd and (Path(cwd) == base or base in Path(cwd).parents)) or any(
            marker in cmdline for marker in markers
        ):
            found.append(proc)
    return found


def describe(proc) -> str:
    """``pid N command`` of a process from processes_of()."""
    return f"pid {proc.info['pid']} {' '.join(proc.info['cmdline'] or []) or proc.info['name']}"


def count_processes(names: Iterable[str]) -> int:
    """How many processes of these names run on the machine (other runs add noise)."""
    import psutil

    names = set(names)
    return sum(1 for p in psutil.process_iter(["name"]) if p.info["name"] in names)


# ---------------------------------------------------------------- timing


def elapsed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def run(argv: list, what: str, timeout: float = TIMEOUT, **kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` (output captured); raise with its output when it fails."""
    result = subprocess.run(
        [str(a) for a in argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        **kwargs,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def timed_runs(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """ms of each of ``runs`` runs of ``argv``."""
    what = " ".join(map(str, argv))
    return [elapsed_ms(lambda: run(argv, what, env=env)) for _ in range(runs)]


def interpreter(env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """ms of ``python -c pass`` and of ``python -m devenv --version`` (bytecode written first)."""
    run([sys.executable, "-m", "devenv", "--help"], "devenv --help", env=env)
    python = timed_runs([sys.executable, "-c", "pass"], runs, env)
    return python, timed_runs([sys.executable, "-m", "devenv", "--version"], runs, env)


# ---------------------------------------------------------------- the results table


def spread(values: list[float], fmt: str = ".1f") -> str:
    """``[min-max]``, for more than one value."""
    return f"[{min(values):{fmt}}-{max(values):{fmt}}]" if len(values) > 1 else ""


def goal(text: str, met: bool) -> str:
    return f"goal {text}  {'met' if met else 'MISSED'}"


class Table:
    """Rows of measurement, median, an optional extra column (ratio...), goal, [min-max]."""

    def __init__(self, width: int, value_width: int, extra: str = "", extra_width: int = 0):
        self.width, self.value_width = width, value_width
        self.extra, self.extra_width = extra, extra_width
        self.rows: list[tuple[str, str, str, str, str]] = []

    def row(self, name: str, value: str, extra: str = "", goal: str = "", spread: str = ""):
        self.rows.append((name, value, extra, goal, spread))

    def print(self) -> None:
        head = f"{'measurement':<{self.width}} {'median':>{self.value_width}}"
        if self.extra:
            head += f"  {self.extra:>{self.extra_width}}"
        print(f"{head}  goal")
        for name, value, extra, goal, spread in self.rows:
            line = f"{name:<{self.width}} {value:>{self.value_width}}"
            if self.extra:
                line += f"  {extra:>{self.extra_width}}"
            print(f"{line}  {goal or '-'}  {spread}".rstrip())


# ---------------------------------------------------------------- main


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_facts(load_note: str = "", python_note: str = "") -> list[str]:
    """The machine:, load avg: and Python: lines of a run's header."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"machine:     {os.cpu_count()} cores{', ' + cpu if cpu else ''}; {platform.platform()}",
        f"load avg:    {load_average()}{'; ' + load_note if load_note else ''}",
        f"Python:      {platform.python_version()} ({sys.executable}){python_note}",
    ]


def positive(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """Reject an option below 1."""
    if any(getattr(args, name) < 1 for name in names):
        options = " and ".join(f"--{name}" for name in names)
        parser.error(f"{options} must be at least 1")


def dir_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("/tmp"),
        help=f"where {what} live (default /tmp); the service user must be able to enter it",
    )


def print_header(lines: list[str], bench: BaseBench, notes: str = "") -> None:
    """The machine facts and settings, before anything is measured."""
    for line in lines:
        print(line)
    if bench.dont_write_bytecode:
        print(
            "bytecode:    PYTHONDONTWRITEBYTECODE is set here; the commands timed run "
            "without it\n             (bytecode cached in the run's temp folder), "
            "as an installed devenv does"
        )
    if notes:
        print(f"notes:       {notes}")
    print(flush=True)


def main_loop(bench: BaseBench, results: Table, measure: Callable[[], None], done: str) -> int:
    """Run ``measure``; whatever happens, clean up. The results are printed when it did
    not fail, then what cleanup could not do (exit code 1), or the load at the end and
    ``done``."""
    failed = False
    problems: list[str] = []
    try:
        measure()
    except BaseException:
        failed = True
        raise
    finally:
        problems = bench.cleanup()
        if not failed:
            results.print()
        for problem in problems:
            print(f"cleanup: {problem}", file=sys.stderr)
        if not problems and not failed:
            print(f"\nload avg at the end: {load_average()}")
            print(f"cleanup: {done}")
    return 1 if problems else 0
