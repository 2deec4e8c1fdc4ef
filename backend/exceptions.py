"""JSON error bodies for every 4xx and 5xx, in the guide's shapes."""

import logging
import sqlite3

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class DeletedMeanwhile(Exception):
    """A row the request found was deleted by a concurrent request before a service could change it: answered
    like a row that never was."""


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, with the guide's plain `{"detail": "Not found."}` for every 404, including a row that
    a concurrent request deleted after this one found it (DeletedMeanwhile from a service). Any other missing
    row is a programming error: left to Django, which logs it and answers 500."""
    if isinstance(exc, Http404 | DeletedMeanwhile):
        # DRF would say "No PropertyImage matches the given query.": the guide promises "Not found."
        exc = exceptions.NotFound()
    if isinstance(exc, ErrorBodyException):
        return Response({"error": str(exc.detail)}, status=exc.status_code)
    return exception_handler(exc, context)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"error": "Bad request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "Internal server error"}, status=500)


class ErrorBodyException(exceptions.APIException):
    """An API error answered with the guide's `{"error": "..."}` body instead of DRF's `{"detail": ...}`."""

    status_code = 400


# How long a client is told to wait before sending a request again that found the database busy.
DATABASE_BUSY_RETRY_AFTER = 2
# ... and one that found S3 unreachable (S3_REQUEST_BUDGET spent without an answer).
S3_UNAVAILABLE_RETRY_AFTER = 10
S3_UNAVAILABLE_HEADERS = {"Retry-After": str(S3_UNAVAILABLE_RETRY_AFTER)}


def database_is_busy(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "database is locked": a writer that waited SQLITE_BUSY_TIMEOUT for the lock."""
    cause = exc.__cause__
    return (
        isinstance(exc, OperationalError)
        and isinstance(cause, sqlite3.OperationalError)
        and cause.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    )


class DatabaseBusyMiddleware:
    """A request that could not get SQLite's write lock in time answers 503 with Retry-After, not 500.

    Last in MIDDLEWARE, so it sees what the API's views (DRF re-raises what its handler leaves) and the
    admin raise.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_is_busy(exception):
            return None
        logger.warning("Database busy: the write lock was not free in time")
        response = JsonResponse(
            {"error": "The database is busy with other changes: send the request again in a moment"}, status=503
        )
        response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER)
        return response
