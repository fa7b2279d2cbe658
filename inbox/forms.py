"""The console's forms: the list's filters and every action an agent takes on a conversation."""

from dataclasses import replace

from django import forms
from django.contrib.auth.models import AbstractUser

from inbox.models import Conversation, Tag
from inbox.selectors.console import (
    ACTIVE,
    ANY_STATUS,
    InboxQuery,
    InboxSort,
    inbox_views,
    visible_channels,
)
from inbox.services.replies import REPLY_MAX_CHARACTERS
from integrations.models import Platform
from routing.presence import Presence
from sla.selectors import SlaFilterState

NOTE_MAX_LENGTH = 5000
SEARCH_MAX_LENGTH = 200


def _with_any(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class InboxFilterForm(forms.Form):
    """The list's view, filters, search and sort, from the query string. A value that is not
    valid falls back to its default rather than failing the page: these are links people
    bookmark and share."""

    view = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=SEARCH_MAX_LENGTH, strip=True)
    status = forms.ChoiceField(
        required=False,
        choices=[
            (ACTIVE, "Open & pending"),
            *Conversation.Status.choices,
            (ANY_STATUS, "Any status"),
        ],
    )
    platform = forms.ChoiceField(
        required=False, choices=_with_any("Any platform", Platform.choices)
    )
    channel = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    priority = forms.ChoiceField(
        required=False, choices=_with_any("Any priority", Conversation.Priority.choices)
    )
    source = forms.ChoiceField(
        required=False,
        choices=_with_any("Any source", Conversation.Source.choices),
    )
    tag = forms.ChoiceField(required=False)
    sla = forms.ChoiceField(required=False, choices=_with_any("Any SLA", SlaFilterState.choices))
    sort = forms.ChoiceField(required=False, choices=InboxSort.choices)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, data, *, user: AbstractUser) -> None:
        super().__init__(data)
        self.fields["view"].choices = [(view.value, view.label) for view in inbox_views(user=user)]
        self.fields["channel"].choices = _with_any(
            "Any channel", [(channel.pk, str(channel)) for channel in visible_channels(user=user)]
        )
        self.fields["tag"].choices = _with_any(
            "Any tag", [(name, name) for name in Tag.objects.values_list("name", flat=True)]
        )

    def query(self) -> InboxQuery:
        """The valid values given; defaults for the rest."""
        self.is_valid()
        given = {
            name: value for name, value in self.cleaned_data.items() if value not in (None, "")
        }
        return replace(InboxQuery(), **given)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Conversation.Priority.choices)


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)


class AssignForm(forms.Form):
    agent = forms.IntegerField(min_value=1)


class TransferForm(forms.Form):
    team = forms.IntegerField(min_value=1)


class NoteForm(forms.Form):
    body = forms.CharField(max_length=NOTE_MAX_LENGTH)


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=REPLY_MAX_CHARACTERS)
    # The idempotency key of this reply: the page sends a fresh one with every new composer,
    # so a form sent twice (a double click, a retried request) sends one reply.
    client_token = forms.UUIDField(widget=forms.HiddenInput)
    private = forms.BooleanField(required=False)


class PresenceForm(forms.Form):
    status = forms.ChoiceField(choices=[(Presence.ONLINE, "Online"), (Presence.AWAY, "Away")])
