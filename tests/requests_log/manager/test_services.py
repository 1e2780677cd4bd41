from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from boundary.models import User
from requests_log import chain, reminders, selectors, services
from requests_log.exports.record import summarise
from requests_log.manager import selectors as manager_selectors
from requests_log.models import (
    AcknowledgementLink,
    Decision,
    Notification,
    PromotionRequest,
    Reminder,
    TimelineEvent,
)
from requests_log.services import FilingRefused
from requests_log.timeline import verify_chain
from tests.factories import SocialAccountFactory, decline, log_request

from .conftest import accept, file_request

DAYTIME = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)


def chain_head(employee: User) -> tuple[int, str]:
    last = TimelineEvent.objects.filter(employee=employee).order_by("-seq").first()
    return (last.seq, last.hash) if last else (0, chain.GENESIS_HASH)


def replayed(employee: User) -> chain.Replay:
    replay = chain.Replay()
    for event in TimelineEvent.objects.filter(employee=employee).order_by("seq"):
        replay.add(
            {
                "employee": event.employee_id,
                "seq": event.seq,
                "request": event.promotion_request_id,
                "kind": event.kind,
                "actor": event.actor_id,
                "occurred_at": chain.utc_iso(event.occurred_at),
            },
            event.payload,
        )
    return replay


# --- Filing --------------------------------------------------------------------------------


def test_file_stores_a_free_ask_from_the_manager_and_chains_it_on_the_employee(
    manager, employee, closed_account, open_account
):
    promotion_request = file_request(
        manager, employee, target_accounts=[closed_account, open_account]
    )

    assert promotion_request.source == PromotionRequest.Source.FILED_IN_APP
    assert promotion_request.filed_by == manager
    assert promotion_request.requester_user == manager
    assert (promotion_request.requester_name, promotion_request.requester_title) == (
        "Daniel Reyes",
        "Head of Marketing",
    )
    assert promotion_request.framing == PromotionRequest.Framing.ASKED
    assert promotion_request.channel == PromotionRequest.Channel.IN_BOUNDARY
    event = TimelineEvent.objects.get(employee=employee, kind=TimelineEvent.Kind.FILED)
    assert event.actor == manager
    assert event.payload["no_penalty_notice_shown"] is True
    assert event.payload["disclosure_terms"] == "#ad first, and the paid-partnership label"
    assert event.payload["closed_accounts_warned"] == [closed_account.pk]
    assert not TimelineEvent.objects.filter(employee=manager).exists()
    report = verify_chain(employee=employee)
    assert (report.ok, report.drift) == (True, ())


def test_filed_request_is_flagged_for_its_closed_account(manager, employee, closed_account):
    promotion_request = file_request(manager, employee, target_accounts=[closed_account])

    codes = [flag.code for flag in selectors.flags_of(promotion_request)]
    replay_codes = [flag.code for flag in replayed(employee).flags()[promotion_request.pk]]

    assert codes == replay_codes == ["closed_account"]


@pytest.mark.parametrize("who", ["other_manager", "second_employee", "hr", "employee"])
def test_filing_to_someone_not_your_report_is_refused(request, employee, who):
    filer = request.getfixturevalue(who)
    head = chain_head(employee)

    with pytest.raises(FilingRefused):
        file_request(filer, employee)

    assert PromotionRequest.objects.count() == 0
    assert chain_head(employee) == head


def test_filing_to_an_inactive_report_is_refused(manager, employee):
    employee.is_active = False
    employee.save(update_fields=["is_active"])

    with pytest.raises(FilingRefused):
        file_request(manager, employee)


def test_filing_on_someone_elses_or_an_archived_account_is_refused(
    manager, employee, second_employee, open_account
):
    sams = SocialAccountFactory(owner=second_employee)
    open_account.archived_at = timezone.now()
    open_account.save(update_fields=["archived_at"])

    for account in (sams, open_account):
        with pytest.raises(ValidationError):
            file_request(manager, employee, target_accounts=[account])

    assert PromotionRequest.objects.count() == 0


