"""The README's key reference, written from devenv.config.schema.

``render()`` is the Markdown of every table's keys; ``update(text)`` puts it
between the README's markers (``START`` and ``END``). From the checkout::

    python -m devenv.config.reference --write README.md   # rewrite the section
    python -m devenv.config.reference --check README.md   # exit 1 when it differs

tests/test_config_reference.py fails when the README and the declaration
disagree. Not imported by any command: only by that test and this script.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from devenv.config.schema import REQUIRED, TABLES, Derived, Key, Table

START = "<!-- config-keys:start -->"
END = "<!-- config-keys:end -->"
COMMAND = "python -m devenv.config.reference --write README.md"


def render() -> str:
    """The key reference: for each table, its header, its doc line and a table of its keys."""
    parts = [_table(table) for table in TABLES]
    return "\n".join(parts)


def update(text: str) -> str:
    """``text`` (a README) with the part between its markers replaced by ``render()``;
    ValueError when the markers are missing or out of order."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"expected the lines {START} and then {END}")
    return f"{text[: start + len(START)]}\n{render()}{text[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("--write", "--check"):
        print("usage: python -m devenv.config.reference --write|--check README.md", file=sys.stderr)
        return 2
    path = Path(args[1])
    text = path.read_text(encoding="utf-8")
    try:
        new = update(text)
    except ValueError as err:
        print(f"{path}: {err}", file=sys.stderr)
        return 1
    if args[0] == "--check":
        if new != text:
            print(f"{path}: the key reference is out of date; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        path.write_text(new, encoding="utf-8")
    return 0


# ---------------------------------------------------------------- Markdown


def _table(table: Table) -> str:
    if not table.header:
        title = "The tables"
    elif table.array:
        title = f"`[[{table.header}]]`"
    else:
        title = f"`[{table.header}]`"
    rows = [
        f"**{title}**: {table.doc}.",
        "",
        "| Key | Type | Default | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    rows += [
        f"| `{key.name}` | {_type(key)} | {_default(key)} | {_cell(key.doc)} |"
        for key in table.keys
    ]
    return "\n".join(rows) + "\n"


def _type(key: Key) -> str:
    if isinstance(key.type, tuple):
        return " or ".join(f'`"{choice}"`' for choice in key.type)
    return key.type


def _default(key: Key) -> str:
    if key.default is REQUIRED:
        return "required"
    if key.default is None:
        return "none"
    if isinstance(key.default, Derived):
        return _cell(key.default.says)
    return f"`{_toml(key.default)}`"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{name} = {_toml(item)}" for name, item in value.items())
        return "{ " + items + " }" if items else "{}"
    return str(value)


def _cell(text: str) -> str:
    """Text in a table cell: a | would end the cell."""
    return text.replace("|", "\\|")


if __name__ == "__main__":
    sys.exit(main())
