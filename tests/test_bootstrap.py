"""`manage.py bootstrap`: a fresh deployment's first manager is an agent in a team serving
every channel, so the console works for them at once; running it again changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from routing.models import Agent, Team
from tests import factories

pytestmark = pytest.mark.django_db


def bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def test_bootstrap_makes_a_superuser_who_is_an_agent_in_a_team_serving_every_channel(monkeypatch):
    monkeypatch.setenv("HELPDESK_BOOTSTRAP_PASSWORD", "correct horse battery")
    channels = [factories.channel(), factories.channel()]

    output = bootstrap("--username", "maria", "--email", "maria@example.com", "--team", "Front desk")

    user = get_user_model().objects.get(username="maria")
    assert user.is_superuser and user.is_staff
    assert user.check_password("correct horse battery")
    team = Team.objects.get(name="Front desk")
    assert set(team.channels.all()) == set(channels)
    assert list(team.members.all()) == [Agent.objects.get(user=user)]
    assert "correct horse" not in output  # a given password is never printed


def test_bootstrap_generates_and_prints_a_password_when_none_is_given(monkeypatch):
    monkeypatch.delenv("HELPDESK_BOOTSTRAP_PASSWORD", raising=False)
    output = bootstrap()
    password = output.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_bootstrap_again_changes_nothing_but_adds_new_channels(monkeypatch):
    monkeypatch.setenv("HELPDESK_BOOTSTRAP_PASSWORD", "first password")
    bootstrap("--capacity", "5")
    monkeypatch.setenv("HELPDESK_BOOTSTRAP_PASSWORD", "second password")
    channel = factories.channel()

    output = bootstrap("--capacity", "9")

    assert "password unchanged" in output
    user = get_user_model().objects.get(username="admin")
    assert user.check_password("first password")
    assert Agent.objects.get(user=user).capacity == 5
    assert (Agent.objects.count(), Team.objects.count()) == (1, 1)
    assert list(Team.objects.get().channels.all()) == [channel]


def test_bootstrap_refuses_a_capacity_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        bootstrap("--capacity", "0")
