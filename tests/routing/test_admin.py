import pytest

from integrations.models import Platform
from routing.models import Rule
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    return client


RULE_FORM = {"name": "VIP", "position": 1, "is_active": "on", "required_level": 1}


def test_rule_without_an_action_is_refused_with_a_clear_error(admin_client):
    response = admin_client.post("/admin/routing/rule/add/", {**RULE_FORM, "language": "es"})

    assert response.status_code == 200
    assert "Choose at least one action" in response.content.decode()
    assert not Rule.objects.exists()


def test_rule_whose_channel_is_on_another_platform_is_refused(admin_client):
    channel = factories.channel(platform=Platform.TELEGRAM)

    response = admin_client.post(
        "/admin/routing/rule/add/",
        {**RULE_FORM, "platform": Platform.X, "channel": channel.pk, "set_priority": "high"},
    )

    assert response.status_code == 200
    assert "the rule could never match" in response.content.decode()


def test_level_without_a_skill_is_refused(admin_client):
    response = admin_client.post(
        "/admin/routing/rule/add/", {**RULE_FORM, "required_level": 3, "set_priority": "high"}
    )
    assert "Choose the skill this level is for" in response.content.decode()


def test_valid_rule_is_saved(admin_client):
    team = factories.team()
    response = admin_client.post(
        "/admin/routing/rule/add/", {**RULE_FORM, "keywords": "refund", "team": team.pk}
    )
    assert response.status_code == 302
    assert Rule.objects.get().team == team


def test_agent_admin_saves_capacity_and_skills(admin_client, django_capture_on_commit_callbacks):
    user = factories.user()
    skill = factories.skill()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/routing/agent/add/",
            {
                "user": user.pk,
                "capacity": 7,
                "skill_levels-TOTAL_FORMS": 1,
                "skill_levels-INITIAL_FORMS": 0,
                "skill_levels-0-skill": skill.pk,
                "skill_levels-0-level": 4,
            },
        )

    assert response.status_code == 302
    assert user.agent.capacity == 7
    assert user.agent.skill_levels.get().level == 4


@pytest.mark.parametrize("model", ["skill", "agent", "team", "rule", "assignment"])
def test_changelists_render(admin_client, channel, model):
    agent = factories.agent()
    factories.team(channels=[channel], members=[agent])
    factories.rule(set_priority="high")
    assert admin_client.get(f"/admin/routing/{model}/").status_code == 200
    assert admin_client.get(f"/admin/routing/agent/{agent.pk}/change/").status_code == 200


def test_assignment_log_is_read_only(admin_client):
    assert admin_client.get("/admin/routing/assignment/add/").status_code == 403
