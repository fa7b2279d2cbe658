"""Domain errors and the one place that turns them into HTTP responses."""

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


class DomainError(Exception):
    """An error a caller can act on; `status` and `code` say how it reaches an HTTP client."""

    status: int = 400
    code: str = "invalid"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


def domain_error_response(error: DomainError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: domain errors and DRF's own errors become `{"code", "message"}`
    with their status; validation errors also carry DRF's field-by-field detail as `errors`."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    # The same translation DRF's handler makes, repeated here to read the resulting code.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)  # keeps DRF's status and headers
    if response is None:
        return None  # not an API error: Django's 500 handling takes over
    response.data = _api_error_body(exc)
    return response


def _api_error_body(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    body: dict[str, Any] = {
        "code": detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code,
        "message": " ".join(_error_messages(detail)),
    }
    if isinstance(detail, dict | list):
        body["errors"] = detail
    return body


def _error_messages(detail: Any, path: str = "") -> Iterator[str]:
    """Flatten DRF's nested error detail into readable sentences, each led by its field."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            yield from _error_messages(value, ".".join(part for part in (path, name) if part))
    elif isinstance(detail, list):
        for item in detail:
            yield from _error_messages(item, path)
    else:
        yield f"{path}: {detail}" if path else str(detail)


class DomainErrorMiddleware:
    """Answer a DomainError raised by a plain Django view with its JSON form and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return domain_error_response(exception)
        return None
