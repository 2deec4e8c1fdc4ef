"""`/api/schema/` under the threaded server: a fresh process's first schema requests, made at once."""

import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from backend.tests.test_server import start_server


def test_a_fresh_servers_first_schema_requests_made_at_once_are_all_answered(tmp_path):
    # Without SchemaView's lock, 2 to 10 of these answered 500 (drf-spectacular's generator state, shared by threads).
    server, url = start_server(tmp_path, WEB_CONCURRENCY="1", WEB_THREADS="4", ACCESS_LOG="false")
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: requests.get(f"{url}/api/schema/", timeout=60), range(16)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert [answer.status_code for answer in answers] == [200] * 16
    assert len({answer.content for answer in answers}) == 1  # the same schema each time
