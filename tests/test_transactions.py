"""After-commit hooks: a failing hook is logged and never stops the hooks after it; a task
enqueued while the broker is unreachable is left to its sweeper with a warning."""

import logging

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from helpdesk.transactions import enqueue_on_commit, on_commit_call

pytestmark = pytest.mark.django_db


def fail(reason: str) -> None:
    raise RuntimeError(reason)


def test_a_failing_hook_is_logged_by_name_and_later_hooks_still_run(
    django_capture_on_commit_callbacks, caplog
):
    ran = []
    with (
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        on_commit_call(fail, "boom")
        on_commit_call(ran.append, "after")
    assert ran == ["after"]
    assert "Error calling fail in on_commit() (boom)" in caplog.text


class BrokerDown:
    name = "tests.broker_down"

    def delay(self, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def test_a_task_enqueued_with_the_broker_down_is_a_warning_not_an_error(
    django_capture_on_commit_callbacks, caplog
):
    ran = []
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(BrokerDown(), message_id=7)
        on_commit_call(ran.append, "after")
    assert ran == ["after"]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "tests.broker_down({'message_id': 7}) is left to its sweeper" in record.getMessage()
