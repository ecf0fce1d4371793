"""The dashboard's header: the URLs the project's processes serve on, as links, beside the
services' connection URLs. Textual's pilot on the fake session of tests/test_tui.py."""

from __future__ import annotations

from dataclasses import replace

from devenv.tui.app import app_urls
from tests.test_tui import ROWS, asynctest, make_app, settle


def listening(rows, name: str, ports: tuple[int, ...]):
    return [replace(row, ports=ports) if row.name == name else row for row in rows]


def test_a_process_that_listens_gets_its_url_on_its_lowest_port():
    rows = listening(ROWS, "web.1", (8001, 5000))
    assert app_urls(rows) == (("web.1", "http://127.0.0.1:5000/"),)


def test_no_url_for_a_process_that_listens_on_nothing_or_is_not_up():
    assert app_urls(ROWS) == ()  # ports not sampled yet: the PORT it was given is no proof
    crashed = listening(ROWS, "mailer.1", (7000,))  # crashed: what it listened on is gone
    assert app_urls(crashed) == ()
    services = listening(ROWS, "postgres", (5432,))  # services have their URLs already
    assert app_urls(services) == ()


@asynctest
async def test_the_header_shows_the_apps_urls_as_links_before_the_services():
    app, _ = make_app(rows=listening(ROWS, "web.1", (5000,)))
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        for _ in range(30):  # the rows arrive with the first sample
            if app.header.apps:
                break
            await pilot.pause(0.05)
        assert app.header.apps == (("web.1", "http://127.0.0.1:5000/"),)
        urls = app.header.query_one("#urls")
        text = str(urls.render())
        assert text.index("web.1 http://127.0.0.1:5000/") < text.index("DATABASE_URL=")
        links = [span.style for span in urls.render().spans if "link=" in str(span.style)]
        assert any("http://127.0.0.1:5000/" in str(style) for style in links)
