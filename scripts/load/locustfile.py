"""Boundary's load test: employees using the app the way people do, through its real
pages and forms. run.py starts this (headless) with the settings below in the
environment; it can also be run by hand against servers run.py left up.

The mix, in actions (one action may take several requests, as a browser does):
60 % dashboards and lists, 20 % request pages, 10 % logging a request or deciding
one, 5 % logging in again as another person, 5 % a small CSV or JSON export.

Environment:
  LOAD_HOSTS       the gunicorn processes, comma-separated (http://127.0.0.1:18081,...)
  LOAD_CAST        JSON {"password": ..., "employees": [email, ...]}: who logs in
  LOAD_USER_RATE   actions per second per simulated person (default 1)
  LOAD_SAMPLES     where to write every request's timing as JSON when locust quits
  LOAD_RAMP        optional "rate,rate,..." (actions/s): a stepped ramp, LOAD_STEP_SECONDS each
  LOAD_MEASURE_SECONDS  without a ramp: stop this long (plus LOAD_SETTLE_SECONDS) after
                   every user has logged in for the first time
"""

import json
import os
import random
import re
import time
from collections import deque
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from locust import LoadTestShape, constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner

HOSTS = os.environ.get("LOAD_HOSTS", "http://127.0.0.1:18081").split(",")
USER_RATE = float(os.environ.get("LOAD_USER_RATE", "1"))
MEASURE_SECONDS = float(os.environ.get("LOAD_MEASURE_SECONDS", "0"))
SETTLE_SECONDS = float(os.environ.get("LOAD_SETTLE_SECONDS", "5"))
CAST = json.loads(Path(os.environ.get("LOAD_CAST", "var/load/cast-boundary_load.json")).read_text())
# Distinct people for every simulated user at any moment: a login takes the next one
# free and gives back the one it leaves, so no two users share an account (or a lockout).
FREE_ACCOUNTS = deque(CAST["employees"])
REQUEST_LINK = re.compile(r'href="/requests/(\d+)/"')
CHANCE = random.Random()  # noqa: S311 - the mix's choices need no secrecy
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class FormFields(HTMLParser):
    """The fields a browser would submit from the first form on a page holding a field
    named `marker`: text inputs, hidden inputs, ticked boxes, chosen options, textareas."""

    def __init__(self, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.forms: list[tuple[list[tuple[str, str]], set[str]]] = []
        self.current: list[tuple[str, str]] | None = None
        self.names: set[str] = set()  # every field's name, submitted or not
        self.select: str | None = None
        self.select_first: tuple[str, str] | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.current, self.names = [], set()
            return
        if self.current is None or ("name" not in attr and tag != "option"):
            return
        if "name" in attr:
            self.names.add(attr["name"])
        if tag == "input":
            kind = attr.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attr:
                return
            if kind not in {"submit", "button", "file", "image", "reset"}:
                self.current.append((attr["name"], attr.get("value", "")))
        elif tag == "select":
            self.select, self.select_first, self.select_chosen = attr["name"], None, False
        elif tag == "option" and self.select is not None:
            value = (self.select, attr.get("value", ""))
            self.select_first = self.select_first or value
            if "selected" in attr:
                self.current.append(value)
                self.select_chosen = True
        elif tag == "textarea":
            self.textarea, self.text = attr["name"], ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if tag == "select" and self.select is not None:
            if not self.select_chosen and self.select_first is not None:
                self.current.append(self.select_first)  # a browser submits the first option
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.current.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "form":
            self.forms.append((self.current, self.names))
            self.current = None

    def fields(self, html: str) -> dict[str, list[str]]:
        self.feed(html)
        for form, names in self.forms:
            if self.marker in names:
                fields: dict[str, list[str]] = {}
                for name, value in form:
                    fields.setdefault(name, []).append(value)
                return fields
        raise LookupError(f"no form with a field named {self.marker!r}")


def form_on(html: str, marker: str, **changes: str | list[str]) -> str:
    """The form's fields as a browser would post them, with `changes` typed in."""
    fields = FormFields(marker).fields(html)
    for name, value in changes.items():
        fields[name] = value if isinstance(value, list) else [value]
    return urlencode([(name, value) for name, values in fields.items() for value in values])


class BehindTls(DefaultCookiePolicy):
    """Send the app's Secure (__Host-) cookies back over loopback HTTP: the app believes
    it is behind a TLS proxy (X-Forwarded-Proto), as in production, and the load test
    plays that proxy."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class Employee(FastHttpUser):
    """One person at a browser, on one of the gunicorn processes."""

    abstract = True
    network_timeout = 15.0
    connection_timeout = 5.0
    # The app sits behind TLS in production and trusts the proxy's X-Forwarded-Proto
    # (SECURE_PROXY_SSL_HEADER): say it, rather than weaken the production settings.
    default_headers = {"X-Forwarded-Proto": "https"}

    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(BehindTls())
        self.email: str | None = None
        self.requests: list[str] = []
        self.log_in(stage="start")
        user_ready(self.environment)

    def on_stop(self) -> None:
        if self.email:
            FREE_ACCOUNTS.append(self.email)

    # --- helpers ----------------------------------------------------------------------------

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path}: HTTP {response.status_code}")
                return ""
            return response.text or ""

    def form_headers(self) -> dict[str, str]:
        """What a browser sends with a form: its encoding and its origin, which Django's
        CSRF check compares with the (https) site."""
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://" + urlsplit(self.host).netloc,
        }

    def post(self, path: str, body: str, name: str) -> str:
        """Post a form; the app answers a good one with a redirect. Returns where it
        redirects to, or "" (a failure)."""
        with self.client.post(
            path,
            data=body,
            headers=self.form_headers(),
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = (response.headers or {}).get("Location", "")
            if response.status_code != 302 or not location:
                response.failure(f"{path}: HTTP {response.status_code}, not a redirect")
                return ""
            return location

    def remember_requests(self, dashboard_html: str) -> None:
        self.requests = sorted(set(REQUEST_LINK.findall(dashboard_html)))

    def log_in(self, stage: str = "login") -> None:
        """Log in as the next free person; `stage` names the requests ("start" for the
        first login of each user, which run.py leaves out of the measured window)."""
        if not FREE_ACCOUNTS:
            raise RuntimeError("more simulated users than accounts in the cast")
        self.email = FREE_ACCOUNTS.popleft()
        html = self.page("/login/", f"{stage}: form")
        if not html:
            return
        body = form_on(html, "username", username=self.email, password=CAST["password"])
        landing = self.post("/login/", body, f"{stage}: post")
        if landing:
            self.remember_requests(self.page(landing, f"{stage}: dashboard"))

    # --- the mix (weights are percentages of actions) -----------------------------------------

    @task(30)
    def dashboard(self) -> None:
        self.remember_requests(self.page("/my-record/", "dashboard: my record"))

    @task(10)
    def notifications(self) -> None:
        self.page("/notifications/", "list: notifications")

    @task(10)
    def exports_list(self) -> None:
        self.page("/exports/", "list: exports")

    @task(5)
    def accounts(self) -> None:
        self.page("/me/accounts/", "list: accounts")

    @task(5)
    def receipts(self) -> None:
        self.page("/my-record/receipts/", "list: receipts")

    @task(20)
    def request_page(self) -> None:
        if self.requests:
            pk = CHANCE.choice(self.requests)
            self.page(f"/requests/{pk}/", "request page")

    @task(5)
    def log_request(self) -> None:
        html = self.page("/requests/new/", "log: form")
        if not html:
            return
        body = form_on(
            html,
            "promoted_item",
            requester_name="Chris Doyle",
            channel="chat",
            framing="asked",
            promoted_item="the load-test launch",
            content_format="posts",
            quantity="1",
            words_used="Could you share the launch post this week?",
        )
        created = self.post("/requests/new/", body, "log: post")
        if created:
            self.requests.append(created.strip("/").split("/")[-1])
            self.page(created, "log: request page")

    @task(5)
    def decide(self) -> None:
        """Open a request and, unless it was withdrawn (no answer button), answer it."""
        if not self.requests:
            return
        pk = CHANCE.choice(self.requests)
        answer = f'href="/requests/{pk}/decide/"'
        if answer not in self.page(f"/requests/{pk}/", "decide: request page"):
            return
        html = self.page(f"/requests/{pk}/decide/", "decide: form")
        if not html:
            return
        body = form_on(html, "kind", kind="counter", details="One post, paid, marked #ad.")
        answered = self.post(f"/requests/{pk}/decide/", body, "decide: post")
        if answered:
            self.page(answered.split("#")[0], "decide: answered page")

    @task(5)
    def log_in_again(self) -> None:
        """Log out, then in as the next free person: a real password check each time."""
        html = self.page("/my-record/", "dashboard: my record")
        token = CSRF_TOKEN.search(html)
        logout = urlencode({"csrfmiddlewaretoken": token[1]}) if token else ""
        if logout and self.post("/logout/", logout, "login: logout"):
            FREE_ACCOUNTS.append(self.email)
            self.log_in()

    @task(5)
    def export(self) -> None:
        html = self.page("/exports/new/", "export: form")
        if not html:
            return
        kind = CHANCE.choice(["csv", "json"])
        body = form_on(html, "format", format=kind, mode="all")
        with self.client.post(
            "/exports/new/",
            data=body,
            headers=self.form_headers(),
            name=f"export: {kind}",
            catch_response=True,
        ) as response:
            disposition = (response.headers or {}).get("Content-Disposition", "")
            if response.status_code != 200 or f".{kind}" not in disposition:
                response.failure(f"export {kind}: HTTP {response.status_code}, {disposition!r}")


# Two kinds of user, one per gunicorn process: locust spreads users evenly across them.
class OnFirstProcess(Employee):
    host = HOSTS[0]


class OnSecondProcess(Employee):
    host = HOSTS[-1]


# --- every request's timing, for run.py's per-class percentiles ----------------------------

SAMPLES: list[tuple[float, str, float, str]] = []  # (start, name, ms, error or "")
READY_AT: list[float] = []
USERS_READY = [0]


def user_ready(environment) -> None:
    """Once every user has logged in, the measured run starts; it stops by itself."""
    USERS_READY[0] += 1
    runner = environment.runner
    if MEASURE_SECONDS and not READY_AT and USERS_READY[0] >= runner.target_user_count:
        READY_AT.append(time.time())
        gevent.spawn_later(SETTLE_SECONDS + MEASURE_SECONDS, runner.quit)


@events.request.add_listener
def record_sample(name: str, response_time: float, exception: object, **_: object) -> None:
    SAMPLES.append((time.time(), name, response_time, "" if exception is None else str(exception)))


@events.user_error.add_listener
def record_task_error(user_instance: object, exception: Exception, **_: object) -> None:
    """An action that raised (a page without its form, say) is an error too."""
    error = f"{type(exception).__name__}: {exception}"
    SAMPLES.append((time.time(), f"error: {type(exception).__name__}", 0.0, error))


@events.quitting.add_listener
def write_samples(environment, **_: object) -> None:
    if isinstance(environment.runner, MasterRunner) or "LOAD_SAMPLES" not in os.environ:
        return
    Path(os.environ["LOAD_SAMPLES"]).write_text(
        json.dumps({"ready_at": READY_AT, "samples": SAMPLES})
    )


if os.environ.get("LOAD_RAMP"):

    class Ramp(LoadTestShape):
        """Steps of LOAD_STEP_SECONDS at each rate of LOAD_RAMP, then stop."""

        rates = [float(rate) for rate in os.environ["LOAD_RAMP"].split(",")]
        step_seconds = float(os.environ.get("LOAD_STEP_SECONDS", "20"))

        def tick(self) -> tuple[int, float] | None:
            step = int(self.get_run_time() // self.step_seconds)
            if step >= len(self.rates):
                return None
            users = max(2, round(self.rates[step] / USER_RATE))
            return users, 10.0
