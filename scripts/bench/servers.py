"""gunicorn for the app and for the floor: 2 sync workers each, on loopback only, the
application loaded before the workers fork."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from config import HOST, OUT, ROOT, VENV_BIN, WORKERS


@contextmanager
def gunicorn(app: str, port: int, environment: dict[str, str], chdir: Path = ROOT):
    """Serve the WSGI `app` (module:callable) on HOST:port until the block ends."""
    log = open(OUT / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603 - a fixed argument list
        [
            str(VENV_BIN / "gunicorn"),
            f"--workers={WORKERS}",
            "--worker-class=sync",
            f"--bind={HOST}:{port}",
            f"--chdir={chdir}",
            f"--pythonpath={Path(__file__).parent}",
            "--preload",  # imports once, before the fork (preloaded.py)
            # Its default path is shared by every gunicorn on the machine; none is used here.
            "--no-control-socket",
            "--graceful-timeout=5",  # at the end, workers still busy are not waited for
            app,
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_listening(port, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # Its master has been seen to outlive "Shutting down" here: end its group.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def wait_until_listening(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited: see {OUT}/gunicorn-{port}.log")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not start in {seconds:.0f} s")
