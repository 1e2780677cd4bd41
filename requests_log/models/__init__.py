"""The record's tables, one module per aggregate."""

from .closing import AccountClosure, LegalHold
from .disclosure import DisclosureProof
from .exports import (
    Export,
    Verification,
    VerificationJob,
    export_storage,
    export_upload_to,
)
from .hr_counts import HrCountedRequest, HrCountsStale
from .receipts import (
    Checkpoint,
    ReceiptAddress,
    ReceiptDelivery,
    ReceiptSchedule,
    Timestamp,
)
from .reminders import Notification, Reminder, ReminderDelivery
from .request import (
    AcknowledgementLink,
    Decision,
    Evidence,
    FollowUp,
    PromotionRequest,
    RequestTarget,
    evidence_storage,
    evidence_upload_to,
    what_is_asked,
)
from .sharing import HrDigest, HrExport, HrView
from .timeline import AppendOnlyQuerySet, TimelineEvent

__all__ = [
    "AccountClosure",
    "AcknowledgementLink",
    "AppendOnlyQuerySet",
    "Checkpoint",
    "Decision",
    "DisclosureProof",
    "Evidence",
    "Export",
    "FollowUp",
    "HrCountedRequest",
    "HrCountsStale",
    "HrDigest",
    "HrExport",
    "HrView",
    "LegalHold",
    "Notification",
    "PromotionRequest",
    "ReceiptAddress",
    "ReceiptDelivery",
    "ReceiptSchedule",
    "Reminder",
    "ReminderDelivery",
    "RequestTarget",
    "TimelineEvent",
    "Timestamp",
    "Verification",
    "VerificationJob",
    "evidence_storage",
    "evidence_upload_to",
    "export_storage",
    "export_upload_to",
    "what_is_asked",
]
