"""A request id on every request, response and log line, so one failure can be followed across the logs; and the
access log, a line per request with its id (the HTTP server, backend.server, writes none)."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# A client- or proxy-given id is kept only when it is short and plain: it ends up in log lines.
ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_logger = logging.getLogger("backend.access")


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the proxy when sane, else makes one; echoes it on the response. With ACCESS_LOG,
    logs each answered request: method, path (never the query string, a header or the body, so never a token),
    status, bytes and milliseconds."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.access_log = settings.ACCESS_LOG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        request_id = given if ACCEPTABLE_ID.fullmatch(given) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            if self.access_log:
                size = "-" if response.streaming else len(response.content)
                milliseconds = (time.perf_counter() - started) * 1000
                access_logger.info(
                    '"%s %s" %s %s %.1fms', request.method, request.path, response.status_code, size, milliseconds
                )
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