def test_asking_again_after_a_decline_is_allowed_and_marked(manager, employee):
    first = file_request(manager, employee, promoted_item="The summer line")
    decline(first, at=timezone.now())

    second = file_request(manager, employee, promoted_item="The autumn line")

    flag = next(f for f in selectors.flags_of(second) if f.code == "asked_after_decline")
    assert flag.earlier is not None
    assert flag.earlier.pk == first.pk
    replay_flags = replayed(employee).flags()[second.pk]
    assert [f.code for f in replay_flags] == ["asked_after_decline"]
    assert manager_selectors.earlier_decline_to(viewer=manager, employee=employee) == first


def test_a_decline_of_what_she_logged_herself_is_not_told_to_the_manager(manager, employee):
    logged = log_request(employee, requester_user=manager)
    decline(logged, at=timezone.now())

    assert manager_selectors.earlier_decline_to(viewer=manager, employee=employee) is None


# --- The notice, through the reminder machinery ---------------------------------------------


@pytest.fixture
def daytime():
    with time_machine.travel(DAYTIME, tick=False):
        yield


def sweep_and_send(django_capture_on_commit_callbacks) -> list[str]:
    with django_capture_on_commit_callbacks(execute=True):
        claimed = reminders.reminders_claim_due(dispatch=lambda ids: None)
    return [reminders.reminder_send(reminder_id=pk) for pk in claimed]


def test_filing_plans_the_notice_now_and_the_deadline_reminders(daytime, manager, employee):
    promotion_request = file_request(manager, employee)

    planned = {
        (r.kind, r.due_at == DAYTIME) for r in promotion_request.reminders.filter(state="scheduled")
    }

    assert planned == {("filed", True), ("before_deadline", False), ("on_deadline", False)}


def test_the_filed_notice_goes_out_once_by_email_and_in_the_app(
    daytime, manager, employee, mailoutbox, django_capture_on_commit_callbacks
):
    promotion_request = file_request(manager, employee)

    first = sweep_and_send(django_capture_on_commit_callbacks)
    second = sweep_and_send(django_capture_on_commit_callbacks)
    services.promotion_request_withdraw_filed(promotion_request=promotion_request, manager=manager)

    assert (first, second) == (["sent"], [])
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "A new request is waiting in Boundary"
    assert "autumn" not in mailoutbox[0].subject
    notices = Notification.objects.filter(user=employee)
    assert [n.promotion_request_id for n in notices] == [promotion_request.pk]
    assert promotion_request.reminders.filter(kind="filed", state="sent").count() == 1
    assert (
        TimelineEvent.objects.filter(
            employee=employee, kind=TimelineEvent.Kind.REMINDER_SENT, payload__kind="filed"
        ).count()
        == 1
    )


def test_the_filed_notice_reaches_the_bell_even_with_reminders_off(
    daytime, manager, employee, mailoutbox, django_capture_on_commit_callbacks
):
    employee.no_decision_reminders = User.ReminderChannels.OFF
    employee.save(update_fields=["no_decision_reminders"])
    file_request(manager, employee)

    assert sweep_and_send(django_capture_on_commit_callbacks) == ["sent"]
    assert mailoutbox == []
    assert Notification.objects.filter(user=employee).count() == 1


def test_the_filed_notice_waits_for_the_end_of_quiet_hours(manager, employee):
    night = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # 23:00 in London
    with time_machine.travel(night, tick=False):
        promotion_request = file_request(manager, employee)

    notice = promotion_request.reminders.get(kind="filed")
    assert notice.due_at == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def test_an_answer_before_the_sweep_cancels_the_notice(
    daytime, manager, employee, mailoutbox, django_capture_on_commit_callbacks
):
    promotion_request = file_request(manager, employee)
    accept(promotion_request)

    assert sweep_and_send(django_capture_on_commit_callbacks) == []
    assert promotion_request.reminders.get(kind="filed").state == Reminder.State.CANCELLED


