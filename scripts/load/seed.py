"""The load test's own data, in one Django process: migrate, the demo data, then
LOAD_EMPLOYEES employees in LOAD_TEAMS teams, each with a linked account and a few
requests written through the app's services (so every timeline chain is real).

Run by run.py with development settings and DATABASE_URL naming boundary_load; writes
the cast (who logs in, with which password) as JSON to the path given as argument.
"""

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import django

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

LOAD_EMPLOYEES = 300
LOAD_TEAMS = 15
LOAD_PASSWORD = "boundary-load-test"  # noqa: S105 - a throwaway database's test logins


def main(cast_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boundary.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo", verbosity=0)
    with transaction.atomic():
        employees = people_create()
        for index, employee in enumerate(employees):
            requests_log(employee, index)
    cast = {
        "source": "seed",
        "password": LOAD_PASSWORD,
        "employees": [employee.email for employee in employees],
    }
    cast_path.write_text(json.dumps(cast, indent=1))
    print(f"seeded {len(employees)} employees in {time.monotonic() - started:.0f} s")


def people_create() -> list:
    """Managers and their reports, all with one password hashed once: hashing it per
    person (PBKDF2, about 0.25 s each here) would cost minutes for nothing."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from boundary.models import User

    verified = timezone.now()
    managers = [
        User.objects.create_user(
            email=f"load-manager-{team}@example.com",
            display_name=f"Load Manager {team}",
            department=f"Team {team}",
            role=User.Role.MANAGER,
            email_verified_at=verified,
        )
        for team in range(LOAD_TEAMS)
    ]
    employees = [
        User.objects.create_user(
            email=f"load-employee-{number}@example.com",
            display_name=f"Load Employee {number}",
            department=f"Team {number % LOAD_TEAMS}",
            manager=managers[number % LOAD_TEAMS],
            email_verified_at=verified,
        )
        for number in range(LOAD_EMPLOYEES)
    ]
    User.objects.filter(pk__in=[user.pk for user in managers + employees]).update(
        password=make_password(LOAD_PASSWORD)
    )
    return employees


def requests_log(employee, index: int) -> None:
    """Four requests: one declined, two pending (one of them filed by the manager), one
    with a counter-proposal; a small record, as most people's are."""
    from django.utils import timezone

    from boundary.models import SocialAccount
    from boundary.services import social_account_link
    from requests_log.models import Decision, PromotionRequest
    from requests_log.services import (
        decision_record,
        promotion_request_file,
        promotion_request_log,
    )

    now = timezone.now()
    account = social_account_link(
        owner=employee,
        platform=SocialAccount.Platform.INSTAGRAM,
        handle=f"load.{index}",
        follower_count=1_000 + 37 * index,
        followers_as_of=now.date() - timedelta(days=5),
        boundary=SocialAccount.Boundary.ASK_FIRST,
    )
    logged = [
        promotion_request_log(
            employee=employee,
            actor=employee,
            target_accounts=[account],
            requester_name="Chris Doyle",
            requester_title="Brand lead",
            occurred_at=now - timedelta(days=days_ago, hours=index % 24),
            channel=PromotionRequest.Channel.EMAIL,
            promoted_item=item,
            content_format=PromotionRequest.ContentFormat.POSTS,
            quantity=2,
            framing=PromotionRequest.Framing.ASKED,
            compensation_offered="",
        )
        for days_ago, item in ((60, "the spring campaign"), (20, "the launch"), (3, "the fair"))
    ]
    decision_record(
        promotion_request=logged[0],
        decided_by=employee,
        kind=Decision.Kind.DECLINE,
        decided_at=logged[0].occurred_at + timedelta(days=1),
        decline_reasons=[Decision.DeclineReason.NOT_PAID],
    )
    decision_record(
        promotion_request=logged[1],
        decided_by=employee,
        kind=Decision.Kind.COUNTER,
        decided_at=logged[1].occurred_at + timedelta(days=1),
        details="Only with pay and an #ad label.",
    )
    promotion_request_file(
        manager=employee.manager,
        employee=employee,
        target_accounts=[account],
        promoted_item="the quarterly customer story",
        content_format=PromotionRequest.ContentFormat.REVIEWS,
        quantity=1,
        deadline=now + timedelta(days=10),
        compensation_offered="$150",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
