"""Ids that every log line carries where they apply: the request's, the webhook event's and the
conversation's, so one delivery or one conversation can be followed across processes."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from logging import Filter, LogRecord

from celery.signals import task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

FIELDS = ("request_id", "event_id", "conversation_id", "message_id")
_context: ContextVar[dict[str, object]] = ContextVar("log_context", default={})  # noqa: B039  (never mutated)


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Add these ids to every log line written inside the block."""
    token = _context.set({**_context.get(), **{key: value for key, value in ids.items() if value is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class LogContextFilter(Filter):
    """Copy the bound ids onto each record (empty when unbound), for the formatters."""

    def filter(self, record: LogRecord) -> bool:
        bound = _context.get()
        for field in FIELDS:
            setattr(record, field, bound.get(field, ""))
        return True


class RequestIdMiddleware:
    """Use the proxy's X-Request-ID (or make one) for the request's log lines, and answer it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        with log_context(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


# Tasks take ids as keyword arguments (STYLE.md); bind the ones logs follow.
_TASK_IDS = {"event_id": "event_id", "event_ids": "event_id", "conversation_id": "conversation_id",
             "message_id": "message_id"}
_task_tokens: dict[str, object] = {}


@task_prerun.connect
def _task_context_bind(task_id: str, kwargs: dict | None = None, **_: object) -> None:
    ids = {field: (kwargs or {}).get(argument) for argument, field in _TASK_IDS.items()}
    _task_tokens[task_id] = _context.set({**_context.get(), **{key: value for key, value in ids.items() if value}})


@task_postrun.connect
def _task_context_unbind(task_id: str, **_: object) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _context.reset(token)
