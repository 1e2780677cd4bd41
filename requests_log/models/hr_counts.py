"""What HR's dashboard counts, kept as it changes (hr_counts.py keeps it; migration 0019).

Counting the dashboard afresh takes a pass over every request HR may see and its
decisions and follow-ups: over a second for 160,000 of them. So each request HR may see
has a row here with what the dashboard counts of it, and a database trigger marks an
employee stale whenever a write touches their requests, decisions, follow-ups, targets or
department. Before counting, hr_counts.counted_requests_refresh recomputes the rows of
the stale employees, with the same rules as an afresh count (hr_selectors). Derived
data only: nothing here is part of anyone's record.
"""

from django.conf import settings
from django.db import models

from .request import PromotionRequest


class HrCountedRequest(models.Model):
    """One request HR may see, as the dashboard counts it."""

    promotion_request = models.OneToOneField(
        PromotionRequest, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The employee's department now, as the dashboard groups by it.
    department = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PromotionRequest.Status.choices)
    # The patterns (hr_selectors.PATTERNS) the request shows.
    asked_after_decline = models.BooleanField()
    closed_account = models.BooleanField()
    required = models.BooleanField()
    disclosure_pending = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["department", "occurred_at"])]

    def __str__(self) -> str:
        return f"HR's count of request {self.promotion_request_id}"


class HrCountsStale(models.Model):
    """An employee whose counted requests may be out of date, written by the trigger of
    migration 0019 in the same transaction as the write. Rows are only ever inserted, and
    deleted by the refresh that counts them (DELETE … RETURNING, which sees only committed
    marks), so a write never waits for a refresh, nor a refresh for a write, and a mark
    written during a refresh survives it."""

    # No foreign key: a mark may outlive its employee, whose requests then have no rows.
    employee_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"Employee {self.employee_id}'s HR counts are stale"
