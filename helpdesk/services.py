"""The project's own state changes: the people who sign in, and what is kept of customers."""

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction


@transaction.atomic
def manager_ensure(*, username: str, email: str, password: str | None) -> tuple[AbstractBaseUser, str | None]:
    """Create the superuser `username` if it does not exist; return it and the password set
    (generated when none is given), or None when the user existed and was left as it is."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
    if not created:
        return user, None
    password = password or secrets.token_urlsafe(12)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return user, password


def customer_forget(*, customer_id: int) -> dict[str, int]:
    """Erase one customer on request (GDPR article 17): their conversations, messages, notes
    and identities in the inbox, then the raw deliveries that name them."""
    from inbox.services.privacy import customer_erase
    from integrations.retention import webhook_events_erase

    identities = customer_erase(customer_id=customer_id)
    return {"identities": len(identities), "webhook_events": webhook_events_erase(identities=identities)}


def retention_apply(*, now: datetime, webhook_event_days: int, message_body_days: int) -> dict[str, int]:
    """Purge what is older than the retention periods (0 days: kept for ever)."""
    from inbox.services.privacy import message_bodies_purge
    from integrations.retention import webhook_events_purge

    purged = {"webhook_events": 0, "message_bodies": 0}
    if webhook_event_days:
        purged["webhook_events"] = webhook_events_purge(older_than=now - timedelta(days=webhook_event_days))
    if message_body_days:
        purged["message_bodies"] = message_bodies_purge(older_than=now - timedelta(days=message_body_days))
    return purged
