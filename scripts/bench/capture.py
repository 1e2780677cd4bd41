"""The SQL each page sends, captured in-process for the floor to replay.

Each page is requested through Django's test Client as its persona, with the settings
gunicorn serves it with, twice: the first request does what only a first visit does
(a manager's first look at an answer is recorded, caches fill); the second is the one
kept. Statements are captured with connection.execute_wrapper and stored as the text
psycopg2 sends to the server (it binds parameters on the client), so the floor sends the
very same bytes.
Reads are replayed; writes (a session touched, an HR read logged) are counted but not
replayed, as a replayed INSERT would break the chain's uniqueness. Needs Django set up.
"""

import time
from dataclasses import dataclass, field

from config import HOST

READS = ("SELECT", "WITH")


@dataclass
class CapturedPage:
    status: int
    bytes: int
    seconds: float  # the captured request, in-process
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    @property
    def queries(self) -> int:
        return len(self.reads) + len(self.writes)


def client_for(session_key: str):
    from django.conf import settings
    from django.test import Client

    # X-Forwarded-Proto: what the TLS proxy in front of Boundary sends in production.
    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def capture(client, path: str, *, slow: float) -> CapturedPage:
    """The page's second request, or its first if that took over `slow` seconds (a page
    that slow is not served to load, and a second look would only cost minutes)."""
    first = captured_get(client, path)
    return first if first.seconds > slow else captured_get(client, path)


def captured_get(client, path: str) -> CapturedPage:
    from django.db import connection

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        bound = params is not None and not many
        statements.append(context["cursor"].cursor.mogrify(sql, params).decode() if bound else sql)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(record):
        response = client.get(path)
    page = CapturedPage(
        status=response.status_code,
        bytes=len(response.content),
        seconds=time.perf_counter() - started,
    )
    for sql in statements:
        (page.reads if sql.lstrip().upper().startswith(READS) else page.writes).append(sql)
    return page
