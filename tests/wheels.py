"""Small real wheels for tests, written by hand (a wheel is a zip with a .dist-info folder).

Installing them with uv from a local folder (``--find-links``, no index) gives
real virtualenvs in milliseconds, with no network.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """Write ``name-version-py3-none-any.whl`` into ``folder``: one module, importable.

    ``import <name>`` (dashes as underscores) gives ``__version__ == version``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_").lower()
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist}.dist-info/METADATA": "\n".join(
            [
                "Metadata-Version: 2.1",
                f"Name: {name}",
                f"Version: {version}",
                *(f"Requires-Dist: {req}" for req in requires),
                "",
            ]
        ).encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: devenv-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = f"{dist}.dist-info/RECORD"
    lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    lines.append(f"{record},,")
    files[record] = ("\n".join(lines) + "\n").encode()
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in files.items():
            zf.writestr(member, data)
    return path
