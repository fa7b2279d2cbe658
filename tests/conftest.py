import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from integrations.selectors import signing_channels_forget
from tests import factories


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    on_redis = bool(settings.REDIS_URL)
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI's second pass does)")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI's second pass does)")
    for item in items:
        if "requires_postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "requires_redis" in item.keywords and not on_redis:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no call budgets, sessions or locks left in the cache by another."""
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_signing_cache():
    """Flushing the database between tests sends no signals: start each test without the
    previous test's channels."""
    signing_channels_forget()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashers are slow on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Unit tests run tasks in-process; the pipeline tests that need a worker start one."""
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def channel(db):
    return factories.channel()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
