"""Admin forms for calendars: a schedule a calendar can compute on, and holidays from .ics."""

from collections import defaultdict
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from sla.businesstime import ScheduleError, day_openings
from sla.ics import IcsError, holidays_from_ics
from sla.models import BusinessCalendar, Weekday


class BusinessCalendarForm(forms.ModelForm):
    holidays_ics = forms.FileField(
        required=False,
        label="Import holidays",
        help_text="An iCalendar (.ics) file: each event's days become holidays, yearly events recur.",
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "always_open"]

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("holidays_ics")
        if upload and "time_zone" in cleaned:
            try:
                cleaned["holidays_ics"] = holidays_from_ics(
                    upload.read(), zone=ZoneInfo(cleaned["time_zone"])
                )
            except IcsError as exc:
                self.add_error("holidays_ics", str(exc))
        return cleaned


class WorkingIntervalFormSet(forms.BaseInlineFormSet):
    """Check each weekday's intervals together: no overlaps, and at least one interval in
    the week unless the calendar is open 24/7."""

    def clean(self) -> None:
        super().clean()
        by_weekday = defaultdict(list)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            # Forms with errors of their own (such as an end before the start) say so already.
            if not data or data.get("DELETE") or form.errors:
                continue
            by_weekday[data["weekday"]].append((data["start"], data["end"]))
        problems = []
        for weekday, intervals in sorted(by_weekday.items()):
            try:
                day_openings(intervals)
            except ScheduleError as exc:
                problems.append(f"{Weekday(weekday).label}: {exc}")
        if not by_weekday and not self.instance.always_open:
            problems.append("Add at least one working interval, or make the calendar open 24/7.")
        if problems:
            raise ValidationError(problems)
