"""`devenv init` on real projects: tests/corpus/init/<slug>/ holds a public project trimmed to the
files init reads, and <slug>.expected.toml what a careful reader expects init to find
(tests/corpus/README.md). For each: `devenv init --dry-run` writes nothing and names each
reason, `devenv init` writes a config whose services (with the evidence named in their comment),
processes, hooks, [prod] and compose facts are the expected ones, and `devenv status` accepts it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus" / "init"
EXPECTED = sorted(CORPUS.glob("*.expected.toml"))
DEVENV = Path(sys.executable).parent / "devenv"  # the venv's own devenv, as a user runs it


def test_the_corpus_has_enough_projects():
    """A corpus test that runs no case cannot fail: the corpus must be there, 10 projects at least,
    each expectation with its folder."""
    assert len(EXPECTED) >= 10, f"{CORPUS} has {len(EXPECTED)} projects; the issue asks for 10"
    for expected in EXPECTED:
        assert (CORPUS / expected.name.removesuffix(".expected.toml")).is_dir(), expected


def devenv(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.run(
        [str(DEVENV), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every path below ``root`` with a digest of its content (links by their target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def section(text: str, header: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rest = lines[start + 1 :]
    end = next((i for i, line in enumerate(rest) if line.startswith("[")), len(rest))
    return "\n".join(lines[start : start + 1 + end])


def no_recipe(text: str) -> list[str]:
    """The compose services the written file says devenv has no recipe for."""
    match = re.search(r"^# \S+ also runs (.*): devenv has no recipe", text, re.M)
    return re.findall(r"([\w.-]+) \([^)]*\)", match.group(1)) if match else []


@pytest.mark.parametrize(
    "expected_file", [pytest.param(p, id=p.name.removesuffix(".expected.toml")) for p in EXPECTED]
)
def test_init_on_a_real_project(tmp_path, expected_file):
    spec = tomllib.loads(expected_file.read_text())
    expect = spec["expect"]
    slug = expected_file.name.removesuffix(".expected.toml")
    root = tmp_path / slug
    shutil.copytree(CORPUS / slug, root, symlinks=True)
    problems: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    before = snapshot(root)
    dry = devenv("init", "--dry-run", cwd=root)
    assert dry.returncode == 0, dry.stderr
    assert "Traceback" not in dry.stdout + dry.stderr
    assert snapshot(root) == before, "init --dry-run wrote something"
    why = dry.stdout.split("\nWhy:\n", 1)[-1]
    for service, evidence in expect.get("evidence", {}).items():
        check(
            f"service {service}: {evidence['file']}" in why,
            f"--dry-run's reasons do not name {evidence['file']} for {service}",
        )

    result = devenv("init", cwd=root)
    assert result.returncode == 0, result.stderr
    text = (root / "devenv.toml").read_text()
    config = tomllib.loads(text)

    services = sorted(config.get("services", {}))
    check(
        services == sorted(expect["services"]),
        f"services: init chose {services}, the corpus expects {sorted(expect['services'])}",
    )
    for service, evidence in expect.get("evidence", {}).items():
        if service not in config.get("services", {}):
            continue
        comment = section(text, f"[services.{service}]")
        check(
            evidence["file"] in comment and evidence["word"] in comment,
            f"[services.{service}]'s comment does not name {evidence['file']}: "
            f"{evidence['word']}: {comment!r}",
        )
    processes = list(config.get("processes", {}))
    check(
        processes == expect["processes"],
        f"processes: init wrote {processes}, the corpus expects {expect['processes']}",
    )
    hooks = config.get("hooks", {}).get("after_ready", [])
    check(
        hooks == expect["after_ready"],
        f"after_ready: init wrote {hooks}, the corpus expects {expect['after_ready']}",
    )
    prod = config.get("prod", {})
    check(
        prod == expect.get("prod", {}),
        f"[prod]: init wrote {prod}, the corpus expects {expect.get('prod', {})}",
    )
    compose = expect.get("compose")
    if compose is not None:
        databases = config.get("services", {}).get("postgres", {}).get("databases", [{}])
        for key, written in (("database", "name"), ("owner", "owner")):
            if key in compose:
                check(
                    databases[0].get(written) == compose[key],
                    f"compose {key}: init wrote {databases[0].get(written)!r}, the corpus "
                    f"expects {compose[key]!r}",
                )
        named = sorted(no_recipe(text))
        check(
            named == sorted(compose.get("no_recipe", [])),
            f"compose services without a recipe: init named {named}, the corpus expects "
            f"{sorted(compose.get('no_recipe', []))}",
        )

    status = devenv("status", cwd=root)
    check(
        status.returncode not in (2, 70) and "Traceback" not in status.stderr,
        f"devenv status on the generated file exited {status.returncode}: {status.stderr}",
    )
    assert not problems, (
        f"{slug} ({spec['source']['repo']}): init differs from {expected_file.name}:\n- "
        + "\n- ".join(problems)
        + f"\n--- the devenv.toml init wrote:\n{text}"
    )
