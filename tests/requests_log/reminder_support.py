"""Real processes for the reminder integration tests: a private redis-server, Celery
workers and beat started as subprocesses, and a small SMTP server that is the outbox.

Workers reach the outbox through Django's own SMTP backend (`EMAIL_URL=smtp://…`), so
nothing in the settings changes for the tests. The SMTP server can hold a session
(to kill a worker in the middle of sending) and refuse one recipient with a 451
(smtplib raises an OSError, the transient failure reminders retry).
"""

import contextlib
import email
import email.policy
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1):
    """Poll until `predicate()` is truthy and return it; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def free_port(low: int = 16400, high: int = 16999) -> int:
    """A port below the ephemeral range (32768+), where outgoing connections never
    hold one briefly. Random within a band, so parallel test processes rarely meet."""
    ports = list(range(low, high))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {low}-{high}")


def database_url_for_subprocess() -> str:
    """The database this test process uses (test_<name>, or test_<name>_gwN under xdist)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (a prefork worker's children too) and every
        descendant in a group of its own (supervisord starts each program in one)."""
        strays = descendants(self.popen.pid)
        if self.popen.poll() is None or _group_alive(self.popen.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        wait_for(lambda: not _group_alive(self.popen.pid), timeout=10, what=f"{self.name} to exit")


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, whatever its process group."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
                found.add(int(child))
                todo.append(int(child))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Processes:
    """Starts processes in their own process groups and kills every one of them."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[Process] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.directory / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(  # noqa: S603 - fixed argument lists from the tests
                # If pytest itself dies, the kernel kills the child (setpriv's parent-death
                # signal survives the exec): a stray worker would take other tests' tasks.
                [SETPRIV, "--pdeathsig", "KILL", "--", *args],
                cwd=ROOT,
                env={
                    **os.environ,
                    "PYTHONPATH": str(ROOT),  # this checkout, whatever is installed
                    "PYTHONUNBUFFERED": "1",
                    **(env or {}),
                },
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def kill_all(self) -> None:
        errors = []
        for process in reversed(self.started):
            try:
                process.kill()
            except AssertionError as error:  # kill the others all the same
                errors.append(error)
        if errors:
            raise errors[0]

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} -----\n{p.output()[-6000:]}" for p in self.started)


class RedisServer:
    """A throwaway redis-server on its own port, so stopping or flushing it disturbs
    no one else's tests. Nothing is kept on disk: a restart loses every message."""

    def __init__(self, processes: Processes, directory: Path):
        self.processes = processes
        self.directory = directory
        self.port = 0
        self.process: Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it; after `stop()`, on the same port (a restart, as clients see it)."""
        restart = bool(self.port)
        for _ in range(5):
            if not restart:
                self.port = free_port()
            self.starts += 1
            self.process = self.processes.start(
                f"redis-{self.port}-{self.starts}",
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                ],
            )
            with contextlib.suppress(AssertionError):
                wait_for(
                    lambda: not self.process.alive() or self.ping(),
                    timeout=10,
                    what="redis-server",
                )
            if self.process.alive() and self.ping():
                return
            self.process.kill()  # the port was taken meanwhile: try again
        raise RuntimeError(f"redis-server did not start:\n{self.processes.logs()}")

    def stop(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process = None

    def client(self):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: "is it down?" must answer at once.
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except OSError:
            return False
        except Exception:  # redis.ConnectionError and friends
            return False

    def queue_length(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))


@dataclass(frozen=True)
class OutboxMessage:
    to: str
    subject: str
    body: str

    @property
    def request_path(self) -> str:
        match = re.search(r"/requests/\d+/", self.body)
        return match.group(0) if match else ""


class SMTPOutbox(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib. A message counts once the server has it whole
    (after the final "." of DATA): that is what reached the outbox."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        for attempt in range(5):
            try:
                super().__init__(("127.0.0.1", free_port(17000, 17999)), _SMTPSession)
                break
            except OSError:  # taken between the probe and now
                if attempt == 4:
                    raise
        self.port = self.server_address[1]
        self.messages: list[OutboxMessage] = []
        self.refused: set[str] = set()
        self.refusals = 0
        self.lock = threading.Lock()
        self.holding = False  # hold every session at MAIL FROM until released
        self.held = threading.Event()  # a session is being held right now
        self.release = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SMTPOutbox":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def hold(self) -> None:
        self.release.clear()
        self.held.clear()
        self.holding = True

    def let_go(self) -> None:
        self.holding = False
        self.release.set()

    def recipients(self) -> list[str]:
        with self.lock:
            return [message.to for message in self.messages]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


class _SMTPSession(socketserver.StreamRequestHandler):
    server: SMTPOutbox
    timeout = 60

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self._conversation()

    def _conversation(self) -> None:
        self.reply("220 outbox.test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-outbox.test")
                self.reply("250 8BITMIME")
            elif verb in {"HELO", "NOOP"}:
                self.reply("250 OK")
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "MAIL":
                if self.server.holding:
                    self.server.held.set()
                    self.server.release.wait(timeout=120)
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>").split(">")[0]
                if address in self.server.refused:
                    with self.server.lock:
                        self.server.refusals += 1
                    self.reply("451 4.3.0 Try again later")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self._receive(recipients)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _receive(self, recipients: list[str]) -> None:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        if line == b"":
            return  # the client went away mid-message: nothing was delivered
        parsed = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.server.lock:
            self.server.messages.extend(
                OutboxMessage(to=recipient, subject=str(parsed["Subject"]), body=text)
                for recipient in recipients
            )


class Celery:
    """`celery -A boundary worker|beat` subprocesses sharing one environment."""

    def __init__(self, processes: Processes, directory: Path, env: dict[str, str]):
        self.processes = processes
        self.directory = directory
        self.env = env
        self.prefix = uuid.uuid4().hex[:8]

    def worker(self, name: str, *, concurrency: int = 1, pool: str = "solo", **env: str) -> Process:
        args = [
            str(BIN / "celery"),
            "-A",
            "boundary",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
            "-n",
            f"{name}-{self.prefix}@%h",
        ]
        return self.processes.start(name, args, {**self.env, **env})

    def beat(self, name: str, **env: str) -> Process:
        args = [
            str(BIN / "celery"),
            "-A",
            "boundary",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(self.directory / f"{name}-schedule"),
            "--pidfile",
            str(self.directory / f"{name}.pid"),
        ]
        return self.processes.start(name, args, {**self.env, **env})

    def manage(self, name: str, *args: str, **env: str) -> Process:
        return self.processes.start(
            name, [str(BIN / "python"), "manage.py", *args], {**self.env, **env}
        )

    def wait_ready(self, *workers: Process, timeout: float = 60) -> None:
        for worker in workers:
            wait_for(
                lambda w=worker: " ready." in w.output() or not w.alive(),
                timeout=timeout,
                what=f"{worker.name} to be ready",
            )
            if not worker.alive():
                raise AssertionError(f"{worker.name} exited:\n{worker.output()[-4000:]}")
