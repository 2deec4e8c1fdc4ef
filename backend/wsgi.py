"""WSGI entry point for the HTTP server: `python -m backend.server` serves `backend.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

django_application = get_wsgi_application()

# What a request's environ holds of its own: CGI's request variables and the WSGI server's keys.
REQUEST_VARIABLES = ("HTTP_", "CONTENT_", "REQUEST_", "REMOTE_", "SERVER_", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME")
# granian starts each request's environ as a copy of the process environment (the secret key, DATABASE_URL, S3 keys):
# they would be in request.META, where an error report shows it. These names are taken out of every request.
PROCESS_VARIABLES = tuple(name for name in os.environ if not name.startswith(REQUEST_VARIABLES) and "." not in name)


def application(environ: dict, start_response):
    for name in PROCESS_VARIABLES:
        environ.pop(name, None)
    return django_application(environ, start_response)
