"""The WSGI entry point takes the process environment out of each request's environ (granian copies it in)."""

import io
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
        "wsgi.input": io.BytesIO(),
    }
    # As granian builds it (granian/wsgi.py: `basic_env | scope`, basic_env copied from os.environ as the worker
    # starts, when it imports this module).
    at_start = {name: os.environ[name] for name in wsgi.PROCESS_VARIABLES}
    assert {"DJANGO_SETTINGS_MODULE", "PATH"} <= set(at_start)
    wsgi.application(at_start | request, lambda status, headers: None)
    assert {name: value for name, value in seen.items() if name != "wsgi.input"} == {
        name: value for name, value in request.items() if name != "wsgi.input"
    }
    assert seen["wsgi.input"].stream is request["wsgi.input"]  # counted (below), the same body


def test_a_body_the_answer_did_not_read_is_read_to_its_end(monkeypatch):
    def app_that_reads_a_little(environ, start_response):
        environ["wsgi.input"].read(10)
        return []

    monkeypatch.setattr(wsgi, "django_application", app_that_reads_a_little)
    for size, left_unread in ((600_000, 0), (wsgi.DRAIN_MAX_BYTES + 100, wsgi.DRAIN_MAX_BYTES + 90)):
        body = io.BytesIO(b"x" * size)
        environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(size), "wsgi.input": body}
        wsgi.application(environ, lambda status, headers: None)
        # A body no valid request sends is left (its connection closes).
        assert size - body.tell() == left_unread


def test_a_body_longer_than_its_content_length_is_read_no_further(monkeypatch):
    monkeypatch.setattr(wsgi, "django_application", lambda environ, start_response: [])
    body = io.BytesIO(b"y" * 5000)
    wsgi.application({"CONTENT_LENGTH": "3000", "wsgi.input": body}, lambda status, headers: None)
    assert body.tell() == 3000
