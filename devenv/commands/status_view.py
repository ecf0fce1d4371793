"""What ``devenv status`` prints, from its report: one renderer for every way of gathering it.

A *report* is a plain dict (JSON-able): the keys ``devenv status --json`` prints
(``services``, ``processes``, ``deps``, ``parity``, ``devenv``, in that order), and
``lines``: ``{"deps": [...], "parity": [...]}``, the sentences the text output ends with
(each lockfile's summary, each ``[prod]`` entry's message). ``render_json`` and
``render_text`` are pure functions of it, so the full gathering (devenv.commands.services)
and the recorded one (devenv.commands.status_fast) print the same bytes for the same report.

Only ``json`` is imported: the fast path loads this before anything else of devenv.
"""

from __future__ import annotations

import json

JSON_KEYS = ("services", "processes", "deps", "parity", "devenv")


def render_json(report: dict) -> str:
    """``devenv status --json``'s output, without the final newline print adds."""
    return json.dumps({key: report[key] for key in JSON_KEYS}, indent=2)


def render_text(report: dict) -> str:
    """``devenv status``'s table and notes, without the final newline print adds."""
    out = [f"{'NAME':<12} {'STATE':<9} {'PID':>7} {'PORT':>6}  VERSION / RESTARTS, UPTIME"]
    for name, info in report["services"].items():
        pid = info.get("pid") or "-"
        port = info.get("port") or "-"
        out.append(
            f"{name:<12} {info['state']:<9} {pid!s:>7} {port!s:>6}  {info.get('version') or '-'}"
        )
        if info.get("error"):
            out.append(f"  {info['error']}")
    for name, info in report["processes"].items():
        pid = info.get("pid") or "-"
        port = info.get("port") or "-"
        uptime = f"{info['uptime']:.0f}s" if info.get("uptime") is not None else "-"
        extra = f"{info.get('restarts') or 0} restarts, up {uptime}"
        cpu, rss = number(info.get("cpu_percent")), number(info.get("rss"))
        if cpu is not None and rss is not None:
            extra += f", {cpu:.0f}% cpu, {rss / 2**20:.0f} MiB"
        out.append(f"{name:<12} {info['state']!s:<9} {pid!s:>7} {port!s:>6}  {extra}")
    for part in ("deps", "parity"):
        if report["lines"][part]:
            out.append("")
            out.extend(report["lines"][part])
    return "\n".join(out)


def number(value: object) -> float | None:
    """A recorded number, or None when the record holds something else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None
