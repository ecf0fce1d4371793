"""How long `devenv --version` and `devenv --help` take, against a bare Python start-up
measured in the same run (the variants alternate, so all see the same machine load).

Run: .venv/bin/python benchmarks/cli_startup.py [RUNS]   (default 20)
Goals: `devenv --version` within 30 ms of `python -c pass` (issue 11); `--help`'s own
share (the difference) well under 100 ms, because heavy imports (textual, psycopg2,
redis) happen only inside the commands that use them.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile

import _bench


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    variants = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "devenv --version": [sys.executable, "-m", "devenv", "--version"],
        "devenv --help": [sys.executable, "-m", "devenv", "--help"],
        "importing every dependency": [
            sys.executable,
            "-c",
            "import textual.app, psycopg2, redis, psutil, honcho, watchdog",
        ],
    }
    # An installed devenv has its bytecode: with PYTHONDONTWRITEBYTECODE set (CI here) it is
    # kept in a temporary folder instead, as benchmarks/_bench.BaseBench does.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="devenv-cli-bench-") as pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
        for argv in variants.values():  # once untimed: bytecode, page cache
            _bench.timed_runs(argv, 1, env)
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for i in range(runs):
            for name in order if i % 2 == 0 else reversed(order):
                times[name] += _bench.timed_runs(variants[name], 1, env)
    median = {name: statistics.median(t) for name, t in times.items()}
    baseline = median["python -c pass"]
    goals = {"devenv --version": 30.0, "devenv --help": 100.0}
    print(f"{'':<28} {'median':>9}  {'ratio':>6}  {'above':>9}  goal")
    for name, ms in median.items():
        above = ms - baseline
        goal = "-"
        if name in goals:
            goal = _bench.goal(f"<= +{goals[name]:.0f} ms", above <= goals[name])
        ratio = "(base)" if name == "python -c pass" else f"{ms / baseline:5.2f}x"
        print(
            f"{name:<28} {ms:6.1f} ms  {ratio:>6}  {above:+6.1f} ms  {goal}  "
            f"{_bench.spread(times[name])}"
        )


if __name__ == "__main__":
    main()
