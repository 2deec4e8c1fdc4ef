"""WSGI entry point for the HTTP server: `python -m backend.server` serves `backend.wsgi:application`."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

django_application = get_wsgi_application()

# What a request's environ holds of its own: CGI's request variables and the WSGI server's keys.
REQUEST_VARIABLES = ("HTTP_", "CONTENT_", "REQUEST_", "REMOTE_", "SERVER_", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME")
# granian starts each request's environ as a copy of the process environment (the secret key, DATABASE_URL, S3 keys):
# they would be in request.META, where an error report shows it. These names are taken out of every request.
PROCESS_VARIABLES = tuple(name for name in os.environ if not name.startswith(REQUEST_VARIABLES) and "." not in name)

# The largest body read to its end after an answer that did not need it: what the largest valid upload may send.
DRAIN_MAX_BYTES = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE * settings.PROPERTY_IMAGE_MAX_FILES + 1024 * 1024
DRAIN_CHUNK = 64 * 1024


class CountedInput:
    """`wsgi.input`, counting the bytes read from it."""

    def __init__(self, stream) -> None:
        self.stream, self.read_bytes = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.read_bytes += len(data)
        return data


def unread_body_drain(body: CountedInput, content_length: int) -> None:
    """Read what is left of the request's body: an answer given before the body was read (a 401, 403 or 404 to an
    upload) leaves it in the connection, and granian then closes the connection under the client's next request
    ("Remote end closed connection without response"), which clients do not send again. A body over
    DRAIN_MAX_BYTES is left: no valid request sends one, and its connection closes."""
    left = content_length - body.read_bytes
    if not 0 < left <= DRAIN_MAX_BYTES:
        return
    while left > 0 and (chunk := body.read(min(DRAIN_CHUNK, left))):
        left -= len(chunk)


def application(environ: dict, start_response):
    for name in PROCESS_VARIABLES:
        environ.pop(name, None)
    body = environ["wsgi.input"] = CountedInput(environ["wsgi.input"])
    response = django_application(environ, start_response)
    try:
        content_length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        content_length = 0
    unread_body_drain(body, content_length)
    return response