def test_an_answer_to_a_filed_request_plans_no_nudge_to_confirm_in_writing(
    daytime, manager, employee
):
    promotion_request = file_request(manager, employee)
    accept(promotion_request)

    assert not promotion_request.reminders.filter(
        kind=Reminder.Kind.CONFIRM_REPLY, state=Reminder.State.SCHEDULED
    ).exists()


# --- Withdrawing -----------------------------------------------------------------------------


def test_withdraw_twice_is_refused(manager, employee, filed):
    services.promotion_request_withdraw_filed(promotion_request=filed, manager=manager)
    head = chain_head(employee)

    with pytest.raises(ValidationError):
        services.promotion_request_withdraw_filed(promotion_request=filed, manager=manager)

    filed.refresh_from_db()
    assert filed.status == PromotionRequest.Status.WITHDRAWN
    assert chain_head(employee) == head


def test_withdraw_after_an_answer_is_refused(manager, employee, filed):
    accept(filed)
    head = chain_head(employee)

    with pytest.raises(ValidationError):
        services.promotion_request_withdraw_filed(promotion_request=filed, manager=manager)

    filed.refresh_from_db()
    assert filed.status == PromotionRequest.Status.ACCEPTED
    assert chain_head(employee) == head


def test_withdraw_by_another_manager_is_refused(other_manager, employee, filed):
    with pytest.raises(ValidationError):
        services.promotion_request_withdraw_filed(promotion_request=filed, manager=other_manager)

    filed.refresh_from_db()
    assert filed.status == PromotionRequest.Status.PENDING


# --- The answer, and proof it arrived --------------------------------------------------------


def test_the_message_to_the_requester_is_chained_and_replayed(employee, filed):
    decision = accept(filed)

    event = TimelineEvent.objects.get(employee=employee, kind=TimelineEvent.Kind.DECISION)
    told = replayed(employee).requests[filed.pk]["decisions"][0]

    assert decision.message_to_requester == "Happy to, on these terms."
    assert event.payload["message_to_requester"] == "Happy to, on these terms."
    assert told["message_to_requester"] == "Happy to, on these terms."
    assert verify_chain(employee=employee).ok


def test_seen_is_appended_once(manager, employee, filed):
    decision = accept(filed)

    first = services.decision_mark_seen(decision_id=decision.pk, viewer=manager)
    second = services.decision_mark_seen(decision_id=decision.pk, viewer=manager)

    assert first is not None
    assert second is None
    assert first.kind == TimelineEvent.Kind.SEEN_BY_REQUESTER
    assert first.actor == manager
    assert first.payload["decision"] == decision.pk
    decision.refresh_from_db()
    assert decision.seen_by_requester_at == first.occurred_at
    told = replayed(employee).requests[filed.pk]["decisions"][0]
    assert told["seen_by_requester_at"] == chain.utc_iso(first.occurred_at)
    report = verify_chain(employee=employee)
    assert (report.ok, report.drift) == (True, ())


def test_a_revised_answer_is_seen_again_once(manager, employee, filed):
    first = accept(filed)
    services.decision_mark_seen(decision_id=first.pk, viewer=manager)
    revised = accept(filed, pay="€600 per video")

    services.decision_mark_seen(decision_id=revised.pk, viewer=manager)
    services.decision_mark_seen(decision_id=revised.pk, viewer=manager)

    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.SEEN_BY_REQUESTER).count() == 2


def test_seen_by_someone_who_did_not_file_it_is_refused(other_manager, employee, filed):
    decision = accept(filed)
    head = chain_head(employee)

    with pytest.raises(FilingRefused):
        services.decision_mark_seen(decision_id=decision.pk, viewer=other_manager)

    decision.refresh_from_db()
    assert decision.seen_by_requester_at is None
    assert chain_head(employee) == head


