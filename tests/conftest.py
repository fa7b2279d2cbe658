import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from helpdesk.management.commands.demo import server_started_wait
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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, request, tmp_path_factory
):
    """Put the SQLite test database in a file when the run has browser tests: the live
    server's threads write while the test reads, and the in-memory database's shared cache
    fails such overlapping transactions at once ("database table is locked") where a file in
    WAL mode lets them wait their turn."""
    database = settings.DATABASES["default"]
    browser_tests = any("e2e" in item.keywords for item in request.session.items)
    if database["ENGINE"].endswith("sqlite3") and browser_tests:
        database["TEST"]["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


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
def _channel_layer(request, settings):
    """Tests not marked requires_redis run on the in-memory channel layer, new for each test.
    The Redis layer keeps its receive state per instance, across the event loops of
    successive tests, whose teardown then waits on what a finished loop left there; the tests
    of the Redis layer itself are marked and get their own instance."""
    from channels.layers import channel_layers

    if "requires_redis" not in request.keywords:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashers are slow on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Unit tests run tasks in-process, inline where they are enqueued, and a task's error fails
    the test that ran it; the pipeline tests that need a worker start one."""
    from helpdesk.celery import app

    settings.EMBEDDED_TASK_THREAD = False
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    app.conf.task_eager_propagates = settings.CELERY_TASK_EAGER_PROPAGATES


@pytest.fixture
def broadcast_trips() -> Iterator[list[list[dict]]]:
    """Each trip a broadcast makes to the channel layer, as the events it carries (without
    their random `event_id`)."""
    from inbox import broadcast

    trips: list[list[dict]] = []

    def record(batch):
        trips.append([{key: value for key, value in event.items() if key != "event_id"} for _groups, event in batch])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(broadcast, "_send", record)
        yield trips


@pytest.fixture
def channel(db):
    return factories.channel()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def asgi_server(transactional_db) -> Iterator[str]:
    """Serve the ASGI app (HTTP and websockets) with uvicorn on a free port, in a thread of
    this process, and return its base URL. The test database is shared: data committed by the
    test is what the server sees, and the server's writes are the test's.

    pytest-django's `live_server` needs a WSGI application, which this project does not have.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        "helpdesk.asgi:application", lifespan="off", access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server_started_wait(server=server, stop=threading.Event(), timeout=15):
            pytest.fail("uvicorn did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
