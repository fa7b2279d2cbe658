from celery import shared_task

from sla import teams
from sla.services import escalation, scan


@shared_task(name="sla.clocks_scan")
def sla_clocks_scan_task() -> None:
    scan.sla_clocks_scan()


@shared_task(name="sla.breaches_escalate", acks_late=True)
def sla_breaches_escalate_task(*, event_ids: list[int]) -> None:
    # One task per scan batch; each breach escalates in its own transaction, at most once.
    for event_id in event_ids:
        escalation.sla_breach_escalate(event_id=event_id)


@shared_task(name="sla.escalations_sweep")
def sla_escalations_sweep_task() -> None:
    escalation.sla_escalations_sweep()


@shared_task(name="sla.team_reassign", acks_late=True)
def sla_team_reassign_task(*, conversation_id: int, team_id: int) -> None:
    teams.team_reassign(conversation_id=conversation_id, team_id=team_id)
