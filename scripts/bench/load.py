"""Drives a page with wrk (Debian package `wrk`) and reads what wrk.lua prints."""

import http.client
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from config import HOST

SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    not_200: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk(port: int, path: str, *, cookie: str, seconds: int, connections: int) -> Run:
    """`connections` keep-alive connections on one wrk thread for `seconds` (whole
    seconds: wrk takes no fractions)."""
    result = subprocess.run(  # noqa: S603 - a fixed argument list
        [
            shutil.which("wrk") or "wrk",
            "--threads=1",
            f"--connections={connections}",
            f"--duration={seconds}s",
            "--timeout=10s",
            f"--script={SCRIPT}",
            f"http://{HOST}:{port}{path}",
        ],
        env={**os.environ, "BENCH_COOKIE": cookie},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    return Run(**json.loads(line.removeprefix("BENCH ")))


def get(port: int, path: str, cookie: str) -> float:
    """Seconds to answer one request on a new connection (any status)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=300)
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
        connection.getresponse().read()
    finally:
        connection.close()
    return time.perf_counter() - started
