"""Taking secrets out of text before it leaves the machine in a support bundle.

Three rules, applied to every file of the bundle:

1. every value of the project's ``.env`` (and of ``[processes.*] env`` keys that
   look secret) is replaced wherever it appears, as written and URL-encoded;
   the ``.env`` file itself keeps its names and loses all of its values;
2. the password of a URL (``postgresql://user:SECRET@host``,
   ``redis://:SECRET@host``) is replaced;
3. the value of anything named like a password, secret, token, key or
   credential (``API_KEY=...``, ``"password": "..."``, ``requirepass x``) is
   replaced.

Values too short or too plain to be secrets anywhere but in ``.env`` itself
(fewer than 4 characters, short numbers such as ports, true/false) are only
removed from ``.env``: replacing every "1" in a log would make it unreadable.
Over-redaction is accepted; a secret left in is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "[redacted]"
MIN_LENGTH = 4
_PLAIN = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null"})

_SECRET_WORD = r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|key|auth|credentials?)"
SECRET_NAME = re.compile(rf"(?i)^[\w.-]*{_SECRET_WORD}[\w.-]*$")

# scheme://user:PASSWORD@ (user may be empty: redis://:PASSWORD@host)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)([^\s@]+)(@)")
# NAME = value, NAME: value, "NAME": "value", NAME="value" (quotes kept, value masked)
_ASSIGNMENT = re.compile(
    rf"(?i)(\b[\w.-]*{_SECRET_WORD}[\w.-]*[\"']?\s*[:=]\s*)"
    r"(\[redacted\]|\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'}\]]+)"
)
# Redis-style "requirepass VALUE" / "masterauth VALUE" config lines.
_CONF_LINE = re.compile(r"(?im)^(\s*(?:requirepass|masterauth|masteruser)\s+)(\S+)")
_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*)(.*)$")


def env_values(text: str) -> dict[str, str]:
    """The ``NAME=value`` pairs of a .env file, values with their quotes removed.

    honcho's parser is not used: it drops the spaces inside values and stops
    at a quote it cannot match, and a secret must be found however it is written.
    """
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if not match:
            continue
        name = match.group(1).split("=", 1)[0].replace("export", "", 1).strip()
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found[name] = value
    return found


def redact_env_file(text: str) -> str:
    """A .env file with every value replaced (names, comments and blank lines kept)."""
    lines = []
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        lines.append(match.group(1) + MASK if match and match.group(2).strip() else line)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def worth_hiding(value: str) -> bool:
    """Whether a value is replaced everywhere (see the module's docstring)."""
    value = value.strip()
    if len(value) < MIN_LENGTH or value.lower() in _PLAIN:
        return False
    return not (value.isdigit() and len(value) <= 5)


class Redactor:
    """Applies the three rules; ``secrets`` are the literal values of rule 1."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants = set()
        for value in secrets:
            if worth_hiding(value):
                variants.add(value)
                variants.add(quote(value, safe=""))
                variants.add(quote(value))
        ordered = sorted(variants, key=len, reverse=True)  # the longest first: no half-masks
        self._literal = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        text = _CONF_LINE.sub(lambda m: m.group(1) + MASK, text)
        return _ASSIGNMENT.sub(_mask_assignment, text)


def _mask_assignment(match: re.Match) -> str:
    value = match.group(2)
    if value == MASK or value.strip("\"'") == MASK:
        return match.group(0)
    quote_char = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote_char}{MASK}{quote_char}"
