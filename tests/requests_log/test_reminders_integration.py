"""Reminders end to end: real Celery workers and beat (subprocesses) against a real
redis-server and the test database, counting what reached the outbox.

Each test has its own redis-server on its own port, so killing, flushing or stopping
it disturbs no other test, and no other test's worker can take its tasks. Beat sweeps
every second here (REMINDER_SWEEP_SECONDS) instead of every minute.
"""

import os
import re
import signal
import time
from collections import Counter
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from boundary.models import User
from requests_log.models import (
    Notification,
    PromotionRequest,
    Reminder,
    ReminderDelivery,
    TimelineEvent,
)
from requests_log.tasks import sweep_reminders
from tests.factories import UserFactory, log_request

from .reminder_support import (
    Celery,
    Process,
    SMTPOutbox,
    database_url_for_subprocess,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SENT = Reminder.State.SENT


@pytest.fixture
def outbox():
    server = SMTPOutbox().start()
    yield server
    server.stop()


@pytest.fixture
def celery(processes, tmp_path, redis_server, outbox):
    return Celery(
        processes,
        tmp_path,
        env={
            "DJANGO_ENV": "development",
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": redis_server.url,
            "EMAIL_URL": outbox.url,
            "REMINDER_SWEEP_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        },
    )


def due_reminders(count: int, *, due_at, employees: int = 10) -> list[Reminder]:
    """`count` requests logged through the service, each with its first "no decision"
    reminder moved to `due_at(i)`: one reminder per request, so the link in each
    email names its reminder."""
    people = [UserFactory() for _ in range(employees)]
    reminders = []
    for i in range(count):
        promotion_request = log_request(people[i % employees])
        reminder = promotion_request.reminders.get(kind=Reminder.Kind.NO_DECISION, number=1)
        reminder.due_at = due_at(i)
        reminder.save(update_fields=["due_at"])
        reminders.append(reminder)
    return reminders


def states(reminders) -> Counter:
    return Counter(
        Reminder.objects.filter(pk__in=[r.pk for r in reminders]).values_list("state", flat=True)
    )


def all_sent(reminders) -> bool:
    return states(reminders) == Counter({SENT: len(reminders)})


def sent_paths(outbox: SMTPOutbox) -> Counter:
    with outbox.lock:
        return Counter(message.request_path for message in outbox.messages)


def assert_each_sent_once(reminders, outbox: SMTPOutbox) -> None:
    """One email and one in-app notice per reminder, one "reminder sent" event each."""
    ids = [r.pk for r in reminders]
    expected_paths = Counter(
        PromotionRequest.objects.get(pk=r.promotion_request_id).get_absolute_url()
        for r in reminders
    )
    assert sent_paths(outbox) == expected_paths
    assert outbox.count() == len(reminders)
    assert Counter(
        ReminderDelivery.objects.filter(reminder__in=ids, delivered_at__isnull=False).values_list(
            "channel", flat=True
        )
    ) == Counter({"email": len(ids), "in_app": len(ids)})
    assert Notification.objects.filter(reminder__in=ids).count() == len(ids)
    sent_events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.REMINDER_SENT)
    assert sorted(event.payload["reminder"] for event in sent_events) == sorted(ids)


def task_results(*workers: Process, task: str) -> Counter:
    """What each run of `task` returned, from the workers' logs ('sent', 3, …)."""
    pattern = re.compile(rf"Task requests_log\.{task}\[[^\]]+\] succeeded in \S+: (.+)$", re.M)
    return Counter(
        result.strip("'") for worker in workers for result in pattern.findall(worker.output())
    )


def let_sweeps_run(*workers: Process, count: int = 2) -> None:
    """Wait until `count` more sweeps have finished: time for a late duplicate to show."""
    done = task_results(*workers, task="sweep_reminders").total()
    wait_for(
        lambda: task_results(*workers, task="sweep_reminders").total() >= done + count,
        timeout=30,
        what=f"{count} more sweeps",
    )


# --- Many workers, many schedulers --------------------------------------------------------


def test_two_workers_two_beats_send_200_reminders_exactly_once(celery, outbox):
    reminders = due_reminders(200, due_at=lambda i: timezone.now() + timedelta(days=30))
    workers = [celery.worker(f"worker{n}", pool="prefork", concurrency=2) for n in (1, 2)]
    beats = [celery.beat(f"beat{n}") for n in (1, 2)]
    celery.wait_ready(*workers)
    # They fall due one every 40 ms over 8 s, while everything runs.
    window_start = timezone.now() + timedelta(seconds=1)
    for i, reminder in enumerate(reminders):
        reminder.due_at = window_start + timedelta(milliseconds=40 * i)
    Reminder.objects.bulk_update(reminders, ["due_at"])

    wait_for(lambda: all_sent(reminders), timeout=90, what="200 reminders to be sent")
    let_sweeps_run(*workers)

    assert_each_sent_once(reminders, outbox)
    early = [
        (delivery.reminder_id, delivery.delivered_at)
        for delivery in ReminderDelivery.objects.select_related("reminder")
        if delivery.delivered_at < delivery.reminder.due_at
    ]
    assert early == []
    per_worker = [task_results(worker, task="send_reminder")["sent"] for worker in workers]
    assert sum(per_worker) == 200
    assert all(sent > 0 for sent in per_worker), per_worker
    assert all("Sending due task sweep-reminders" in beat.output() for beat in beats)


# --- A worker killed in the middle of sending ---------------------------------------------


def _pool_child(worker: Process) -> int:
    children = Path(f"/proc/{worker.popen.pid}/task/{worker.popen.pid}/children").read_text()
    return int(children.split()[0])


@pytest.mark.parametrize("killed", ["worker", "pool-child"])
def test_worker_killed_while_sending_then_restarted_sends_once(celery, outbox, killed):
    """SIGKILL in the middle of the SMTP conversation, after the in-app notice went out.
    The claim (sending) expires after REMINDER_CLAIM_TIMEOUT and the sweep queues the
    row again. A killed pool child also makes Celery redeliver the message at once
    (reject_on_worker_lost): that copy must find the row claimed and do nothing."""
    started = time.monotonic()
    reminders = due_reminders(1, due_at=lambda i: timezone.now() - timedelta(seconds=5))
    reminder = reminders[0]
    outbox.hold()
    env = {"REMINDER_CLAIM_TIMEOUT": "3"}
    if killed == "worker":
        first = celery.worker("first", **env)
    else:
        first = celery.worker("first", pool="prefork", concurrency=1, **env)
    celery.beat("beat", **env)

    wait_for(outbox.held.is_set, timeout=60, what="a worker to start sending")
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (Reminder.State.SENDING, 1)
    assert Notification.objects.filter(reminder=reminder).count() == 1
    if killed == "worker":
        first.kill()
    else:
        os.kill(_pool_child(first), signal.SIGKILL)
    outbox.let_go()
    assert outbox.count() == 0
    survivors = [first] if killed == "pool-child" else [celery.worker("second", **env)]

    wait_for(lambda: all_sent(reminders), timeout=60, what="the reminder to be sent")
    let_sweeps_run(*survivors)

    assert_each_sent_once(reminders, outbox)
    reminder.refresh_from_db()
    assert reminder.attempts == 2
    if killed == "pool-child":
        assert "WorkerLostError" in first.output()
        results = task_results(first, task="send_reminder")
        assert results["sent"] == 1
        assert results["not-claimed"] >= 1  # the redelivered message found it claimed
    print(f"{killed} killed: {time.monotonic() - started:.1f} s")


# --- Redis loses its messages ------------------------------------------------------------


@pytest.mark.parametrize("loss", ["flushall", "restart"])
def test_redis_losing_queued_reminders_still_sends_each_once(celery, outbox, redis_server, loss):
    """20 reminders claimed and queued, 19 of them still waiting in Redis and one in a
    worker's hands, when Redis is flushed or restarted (it keeps nothing on disk).
    After REMINDER_QUEUE_TIMEOUT the sweep finds the queued rows and queues them
    again."""
    started = time.monotonic()
    reminders = due_reminders(20, due_at=lambda i: timezone.now() - timedelta(seconds=5))
    outbox.hold()
    env = {"REMINDER_QUEUE_TIMEOUT": "3"}
    worker = celery.worker("worker", **env)
    celery.beat("beat", **env)
    wait_for(outbox.held.is_set, timeout=60, what="the first send to start")
    assert states(reminders) == Counter({Reminder.State.QUEUED: 19, Reminder.State.SENDING: 1})
    assert redis_server.queue_length() >= 19

    if loss == "flushall":
        redis_server.client().flushall()
    else:
        redis_server.stop()
        redis_server.start()
    assert redis_server.queue_length() == 0
    outbox.let_go()

    wait_for(lambda: all_sent(reminders), timeout=60, what="20 reminders to be sent")
    let_sweeps_run(worker)

    assert_each_sent_once(reminders, outbox)
    print(f"redis {loss}: {time.monotonic() - started:.1f} s")


# --- Redis down while a request is logged -------------------------------------------------


@pytest.fixture
def local_app(redis_server, monkeypatch):
    """This test process's Celery app, pointed at the test's redis-server too: what
    a web request queues goes there (and fails while it is stopped)."""
    from boundary.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)  # wins over app.conf
    monkeypatch.setattr(app.conf, "broker_url", redis_server.url)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield app
    if app._pool is not None:
        app._pool.force_close_all()


