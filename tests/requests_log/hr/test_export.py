"""HR's export: the filtered requests HR may see as CSV, recorded on an HrExport row, each
request marked on its employee's chain as exported by HR (coalesced with that day's
reads); never a private request, and nothing for anyone but HR."""

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from requests_log import sharing
from requests_log.models import HrExport, HrView, TimelineEvent
from requests_log.timeline import verify_chain
from tests.factories import log_request

from .conftest import as_user, file_request

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_hr_exports_what_it_may_see_and_it_is_recorded(
    hana, hr, employee, manager, second_employee
):
    shared = log_request(employee, requester_name="=HYPERLINK(evil)", requester_title="")
    sharing.promotion_requests_share(employee=employee, request_pks=[shared.pk])
    log_request(employee, promoted_item="Private one")
    filed = file_request(manager, second_employee)

    response = hana.post(reverse("hr:export"), {"department": "", "date_from": "", "date_to": ""})

    rows = rows_of(response)
    assert response["Content-Disposition"].startswith(
        'attachment; filename="hr-promotion-requests-'
    )
    assert [row["Employee"] for row in rows] == ["Maya Okafor", "Sam Ortiz"]
    assert rows[0]["Who asked"] == "'=HYPERLINK(evil)"
    assert rows[1]["How HR sees it"] == "filed in Boundary"
    export = HrExport.objects.get()
    assert (export.requested_by, export.rows) == (hr, 2)
    assert export.sha256 == hashlib.sha256(response.content).hexdigest()
    marked = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR)
    assert sorted(e.promotion_request_id for e in marked) == sorted([shared.pk, filed.pk])
    assert {e.payload["export"] for e in marked} == {export.pk}
    assert verify_chain(employee=employee).ok
    assert verify_chain(employee=second_employee).ok


def test_an_export_and_a_read_the_same_day_are_one_mark(hana, hr, employee):
    shared = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[shared.pk])
    hana.get(reverse("hr:request-detail", args=[shared.pk]))

    hana.post(reverse("hr:export"), {})
    hana.post(reverse("hr:export"), {})

    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR).count() == 1
    assert HrExport.objects.count() == 2


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_an_export_marks_each_request_read_once_a_day_on_either_database(
    hana, hr, employee, monkeypatch, vendor
):
    """`make run` keeps its data in SQLite, which has no unnest(): the export marks its
    requests read there too (the other way is taken on this PostgreSQL)."""
    read, unread = log_request(employee), log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[read.pk, unread.pk])
    hana.get(reverse("hr:request-detail", args=[read.pk]))
    monkeypatch.setattr(connection, "vendor", vendor)

    first = hana.post(reverse("hr:export"), {})
    again = hana.post(reverse("hr:export"), {})

    assert (first.status_code, again.status_code) == (200, 200)
    marks = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR)
    assert sorted((e.promotion_request_id, "export" in e.payload) for e in marks) == [
        (read.pk, False),
        (unread.pk, True),
    ]
    assert HrView.objects.filter(viewer=hr).count() == 2


def test_the_export_takes_the_dashboard_filters(hana, employee, manager, second_employee):
    old = log_request(employee, occurred_at=timezone.now() - timedelta(days=100))
    sharing.promotion_requests_share(employee=employee, request_pks=[old.pk])
    file_request(manager, second_employee)
    since = (timezone.localdate() - timedelta(days=30)).isoformat()

    by_period = rows_of(hana.post(reverse("hr:export"), {"date_from": since}))
    by_department = rows_of(hana.post(reverse("hr:export"), {"department": "Design"}))

    assert [row["Employee"] for row in by_period] == ["Sam Ortiz"]
    assert [row["Employee"] for row in by_department] == ["Maya Okafor"]
    assert list(HrExport.objects.order_by("pk").values_list("date_from", "department")) == [
        (timezone.localdate() - timedelta(days=30), ""),
        (None, "Design"),
    ]


@pytest.mark.parametrize("who", ["employee", "manager", "administrator"])
def test_nobody_but_hr_exports(who, request, employee):
    shared = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[shared.pk])

    response = as_user(request.getfixturevalue(who)).post(reverse("hr:export"), {})

    assert response.status_code == 404
    assert not HrExport.objects.exists()
