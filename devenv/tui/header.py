"""The top of the screen: the project, how it is doing, the URLs its processes serve on (links),
its connection URLs (click to copy), and how its versions compare with prod's."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Label, Static

# CSS class per overall state: "-starting", "-running", "-degraded", "-failed", "-stopping".
STATES = ("starting", "running", "degraded", "failed", "stopping")
# Parity states (devenv.environment.parity): "ok", a "patch" note, and the rest (minor,
# major, missing) warnings. The state is written out too: colour is never the only signal.
PARITY_STYLES = {"ok": "$text-success", "patch": "$text-muted"}
PARITY_WARNING = "$text-warning bold"


class ProjectHeader(Vertical):
    """Project name and status on the first line, the URLs below."""

    project: reactive[str] = reactive("")
    """The project's name."""
    status: reactive[str] = reactive("")
    """A short status: "starting postgres: initdb", "5/5 up", ..."""
    state: reactive[str] = reactive("starting")
    """One of STATES; shown as a CSS class on the status label."""
    urls: reactive[dict[str, str]] = reactive(dict)
    """Connection URLs, e.g. {"DATABASE_URL": ...}."""
    apps: reactive[tuple[tuple[str, str], ...]] = reactive(tuple)
    """The processes' own URLs, (name, url): what each listening process serves on."""
    parity: reactive[tuple[tuple[str, str, str, str], ...]] = reactive(tuple)
    """Versions against prod's: (name, what to show, state, message); state is ok, patch,
    minor, major or missing; the messages (with what to do) are the line's tooltip."""

    onboarding: reactive[str] = reactive("")
    """Where this person is in the project's onboarding ("onboarding: 3/10 done · next: ..."),
    once its screen was closed; "" shows nothing."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-top"):
            yield Label(id="project")
            yield Label(id="status")
        yield Static(id="urls")
        yield Static(id="parity")
        yield Static(id="onboarding-line", markup=False)

    def watch_project(self, project: str) -> None:
        self.query_one("#project", Label).update(Content.styled(f" {project} ", "bold"))

    def watch_status(self, status: str) -> None:
        self.query_one("#status", Label).update(status)

    def watch_state(self, old: str, new: str) -> None:
        label = self.query_one("#status", Label)
        label.remove_class(f"-{old}")
        label.add_class(f"-{new}")

    def watch_urls(self) -> None:
        self._show_urls()

    def watch_apps(self) -> None:
        self._show_urls()

    def _show_urls(self) -> None:
        from devenv.services.password import mask_url

        # The app's own URLs first, as links a terminal can open; then the services'.
        # "KEY=url" has no space, so a narrow terminal wraps between URLs, never inside one.
        # The password is masked on screen (screens are shared, recorded); a click copies it.
        parts = [
            Content.assemble((f"{name} ", "$text-muted"), (url, f"underline link={url!r}"))
            for name, url in self.apps
        ]
        parts += [
            Content.assemble(
                (f"{key}=", "$text-muted"),
                (mask_url(url), f"underline @click=app.copy_url('{key}')"),
            )
            for key, url in self.urls.items()
        ]
        widget = self.query_one("#urls", Static)
        widget.update(Content("  ").join(parts))
        widget.display = bool(parts)

    def watch_onboarding(self, line: str) -> None:
        widget = self.query_one("#onboarding-line", Static)
        widget.update(line)
        widget.display = bool(line)

    def watch_parity(self, parity: tuple[tuple[str, str, str, str], ...]) -> None:
        parts = [
            Content.styled(f"{name} {shown} {state}", PARITY_STYLES.get(state, PARITY_WARNING))
            for name, shown, state, _ in parity
        ]
        widget = self.query_one("#parity", Static)
        widget.update(Content.assemble(("prod: ", "$text-muted"), Content(" · ").join(parts)))
        widget.tooltip = "\n".join(message for *_, message in parity) or None
        widget.display = bool(parts)
