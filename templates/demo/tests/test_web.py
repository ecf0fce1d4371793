import html
import re
import threading
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlencode

import pytest

from demoapp.greeting import GREETING
from demoapp.web import DemoServer


@pytest.fixture
def server(migrated, prefix):
    """The web app on a free port, in a thread."""
    server = DemoServer(("127.0.0.1", 0), prefix=prefix)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def url(server, path):
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


def get(server, path):
    try:
        with urllib.request.urlopen(url(server, path), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def post(server, path, **fields):
    data = urlencode(fields).encode()
    try:
        with urllib.request.urlopen(url(server, path), data=data, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def visits(page):
    return int(re.search(r'<span id="visits">(\d+)</span>', page).group(1))


def test_home_shows_the_greeting(server):
    status, page = get(server, "/")
    assert status == 200
    assert html.escape(GREETING) in page


def test_each_visit_is_counted(server):
    first = visits(get(server, "/")[1])
    second = visits(get(server, "/")[1])
    assert second == first + 1


def test_a_posted_note_shows_on_the_home_page(server, conn):
    text = f"note {uuid.uuid4().hex}"
    try:
        status, page = post(server, "/notes", text=text)  # redirected to /
        assert status == 200
        assert f"<li>{text}</li>" in page
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM notes WHERE text = %s", (text,))


def test_an_empty_note_is_refused(server):
    assert post(server, "/notes", text=" ")[0] == 400


def test_posting_a_job_queues_it(server, r):
    status, _ = post(server, "/jobs")
    assert status == 200
    assert r.llen(server.queue) == 1


def test_health_is_ok_when_postgres_and_redis_answer(server):
    assert get(server, "/health") == (200, "ok\n")


def test_health_fails_when_redis_is_down(migrated, prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    server = DemoServer(("127.0.0.1", 0), prefix=prefix)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        status, body = get(server, "/health")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 503
    assert body.startswith("redis:")


def test_unknown_paths_are_404(server):
    assert get(server, "/nope")[0] == 404
