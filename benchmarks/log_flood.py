"""A million-line flood through ProcessLog, against just writing the same bytes to a file.

Run: .venv/bin/python benchmarks/log_flood.py [LINES]
The output is fed in 64 KiB chunks, as the supervisor reads a pipe. ProcessLog
decodes, strips escapes, timestamps, keeps the ring, writes (with rotation) and
flushes once a chunk; the baseline only writes and flushes the raw chunks. The
ratio is what the log costs over the disk itself.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from devenv.supervisor.proclog import ProcessLog

CHUNK = 64 * 1024


def flood(lines: int, colour: bool) -> list[bytes]:
    """The child's output for ``lines`` lines, cut into pipe-sized chunks."""
    if colour:
        template = "\x1b[32mINFO\x1b[0m GET /api/items/{0} 200 {1} ms\n"
    else:
        template = "INFO GET /api/items/{0} 200 {1} ms\n"
    data = "".join(template.format(i, i % 97) for i in range(lines)).encode()
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def raw_seconds(chunks: list[bytes], path: Path) -> float:
    start = time.perf_counter()
    with open(path, "wb") as file:
        for chunk in chunks:
            file.write(chunk)
            file.flush()
    return time.perf_counter() - start


def log_seconds(chunks: list[bytes], path: Path, subscribed: bool) -> float:
    log = ProcessLog("bench", path, max_bytes=10 * 1024 * 1024, backups=20)
    if subscribed:
        log.subscribe(lambda batch: None)
    start = time.perf_counter()
    for chunk in chunks:
        log.feed(chunk)
    log.close()
    return time.perf_counter() - start


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for colour in (False, True):
            chunks = flood(lines, colour)
            size = sum(map(len, chunks)) / 1e6
            raw = min(raw_seconds(chunks, folder / f"raw{i}.log") for i in range(3))
            label = "coloured" if colour else "plain"
            print(f"{lines:,} {label} lines, {size:.0f} MB in {len(chunks)} chunks of 64 KiB")
            print(f"  raw write + flush       {lines / raw:12,.0f} lines/s  {raw:6.3f} s")
            for subscribed in (False, True):
                took = min(
                    log_seconds(chunks, folder / f"p{colour}{subscribed}{i}.log", subscribed)
                    for i in range(3)
                )
                name = "ProcessLog + subscriber" if subscribed else "ProcessLog"
                print(
                    f"  {name:<23} {lines / took:12,.0f} lines/s  {took:6.3f} s"
                    f"  {took / raw:5.1f}x raw"
                )


if __name__ == "__main__":
    main()