def test_a_seen_time_edited_in_the_table_is_reported_as_drift(manager, employee, filed):
    decision = accept(filed)
    services.decision_mark_seen(decision_id=decision.pk, viewer=manager)

    Decision.objects.filter(pk=decision.pk).update(
        seen_by_requester_at=timezone.now() + timedelta(days=1)
    )

    report = verify_chain(employee=employee)
    assert not report.ok
    assert any("seen by the requester" in line for line in report.drift)


# --- Acknowledgement links -------------------------------------------------------------------


@pytest.fixture
def logged_decision(employee) -> Decision:
    promotion_request = log_request(employee)
    return decline(promotion_request, at=timezone.now())


def test_an_acknowledgement_link_works_once(employee, logged_decision):
    token = services.acknowledgement_link_create(decision=logged_decision, actor=employee)

    first = services.acknowledgement_confirm(token=token)
    second = services.acknowledgement_confirm(token=token)

    assert first is not None
    assert second is None
    assert first.kind == TimelineEvent.Kind.ACKNOWLEDGED
    assert first.actor is None
    assert first.payload == {"decision": logged_decision.pk}
    link = AcknowledgementLink.objects.get()
    assert link.used_at == first.occurred_at
    assert token not in link.token_sha256
    told = replayed(employee).requests[logged_decision.promotion_request_id]
    assert told["decisions"][0]["acknowledged_at"] == chain.utc_iso(first.occurred_at)
    assert verify_chain(employee=employee).ok


def test_an_expired_acknowledgement_link_does_nothing(employee, logged_decision):
    token = services.acknowledgement_link_create(decision=logged_decision, actor=employee)
    head = chain_head(employee)

    with time_machine.travel(timezone.now() + timedelta(days=14, seconds=1)):
        assert services.acknowledgement_link_valid(token) is None
        assert services.acknowledgement_confirm(token=token) is None

    assert chain_head(employee) == head


@pytest.mark.parametrize("token", ["", "x", "²<script>", "a" * 5000])
def test_an_unknown_acknowledgement_token_does_nothing(employee, logged_decision, token):
    services.acknowledgement_link_create(decision=logged_decision, actor=employee)

    assert services.acknowledgement_confirm(token=token) is None
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.ACKNOWLEDGED).exists()


def test_a_new_acknowledgement_link_retires_the_unused_one(employee, logged_decision):
    old = services.acknowledgement_link_create(decision=logged_decision, actor=employee)
    new = services.acknowledgement_link_create(decision=logged_decision, actor=employee)

    assert services.acknowledgement_confirm(token=old) is None
    assert services.acknowledgement_confirm(token=new) is not None


def test_only_the_employee_adds_a_link_to_her_answer(manager, logged_decision):
    with pytest.raises(FilingRefused):
        services.acknowledgement_link_create(decision=logged_decision, actor=manager)

    assert AcknowledgementLink.objects.count() == 0


# --- How exports tell the new events ----------------------------------------------------------


def test_exports_summarise_the_new_events(manager, employee, filed):
    decision = accept(filed)
    services.decision_mark_seen(decision_id=decision.pk, viewer=manager)
    events = {
        event.kind: event.payload for event in TimelineEvent.objects.filter(employee=employee)
    }

    assert summarise("filed", events["filed"]) == (
        "Daniel Reyes filed a request in Boundary for 2 videos about The autumn collection; "
        "offered: \u2068€400 per video\u2069; disclosure required: "
        "\u2068#ad first, and the paid-partnership label\u2069. "
        "The requester was told that declining carries no penalty."
    ).replace("Daniel Reyes", "\u2068Daniel Reyes\u2069").replace(
        "The autumn collection", "\u2068The autumn collection\u2069"
    )
    assert summarise("decision", events["decision"]).endswith(
        "Message to the requester: “\u2068Happy to, on these terms.\u2069”"
    )
    assert summarise("seen_by_requester", events["seen_by_requester"]) == (
        "The requester opened this answer in Boundary"
    )
    assert summarise("acknowledged", {"decision": decision.pk}).startswith(
        "The requester confirmed receiving the answer"
    )
