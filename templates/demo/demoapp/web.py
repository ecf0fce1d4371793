"""The web app: a greeting, a visit counter (Redis) and notes (PostgreSQL).

    GET  /         the home page
    POST /notes    add a note (form field "text")
    POST /jobs     queue a job for the worker
    GET  /health   200 "ok" when PostgreSQL and Redis both answer, else 503

Listens on 127.0.0.1:$PORT (default 5000) and logs one line per request.
"""

from __future__ import annotations

import contextlib
import html
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from demoapp import MissingSetting, cache, db, setting
from demoapp.greeting import GREETING

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>devenv demo</title></head>
<body>
<h1>{greeting}</h1>
<p>Visits: <span id="visits">{visits}</span>. Jobs done by the worker: {jobs}.</p>
<form method="post" action="/notes">
  <input name="text" placeholder="Leave a note" required> <button>Add note</button>
</form>
<form method="post" action="/jobs"><button>Queue a job</button></form>
<h2>Latest notes</h2>
<ul>
{notes}
</ul>
</body>
</html>
"""


class DemoServer(ThreadingHTTPServer):
    """The HTTP server; ``prefix`` namespaces its Redis keys (tests use their own)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], prefix: str = "demo") -> None:
        setting("DATABASE_URL")  # a missing setting fails here, not on the first request
        self.redis = cache.connect()
        self.visits_key = f"{prefix}:visits"
        self.queue = f"{prefix}:jobs"
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: DemoServer

    def do_GET(self) -> None:
        if self.path == "/":
            self.home()
        elif self.path == "/health":
            self.health()
        else:
            self.reply(404, "not found\n")

    def do_POST(self) -> None:
        if self.path == "/notes":
            self.add_note()
        elif self.path == "/jobs":
            self.queue_job()
        else:
            self.reply(404, "not found\n")

    def home(self) -> None:
        visits = self.server.redis.incr(self.server.visits_key)
        conn = db.connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT text FROM notes ORDER BY id DESC LIMIT 10")
                notes = [text for (text,) in cur.fetchall()]
                cur.execute("SELECT count(*) FROM jobs")
                (jobs,) = cur.fetchone()
        finally:
            conn.close()
        page = PAGE.format(
            greeting=html.escape(GREETING),
            visits=visits,
            jobs=jobs,
            notes="\n".join(f"<li>{html.escape(note)}</li>" for note in notes),
        )
        self.reply(200, page, "text/html; charset=utf-8")

    def add_note(self) -> None:
        text = self.form().get("text", "").strip()
        if not text:
            self.reply(400, "a note needs some text\n")
            return
        conn = db.connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("INSERT INTO notes (text) VALUES (%s)", (text,))
        finally:
            conn.close()
        self.redirect("/")

    def queue_job(self) -> None:
        self.server.redis.rpush(self.server.queue, f"job queued at {time.strftime('%H:%M:%S')}")
        self.redirect("/")

    def health(self) -> None:
        problems = []
        try:
            db.connect().close()
        except Exception as err:
            problems.append(f"postgres: {err}".strip())
        try:
            self.server.redis.ping()
        except Exception as err:
            problems.append(f"redis: {err}")
        if problems:
            self.reply(503, "\n".join(problems) + "\n")
        else:
            self.reply(200, "ok\n")

    def form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        fields = parse_qs(self.rfile.read(length).decode())
        return {name: values[0] for name, values in fields.items()}

    def reply(self, code: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        print(f"web: {self.command} {self.path} {code}", flush=True)


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    try:
        server = DemoServer(("127.0.0.1", port))
    except MissingSetting as err:
        sys.exit(f"web: {err}")
    # devenv stops processes with SIGTERM: leave serve_forever() like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"web: listening on http://127.0.0.1:{port}", flush=True)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
