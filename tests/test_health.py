import pytest
from channels.layers import InMemoryChannelLayer

from helpdesk import health
from helpdesk.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        # Unit tests run Celery eagerly (tests/conftest.py), so no broker is contacted.
        "checks": {"database": "ok", "broker": "ok (tasks run in-process)", "channel_layer": "ok"},
    }


@pytest.fixture
def unreachable_broker():
    """Point Celery at a closed port, as when Redis is down, and stop running tasks eagerly."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved


def test_healthz_answers_503_when_the_broker_is_unreachable(client, unreachable_broker):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"].startswith("error: ")
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["channel_layer"] == "ok"


class SilentChannelLayer(InMemoryChannelLayer):
    """Accepts messages and never delivers them, like a layer whose server stopped answering."""

    async def send(self, channel, message):
        return None


def test_healthz_answers_503_when_the_channel_layer_hangs(client, settings, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.test_health.SilentChannelLayer"}}
    monkeypatch.setattr(health, "CHANNEL_LAYER_TIMEOUT_SECONDS", 0.05)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == "error: TimeoutError"
