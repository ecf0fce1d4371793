"""``$VAR`` references in environment values, expanded as a shell would.

``$NAME`` and ``${NAME}`` are the variable's value; ``${NAME:-default}`` (or ``${NAME-default}``)
is ``default`` when NAME is unset (``:-`` also when it is empty); ``$$`` is one literal ``$``.
A ``$`` followed by anything else (a digit, a space, the end) stays as it is, as in a shell;
``$(`` is refused: devenv runs no command substitution.
Unlike a shell, a reference to a variable that is not set is an error: a URL that silently
lost its host is worse than a message (write ``${NAME:-}`` to mean "empty when unset").

Only the standard library: the config loader checks references on every command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL_DOLLAR = "write $$ for a literal $"


class ExpandError(ValueError):
    """A reference that cannot be expanded; ``str()`` says which and what to do."""


def check(text: str) -> None:
    """Raise ExpandError for a reference that can never be expanded (``${`` unclosed,
    ``${1x}``), whatever the environment."""
    _expand(text, None)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with its references replaced from ``variables``."""
    return _expand(text, variables)


def _expand(text: str, variables: Mapping[str, str] | None) -> str:
    out: list[str] = []
    pos = 0
    while True:
        dollar = text.find("$", pos)
        if dollar < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:dollar])
        nxt = text[dollar + 1 : dollar + 2]
        if nxt == "$":
            out.append("$")
            pos = dollar + 2
        elif nxt == "{":
            close = _closing_brace(text, dollar + 2)
            if close < 0:
                raise ExpandError(
                    f"'${{' at character {dollar + 1} has no closing '}}' ({_LITERAL_DOLLAR})"
                )
            out.append(_braced(text[dollar + 2 : close], variables))
            pos = close + 1
        elif nxt == "(":
            raise ExpandError(
                "'$(' is a shell's command substitution, which devenv does not run; put the "
                "value itself here, or write $$( for the literal text"
            )
        else:
            match = _NAME.match(text, dollar + 1)
            if match is None:
                out.append("$")  # "5$", "$1", "$ ": a shell leaves these alone too
                pos = dollar + 1
                continue
            out.append(_lookup(match.group(), variables))
            pos = match.end()


def _closing_brace(text: str, pos: int) -> int:
    depth = 1
    while pos < len(text):
        if text.startswith("${", pos):
            depth += 1
            pos += 2
            continue
        if text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def _braced(inner: str, variables: Mapping[str, str] | None) -> str:
    match = _NAME.match(inner)
    if match is None:
        raise ExpandError(
            f"'${{{inner}}}' does not start with a variable name (letters, digits and _, not "
            f"starting with a digit; {_LITERAL_DOLLAR})"
        )
    name, rest = match.group(), inner[match.end() :]
    if not rest:
        return _lookup(name, variables)
    for operator in (":-", "-"):
        if rest.startswith(operator):
            default = rest[len(operator) :]
            value = None if variables is None else variables.get(name)
            if value is None or (operator == ":-" and value == ""):
                return _expand(default, variables)
            return value
    raise ExpandError(
        f"'${{{inner}}}': expected '}}' or ':-default' after '{name}' ({_LITERAL_DOLLAR})"
    )


def _lookup(name: str, variables: Mapping[str, str] | None) -> str:
    if variables is None:
        return ""
    if name not in variables:
        raise ExpandError(
            f"${name} is not set (not in the environment, .env or the services' variables); "
            f"write ${{{name}:-}} for empty when unset, or $$ for a literal $"
        )
    return variables[name]
