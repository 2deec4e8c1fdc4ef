"""The WSGI entry point takes the process environment out of each request's environ (granian copies it in)."""

import os

from backend import wsgi


def test_a_request_keeps_its_own_variables_and_none_of_the_processs(monkeypatch):
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    monkeypatch.setattr(wsgi, "django_application", app)
    request = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": "Bearer x",
        "wsgi.url_scheme": "http",
    }
    # As granian builds it (granian/wsgi.py: `basic_env | scope`, basic_env copied from os.environ as the worker
    # starts, when it imports this module).
    at_start = {name: os.environ[name] for name in wsgi.PROCESS_VARIABLES}
    assert {"DJANGO_SETTINGS_MODULE", "PATH"} <= set(at_start)
    wsgi.application(at_start | request, lambda status, headers: None)
    assert seen == request
