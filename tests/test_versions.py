"""Versions and version constraints."""

from __future__ import annotations

import pytest

from devenv.config.versions import Version, VersionConstraint


def test_version_parse_and_str():
    assert Version.parse("7.0.11") == Version((7, 0, 11))
    assert str(Version.parse(" 15 ")) == "15"
    assert Version.parse("15.4").major == 15
    assert Version.parse("15.10") > Version.parse("15.9")


@pytest.mark.parametrize("text", ["", "15.", "v15", "15.x", "15 4", "-1"])
def test_version_parse_rejects(text):
    with pytest.raises(ValueError) as caught:
        Version.parse(text)
    assert str(caught.value) == (
        f"'{text.strip()}' is not a version; expected numbers separated by dots, like 15 or 7.0.11"
    )


def test_version_search_in_tool_output():
    assert Version.search("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == Version(
        (15, 18)
    )
    assert Version.search("Redis server v=7.0.15 sha=00000000") == Version((7, 0, 15))
    with pytest.raises(ValueError, match="no version number in 'redis'"):
        Version.search("redis")


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("15", "15", True),
        ("15", "15.0", True),
        ("15", "15.4.1", True),
        ("15", "16.0", False),
        ("15", "150", False),
        ("15.4", "15.4.2", True),
        ("15.4", "15.40", False),
        ("15.0", "15", True),
        ("==15.4", "15.4", True),
        ("==15.4", "15.5", False),
        (">=14,<17", "14", True),
        (">=14,<17", "16.9", True),
        (">=14,<17", "17.0", False),
        (">=14,<17", "13.9", False),
        (">14", "14.1", True),
        (">14", "14.0", False),
        ("<=15", "15.0", True),
        ("<=15", "15.1", False),
        ("~=15.2", "15.2", True),
        ("~=15.2", "15.9.1", True),
        ("~=15.2", "15.1", False),
        ("~=15.2", "16.0", False),
        ("~=7.0.4", "7.0.15", True),
        ("~=7.0.4", "7.1.0", False),
        ("!=16", "16.2", False),
        ("!=16", "15.4", True),
        ("!=16", "17", True),
        (" >= 14 , != 15 ", "15.3", False),
        (" >= 14 , != 15 ", "16", True),
        ("15", "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", True),
    ],
)
def test_constraint_matches(constraint, version, expected):
    assert VersionConstraint.parse(constraint).matches(version) is expected


def test_constraint_matches_a_version_object():
    assert VersionConstraint.parse(">=7").matches(Version((7, 2)))


@pytest.mark.parametrize("text", ["15", "15.4", ">=14,<17", "==15.4", "~=15.2", "!=16"])
def test_str_gives_back_the_text(text):
    assert str(VersionConstraint.parse(text)) == text


@pytest.mark.parametrize(
    ("constraint", "majors"),
    [
        ("15", [15]),
        ("15.4", [15]),
        (">=14,<17", [14, 15, 16]),
        (">=14,<=17", [14, 15, 16, 17]),
        ("<17.2", [12, 13, 14, 15, 16, 17]),
        (">13.5", [13, 14, 15, 16, 17, 18]),
        ("~=15.2", [15]),
        ("!=16", [12, 13, 14, 15, 17, 18]),
        ("!=16.1", [12, 13, 14, 15, 16, 17, 18]),
    ],
)
def test_allows_major(constraint, majors):
    parsed = VersionConstraint.parse(constraint)
    assert [major for major in range(12, 19) if parsed.allows_major(major)] == majors


EXAMPLES = 'something like "15", "15.4", ">=14,<17", "==15.4", "~=15.2" or "!=16"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"empty version constraint; expected {EXAMPLES}"),
        ("fifteen", f"'fifteen' is not a version constraint; expected {EXAMPLES}"),
        (">=", f"'>=' is not a version constraint; expected {EXAMPLES}"),
        ("=>15", f"'=>15' is not a version constraint; expected {EXAMPLES}"),
        ("15.x", f"'15.x' is not a version constraint; expected {EXAMPLES}"),
        (">=14,", f"'>=14,' has an empty part between commas; expected {EXAMPLES}"),
        ("~=15", "'~=15': ~= needs at least two numbers, like ~=15.2"),
    ],
)
def test_bad_constraints(text, message):
    with pytest.raises(ValueError) as caught:
        VersionConstraint.parse(text)
    assert str(caught.value) == message
