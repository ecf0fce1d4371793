"""The time a server's log line was written, read from the server's own stamp.

PostgreSQL starts a line with ``2026-11-30 18:05:33.016 GMT`` (its default
``log_line_prefix``, ``%m``, in its ``log_timezone``), Redis with
``12345:M 30 Nov 2026 18:05:33.016`` (pid, role, local time), devenv's own log
files with ``2026-11-30T18:05:33.016``. ``parse_stamp`` turns any of them into
seconds since the epoch and the line without its stamp, so that a service's log
and devenv's lines about it can be merged by time and shown in one format.

A line it does not recognise (a continuation, another server's format) is
returned as it is, with no time: callers fall back to showing it unchanged.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable

# PostgreSQL's %m (or %t, without milliseconds): the zone is an abbreviation (GMT, UTC,
# CET) or, for zones that have none, a numeric offset (+03, -0330).
_POSTGRES = re.compile(
    r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Z]{1,6}|[+-]\d\d(?::?\d\d)?) "
)
# Redis 3+: "pid:role " then the local time; the role is one of X, C, S, M.
_REDIS = re.compile(
    r"(\d+:[XCSM]) (\d\d?) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? "
)
_DEVENV = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3}) ")
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_UTC = {"UTC", "GMT", "Z", "UCT"}
Fields = tuple[int, int, int, int, int, int]  # year, month, day, hour, minute, second


def parse_stamp(line: str) -> tuple[float | None, str]:
    """``(seconds since the epoch, the rest of the line)`` for a line that starts with a
    PostgreSQL, Redis or devenv stamp; ``(None, line)`` for any other line.

    PostgreSQL's stamp is read in the zone it names (UTC/GMT or a numeric offset; any
    other abbreviation is taken as this machine's local time, which is what a server
    started here logs in). Redis's and devenv's stamps are this machine's local time.
    Redis keeps its ``pid:role`` before the rest: ``"12345:M * Ready to accept connections"``.
    """
    first = line[:1]
    if not first.isdigit():
        return None, line
    if match := _POSTGRES.match(line):
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        if not _is_zone(zone, line[match.end() : match.end() + 1]):
            return None, line
        fields = (int(year), int(month), int(day), int(hour), int(minute), int(second))
        when = _in_zone(fields, zone)
        return _plus(when, fraction), line[match.end() :]
    if match := _REDIS.match(line):
        who, day, month_name, year, hour, minute, second, fraction = match.groups()
        month = _MONTHS.get(month_name)
        if month is None:
            return None, line
        fields = (int(year), month, int(day), int(hour), int(minute), int(second))
        return _plus(_local(fields), fraction), f"{who} {line[match.end() :]}"
    if match := _DEVENV.match(line):
        year, month, day, hour, minute, second, fraction = match.groups()
        fields = (int(year), int(month), int(day), int(hour), int(minute), int(second))
        return _plus(_local(fields), fraction), line[match.end() :]
    return None, line


def timed(lines: Iterable[str], last: float | None = None) -> list[tuple[float | None, str]]:
    """Each line parsed with ``parse_stamp``; a line without a stamp of its own (the second
    line of a message, a traceback) takes the time of the stamped line before it, and keeps
    its text whole. Lines before any stamp take ``last`` (the time of the line before them,
    when they continue an earlier batch), else None."""
    out: list[tuple[float | None, str]] = []
    for line in lines:
        when, rest = parse_stamp(line)
        if when is None:
            out.append((last, line))
        else:
            last = when
            out.append((when, rest))
    return out


def _is_zone(zone: str, after: str) -> bool:
    # "2026-11-30 18:05:33.016 GET /" is an app's line, not PostgreSQL's: an abbreviation
    # counts when it is a known one, or when the default prefix's "[pid]" follows it.
    return zone[0] in "+-" or zone in _UTC or zone in time.tzname or after == "["


def _plus(when: float | None, fraction: str | None) -> float | None:
    if when is None or not fraction:
        return when
    return when + int(fraction) / 10 ** len(fraction)


def _local(fields: Fields) -> float | None:
    try:
        return time.mktime((*fields, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


def _in_zone(fields: Fields, zone: str) -> float | None:
    if zone in _UTC:
        offset = 0
    elif zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        offset = -offset if zone[0] == "-" else offset
    else:
        return _local(fields)
    try:
        return calendar.timegm((*fields, 0, 0, 0)) - offset
    except (OverflowError, ValueError):
        return None
