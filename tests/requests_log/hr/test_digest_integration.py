"""The weekly HR digest end to end: real Celery workers against a real redis-server,
the sweep queued many times over: each HR user's digest reaches the outbox once."""

import time

import pytest
from django.utils import timezone

from boundary.models import User
from requests_log import hr_digest
from requests_log.hr.tasks import sweep_hr_digests
from requests_log.models import HrDigest
from tests.factories import UserFactory
from tests.requests_log.reminder_support import wait_for
from tests.requests_log.test_reminders_integration import (  # noqa: F401 (fixtures)
    celery,
    local_app,
    outbox,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_workers_and_many_sweeps_send_each_hr_digest_once(
    celery,  # noqa: F811
    local_app,  # noqa: F811
    outbox,  # noqa: F811
):
    # The workers run on the real clock: the week's digest is due from Monday 07:00 UTC.
    now = timezone.now()
    if now.weekday() == 0 and now.hour < hr_digest.DIGEST_DUE.hour:
        pytest.skip("this week's digest is not due yet")
    hr_people = [UserFactory(role=User.Role.HR) for _ in range(5)]
    UserFactory(role=User.Role.EMPLOYEE)
    workers = [celery.worker(f"worker{n}", pool="prefork", concurrency=2) for n in (1, 2)]
    celery.wait_ready(*workers)

    for _ in range(6):
        sweep_hr_digests.delay()
    wait_for(
        lambda: HrDigest.objects.filter(state=HrDigest.State.SENT).count() == len(hr_people),
        timeout=60,
        what="every HR digest to be sent",
    )
    time.sleep(2)  # time for a late duplicate to show
    for _ in range(3):
        sweep_hr_digests.delay()
    time.sleep(3)

    assert HrDigest.objects.count() == len(hr_people)
    assert sorted(outbox.recipients()) == sorted(person.email for person in hr_people)
