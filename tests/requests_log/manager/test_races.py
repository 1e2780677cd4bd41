"""Two requests at once: the filer opening an answer in two tabs, a requester clicking
an acknowledgement link twice. Each appends one event."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from requests_log import services
from requests_log.models import TimelineEvent
from tests.factories import decline, log_request

from .conftest import accept, file_request

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(action: Callable[[], object], times: int = 4) -> list[object]:
    """Run `action` in `times` threads released together, each on its own connection."""
    barrier = threading.Barrier(times)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_an_answer_opened_in_several_tabs_at_once_is_seen_once(manager, employee):
    decision = accept(file_request(manager, employee))

    results = at_once(lambda: services.decision_mark_seen(decision_id=decision.pk, viewer=manager))

    assert sum(result is not None for result in results) == 1
    assert TimelineEvent.objects.filter(kind="seen_by_requester").count() == 1


def test_an_acknowledgement_link_clicked_at_once_acknowledges_once(employee):
    decision = decline(log_request(employee), at=timezone.now())
    token = services.acknowledgement_link_create(decision=decision, actor=employee)

    results = at_once(lambda: services.acknowledgement_confirm(token=token))

    assert sum(result is not None for result in results) == 1
    assert TimelineEvent.objects.filter(kind="acknowledged").count() == 1
