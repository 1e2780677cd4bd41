"""`make run` keeps its data in SQLite, where the rest of the suite never runs: every page
the demo's people open, and the posts that take another way there (HR's export), must
answer without a server error. A child process (`manage.py shell -c`) migrates a fresh
SQLite file, loads the demo data and walks the pages as Maya, Daniel, HR and the admin,
each signed in with a verified second factor; it prints each page's status as JSON.
"""

import json
import os

import pytest

from tests.boundary.test_dbroles import manage

pytestmark = pytest.mark.integration

WALK = r"""
import json

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from boundary.models import User
from requests_log import access
from requests_log.models import PromotionRequest
from tests.support import login_with_otp

call_command("migrate", verbosity=0)
call_command("load_demo", verbosity=0)
maya, daniel, hr, admin = (
    User.objects.get(email=f"{name}@example.com") for name in ("maya", "daniel", "hr", "admin")
)
everyone = [
    "requests_log:my-record", "requests_log:request-create", "requests_log:notification-list",
    "requests_log:account-close", "boundary:profile", "boundary:account-list",
    "boundary:account-create", "exports:export-list", "exports:export-create",
    "exports:receipt-list", "boundary:two-factor", "exports:verify", "exports:public-key",
]
hers = PromotionRequest.objects.filter(employee=maya).values_list("pk", flat=True)
filed = PromotionRequest.objects.filter(filed_by=daniel).values_list("pk", flat=True)
request_pages = ["requests_log:request-detail", "requests_log:decision-create",
                 "requests_log:follow-up-create"]
pages = {
    maya: everyone + [(name, pk) for pk in hers for name in request_pages],
    daniel: everyone + ["manager:filed-list", "manager:file-choose"]
    + [("manager:filed-detail", pk) for pk in filed],
    hr: everyone + ["hr:dashboard", "hr:request-list", "people-invite", "people-manager"],
    admin: everyone + ["people-invite", "people-manager", "admin:index"],
}
statuses = {}
for person, names in pages.items():
    client = Client(HTTP_HOST="127.0.0.1")
    login_with_otp(client, person)
    for name in names:
        name, *args = name if isinstance(name, tuple) else (name,)
        path = reverse(name, args=args)
        statuses[f"{person.email} GET {path}"] = client.get(path).status_code
    if person == hr:
        for pk in access.promotion_requests_for_hr(hr).values_list("pk", flat=True):
            path = reverse("hr:request-detail", args=[pk])
            statuses[f"{person.email} GET {path}"] = client.get(path).status_code
        path = reverse("hr:export")
        statuses[f"{person.email} POST {path}"] = client.post(path, {}).status_code
        statuses[f"{person.email} POST {path} again"] = client.post(path, {}).status_code
    if person == maya:
        path = reverse("exports:export-create")
        export = {"format": "csv", "mode": "all", "withhold": ["notes"]}
        statuses[f"{person.email} POST {path}"] = client.post(path, export).status_code
print(json.dumps(statuses))
"""


def test_make_runs_sqlite_answers_every_demo_page_and_hrs_export(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "boundary.settings",
        "DJANGO_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "EXPORTS_ROOT": str(tmp_path / "exports"),
        "EVIDENCE_ROOT": str(tmp_path / "evidence"),
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("CACHE_URL", None)
    walked = manage("shell", "-c", WALK, env=environment)
    assert walked.returncode == 0, walked.stderr[-3000:]
    statuses = json.loads(walked.stdout.strip().splitlines()[-1])

    # Every page walked answered as a page does (200) or sent the person on (302), none
    # with a server error; the HR export and Maya's CSV come back as files.
    assert {page: status for page, status in statuses.items() if status not in (200, 302)} == {}
    hr_exports = [status for page, status in statuses.items() if "POST /hr/export/" in page]
    assert hr_exports == [200, 200]
    assert len(statuses) > 60
