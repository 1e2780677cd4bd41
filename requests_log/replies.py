"""The short, polite written reply an employee can copy and send with her answer."""

from .models import Decision


def reply_text_for(decision: Decision) -> str:
    """A short, polite written reply the employee can copy and send."""
    promotion_request = decision.promotion_request
    greeting = f"Hi {promotion_request.requester_name.split()[0]},"
    subject = promotion_request.promoted_item
    if decision.kind == Decision.Kind.DECLINE:
        reason = (
            decision.get_decline_reason_display()
            if decision.decline_reason and decision.decline_reason != Decision.DeclineReason.OTHER
            else ""
        )
        lines = [
            greeting,
            "",
            f"Thank you for thinking of me for {subject}. I have considered it and I will not "
            "be posting about it on my personal accounts.",
        ]
        if reason:
            lines.append(f"The main reason: {reason}.")
        if decision.details.strip():
            lines.append(decision.details.strip())
        lines += [
            "I am glad to help with it in my role at work.",
            "",
            "Best regards,",
            decision.decided_by.display_name,
        ]
    elif decision.kind == Decision.Kind.ACCEPT:
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
        if decision.details.strip():
            conditions.append(decision.details.strip())
        lines = [
            greeting,
            "",
            f"Thank you for asking. I am happy to post about {subject} on these conditions:",
            *[f"- {condition}" for condition in conditions],
            "Please confirm in writing that these work for you.",
            "",
            "Best regards,",
            decision.decided_by.display_name,
        ]
    else:
        lines = [
            greeting,
            "",
            f"Thank you for asking about {subject}. I cannot do it as asked, but I can offer this:",
            decision.details.strip(),
            "Let me know if that works for you.",
            "",
            "Best regards,",
            decision.decided_by.display_name,
        ]
    return "\n".join(lines)
