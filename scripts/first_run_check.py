#!/usr/bin/env python3
"""Start Boundary the way a newcomer does, and check it works.

In a fresh `git clone` of this repository (what is committed, not the working tree)
and an environment without DATABASE_URL or CELERY_BROKER_URL:

1. `make run` (cold: no .venv) answers 200 on the start page, following redirects;
2. the demo login (maya@example.com / boundary-demo) works;
3. a reminder made to fall due soon (`manage.py demo_reminder`) is sent by the worker;
4. the web server, the worker and beat are still the processes that started;
5. Ctrl-C (SIGINT to make's process group, as a terminal sends it) stops everything:
   every process started under make is gone, including any that left the tree, and
   nothing is left running in the clone;
6. then once more warm (the .venv is there): 200 on the start page, and a clean stop.

Prints the cold and warm start times. Exits 1 on the first failure, after killing
whatever it started. Needs only Python 3 (standard library), git and make.

    python3 scripts/first_run_check.py [--port 18765] [--keep]
"""

import argparse
import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_EMAIL = "maya@example.com"
DEMO_PASSWORD = "boundary-demo"  # noqa: S105 - the published demo login
# Settings a developer may have exported; a newcomer has none of them.
UNSET = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_ENV",
    "EMAIL_URL",
    "SITE_URL",
    "VIRTUAL_ENV",
    "PORT",
)
COLD_TIMEOUT = 600  # a cold start installs every package
WARM_TIMEOUT = 60
STOP_TIMEOUT = 60


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"first-run: {message}", flush=True)


# --- Processes ------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def identity(pid: int) -> tuple[int, str] | None:
    """(pid, start time): a pid alone may be reused by an unrelated process later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return pid, stat.rsplit(")", 1)[1].split()[19]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def alive(identities: set[tuple[int, str]]) -> set[tuple[int, str]]:
    return {ident for ident in identities if identity(ident[0]) == ident}


def processes_in(directory: Path) -> set[tuple[int, str]]:
    """Every process whose working directory is inside `directory`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = Path(os.readlink(entry / "cwd"))
            if cwd == directory or directory in cwd.parents:
                ident = identity(int(entry.name))
                if ident:
                    found.add(ident)
    return found


