"""The tree tells the design: the README's layout section names the package's root modules and
its packages as they are, and no module reaches into another's private names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "devenv"


def layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("The layout: `devenv/` the package.")
    return readme[start : readme.index("Where new work goes:", start)]


def test_the_readme_names_every_root_module_and_no_other():
    section = layout_section()
    root_part = section[: section.index("Below it")]
    named = set(re.findall(r"`(\w+\.py)`", root_part))
    present = {path.name for path in PACKAGE.glob("*.py")} - {"__init__.py"}

    assert named == present, (
        f"README's layout names {sorted(named - present)} that devenv/ lacks and lacks "
        f"{sorted(present - named)}: keep the section and the tree in step"
    )
    assert len(present) <= 10, "the root is for entry points and what every layer uses"


def test_the_readme_names_every_package_and_no_other():
    named = set(re.findall(r"^- `(\w+)/`:", layout_section(), re.MULTILINE))
    present = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}

    assert named == present, (
        f"README's layout lists {sorted(named - present)} that devenv/ lacks and lacks "
        f"{sorted(present - named)}"
    )


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("devenv"):
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]

    assert not found, "promote what is shared, keep the rest inside:\n" + "\n".join(found)
