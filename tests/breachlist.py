"""A Pwned Passwords range API on loopback for the tests (GET /range/<5 hex digits>),
holding a few breached passwords: what an instance without internet access runs as its
mirror of the list (boundary/passwords.py). It answers as the real API does: each SHA-1
suffix under the prefix with its count, padded with zero-count lines."""

import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Breached, and not among Django's 20,000 common passwords.
BREACHED = {"Tr0ub4dor&3xkcd": 1402, "maya.makes.2019": 3}
PADDING_LINES = 20


@dataclass
class BreachList:
    url: str
    # The path of every request, to show what left the server.
    paths: list[str] = field(default_factory=list)


def _suffixes(prefix: str) -> list[str]:
    lines = []
    for password, count in BREACHED.items():
        digest = hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the API's hash
        if digest.startswith(prefix):
            lines.append(f"{digest[5:]}:{count}")
    lines += [f"{secrets.token_hex(18).upper()[:35]}:0" for _ in range(PADDING_LINES)]
    return lines


def breach_list() -> Iterator[BreachList]:
    """Serve the list on a free loopback port until the generator is closed."""
    served = BreachList(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.paths.append(self.path)
            prefix = self.path.rsplit("/", 1)[-1].upper()
            body = "\r\n".join(_suffixes(prefix)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_port}/range/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
