"""What to do when a supervised process exits: pure functions, no clock, no processes.

The supervisor asks ``after_exit`` and does what it says; so does the
services' watcher (devenv.services.watch), with restart "always": a server
that dies is restarted with the same backoff. Everything here is testable
with plain values.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Literal

from devenv.records import Record

BACKOFF_START = 0.5  # seconds before the first restart
BACKOFF_CAP = 30.0  # the delay doubles up to this
STABLE_AFTER = 10.0  # a process up this long has its restart count reset

Outcome = Literal["backoff", "completed", "exited", "crashed"]


def backoff_delay(attempt: int, *, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> float:
    """The wait before restart number ``attempt`` (1-based): 0.5, 1, 2, 4, ... capped at 30 s."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    # min() before the power would overflow: 2 ** 2000 is fine for ints, not for floats
    return min(cap, start * 2 ** min(attempt - 1, 64))


def wants_restart(policy: str, returncode: int) -> bool:
    """Whether ``policy`` restarts a process that exited with ``returncode`` on its own.

    A stop the user asked for never reaches this: it is never restarted.
    """
    if policy == "always":
        return True
    if policy == "never":
        return False
    return returncode != 0  # "on-failure", the default


@dataclass(frozen=True, eq=False, repr=False)  # Record: a frozen dataclass's, cheaper
class Decision(Record):
    """What follows an exit.

    ``restarts`` is the count within the current window after this decision
    (the attempt number when ``outcome`` is "backoff"); ``delay`` is the wait
    before that restart.
    """

    outcome: Outcome
    restarts: int
    delay: float = 0.0


def after_exit(
    *,
    policy: str,
    returncode: int,
    restarts: int,
    max_restarts: int,
    uptime: float,
    one_off: bool = False,
) -> Decision:
    """Decide what follows a process's own exit.

    ``restarts`` is how many restarts happened since the count was last reset;
    it resets when the run that just ended lasted ``STABLE_AFTER`` seconds.
    ``one_off``: something depends on this process having *completed*, so an
    exit 0 completes it whatever the policy (and never stops anything else).

    - exit 0 and not restarted (on-failure, never, or a one-off): "completed";
    - non-zero exit with restart "never": "exited";
    - a restart is due but ``max_restarts`` restarts already happened in the
      window: "crashed" (nothing more is spawned);
    - otherwise "backoff", with the delay before the next attempt.
    """
    if uptime >= STABLE_AFTER:
        restarts = 0
    if returncode == 0 and (one_off or policy != "always"):
        return Decision("completed", restarts)
    if not wants_restart(policy, returncode):
        return Decision("exited", restarts)
    if restarts >= max_restarts:
        return Decision("crashed", restarts)
    attempt = restarts + 1
    return Decision("backoff", attempt, backoff_delay(attempt))


def exit_text(returncode: int) -> str:
    """How a child ended, for people: "exited with code 1", "killed by SIGKILL"."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"
