from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sla.models import BusinessCalendar, Clock, Holiday, Policy
from sla.services.clocks import sla_on_customer_message
from tests import factories
from tests.sla.conftest import T0

pytestmark = pytest.mark.django_db

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//holidays//EN
BEGIN:VEVENT
UID:christmas
DTSTART;VALUE=DATE:20261225
DTEND;VALUE=DATE:20261227
SUMMARY:Christmas
RRULE:FREQ=YEARLY
END:VEVENT
END:VCALENDAR
"""


def management(prefix: str, total: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def post_calendar(client, *, intervals=(), time_zone="Europe/Rome", always_open=False, ics=None):
    data = {
        "name": "Office",
        "time_zone": time_zone,
        **management("intervals", len(intervals)),
        **management("holidays", 0),
    }
    if always_open:
        data["always_open"] = "on"
    for index, (weekday, start, end) in enumerate(intervals):
        data.update(
            {
                f"intervals-{index}-weekday": weekday,
                f"intervals-{index}-start": start,
                f"intervals-{index}-end": end,
            }
        )
    if ics is not None:
        data["holidays_ics"] = SimpleUploadedFile("holidays.ics", ics, content_type="text/calendar")
    return client.post(reverse("admin:sla_businesscalendar_add"), data)


def all_errors(response) -> str:
    """Every error the admin page shows: the form's, each inline form's and each formset's."""
    errors = [str(response.context["adminform"].form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        errors += [str(inline.formset.non_form_errors()), *map(str, inline.formset.errors)]
    return " ".join(errors)


def test_a_calendar_with_split_shifts_saves(admin_client):
    response = post_calendar(
        admin_client,
        intervals=[(0, "09:00", "13:00"), (0, "14:00", "18:00"), (1, "22:00", "00:00")],
    )

    assert response.status_code == 302
    assert BusinessCalendar.objects.get().intervals.count() == 3


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        (
            [(0, "09:00", "13:00"), (0, "12:00", "14:00")],
            "Monday: 09:00–13:00 overlaps 12:00–14:00.",
        ),
        ([(2, "10:00", "09:00")], "The end must be after the start (00:00 means midnight)."),
        ([], "Add at least one working interval, or make the calendar open 24/7."),
    ],
    ids=["overlap", "end-before-start", "no-intervals"],
)
def test_an_impossible_schedule_is_a_form_error(admin_client, intervals, message):
    response = post_calendar(admin_client, intervals=intervals)

    assert response.status_code == 200
    assert message in all_errors(response)
    assert not BusinessCalendar.objects.exists()


def test_an_unknown_time_zone_is_a_form_error(admin_client):
    response = post_calendar(
        admin_client, intervals=[(0, "09:00", "17:00")], time_zone="Mars/Olympus_Mons"
    )

    assert "is not an IANA time zone" in str(response.context["adminform"].form.errors["time_zone"])


def test_a_24_7_calendar_needs_no_intervals(admin_client):
    assert post_calendar(admin_client, always_open=True).status_code == 302


def test_holidays_are_imported_from_an_ics_upload(admin_client):
    response = post_calendar(admin_client, intervals=[(0, "09:00", "17:00")], ics=ICS)

    assert response.status_code == 302
    assert list(Holiday.objects.values_list("date", "recurs_yearly")) == [
        (date(2026, 12, 25), True),
        (date(2026, 12, 26), True),
    ]


def test_a_file_that_is_not_icalendar_is_a_form_error(admin_client):
    response = post_calendar(admin_client, intervals=[(0, "09:00", "17:00")], ics=b"not a calendar")

    assert "This is not an iCalendar file" in str(
        response.context["adminform"].form.errors["holidays_ics"]
    )


def post_policy(client, **fields):
    data = {
        "name": "Policy",
        "position": 1,
        "is_active": "on",
        "business_hours": "",
        **management("targets", 0),
        **management("escalations", 0),
        **fields,
    }
    return client.post(
        reverse("admin:sla_policy_add"), {key: value for key, value in data.items() if value != ""}
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"warning_minutes": 10, "warning_percent": 80},
            "Warn in minutes or in percent, not both.",
        ),
        ({"business_hours": "on"}, "Business hours are counted on a calendar: choose one."),
        ({"warning_percent": 100}, "less than or equal to 99"),
    ],
)
def test_an_inconsistent_policy_is_a_form_error(admin_client, fields, message):
    response = post_policy(admin_client, **fields)

    assert message in str(response.context["adminform"].form.errors)
    assert not Policy.objects.exists()


def test_there_is_one_default_policy(admin_client):
    factories.sla_policy(is_default=True)

    response = post_policy(admin_client, is_default="on")

    assert "Another policy is already the default." in str(
        response.context["adminform"].form.errors
    )


def test_admin_status_change_pauses_the_clocks_like_the_console(policy, conversation, client):
    """A manager who parks a conversation in the admin pauses its SLA clocks too."""
    sla_on_customer_message(conversation_id=conversation.pk, at=T0, now=T0)
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    url = reverse("admin:inbox_conversation_change", args=[conversation.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({
        "status": "pending", "customer": conversation.customer_id, "channel": conversation.channel_id,
        "created_at_0": "2026-06-08", "created_at_1": "08:00:00",
        "notes-TOTAL_FORMS": 0, "notes-INITIAL_FORMS": 0, "messages-TOTAL_FORMS": 0, "messages-INITIAL_FORMS": 0,
    })
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(Clock.objects.filter(conversation=conversation).values_list("state", flat=True)) == {
        Clock.State.PAUSED
    }
