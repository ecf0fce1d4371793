"""How long `devenv status` takes in another terminal, against `python -c pass` in the same run.

Run: .venv/bin/python benchmarks/status.py [RUNS]

A project with PostgreSQL and Redis is started (`devenv up -d`), then `python -c pass`,
`devenv status` and `devenv status --json` run in turns, RUNS times each (default 10), and
the medians are compared. Goal: `devenv status` within 30 ms of `python -c pass`.
`devenv status` answers from the last full status's record when it still holds (the fast
path, devenv.commands.status_fast); the *full* path (DEVENV_STATUS_FULL=1, what runs after
any change) is timed beside it, and so is its *floor*: one `python -c "import ..."` of
every module outside devenv that the full status loads (pathlib, dataclasses, tomllib,
socket, ...), which no change inside devenv's own code can go below.
Then where its time goes: the same steps timed inside one process (medians), and
`python -X importtime -m devenv status` in the project says more of the imports.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys

import _bench

GOAL_MS = 30.0


# The steps of `devenv status` (devenv.commands.services.status), timed in one process.
PHASES = """
import json, time
marks = [time.perf_counter()]
import devenv.cli
marks.append(time.perf_counter())
import devenv.config
marks.append(time.perf_counter())
import devenv.commands.services as S, devenv.services.stack
from devenv.events import ignore
marks.append(time.perf_counter())
stack = S._stack(ignore)
marks.append(time.perf_counter())
stack.status(quick=True)
marks.append(time.perf_counter())
from devenv.project.runlock import foreground_pid
from devenv.supervisor import procstate
S.process_status(procstate.read(stack.layout), foreground_pid(stack.layout))
marks.append(time.perf_counter())
S._deps_status(stack.config), S._parity_status(stack)
marks.append(time.perf_counter())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""
# The modules outside devenv that `devenv status` loads, as one import statement.
FLOOR = """
import io, sys
from contextlib import redirect_stdout
before = set(sys.modules)
from devenv.cli import main
with redirect_stdout(io.StringIO()):
    main(["status"])
names = sorted(m for m in set(sys.modules) - before if m.split(".")[0] != "devenv")
print("import " + ", ".join(names))
"""
PHASE_NAMES = (
    "import devenv.cli",
    "import devenv.config",
    "import the stack, services, events",
    "load the config, build the Stack",
    "Stack.status(quick=True)",
    "the processes' record",
    "deps and parity",
)


class Bench(_bench.BaseBench):
    def __init__(self) -> None:
        super().__init__("devenv-status-bench-", drop=("NO_COLOR",))
        self.project = self.base / "shop"
        self.project.mkdir()
        (self.project / "devenv.toml").write_text(
            '[project]\nname = "shop"\n\n[services.postgres]\n\n[services.redis]\n\n'
            # [prod] has status compare the running servers' versions (the parity lines)
            '[prod]\npostgres = "15"\nredis = "7"\n'
        )

    def devenv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "devenv", *args]

    def cleanup(self) -> list[str]:
        problems = []
        result = subprocess.run(
            self.devenv("down"), cwd=self.project, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            problems.append(f"devenv down: {result.stderr.strip()}")
        shutil.rmtree(self.base, ignore_errors=True)
        return problems


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    bench = Bench()
    try:
        _bench.run(bench.devenv("up", "-d"), "devenv up -d", cwd=bench.project, env=bench.env)
        full_env = {**bench.env, "DEVENV_STATUS_FULL": "1"}
        floor = _bench.run(
            [sys.executable, "-c", FLOOR], "the floor's modules", cwd=bench.project, env=full_env
        ).stdout.strip()
        argvs = {
            "python -c pass": ([sys.executable, "-c", "pass"], bench.env),
            "floor: its imports": ([sys.executable, "-c", floor], bench.env),
            "devenv status": (bench.devenv("status"), bench.env),
            "devenv status --json": (bench.devenv("status", "--json"), bench.env),
            "full devenv status": (bench.devenv("status"), full_env),
        }
        for argv, env in argvs.values():  # bytecode written, caches warm, the record written
            _bench.run(argv, " ".join(argv), cwd=bench.project, env=env)
        times: dict[str, list[float]] = {name: [] for name in argvs}
        phases: list[list[float]] = []
        for _ in range(runs):  # in turns, so that the machine's load falls on all alike
            for name, (argv, env) in argvs.items():
                what = " ".join(argv)
                times[name].append(
                    _bench.elapsed_ms(
                        lambda argv=argv, what=what, env=env: _bench.run(
                            argv, what, cwd=bench.project, env=env
                        )
                    )
                )
            found = _bench.run(
                [sys.executable, "-c", PHASES], "phases", cwd=bench.project, env=full_env
            )
            phases.append(json.loads(found.stdout))
    finally:
        for problem in bench.cleanup():
            print(f"cleanup: {problem}", file=sys.stderr)
    for line in _bench.machine_facts():
        print(line)
    baseline = statistics.median(times["python -c pass"])
    table = _bench.Table(24, 9, "vs baseline", 14)
    table.row(
        "python -c pass",
        f"{baseline:.1f} ms",
        "(baseline)",
        "",
        _bench.spread(times["python -c pass"]),
    )
    floor = statistics.median(times["floor: its imports"])
    table.row(
        "full path's floor",
        f"{floor:.1f} ms",
        f"+{floor - baseline:.1f} ms {floor / baseline:.2f}x",
        "(not devenv's)",
        _bench.spread(times["floor: its imports"]),
    )
    for name in ("devenv status", "devenv status --json", "full devenv status"):
        ms = statistics.median(times[name])
        over = ms - baseline
        table.row(
            name,
            f"{ms:.1f} ms",
            f"+{over:.1f} ms {ms / baseline:.2f}x",
            _bench.goal(f"<= +{GOAL_MS:g} ms", over <= GOAL_MS)
            if not name.startswith("full")
            else "(after any change)",
            _bench.spread(times[name]),
        )
    table.print()
    print(
        "\nthe full path above its floor, devenv's own: "
        f"+{statistics.median(times['full devenv status']) - floor:.1f}"
        " ms (its modules, building their classes, and the work)"
    )
    print("\nwhere the full `devenv status` spends it (one process, medians):")
    for index, name in enumerate(PHASE_NAMES):
        print(f"  {name:<36} {statistics.median(run[index] for run in phases):6.1f} ms")


if __name__ == "__main__":
    main()
