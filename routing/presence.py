"""Presence is what the console last said, while its heartbeats keep coming: an agent whose
last heartbeat is older than ROUTING_PRESENCE_TIMEOUT is offline, whatever was stored."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class Presence(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


def presence_cutoff(now: datetime) -> datetime:
    return now - settings.ROUTING_PRESENCE_TIMEOUT


def effective_presence(*, stated: str, last_heartbeat_at: datetime | None, now: datetime) -> str:
    if last_heartbeat_at is None or last_heartbeat_at < presence_cutoff(now):
        return Presence.OFFLINE
    return stated


def online_q(now: datetime) -> Q:
    """Agents who are online at `now`."""
    return Q(presence=Presence.ONLINE, last_heartbeat_at__gte=presence_cutoff(now))


def offline_q(now: datetime) -> Q:
    """Agents who are offline at `now`: no heartbeat within the timeout."""
    return Q(last_heartbeat_at__isnull=True) | Q(last_heartbeat_at__lt=presence_cutoff(now))
