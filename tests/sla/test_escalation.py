from datetime import timedelta

import pytest

from inbox.models import Conversation
from sla.models import Clock, ClockEvent, EscalationAction, Target
from sla.services.clocks import sla_on_customer_message
from sla.services.escalation import sla_breach_escalate, sla_escalations_sweep
from sla.services.scan import sla_clocks_scan
from tests import factories
from tests.sla.conftest import T0

MINUTE = timedelta(minutes=1)
BREACH_TIME = T0 + 61 * MINUTE
reassigned: list[dict] = []


def reassign_hook(**ids) -> None:
    """Stands in for routing's hand-over in SLA_TEAM_REASSIGN_HOOK."""
    reassigned.append(ids)


@pytest.fixture
def breach(policy, conversation, django_capture_on_commit_callbacks):
    """Breach the conversation's first response; return a function that runs the scan, and
    with it the escalation after commit."""
    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)

    def run() -> ClockEvent:
        with django_capture_on_commit_callbacks(execute=True):
            sla_clocks_scan(now=BREACH_TIME)
        return ClockEvent.objects.get(kind=ClockEvent.Kind.BREACHED)

    return run


def test_raise_priority_raises_and_reapplies_the_targets(policy, conversation, breach, broadcasts):
    factories.escalation_action(
        policy=policy, action="raise_priority", priority="urgent", team_id=None
    )

    event = breach()

    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.URGENT
    assert event.escalations == [{"action": "raise_priority", "result": "done"}]
    assert event.escalated_at is not None
    resolution = Clock.objects.get(target=Target.RESOLUTION)
    assert resolution.budget == timedelta(
        minutes=480
    )  # the default factory targets every priority alike
    assert "conversation.changed" in [sent["type"] for sent in broadcasts]


def test_raise_priority_never_lowers(policy, conversation, breach):
    Conversation.objects.filter(pk=conversation.pk).update(priority=Conversation.Priority.URGENT)
    factories.escalation_action(
        policy=policy, action="raise_priority", priority="high", team_id=None
    )

    event = breach()

    assert Conversation.objects.get(pk=conversation.pk).priority == Conversation.Priority.URGENT
    assert event.escalations == [{"action": "raise_priority", "result": "unchanged"}]


def test_add_tag(policy, conversation, breach):
    late = factories.tag(name="sla-late")
    factories.escalation_action(policy=policy, action="add_tag", tag=late, team_id=None)

    breach()

    assert list(conversation.tags.all()) == [late]


def test_notify_team_lead_broadcasts_to_the_team(policy, conversation, breach, broadcasts):
    factories.escalation_action(policy=policy, action="notify_team_lead", team_id=4)

    breach()

    escalated = [sent for sent in broadcasts if sent["type"] == "sla.escalated"]
    assert escalated == [
        {
            "type": "sla.escalated",
            "channel_id": conversation.channel_id,
            "conversation_id": conversation.pk,
            "team_id": 4,
        }
    ]


def test_reassign_to_a_team_is_skipped_without_a_hook(policy, breach, settings):
    settings.SLA_TEAM_REASSIGN_HOOK = ""
    factories.escalation_action(policy=policy, action="reassign_team", team_id=4)

    event = breach()

    assert event.escalations[0]["result"] == "skipped"


def test_reassign_to_a_team_calls_the_hook_after_commit(policy, conversation, breach, settings):
    settings.SLA_TEAM_REASSIGN_HOOK = f"{__name__}.reassign_hook"
    reassigned.clear()
    factories.escalation_action(policy=policy, action="reassign_team", team_id=4)

    event = breach()

    assert event.escalations == [{"action": "reassign_team", "result": "requested"}]
    assert reassigned == [{"conversation_id": conversation.pk, "team_id": 4}]


def test_only_actions_for_the_breached_target_run(policy, conversation, breach):
    resolution_only = factories.tag(name="resolution-late")
    factories.escalation_action(
        policy=policy,
        action="add_tag",
        tag=resolution_only,
        on_target=Target.RESOLUTION,
        team_id=None,
    )
    factories.escalation_action(
        policy=policy, action="notify_team_lead", on_target=Target.FIRST_RESPONSE
    )

    event = breach()

    assert [result["action"] for result in event.escalations] == ["notify_team_lead"]
    assert not conversation.tags.exists()


def test_an_escalation_delivered_twice_runs_once(policy, conversation, breach):
    factories.escalation_action(policy=policy, action="add_tag", tag=factories.tag(), team_id=None)
    event = breach()

    assert sla_breach_escalate(event_id=event.pk, now=BREACH_TIME) == []
    assert ClockEvent.objects.get(pk=event.pk).escalations == [
        {"action": "add_tag", "result": "done"}
    ]


def test_an_escalation_action_without_what_it_needs_is_invalid(policy):
    action = EscalationAction(policy=policy, action="add_tag")
    with pytest.raises(Exception, match="tag"):
        action.full_clean()


def test_reassign_to_a_team_hands_the_conversation_to_routing(policy, conversation, breach):
    """The default hook is routing's: the team's strategy picks one of its online agents."""
    agent = factories.agent()
    team = factories.team(members=[agent])
    factories.escalation_action(policy=policy, action="reassign_team", team_id=team.pk)

    breach()

    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (team.pk, agent.user_id)


def test_a_breach_whose_escalation_task_was_lost_is_swept_and_escalated_once(
    policy, conversation, settings
):
    settings.SLA_ESCALATION_SWEEP_AFTER = 2 * MINUTE
    late = factories.tag(name="sla-late")
    factories.escalation_action(policy=policy, action="add_tag", tag=late, team_id=None)
    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)
    sla_clocks_scan(now=BREACH_TIME)  # its on-commit escalation task never runs: lost

    assert sla_escalations_sweep(now=BREACH_TIME + MINUTE) == 0  # its task may still come
    assert sla_escalations_sweep(now=BREACH_TIME + 3 * MINUTE) == 1
    assert sla_escalations_sweep(now=BREACH_TIME + 4 * MINUTE) == 0

    event = ClockEvent.objects.get(kind=ClockEvent.Kind.BREACHED)
    assert event.escalations == [{"action": "add_tag", "result": "done"}]
    assert list(conversation.tags.all()) == [late]
