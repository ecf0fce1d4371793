"""``devenv doctor [--fix] [--json] [--bundle]``: diagnose, repair safe things, write a bundle.

Exit code 0 when no check fails (warnings allowed), 1 otherwise; with
``--fix``, of the checks run again after the repairs. ``--json`` prints
``{"checks": [{"id", "state", "message", "fix", "fixable"}]}``, plus
``"fixed"`` with ``--fix`` and ``"bundle"`` (its path) with ``--bundle``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def doctor(args: argparse.Namespace) -> int:
    from devenv.doctor import apply_fixes, run_checks

    start = Path.cwd()
    report = run_checks(start)
    fixed = None
    if args.fix:
        fixed = apply_fixes(report.checks)
        report = run_checks(start)  # what is true now, not what the repairs hoped for
    bundle = None
    if args.bundle:
        from devenv.doctor.bundle import write_bundle

        bundle = write_bundle(report)
    if args.json:
        payload = report.as_json()
        if fixed is not None:
            payload["fixed"] = [item.as_json() for item in fixed]
        if bundle is not None:
            payload["bundle"] = str(bundle)
        print(json.dumps(payload, indent=2))
    else:
        if fixed is not None:
            for item in fixed:
                print(f"{'fixed' if item.done else 'could not fix'} {item.id}: {item.message}")
            print("nothing to fix" if not fixed else "checking again:")
        for line in report.lines():
            print(line)
        if bundle is not None:
            print(f"support bundle (secrets redacted): {bundle}")
    sys.stdout.flush()
    return 1 if report.failed else 0