def early_morning_zone() -> ZoneInfo:
    """A zone where it is about 4 am now: the deadline's day starts after it, so the
    "on the deadline" reminder is due at the deadline itself (not 9 am)."""
    offset = (4 - timezone.now().hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return ZoneInfo(f"Etc/GMT{-offset:+d}")  # POSIX names: Etc/GMT-5 is UTC+5


def test_redis_down_when_request_logged_web_succeeds_and_reminder_follows(
    celery, outbox, redis_server, local_app, client
):
    started = time.monotonic()
    zone = early_morning_zone()
    employee = UserFactory(time_zone=zone, quiet_hours_start=dt_time(0), quiet_hours_end=dt_time(0))
    client.force_login(employee)
    worker = celery.worker("worker")
    celery.beat("beat")
    celery.wait_ready(worker)
    redis_server.stop()
    went_down = time.monotonic()
    assert not redis_server.ping()
    assert str(redis_server.port) in local_app.connection_for_write().as_uri()

    now = timezone.now().astimezone(zone)
    deadline = (now + timedelta(seconds=4)).replace(microsecond=0)
    response = client.post(
        reverse("requests_log:request-create"),
        {
            "requester_name": "Daniel Reyes",
            "requester_title": "Head of Marketing",
            "occurred_at": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "channel": "meeting",
            "setting": "marketing meeting",
            "framing": "asked",
            "promoted_item": "the new product line",
            "content_format": "videos",
            "quantity": "3",
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%S"),
            "words_used": "Could you post three videos by this morning?",
        },
    )

    promotion_request = PromotionRequest.objects.get(employee=employee)
    assert response.status_code == 302
    assert response["Location"] == promotion_request.get_absolute_url()
    reminders = list(promotion_request.reminders.all())
    assert [(r.kind, r.due_at, r.state) for r in reminders] == [
        (Reminder.Kind.ON_DEADLINE, deadline, Reminder.State.SCHEDULED)
    ]
    # It falls due while Redis is still down: beat cannot queue a sweep.
    wait_for(
        lambda: timezone.now() > deadline + timedelta(seconds=2),
        timeout=30,
        what="the reminder to fall due",
    )
    assert states(reminders) == Counter({Reminder.State.SCHEDULED: 1})
    assert outbox.count() == 0

    down_for = time.monotonic() - went_down
    redis_server.start()
    wait_for(lambda: all_sent(reminders), timeout=90, what="the reminder to be sent")
    print(
        f"Redis down {down_for:.1f} s; sent {time.monotonic() - went_down - down_for:.1f} s later"
    )
    let_sweeps_run(worker)

    assert_each_sent_once(reminders, outbox)
    assert outbox.recipients() == [employee.email]
    print(f"redis down: {time.monotonic() - started:.1f} s")


# --- A reminder that always fails -----------------------------------------------------------


def test_always_failing_reminder_stops_after_max_attempts_and_others_flow(celery, outbox, client):
    """The mail server answers 451 (try later) for one recipient, always: smtplib's
    SMTPRecipientsRefused is an OSError, the transient kind that is retried."""
    started = time.monotonic()
    reminders = due_reminders(
        12, due_at=lambda i: timezone.now() + timedelta(seconds=-5 if i < 6 else 3), employees=12
    )
    failing = reminders[0]
    unreachable = failing.employee.email
    others = [r for r in reminders if r.employee_id != failing.employee_id]
    outbox.refused.add(unreachable)
    env = {"REMINDER_MAX_ATTEMPTS": "3", "REMINDER_RETRY_BACKOFF": "1"}
    worker = celery.worker("worker", pool="prefork", concurrency=2, **env)
    celery.beat("beat", **env)

    wait_for(
        lambda: states([failing]) == Counter({Reminder.State.FAILED: 1}),
        timeout=60,
        what="the failing reminder to be marked failed",
    )
    wait_for(lambda: all_sent(others), timeout=60, what="the other reminders to be sent")
    let_sweeps_run(worker, count=4)  # backoff 1 s, 2 s: long past any further retry

    failing.refresh_from_db()
    assert failing.attempts == 3
    assert outbox.refusals == 3
    assert "SMTPRecipientsRefused" in failing.last_error
    assert failing.finished_at is not None
    assert unreachable not in outbox.recipients()
    assert_each_sent_once(others, outbox)
    client.force_login(failing.employee)
    page = client.get(failing.promotion_request.get_absolute_url()).content.decode()
    assert "could not be sent" in page
    print(f"always failing: {time.monotonic() - started:.1f} s")


# --- One sweep, many due ------------------------------------------------------------------


def test_one_sweep_claims_every_due_reminder(celery, local_app):
    employee = UserFactory(no_decision_reminders=User.ReminderChannels.OFF)
    promotion_request = log_request(employee)
    due_at = timezone.now() - timedelta(minutes=1)
    Reminder.objects.bulk_create(
        Reminder(
            promotion_request=promotion_request,
            employee=employee,
            kind=Reminder.Kind.NO_DECISION,
            number=100 + n,
            due_at=due_at,
        )
        for n in range(501)
    )
    worker = celery.worker("worker")  # and no beat: this test queues the one sweep
    celery.wait_ready(worker)

    sweep_reminders.delay()

    sweeps = wait_for(
        lambda: task_results(worker, task="sweep_reminders"), timeout=60, what="the sweep"
    )
    assert sweeps == Counter({"501": 1})
