"""The floor: a bare WSGI app that answers /<page> by running the SQL that page of
Boundary runs (captured by capture.py into BENCH_FLOOR_QUERIES, a JSON object of page
name to statements) through psycopg2, returning the rows as plain text. No Django, no
templates, no sessions: what this machine's Python and PostgreSQL can do at best for the
same reads. Serve it as the app is served:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/boundary_bench \\
    BENCH_FLOOR_QUERIES=var/bench/queries.json \\
    .venv/bin/gunicorn --chdir scripts/bench -w 2 -b 127.0.0.1:8472 floor:application
"""

import json
import os
from pathlib import Path

import psycopg2

STATEMENTS: dict[str, list[str]] = json.loads(Path(os.environ["BENCH_FLOOR_QUERIES"]).read_text())
_connection = None


def connection():
    """One persistent connection per worker, made after the fork, in autocommit and with
    the planner settings (BENCH_FLOOR_PG_OPTIONS) Django's have."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(
            os.environ["DATABASE_URL"], options=os.environ.get("BENCH_FLOOR_PG_OPTIONS", "")
        )
        _connection.autocommit = True
    return _connection


def application(environ, start_response):
    statements = STATEMENTS.get(environ["PATH_INFO"].strip("/"))
    if statements is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such page\n"]
    lines = []
    with connection().cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                lines.extend("\t".join(map(str, row)) for row in cursor.fetchall())
    body = "\n".join(lines).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
