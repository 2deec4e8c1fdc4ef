"""Errors to HTTP answers in one place: JSON bodies for every 4xx and 5xx, in the guide's shapes."""

import logging
import sqlite3
from typing import ClassVar

import psycopg
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from psycopg_pool import PoolTimeout
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A refusal that carries its answer to the client: the status and the message of the guide's
    `{"error": "..."}` body, and any headers. Services (and the upload handlers) raise it; api_exception_handler
    answers it for the API, and the admin shows its message."""

    status_code = 400
    message = "Bad request"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


# How long a client is told to wait before sending a request again that found the database busy.
DATABASE_BUSY_RETRY_AFTER = 2
# ... and one that found S3 unreachable (S3_REQUEST_BUDGET spent without an answer).
S3_UNAVAILABLE_RETRY_AFTER = 10


class StorageUnavailable(ApplicationError):
    """S3 did not answer (or refused) within the request's budget: the client may send the request again."""

    status_code = 503
    headers: ClassVar[dict[str, str]] = {"Retry-After": str(S3_UNAVAILABLE_RETRY_AFTER)}


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
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.message}, status=exc.status_code, headers=exc.headers or None)
    return exception_handler(exc, context)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"error": "Bad request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "Internal server error"}, status=500)


def database_is_busy(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "database is locked" (a writer that waited SQLITE_BUSY_TIMEOUT for the lock), or
    PostgreSQL's pool giving no connection within DATABASE_POOL_TIMEOUT (all in use, or the server not answering)."""
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and (
        isinstance(cause, PoolTimeout)
        or (
            isinstance(cause, sqlite3.OperationalError)
            and cause.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        )
    )


# PostgreSQL's SQLSTATEs for a server going down or not yet up: admin_shutdown (a restart, or the backend
# terminated), crash_shutdown, cannot_connect_now.
SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}


def database_went_away(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL's connection lost under a request: the server restarting or terminating it
    (SERVER_GOING_AWAY), or the connection failing with no SQLSTATE at all (closed, reset, refused). The next
    request gets a new one (CONN_HEALTH_CHECKS, the pool's check)."""
    cause = exc.__cause__
    return (
        isinstance(exc, OperationalError)
        and isinstance(cause, psycopg.OperationalError)
        and (cause.sqlstate is None or cause.sqlstate in SERVER_GOING_AWAY)
    )


class DatabaseBusyMiddleware:
    """A request that could not get SQLite's write lock, or a pooled PostgreSQL connection, in time, or whose
    PostgreSQL connection went away under it (a database restart), answers 503 with Retry-After, not 500.

    Last in MIDDLEWARE, so it sees what the API's views (DRF re-raises what its handler leaves) and the
    admin raise.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_is_busy(exception):
            logger.warning("Database busy: %s", exception.__cause__)
            message = "The database is busy: send the request again in a moment"
        elif database_went_away(exception):
            logger.warning("Database connection lost: %s", type(exception.__cause__).__name__)
            message = "The database is unavailable: send the request again in a moment"
        else:
            return None
        response = JsonResponse({"error": message}, status=503)
        response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER)
        return response
