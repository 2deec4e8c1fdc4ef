"""Database connections as `make run` keeps them: reused from one request to the next, at most one per thread
of the API server, and a database restart costs no request an error (PostgreSQL's backends terminated, as a
restart does)."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from backend.server import THREADS  # as make run starts it
from localdev.processes import descendants
from localdev.tests.test_run import (  # noqa: F401 - run_environment is a fixture
    an_owner,
    run_environment,
    start_run,
    upload_and_wait_for_variants,
    wait_until_served,
)

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "backend.postgresql"
DATABASE = "alca_connections"


def postgresql(database: str = "postgres") -> psycopg.Connection:
    """A connection of the test's own to the suite's PostgreSQL server."""
    server = settings.DATABASES["default"]
    return psycopg.connect(
        host=server["HOST"], port=server["PORT"], user=server["USER"], dbname=database, autocommit=True
    )


@pytest.fixture
def served(run_environment, tmp_path):  # noqa: F811 - the fixture imported above
    """make run on the suite's database kind: (environment, its process, an owner's headers, their house's id)."""
    environment = dict(run_environment)
    if ON_POSTGRESQL:
        with postgresql() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {DATABASE}")
        server = settings.DATABASES["default"]
        environment["DATABASE_URL"] = f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/{DATABASE}"
    run = start_run(environment)
    try:
        wait_until_served(environment, run)
        yield environment, run, *an_owner(environment)
    finally:
        run.terminate()
        run.wait(timeout=60)
        if ON_POSTGRESQL:
            with postgresql() as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def api_server_processes(run) -> list[int]:
    return [pid for pid in descendants(run.pid) if b"backend.server" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def open_files(pid: int) -> dict[str, str]:
    """What this process holds open: its file descriptors' numbers and their targets."""
    targets = {}
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            targets[descriptor.name] = os.readlink(descriptor)
    return targets


def local_tcp_ports(pids: list[int]) -> set[int]:
    """The local ports of the TCP sockets these processes hold (from /proc: Linux)."""
    inodes = {
        target[len("socket:[") : -1]
        for pid in pids
        for target in open_files(pid).values()
        if target.startswith("socket:")
    }
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def database_connections(run, environment: dict[str, str]) -> list:
    """What the API server's processes hold open to the database: PostgreSQL's backend pids serving them, or
    SQLite's open database files (process and descriptor number)."""
    pids = api_server_processes(run)
    if not ON_POSTGRESQL:
        database_file = environment["DATABASE_URL"].removeprefix("sqlite:///")
        return sorted(
            (pid, descriptor)
            for pid in pids
            for descriptor, target in open_files(pid).items()
            if target == database_file
        )
    with postgresql() as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND client_port = ANY(%s)",
            [DATABASE, list(local_tcp_ports(pids))],
        ).fetchall()
    return sorted(pid for (pid,) in rows)


def statuses(environment: dict[str, str], headers: dict[str, str], house: int, requests_count: int) -> list[int]:
    """The house's answer, each time at a URL of its own: none is a kept answer (property/answers.py), so the
    database answers every one."""
    url = f"http://127.0.0.1:{environment['PORT']}/api/houses-for-sale/{house}/?request={{}}"
    with requests.Session() as session:
        return [
            session.get(url.format(uuid.uuid4().hex), headers=headers, timeout=30).status_code
            for _ in range(requests_count)
        ]


def test_make_run_keeps_its_database_connections_from_one_request_to_the_next(served):
    environment, run, headers, house = served
    assert statuses(environment, headers, house, 10) == [200] * 10
    kept = database_connections(run, environment)
    assert 1 <= len(kept) <= THREADS  # held between requests, at most one per thread
    assert statuses(environment, headers, house, 40) == [200] * 40
    held = database_connections(run, environment)
    # The same ones are still open, none closed and opened again. A thread that serves its first request meanwhile
    # opens one of its own (on SQLite each thread has its connection): never more than one per thread.
    assert set(kept) <= set(held)
    assert len(held) <= THREADS


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a database server to restart: PostgreSQL")
def test_after_a_database_restart_make_run_answers_every_request_and_its_worker_still_works(served):
    environment, run, headers, house = served
    assert statuses(environment, headers, house, 5) == [200] * 5
    before = database_connections(run, environment)
    with postgresql() as admin:  # what a restart does to every client: each connection is closed under it
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        )
    assert statuses(environment, headers, house, 10) == [200] * 10
    after = database_connections(run, environment)
    assert after and not set(after) & set(before)
    # The worker's connection was closed too: it still makes an upload's variants.
    upload_and_wait_for_variants(environment, headers, house)
