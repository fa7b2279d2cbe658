"""Template filters of the agent console. Everything they return from platform data is
escaped; `mentions` builds its markup around escaped pieces only."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from inbox.services.triage import MENTION

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The URL if it is http(s), else "": a `javascript:` or `data:` URL is never rendered."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


def span(seconds: float) -> str:
    """A short span of time: 45s, 12m, 3h, 2d."""
    seconds = int(abs(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@register.filter
def ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    elapsed = (timezone.now() - moment).total_seconds()
    return "now" if elapsed < 60 else span(elapsed)


@register.filter
def countdown(deadline: datetime | None) -> str:
    """Time to an SLA deadline ("12m left"), or past it ("overdue 5m")."""
    if deadline is None:
        return ""
    left = (deadline - timezone.now()).total_seconds()
    return f"{span(left)} left" if left > 0 else f"overdue {span(left)}"


@register.filter
def initials(name: str) -> str:
    letters = [word[0] for word in (name or "").split() if word[:1].isalnum()]
    return "".join(letters[:2]).upper() or "?"


@register.filter
def mentions(body: str) -> SafeString:
    """The note's text, escaped, with each @mention highlighted."""
    pieces, start = [], 0
    for match in MENTION.finditer(body or ""):
        pieces.append(conditional_escape(body[start : match.start()]))
        pieces.append(format_html('<span class="mention">@{}</span>', match[1]))
        start = match.end()
    pieces.append(conditional_escape((body or "")[start:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece above is escaped
