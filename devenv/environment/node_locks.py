"""Node lockfiles: package-lock.json (v1, v2, v3), yarn.lock (v1 and berry), pnpm-lock.yaml (v5-v9).

Each reader takes the path and returns a tuple of Locked (names as written,
scope included: the folder under node_modules) or raises LockfileError. YAML
is not a dependency: yarn.lock and pnpm-lock.yaml are read by small line
readers for the subset of YAML those tools write. What a caller may rely on:

- package-lock.json v2/v3: the top-level ``node_modules/<name>`` entries only (drift
  compares the top level of node_modules), the root "" and workspace folders left
  out; ``optional: true`` -> ``optional``, ``link: true`` (a workspace) -> ``local``.
  v1 (``dependencies`` only): its top-level dependencies, ``file:`` ones local.
- yarn.lock: one Locked per block (and per name, when yarn merged an alias into the
  block) with the block's version: a name may appear with several versions. Berry's
  ``workspace:``/``link:``/``portal:``/``file:`` resolutions (the project and its
  workspaces) are local; v1's ``file:``/``link:`` ranges too. A package is required
  when the project reaches it through plain dependencies (berry: from its workspaces,
  never through a package with ``conditions``, a platform package; v1: from the
  package.json beside the lock and the blocks nothing refers to, never through
  ``optionalDependencies``); the rest (fsevents, and what only it needs) is optional.
- pnpm-lock.yaml: the root importer's direct dependencies (``importers: .:``, or the
  top-level sections of a single-project lockfile): dependencies, devDependencies and
  optionalDependencies (optional), with the resolved version, peer suffixes removed
  (``1.2.3(react@18.2.0)`` -> ``1.2.3``); ``link:``/``file:`` versions are local.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from devenv.environment.lockfiles import malformed, parse_json, read_text
from devenv.environment.model import Locked

# ---------------------------------------------------------------- package-lock.json


def read_npm(path: Path) -> tuple[Locked, ...]:
    data = parse_json(path, read_text(path, tool="npm"), "npm")
    if not isinstance(data, dict):
        raise malformed(path, "npm", "is not a JSON object")
    packages = data.get("packages")
    if isinstance(packages, dict):
        return tuple(_npm_packages(path, packages))
    dependencies = data.get("dependencies", {})
    if not isinstance(dependencies, dict) or (not dependencies and "lockfileVersion" not in data):
        raise malformed(path, "npm", 'has neither "packages" nor "dependencies"')
    return tuple(_npm_v1(path, dependencies))


def _npm_packages(path: Path, packages: dict) -> Iterator[Locked]:
    for key, entry in packages.items():
        # "" is the project, "packages/ui" a workspace folder, ".../node_modules/x" nested.
        if not key.startswith("node_modules/"):
            continue
        name = key[len("node_modules/") :]
        if "/node_modules/" in name:
            continue
        if not isinstance(entry, dict):
            raise malformed(path, "npm", f'"packages" -> "{key}" is not an object')
        if entry.get("link") is True:
            yield Locked(name=name, version=None, spec=str(entry.get("resolved", "")), local=True)
            continue
        yield _npm_locked(name, entry.get("version"), entry.get("optional") is True)


def _npm_v1(path: Path, dependencies: dict) -> Iterator[Locked]:
    for name, entry in dependencies.items():
        if not isinstance(entry, dict):
            raise malformed(path, "npm", f'"dependencies" -> "{name}" is not an object')
        yield _npm_locked(name, entry.get("version"), entry.get("optional") is True)


def _npm_locked(name: str, version: object, optional: bool) -> Locked:
    if not isinstance(version, str) or not version:
        return Locked(name=name, version=None, optional=optional)
    if version.startswith(("file:", "link:")):
        return Locked(name=name, version=None, spec=version, local=True)
    if ":" in version:
        # v1 writes a git or tarball dependency's source where the version goes.
        return Locked(name=name, version=None, spec=version, optional=optional)
    return Locked(name=name, version=version, optional=optional)


# ---------------------------------------------------------------- yarn.lock


def read_yarn(path: Path) -> tuple[Locked, ...]:
    text = read_text(path, tool="yarn")
    lines = text.splitlines()
    berry = any(line.startswith("__metadata:") for line in lines[:50])
    blocks = list(_yarn_blocks(path, lines, berry))
    for block in blocks:
        if block.version is None and not block.local:
            what = f"the block for {block.specs[0]} has no version"
            raise malformed(path, "yarn", what, block.line)
    required = _yarn_required(blocks, berry, path.parent / "package.json")
    result: list[Locked] = []
    for block in blocks:
        names = dict.fromkeys(_spec_name(spec) for spec in block.specs)
        if block.local:
            spec = block.resolution if berry and block.resolution else block.specs[0]
            result += [Locked(name=name, version=None, spec=spec, local=True) for name in names]
        else:
            optional = id(block) not in required
            result += [Locked(name=n, version=block.version, optional=optional) for n in names]
    # A package in two blocks (berry's patched copy and the original) is required if
    # either is.
    needed = {(p.name, p.version) for p in result if not p.optional}
    return tuple(
        dict.fromkeys(p for p in result if not (p.optional and (p.name, p.version) in needed))
    )


class _Block:
    __slots__ = ("conditions", "dependencies", "line", "resolution", "specs", "version")

    def __init__(self, line: int, specs: list[str]) -> None:
        self.line = line
        self.specs = specs
        self.version: str | None = None
        self.resolution: str | None = None
        self.conditions = False  # berry: a platform package (os=darwin...)
        self.dependencies: list[tuple[str, bool]] = []  # (name@range, under optional...)

    @property
    def local(self) -> bool:
        if self.resolution is not None:  # berry
            return _spec_range(self.resolution).startswith(_LOCAL_PROTOCOLS)
        return any(_spec_range(spec).startswith(_LOCAL_PROTOCOLS) for spec in self.specs)


_DEPENDENCY_MAPS = {"dependencies": False, "optionalDependencies": True}


def _yarn_blocks(path: Path, lines: list[str], berry: bool) -> Iterator[_Block]:
    block: _Block | None = None
    section: bool | None = None  # the dependency map being read: optional or not
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            if block is not None:
                yield block
                block = None
            if not line.rstrip().endswith(":"):
                what = f"expected `spec, spec...:` here, got {line!r}"
                raise malformed(path, "yarn", what, number)
            header = line.rstrip()[:-1]
            if header == "__metadata":
                continue
            specs = _yarn_specs(header, berry)
            if not specs:
                raise malformed(path, "yarn", "a block without a package name", number)
            block = _Block(number, specs)
            continue
        if block is None:
            continue  # __metadata's fields
        if line.startswith("    ") and line[4:5] != " ":
            if section is not None:
                key, value = _yarn_field(line[4:], berry)
                block.dependencies.append((f"{key}@{value}", section))
            continue
        if not line.startswith("  ") or line[2:3] == " ":
            continue  # deeper: dependenciesMeta's entries...
        key, value = _yarn_field(line[2:], berry)
        section = _DEPENDENCY_MAPS.get(key) if not value else None
        if key == "version":
            block.version = value
        elif key == "resolution":
            block.resolution = value
        elif key == "conditions":
            block.conditions = True
    if block is not None:
        yield block


def _yarn_required(blocks: list[_Block], berry: bool, manifest: Path) -> set[int]:
    """The ids of the blocks an install needs on every platform: those reached from the
    project through plain dependencies. Berry starts from its workspace blocks and does
    not enter a package with ``conditions``; v1 starts from the package.json beside the
    lock and from the blocks nothing refers to, and does not follow optionalDependencies.
    What only an optional or platform package needs (fsevents' node-gyp) is optional."""
    by_spec = {spec: block for block in blocks for spec in block.specs}
    if berry:
        roots = [block for block in blocks if block.local]
    else:
        wanted = {spec for block in blocks for spec, optional in block.dependencies if not optional}
        optional = {spec for block in blocks for spec, flag in block.dependencies if flag}
        named = _manifest_specs(manifest)
        roots = [
            block
            for block in blocks
            if any(spec in named for spec in block.specs)
            or (
                any(spec not in wanted and spec not in optional for spec in block.specs)
                and not any(spec in optional for spec in block.specs)
            )
        ]
    required = {id(block) for block in roots}
    pending = roots[:]
    while pending:
        block = pending.pop()
        for spec, soft in block.dependencies:
            target = by_spec.get(spec)
            if soft or target is None or id(target) in required:
                continue
            if berry and target.conditions:
                continue
            required.add(id(target))
            pending.append(target)
    return required


def _manifest_specs(manifest: Path) -> set[str]:
    """``name@range`` of a package.json's dependencies and devDependencies (none when it
    cannot be read: the walk then starts from the blocks nothing refers to)."""
    import json

    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    specs: set[str] = set()
    for key in ("dependencies", "devDependencies"):
        section = data.get(key) if isinstance(data, dict) else None
        if isinstance(section, dict):
            specs |= {f"{name}@{wanted}" for name, wanted in section.items()}
    return specs


def _yarn_specs(header: str, berry: bool) -> list[str]:
    """``"a@^1", "a@^1.2"`` (v1) or ``"a@npm:^1, a@npm:^1.2"`` (berry) -> the specs."""
    if berry and len(header) >= 2 and header[0] == header[-1] == '"':
        header = header[1:-1]
    specs = []
    for part in header.split(","):
        part = part.strip()
        if len(part) >= 2 and part[0] == part[-1] == '"':
            part = part[1:-1]
        if part:
            specs.append(part)
    return specs


def _yarn_field(text: str, berry: bool) -> tuple[str, str]:
    """``version "1.2.3"`` (v1) or ``version: 1.2.3`` (berry) -> (key, value); a quoted
    key (``"@scope/name"``) keeps its text."""
    if text.startswith('"'):
        end = text.find('"', 1)
        key, rest = (text[1:end], text[end + 1 :]) if end > 0 else (text, "")
        value = rest[1:] if berry and rest.startswith(":") else rest
    elif berry:
        key, _, value = text.partition(":")
    else:
        key, _, value = text.partition(" ")
        key = key.removesuffix(":")  # "dependencies:" opens a map in v1 too
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key.strip(), value


def _spec_name(spec: str) -> str:
    """``@scope/name@range`` -> ``@scope/name``; ``alias@npm:real@^1`` -> ``alias``."""
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else spec


def _spec_range(spec: str) -> str:
    at = spec.find("@", 1)
    return spec[at + 1 :] if at > 0 else ""


_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:")


# ---------------------------------------------------------------- pnpm-lock.yaml

_PNPM_SECTIONS = {"dependencies": False, "devDependencies": False, "optionalDependencies": True}


def read_pnpm(path: Path) -> tuple[Locked, ...]:
    lines = read_text(path, tool="pnpm").splitlines()
    version = None
    importers = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("lockfileVersion:"):
            version = _yaml_scalar(line.partition(":")[2])
        elif line.rstrip() == "importers:":
            importers = number
    if version is None:
        raise malformed(path, "pnpm", "has no lockfileVersion: line")
    old = _major(version) < 6  # pnpm 7's 5.x lockfiles: peers after "_"
    if importers is None:
        entries = _pnpm_sections(lines, 0, 0)
    else:
        root = _pnpm_root_importer(lines, importers)
        entries = _pnpm_sections(lines, root, 4) if root is not None else iter(())
    result = []
    for name, raw, optional, number in entries:
        if raw is None:
            raise malformed(path, "pnpm", f"{name} has no version", number)
        result.append(_pnpm_locked(name, raw, optional, old))
    return tuple(dict.fromkeys(result))


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 9


def _pnpm_root_importer(lines: list[str], start: int) -> int | None:
    """The index of the first line inside ``importers: .:``, or None."""
    for index in range(start, len(lines)):
        line = lines[index]
        if line and not line[0].isspace():
            return None  # the next top-level key: no root importer
        if (
            line.startswith("  ")
            and line[2:3] not in (" ", "")
            and _yaml_key(line.strip()[:-1]) == "."
        ):
            return index + 1
    return None


def _pnpm_sections(
    lines: list[str], start: int, indent: int
) -> Iterator[tuple[str, str | None, bool, int]]:
    """(name, version or None, optional, line number) of the dependency sections found
    at ``indent`` from ``start`` until the enclosing block ends."""
    section: bool | None = None  # the current section's "optional", None: not one we read
    name: str | None = None
    version: str | None = None
    at = 0
    pad, entry_pad, field_pad = " " * indent, " " * (indent + 2), " " * (indent + 4)
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        width = len(line) - len(line.lstrip(" "))
        if width < indent:
            break
        if width == indent and line.startswith(pad):
            if name is not None and section is not None:
                yield name, version, section, at
            name = None
            key = _yaml_key(line.strip().rstrip(":"))
            section = _PNPM_SECTIONS.get(key)
        elif section is None:
            continue
        elif width == indent + 2 and line.startswith(entry_pad):
            if name is not None:
                yield name, version, section, at
            key, _, value = _split_yaml(line.strip())
            name, version, at = _yaml_key(key), _yaml_scalar(value) or None, index + 1
        elif width == indent + 4 and line.startswith(field_pad) and name is not None:
            key, _, value = _split_yaml(line.strip())
            if key == "version":
                version = _yaml_scalar(value)
    if name is not None and section is not None:
        yield name, version, section, at


def _split_yaml(text: str) -> tuple[str, str, str]:
    """``'@a/b': 1.0`` -> ("'@a/b'", ":", "1.0"): the colon after a quoted key."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        while end != -1 and text[0] == "'" and text[end + 1 : end + 2] == "'":
            end = text.find("'", end + 2)  # '' is a quote inside a single-quoted key
        if end != -1:
            rest = text[end + 1 :]
            return text[: end + 1], ":", rest.partition(":")[2]
    key, sep, value = text.partition(": ")
    if not sep and text.endswith(":"):
        return text[:-1], ":", ""
    return key, sep, value


def _yaml_key(text: str) -> str:
    return _yaml_scalar(text)


def _yaml_scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _pnpm_locked(name: str, raw: str, optional: bool, old: bool) -> Locked:
    if raw.startswith(("link:", "file:", "workspace:")):
        return Locked(name=name, version=None, spec=raw, local=True)
    version = raw.split("(", 1)[0]
    if old:
        version = version.split("_", 1)[0]
    if "://" in version:
        return Locked(name=name, version=None, spec=raw, optional=optional)
    if version.startswith("/"):
        # An alias (npm:other@1): v6 writes /other@1.0.0, v5 /other/1.0.0.
        version = version[1:]
        version = version.rsplit("@" if "@" in version[1:] else "/", 1)[-1]
    elif "@" in version[1:]:
        version = version.rsplit("@", 1)[-1]  # v9's alias: other@1.0.0
    if not version[:1].isdigit():
        # Not a registry version (github.com/user/repo/sha...): what installs is not it.
        return Locked(name=name, version=None, spec=raw, optional=optional)
    return Locked(name=name, version=version, optional=optional)


READERS: dict[str, Callable[[Path], tuple[Locked, ...]]] = {
    "npm": read_npm,
    "yarn": read_yarn,
    "pnpm": read_pnpm,
}
