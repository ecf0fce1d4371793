"""The one way devenv writes ``export`` lines, read back by a real shell."""

from __future__ import annotations

import subprocess

from devenv.config.dotenv import export_lines


def test_a_shell_gets_every_value_back_as_it_was():
    values = {
        "DATABASE_URL": "postgresql://app:s3cr%2Ft@127.0.0.1:5433/app",
        "TRICKY": 'it\'s $HOME `date` "quoted"\\ and;spaces',
        "EMPTY": "",
    }
    lines = export_lines(values)
    assert [line.split("=", 1)[0] for line in lines] == [f"export {k}" for k in values]
    script = "\n".join(lines) + '\nprintf "%s\\0" "$DATABASE_URL" "$TRICKY" "$EMPTY"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split("\0")[:-1] == list(values.values())
