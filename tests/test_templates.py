"""One placeholder syntax for every template devenv renders: ``{name}``, as in recipes."""

from __future__ import annotations

import re

import pytest

from devenv.resources import render_template, templates_dir


def test_placeholders_are_filled_and_doubled_braces_are_literal(tmp_path):
    template = tmp_path / "t.conf"
    template.write_text("port {port}\nready = {{ http = '$PORT' }}\n")
    assert render_template(template, {"port": 5433}) == "port 5433\nready = { http = '$PORT' }\n"


def test_a_placeholder_without_a_value_is_an_error(tmp_path):
    template = tmp_path / "t.conf"
    template.write_text("port {port}\n")
    with pytest.raises(KeyError, match="port"):
        render_template(template, {})


@pytest.mark.parametrize(
    "name", ["postgres/postgresql.conf", "redis/redis.conf", "init/devenv.toml"]
)
def test_no_bundled_config_keeps_string_templates_syntax(name):
    text = (templates_dir() / name).read_text(encoding="utf-8")
    assert not re.search(r"\$\{?[a-z_]+\b", text)  # $name / ${name}; $PORT is the shell's


def test_the_hook_is_rendered_the_same_way():
    from devenv.onboarding.hooks import render

    assert "for python in /opt/py3 python3; do" in render("/opt/py3")
