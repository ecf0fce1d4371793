"""``devenv doctor``: checks of a project's environment, safe fixes, and a support bundle.

``run_checks(start)`` returns one ``Check`` per thing looked at, in a fixed
order, each with a stable id ("config", "binaries.postgres", "ports.redis",
"stale-pid.postgres", "leftovers", "disk", ...). Nothing here prints and
nothing here raises for a problem it finds: a problem is a check whose state
is "warn" or "fail", and a check that crashes becomes a "fail" carrying the
error. ``apply_fixes`` runs the repairs of the fixable ones; ``write_bundle``
(``devenv.doctor.bundle``) packs a redacted support archive.
"""

from devenv.doctor.checks import Check, Context, Fixed, apply_fixes, run_checks

__all__ = ["Check", "Context", "Fixed", "apply_fixes", "run_checks"]
