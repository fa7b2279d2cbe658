"""Handing a conversation to a routing team: the one place SLA does it.

Teams and assignment belong to routing (issue 5), which SLA does not import. An escalation
that reassigns calls the function named by `settings.SLA_TEAM_REASSIGN_HOOK`, with the
signature `hook(*, conversation_id: int, team_id: int) -> None`, from a Celery task after the
breach has committed: the hook runs in its own transaction, so routing's row locks never nest
inside the scan's. While the setting is empty the escalation records the action as skipped.
"""

from django.conf import settings
from django.utils.module_loading import import_string


def team_reassign(*, conversation_id: int, team_id: int) -> None:
    """Hand the conversation to the team through the configured hook, if one still is."""
    if settings.SLA_TEAM_REASSIGN_HOOK:
        import_string(settings.SLA_TEAM_REASSIGN_HOOK)(
            conversation_id=conversation_id, team_id=team_id
        )
