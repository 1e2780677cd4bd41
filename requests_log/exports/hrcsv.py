"""HR's export: a period's filed and shared requests as CSV, one row per request.

Several employees' records in one file cannot carry their chains the way an employee's
own export does (one chain per employee, signed with its head), so this is the HR
projection as HR's pages show it, not a verifiable record: its SHA-256 is kept on the
HrExport row that records who exported what and when, and each request in it is marked
on its employee's chain as read by HR. To verify a record, HR asks the employee for her
own export.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..models import what_is_asked
from .fileformat import neutralise, quoted

COLUMNS = (
    ("department", "Department"),
    ("employee", "Employee"),
    ("number", "Request number"),
    ("how", "How HR sees it"),
    ("occurred_at", "Asked at (UTC)"),
    ("requester", "Who asked"),
    ("channel", "Channel"),
    ("framing", "Framing"),
    ("what", "What"),
    ("deadline", "Deadline (UTC)"),
    ("compensation_offered", "Offered"),
    ("status", "Status"),
    ("overdue", "Overdue"),
    ("asked_after_decline", "Asked again after a decline"),
    ("closed_account", "Targeted a closed account"),
    ("required", "Framed as required or with consequences"),
    ("disclosure_pending", "Disclosure proof pending"),
)


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def cells(row: dict[str, Any]) -> list[str]:
    shared = row["shared_with_hr_at"]
    values = {
        "department": row["employee__department"],
        "employee": row["employee__display_name"],
        "number": str(row["number"]),
        "how": "filed in Boundary" if row["source"] == "filed" else f"shared {utc(shared)}",
        "occurred_at": utc(row["occurred_at"]),
        "requester": row["requester_name"]
        + (f" ({row['requester_title']})" if row["requester_title"] else ""),
        "channel": row["channel"],
        "framing": row["framing"],
        "what": what_is_asked(row["content_format"], row["quantity"], row["promoted_item"]),
        "deadline": utc(row["deadline"]),
        "compensation_offered": row["compensation_offered"],
        "status": row["status"],
        **{
            key: "yes" if row[key if key == "overdue" else f"pattern_{key}"] else "no"
            for key in (
                "overdue",
                "asked_after_decline",
                "closed_account",
                "required",
                "disclosure_pending",
            )
        },
    }
    return [neutralise(str(values[key])) for key, _ in COLUMNS]


def hr_csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The file's lines (CRLF), header first; every typed cell neutralised for
    spreadsheets (a leading =, +, - or @ is quoted)."""
    yield ",".join(quoted(label) for _, label in COLUMNS) + "\r\n"
    for row in rows:
        yield ",".join(quoted(cell) for cell in cells(row)) + "\r\n"


def filename(today: Any) -> str:
    return f"hr-promotion-requests-{today:%Y-%m-%d}.csv"
