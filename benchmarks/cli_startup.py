"""How long `devenv --help` takes, against a bare Python start-up measured in the same run.

Run: .venv/bin/python benchmarks/cli_startup.py [RUNS]
Goal: devenv's own share (the difference) stays well under 100 ms, because heavy
imports (textual, psycopg2, redis) happen only inside the commands that use them.
"""

from __future__ import annotations

import statistics
import sys

import _bench


def median_ms(argv: list[str], runs: int) -> float:
    return statistics.median(_bench.timed_runs(argv, runs))


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    baseline = median_ms([sys.executable, "-c", "pass"], runs)
    help_ms = median_ms([sys.executable, "-m", "devenv", "--help"], runs)
    heavy = median_ms(
        [sys.executable, "-c", "import textual.app, psycopg2, redis, psutil, honcho, watchdog"],
        runs,
    )
    print(f"python -c pass                 {baseline:7.1f} ms  (baseline)")
    print(f"devenv --help                  {help_ms:7.1f} ms  {help_ms / baseline:5.2f}x baseline")
    print(f"  devenv's own share           {help_ms - baseline:7.1f} ms")
    print(f"importing every dependency     {heavy:7.1f} ms  {heavy / baseline:5.2f}x baseline")


if __name__ == "__main__":
    main()
