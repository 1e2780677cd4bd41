"""The notice that a request was filed, end to end: real Celery workers and beats against
a real redis-server, each notice sent once by email and once in the app."""

from datetime import time

import pytest

from boundary.models import User
from requests_log.models import Notification, Reminder, TimelineEvent
from tests.factories import UserFactory
from tests.requests_log.reminder_support import wait_for
from tests.requests_log.test_reminders_integration import (  # noqa: F401 (fixtures)
    celery,
    let_sweeps_run,
    outbox,
)

from .conftest import file_request

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_workers_two_beats_send_each_filed_notice_once(celery, outbox):  # noqa: F811
    manager = UserFactory(display_name="Daniel Reyes", role=User.Role.MANAGER)
    # No quiet hours, so every notice falls due as it is filed.
    reports = [
        UserFactory(manager=manager, quiet_hours_start=time(0), quiet_hours_end=time(0))
        for _ in range(12)
    ]
    workers = [celery.worker(f"worker{n}", pool="prefork", concurrency=2) for n in (1, 2)]
    for n in (1, 2):
        celery.beat(f"beat{n}")
    celery.wait_ready(*workers)

    filed = [file_request(manager, report) for report in reports]
    notices = Reminder.objects.filter(kind=Reminder.Kind.FILED)
    wait_for(
        lambda: notices.filter(state=Reminder.State.SENT).count() == len(filed),
        timeout=60,
        what="every filed notice to be sent",
    )
    let_sweeps_run(*workers)

    assert notices.count() == len(filed)
    assert outbox.count() == len(filed)
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(
        report.pk for report in reports
    )
    sent = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.REMINDER_SENT)
    assert sorted(event.employee_id for event in sent) == sorted(r.pk for r in reports)
