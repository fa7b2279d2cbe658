"""SLA policies set up from code (the admin edits them too): the demo's, a deployment's first."""

from django.db import transaction

from sla.models import Policy, PolicyTarget

# Minutes to first response, next response and resolution, per priority: a common
# starting point for social customer service (urgent within minutes, low within a day).
STARTER_TARGETS = {
    "urgent": (5, 10, 60),
    "high": (15, 30, 240),
    "medium": (30, 60, 480),
    "low": (120, 240, 1440),
}


@transaction.atomic
def policy_default_ensure(*, name: str, targets: dict[str, tuple[int, int, int]], business_hours: bool) -> Policy:
    """Make `name` the default policy with these targets, unless a default policy exists
    already (whatever a manager configured stays as it is)."""
    existing = Policy.objects.filter(is_default=True).first()
    if existing is not None:
        return existing
    policy = Policy.objects.create(name=name, is_default=True, business_hours=business_hours)
    PolicyTarget.objects.bulk_create(
        PolicyTarget(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in targets.items()
    )
    return policy
