"""The dashboard's keys, declared once: ``Key`` is a Textual ``Binding`` that also says where the
help screen lists it, what it does in a few words, and its title in the command palette.

``DevenvApp.BINDINGS`` is the one table of keys: the footer shows its entries in that order
(most useful first, what fits), the help screen (devenv/tui/help_screen.py) groups them by
``section`` and the command palette (devenv/tui/commands.py) lists those with a ``title``.
``help_sections`` is what the help screen shows; a test holds every binding to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType

from devenv.state import FINISHED, State, Status

SECTIONS = ("processes", "services", "logs", "data", "app")
"""The help screen's groups, in its order."""

SECTION_TITLES = {
    "processes": "Processes and services",
    "services": "Services",
    "logs": "Logs",
    "data": "Data",
    "app": "devenv",
}


@dataclass(frozen=True)
class Key(Binding):
    """A dashboard key. ``tooltip`` (Textual's: the footer shows it on hover) is what the help
    screen says the key does; ``title`` names it in the command palette ("": not there)."""

    section: str = "app"
    title: str = ""


def key(
    keys: str,
    action: str,
    label: str,
    section: str,
    does: str,
    title: str = "",
    *,
    show: bool = True,
    priority: bool = False,
) -> Key:
    """A ``Key`` in one line of a BINDINGS table: ``label`` for the footer, ``does`` for the
    help screen (and the footer's tooltip), ``title`` for the palette."""
    return Key(
        keys,
        action,
        label,
        show=show,
        priority=priority,
        tooltip=does,
        section=section,
        title=title,
    )


@dataclass(frozen=True)
class WidgetKey:
    """A key a widget of the dashboard binds itself (the table's Enter), listed in the help too:
    ``widget`` names the widget class whose BINDINGS hold ``key``, or "App" for Textual's command
    palette key (a test checks both)."""

    key: str
    widget: str
    section: str
    tooltip: str


WIDGET_KEYS = (
    WidgetKey("up,down", "DataTable", "processes", "select a row"),
    WidgetKey("enter", "DataTable", "logs", "the row's log"),
    WidgetKey("end", "Log", "logs", "the last line, and follow"),
    WidgetKey("ctrl+p", "App", "app", "any action, by name"),
)


@dataclass(frozen=True)
class HelpEntry:
    """One line of the help screen: the keys as a person types them, and what they do."""

    keys: str
    does: str


def help_sections(
    bindings: Iterable[BindingType], key_display: Callable[[Binding], str]
) -> list[tuple[str, list[HelpEntry]]]:
    """The help screen's content: (section title, entries) in SECTIONS order, from ``bindings``
    (an app's BINDINGS) and WIDGET_KEYS. Keys of one action share an entry ("q, ^c"); a
    plain ``Binding`` (not a ``Key``) is listed under "Other" with its description, so that
    no key is ever missing from the help."""
    entries: dict[str, dict[str, tuple[list[str], str]]] = {}
    for widget_key in WIDGET_KEYS:  # first: moving and Enter come before what acts on a row
        shown = [key_display(b) for b in Binding.make_bindings([(widget_key.key, "-")])]
        entries.setdefault(widget_key.section, {})[widget_key.key] = (shown, widget_key.tooltip)
    for declared in bindings:
        if not isinstance(declared, Binding):
            continue
        section = declared.section if isinstance(declared, Key) else "other"
        does = declared.tooltip or declared.description or declared.action
        shown = [key_display(b) for b in Binding.make_bindings([declared])]
        keys, _ = entries.setdefault(section, {}).setdefault(declared.action, ([], does))
        keys.extend(k for k in shown if k not in keys)
    sections = []
    for section in (*SECTIONS, "other"):
        if section in entries:
            title = SECTION_TITLES.get(section, "Other")
            lines = [HelpEntry(", ".join(keys), does) for keys, does in entries[section].values()]
            sections.append((title, lines))
    return sections


ROW_ACTIONS = ("restart_process", "stop_process", "start_process")
IDLE = FINISHED | {State.STOPPED, State.FAILED, State.UNKNOWN}
"""Nothing of a row in these runs: there is nothing to stop."""


def row_action_applies(action: str, row: Status) -> bool:
    """Whether r, s or t (``action``) would do something to ``row`` (Session.restart,
    stop_process, start_process): restart always (it starts what is down); stop what runs,
    or a service waiting to be restarted; start what does not run (a process waiting or in
    backoff runs again by itself), a service that is not ready or starting."""
    if action == "stop_process":
        return row.state not in IDLE
    if action == "start_process":
        if row.kind == "service":
            return row.state not in (State.READY, State.STARTING)
        return row.state in IDLE
    return action == "restart_process"
