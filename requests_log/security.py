"""What of the record goes in the security log (boundary/security_log.py): decisions,
shares, exports, HR's reads, filing and the answers' delivery, each as it is chained,
and every verification. Logged after the transaction commits, so a line never tells of
something that was rolled back. Ids and kinds only: never what anyone wrote."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from boundary.security_log import security_event

from .models import TimelineEvent, Verification

Kind = TimelineEvent.Kind
LOGGED_KINDS = {
    Kind.FILED,
    Kind.CORRECTED,
    Kind.DECISION,
    Kind.WITHDRAWN,
    Kind.SHARED_WITH_HR,
    Kind.SHARING_WITHDRAWN,
    Kind.VIEWED_BY_HR,
    Kind.EXPORTED,
    Kind.SEEN_BY_REQUESTER,
    Kind.ACKNOWLEDGED,
}


@receiver(post_save, sender=TimelineEvent, dispatch_uid="security_log_timeline_event")
def log_record_event(sender, instance: TimelineEvent, created: bool, **kwargs) -> None:
    if not created or instance.kind not in LOGGED_KINDS:
        return
    action = f"record.{instance.kind}"
    actor, request, employee, seq = (
        instance.actor_id,
        instance.promotion_request_id,
        instance.employee_id,
        instance.seq,
    )
    transaction.on_commit(
        lambda: security_event(action, actor=actor, obj=request, employee=employee, seq=seq)
    )


@receiver(post_save, sender=Verification, dispatch_uid="security_log_verification")
def log_verification(sender, instance: Verification, created: bool, **kwargs) -> None:
    if not created:
        return
    verification, verdict, kind, source = (
        instance.pk,
        instance.verdict,
        instance.file_kind,
        instance.source,
    )
    transaction.on_commit(
        lambda: security_event(
            "verification", obj=verification, verdict=verdict, file_kind=kind, source=source
        )
    )
