"""What StatsSampler costs: the sampler's own CPU time, sampling 10 idle processes per second.

Run: .venv/bin/python benchmarks/stats_cost.py [SECONDS] [--ports system|per-process|both]
Goal: under 1 % of one core. The CPU time is time.process_time() deltas around sample()
only (the sleeps in between cost nothing); per-sample ms is that CPU time per call.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devenv.supervisor.stats import StatsSampler

CHILDREN = 10


def measure(strategy: str, seconds: float, pids: dict[str, int]) -> None:
    sampler = StatsSampler()
    sampler.ports_strategy = strategy
    sampler.sample(pids)  # the first sample builds the Process objects: not steady state
    cpu = 0.0
    samples = 0
    start = time.monotonic()
    deadline = start + seconds
    result = {}
    while time.monotonic() < deadline:
        time.sleep(max(0.0, start + samples + 1 - time.monotonic()))  # once per second
        before = time.process_time()
        result = sampler.sample(pids)
        cpu += time.process_time() - before
        samples += 1
    wall = time.monotonic() - start
    assert len(result) == len(pids), result
    print(
        f"ports={strategy:<12} {samples} samples in {wall:4.1f} s: "
        f"{cpu / wall * 100:5.2f} % of one core, {cpu / samples * 1000:6.2f} ms CPU per sample"
        f"  ({'ok' if cpu / wall < 0.01 else 'OVER'} the 1 % goal)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", nargs="?", type=float, default=10.0)
    parser.add_argument("--ports", choices=["system", "per-process", "both"], default="both")
    args = parser.parse_args()
    strategies = ["per-process", "system"] if args.ports == "both" else [args.ports]

    children = [subprocess.Popen(["sleep", "1000"]) for _ in range(CHILDREN)]
    try:
        pids = {f"idle.{i + 1}": child.pid for i, child in enumerate(children)}
        machine = f"{len(psutil.pids())} processes on the machine, {os.cpu_count()} CPUs"
        print(f"{CHILDREN} idle children, {machine}")
        for strategy in strategies:
            measure(strategy, args.seconds, pids)
    finally:
        for child in children:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