class MakeRun:
    def __init__(self, clone: Path, port: int, env: dict[str, str], log: Path):
        self.clone = clone
        self.port = port
        self.env = env
        self.log = log
        self.popen: subprocess.Popen | None = None
        self.seen: set[tuple[int, str]] = set()

    def start(self) -> None:
        # O_APPEND: supervisord reopens /dev/stdout for its programs' output, which then
        # shares the file with make's own writes without overwriting them.
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(  # noqa: S603
                ["make", "run", f"PORT={self.port}"],  # noqa: S607
                cwd=self.clone,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as in a terminal
            )

    @property
    def process(self) -> subprocess.Popen:
        if self.popen is None:
            raise RuntimeError("make run was not started")
        return self.popen

    def note_processes(self) -> set[tuple[int, str]]:
        now = {ident for pid in descendants(self.process.pid) if (ident := identity(pid))}
        self.seen |= now
        return now

    def programs(self) -> dict[str, tuple[int, str]]:
        """supervisord's three programs, by name, from the process tree."""
        found = {}
        for ident in self.note_processes():
            line = command_line(ident[0])
            for name, pattern in (
                ("web", r"manage\.py runserver"),
                ("worker", r"celery -A boundary worker"),
                ("beat", r"celery -A boundary beat"),
            ):
                # The first (outermost) match: runserver's reloader, not its child.
                if re.search(pattern, line) and (name not in found or ident[0] < found[name][0]):
                    found[name] = ident
        return found

    def stop(self) -> float:
        """Ctrl-C: SIGINT to make's process group. Returns how long stopping took."""
        self.note_processes()
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise CheckFailed(f"make run still running {STOP_TIMEOUT} s after Ctrl-C") from error
        deadline = time.monotonic() + 10
        while alive(self.seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(self.seen) | processes_in(self.clone)
        if left:
            lines = "\n".join(f"  {pid}: {command_line(pid)}" for pid, _ in sorted(left))
            raise CheckFailed(f"still running after make run stopped:\n{lines}")
        return time.monotonic() - started

    def kill_everything(self) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        for pid, _ in alive(self.seen | processes_in(self.clone)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --- HTTP -----------------------------------------------------------------------------


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def wait_for_start_page(run: MakeRun, timeout: float) -> tuple[float, str]:
    """Seconds from `make run` until the start page answers 200, and where it landed."""
    started = time.monotonic()
    url = f"http://127.0.0.1:{run.port}/"
    while True:
        if run.process.poll() is not None:
            raise CheckFailed(f"make run exited ({run.process.returncode}) before serving {url}")
        try:
            with opener().open(url, timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started, response.url
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() - started > timeout:
            raise CheckFailed(f"no 200 from {url} within {timeout:.0f} s")
        time.sleep(0.25)


def log_in(port: int) -> str:
    """Log in as the demo user; return the page the login lands on."""
    browser = opener()
    login_url = f"http://127.0.0.1:{port}/login/"
    with browser.open(login_url, timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise CheckFailed("the login page has no CSRF token")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
        }
    ).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
    with browser.open(request, timeout=10) as response:
        landed, page = response.url, response.read().decode()
    if urllib.parse.urlsplit(landed).path.startswith("/login/") or "Maya" not in page:
        raise CheckFailed(f"the demo login did not work (landed on {landed})")
    return landed


# --- The check ------------------------------------------------------------------------


def check(clone: Path, port: int, log: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env["REMINDER_SWEEP_SECONDS"] = "5"  # sweep every 5 s instead of every minute
    say(f"cloning {ROOT} into {clone}")
    subprocess.run(  # noqa: S603
        ["git", "clone", "--quiet", str(ROOT), str(clone)],  # noqa: S607
        check=True,
    )
    run = MakeRun(clone, port, env, log)
    try:
        say(f"make run PORT={port} (cold: no .venv); output in {log}")
        run.start()
        cold, landed = wait_for_start_page(run, COLD_TIMEOUT)
        say(f"cold start: 200 from {landed} after {cold:.1f} s")
        first = run.programs()
        if sorted(first) != ["beat", "web", "worker"]:
            raise CheckFailed(f"expected web, worker and beat; found {sorted(first)}")
        say(f"demo login: landed on {log_in(port)}")

        started = time.monotonic()
        python = str(clone / ".venv/bin/python")
        reminder = subprocess.run(  # noqa: S603
            [python, "manage.py", "demo_reminder", "--in", "10", "--wait", "180"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        print(reminder.stdout + reminder.stderr, end="", flush=True)
        if reminder.returncode != 0:
            raise CheckFailed("the reminder was not sent")
        say(f"reminder made and sent in {time.monotonic() - started:.1f} s")

        now = run.programs()
        if now != first:
            raise CheckFailed(f"processes changed (restarted?): {first} -> {now}")
        say("web, worker and beat still up, never restarted")
        say(f"Ctrl-C: everything stopped in {run.stop():.1f} s, no process left")

        say("make run again (warm: .venv and var/ are there)")
        run.start()
        warm, landed = wait_for_start_page(run, WARM_TIMEOUT)
        say(f"warm start: 200 from {landed} after {warm:.1f} s")
        if sorted(run.programs()) != ["beat", "web", "worker"]:
            raise CheckFailed("web, worker or beat missing after the warm start")
        say(f"Ctrl-C: everything stopped in {run.stop():.1f} s, no process left")
        say(f"passed: cold start {cold:.1f} s, warm start {warm:.1f} s")
    except BaseException:
        run.kill_everything()
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("FIRST_RUN_PORT", "18765")),
        help="below 32768, away from a developer's own make run (default 18765)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the clone and its log")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="boundary-first-run-"))
    log = workdir / "make-run.log"
    try:
        check(workdir / "boundary", args.port, log)
    except (CheckFailed, subprocess.CalledProcessError) as error:
        print(f"----- last lines of {log} -----", file=sys.stderr)
        if log.exists():
            print("\n".join(log.read_text(errors="replace").splitlines()[-80:]), file=sys.stderr)
        print(f"first-run: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
