"""The short, polite written reply an employee can copy and send with her answer.

It names the request in quotes ("About your request “Holiday campaign post”:"), so any
title reads naturally, and it carries the employee's details only when she chose to put
them in (a counter-proposal's details are the reply itself).
"""

from .models import Decision
from .models.request import DECLINE_REASON_LABELS


def reply_text_for(decision: Decision, *, acknowledgement_url: str = "") -> str:
    """The reply; with `acknowledgement_url`, a line asking the requester to confirm they
    received it (a one-time link: services.acknowledgement_link_create)."""
    promotion_request = decision.promotion_request
    first_name = promotion_request.requester_name.split()[0]
    about = f"About your request “{promotion_request.promoted_item.strip()}”"
    details = decision.details.strip() if decision.details_in_reply else ""
    if decision.kind == Decision.Kind.DECLINE:
        body = [
            f"{about}: thank you for thinking of me. I have considered it, and I will not "
            "post about it on my personal accounts.",
            *_reasons(decision),
            *([details] if details else []),
            "I am glad to help with it in my role at work.",
        ]
    elif decision.kind == Decision.Kind.ACCEPT:
        conditions = _conditions(decision) + ([details] if details else [])
        if conditions:
            body = [
                f"{about}: thank you for asking. I am happy to post about it on these conditions:",
                *[f"- {condition}" for condition in conditions],
                "Please confirm in writing that these work for you.",
            ]
        else:
            body = [f"{about}: thank you for asking. I am happy to post about it."]
    else:
        body = [
            f"{about}: thank you for asking. I cannot do it as asked, but I can offer this:",
            decision.details.strip(),
            "Let me know if that works for you.",
        ]
    if acknowledgement_url:
        body += ["", f"Please confirm you received this answer: {acknowledgement_url}"]
    return "\n".join(
        [f"Hi {first_name},", "", *body, "", "Best regards,", decision.decided_by.display_name]
    )


def _reasons(decision: Decision) -> list[str]:
    """The reasons as one sentence: "I keep my personal life apart from work, and it does
    not fit my content." ("Another reason" says nothing by itself.)"""
    labels = [
        DECLINE_REASON_LABELS.get(reason, reason)
        for reason in decision.decline_reasons
        if reason != Decision.DeclineReason.OTHER
    ]
    if not labels:
        return []
    clauses = [labels[0]] + [_mid_sentence(label) for label in labels[1:]]
    if len(clauses) > 1:
        clauses[-1] = "and " + clauses[-1]
    return [", ".join(clauses) + "."]


def _mid_sentence(label: str) -> str:
    """A reason as it reads after a comma: "It does not fit…" becomes "it does not fit…";
    "I keep…" stays."""
    return label if label.startswith("I ") else label[:1].lower() + label[1:]


def _conditions(decision: Decision) -> list[str]:
    conditions = []
    if decision.pay.strip():
        conditions.append(f"compensation of {decision.pay.strip()}")
    if decision.disclosure_required:
        conditions.append("every post clearly discloses my connection to the company (#ad)")
    if decision.content_approval_required:
        conditions.append("I approve the final content before it is published")
    if decision.ends_on:
        conditions.append(f"the arrangement ends on {decision.ends_on:%d %B %Y}")
    accounts = list(decision.accounts.all())
    if accounts:
        conditions.append("it is limited to " + ", ".join(str(a) for a in accounts))
    return conditions
