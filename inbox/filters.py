"""Query-string filters of the conversation list. An invalid value is refused (400 with the
reason) rather than ignored, so a client never mistakes an unfiltered page for a filtered one."""

from django import forms
from django.db.models import QuerySet
from django_filters import rest_framework as filters

from assist.models import Sentiment
from inbox.models import Conversation
from integrations.models import Platform
from sla.filters import SlaFilter

UNASSIGNED = "none"


class IntegerFilter(filters.NumberFilter):
    """An id: django-filter's NumberFilter would accept decimals such as `1.5`."""

    field_class = forms.IntegerField


class IdOrNoneField(forms.IntegerField):
    """An integer id, or `none`, kept as the string `UNASSIGNED`."""

    def clean(self, value):
        if isinstance(value, str) and value.strip().lower() == UNASSIGNED:
            return UNASSIGNED
        return super().clean(value)


class AssigneeFilter(IntegerFilter):
    field_class = IdOrNoneField

    def filter(self, qs: QuerySet, value: int | str | None) -> QuerySet:
        if value == UNASSIGNED:
            return qs.filter(assignee__isnull=True)
        return super().filter(qs, value)


class ConversationFilter(filters.FilterSet):
    platform = filters.ChoiceFilter(
        field_name="channel__platform", choices=Platform.choices, label="The channel's platform."
    )
    # `channel` and `assignee` are documented in the view's schema: their types are not
    # derivable from the filters.
    channel = IntegerFilter(field_name="channel_id")
    status = filters.ChoiceFilter(choices=Conversation.Status.choices)
    priority = filters.ChoiceFilter(choices=Conversation.Priority.choices)
    source = filters.ChoiceFilter(choices=Conversation.Source.choices)
    language = filters.CharFilter(label="ISO 639-1 code of the customer's language, e.g. it.")
    sentiment = filters.ChoiceFilter(
        choices=Sentiment.choices,
        label="The conversation's recent sentiment.",
    )
    assignee = AssigneeFilter(field_name="assignee_id")
    # Tag names are unique, so joining on one name cannot repeat a conversation.
    tag = filters.CharFilter(field_name="tags__name", label="Tag name.")
    sla = SlaFilter()
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="ISO 8601 datetime; conversations updated at or after it.",
    )

    class Meta:
        model = Conversation
        fields: list[str] = []  # every filter is declared above
