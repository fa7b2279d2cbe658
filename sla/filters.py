"""The `sla` query-string filter of conversation lists."""

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from sla.selectors import SlaFilterState, conversations_sla_filter


class SlaFilter(filters.ChoiceFilter):
    """`sla=at_risk|breached`; any other value is refused. Declare it on a conversation
    FilterSet as `sla = SlaFilter()`."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "label", "SLA: `at_risk` (warning reached) or `breached` (deadline passed)."
        )
        super().__init__(choices=SlaFilterState.choices, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        return conversations_sla_filter(qs, state=value, now=timezone.now())
