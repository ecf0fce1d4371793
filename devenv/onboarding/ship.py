"""Ship: the project's ``ship`` command (default ``git push -u origin HEAD``), then the friendly
robots when configured: the PR command (``gh pr create ...``) and a webhook POST.

The webhook gets JSON ``{"title", "branch", "person", "seconds", "project", "commit"}``:
the change's title, its branch, who shipped it and their time to first ship.
Done means: the commit that is HEAD now was shipped (the branch's upstream is
HEAD when it has one, which is what a push leaves), and each configured robot
ran for that commit. A robot that ran is not run again for the same commit.
"""

from __future__ import annotations

import json

from devenv.onboarding.context import StepContext
from devenv.onboarding.model import Outcome, StepFailed

WEBHOOK_TIMEOUT = 10.0


def check_ship(ctx: StepContext) -> Outcome:
    git = ctx.git
    head = git.head()
    if head is None:
        return Outcome.failed("the repository has no commit to ship")
    base = ctx.base()
    if base is not None and git.commits_since(base) == 0:
        return Outcome.not_yet(
            "no commit of yours to ship yet", "commit your change first", person=True
        )
    facts = ctx.record.facts
    upstream = git.upstream()
    shipped = upstream == head if upstream is not None else facts.get("shipped") == head
    if not shipped:
        return Outcome.not_yet(
            f"{git.branch() or 'HEAD'} is not shipped yet", f"devenv runs `{ctx.onboarding.ship}`"
        )
    missing = [name for name in _robots(ctx) if facts.get(name) != head]
    if missing:
        return Outcome.not_yet(f"shipped; still to run: {', '.join(missing)}", "devenv runs them")
    robots = f" ({', '.join(_robots(ctx))} done)" if _robots(ctx) else ""
    return Outcome.done(f"shipped {git.branch() or head[:12]}{robots}")


def _robots(ctx: StepContext) -> list[str]:
    return [name for name in ("pr", "webhook") if getattr(ctx.onboarding, name)]


def ship(ctx: StepContext) -> str:
    """Run the ship command, then the robots not yet run for HEAD."""
    git = ctx.git
    head = git.head()
    facts = ctx.record.facts
    env = ctx.project_env(services=False)
    ran = ctx.sh(ctx.onboarding.ship, env=env)
    if not ran.ok:
        raise StepFailed(
            f"`{ctx.onboarding.ship}` failed (exit code {ran.code})",
            "read its output below; correct it (a remote, your access), "
            "then run `devenv onboard` again",
            ran.tail,
        )
    facts["shipped"] = head
    did = [f"ran `{ctx.onboarding.ship}`"]
    if ctx.onboarding.pr and facts.get("pr") != head:
        ran = ctx.sh(ctx.onboarding.pr, env=env)
        if not ran.ok:
            raise StepFailed(
                f"the PR command `{ctx.onboarding.pr}` failed (exit code {ran.code}); "
                "the push was made",
                "read its output below, then run `devenv onboard` again (it pushes again, "
                "which changes nothing, then retries the PR)",
                ran.tail,
            )
        facts["pr"] = head
        did.append(f"`{ctx.onboarding.pr}`")
    if ctx.onboarding.webhook and facts.get("webhook") != head:
        payload = {
            "title": _title(ctx),
            "branch": git.branch() or "",
            "person": ctx.progress.person.shown,
            "seconds": round(ctx.total_seconds(), 1),
            "project": ctx.config.project.name,
            "commit": head,
        }
        post_webhook(ctx.onboarding.webhook, payload)
        ctx.output(f"POST {ctx.onboarding.webhook}: {json.dumps(payload)}")
        facts["webhook"] = head
        did.append("the webhook")
    return ", ".join(did)


def _title(ctx: StepContext) -> str:
    from devenv.onboarding.change import commit_message

    return commit_message(ctx)


def post_webhook(url: str, payload: dict) -> None:
    """POST ``payload`` as JSON; raises StepFailed when the server cannot be reached or says no."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "devenv-onboard"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as err:
        raise StepFailed(
            f"the webhook {url} answered {err.code} {err.reason}; the push was made",
            "check onboarding.webhook in devenv.toml, then run `devenv onboard` again",
        ) from None
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise StepFailed(
            f"the webhook {url} could not be reached ({reason}); the push was made",
            "check onboarding.webhook in devenv.toml, then run `devenv onboard` again",
        ) from None
