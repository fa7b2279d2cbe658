"""How long raw deliveries are kept: purged by age, and erased when they name an erased
customer."""

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from integrations.models import WebhookEvent

PURGE_BATCH = 2000


def webhook_events_purge(*, older_than: datetime) -> int:
    """Delete processed and failed deliveries received before `older_than` (a pending one is
    kept: it still has to be processed); return how many. In batches, each its own
    transaction."""
    purged = 0
    done = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED)
    while True:
        with transaction.atomic():
            ids = list(
                WebhookEvent.objects.filter(received_at__lt=older_than, status__in=done).values_list("pk", flat=True)[
                    :PURGE_BATCH
                ]
            )
            if not ids:
                return purged
            purged += WebhookEvent.objects.filter(pk__in=ids).delete()[0]


@transaction.atomic
def webhook_events_erase(*, identities: Iterable[tuple[str, str]]) -> int:
    """Delete every stored delivery of the identities' platforms whose body names one of their
    external ids; return how many."""
    erased = 0
    for platform, external_id in identities:
        # The id as a whole token, never inside a longer number or id (a timestamp, another user).
        token = rf"(^|[^0-9A-Za-z_.-]){re.escape(external_id)}([^0-9A-Za-z_.-]|$)"
        erased += (
            WebhookEvent.objects.filter(platform=platform, body__contains=external_id, body__regex=token)
            .delete()[0]
        )
    return erased
