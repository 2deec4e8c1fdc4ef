"""Bounded load test: list, detail, secure_url, uploads and deletes against the API as `make run` serves it.

backend.server (granian), the background worker beside it, and SeaweedFS, on SQLite with the project's
settings (what `make run` starts) or on PostgreSQL on 127.0.0.1:5432 (a fresh `alca_load` database):
`python -m bench.load [sqlite] [postgresql]` (LOAD_SECONDS: how long, 40 s unless told).
Loopback only, time- and count-bounded. Prints JSON: requests served, errors, latency percentiles, and
at the end the number of image rows against the number of objects in the bucket (they must be equal) and
the direct-upload staging objects left behind (there must be none).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from backend.server import THREADS, WORKERS
from bench.load_client import MIX, LoadClient, percentile
from bench.photos import photo_jpeg
from bench.project import (
    COUNT_SCRIPT,
    PENDING_SCRIPT,
    POSTGRES_ADMIN_URL,
    SETUP_SCRIPT,
    Served,
    database_url,
    manage,
    server_environment,
)
from bench.report import verdict
from bench.sections import databases_chosen, run_in_own_process
from localdev.run import api_server_command
from localdev.s3server import LocalS3Server

BUCKET = "alca-load"


class ConnectionCounter(threading.Thread):
    """The most connections PostgreSQL held to the load's database at once, sampled every 0.2 s while it runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.most = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as admin:
            while not self.stopped.wait(0.2):
                row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'alca_load'").fetchone()
                self.most = max(self.most, row[0] if row else 0)


def connection_bound() -> int:
    """What `make run`'s processes may hold: the API server's processes times its threads (backend.server), and the
    worker's one."""
    return WORKERS * THREADS + 1


OWN_PROCESS = True
# The project's settings, logging errors only.
QUIET_SETTINGS = {"DJANGO_SETTINGS_MODULE": "backend.settings", "DJANGO_LOG_LEVEL": "ERROR", "DJANGO_DEBUG": "False"}


def measure(args: list[str]) -> dict:
    """The load on each database chosen, one after the other."""
    seconds = float(os.environ.get("LOAD_SECONDS", 40))
    return {database: load_run(database, seconds) for database in databases_chosen(args)}


def load_run(database: str, seconds: float = 40.0, clients: int = 8) -> dict:
    """`clients` clients for `seconds` against the API and its worker on `database`; then, the queue made, the image
    rows against the bucket's objects."""
    with tempfile.TemporaryDirectory(prefix="alca-load-") as directory:
        server = LocalS3Server(data_dir=Path(directory) / "s3", access_key="load-key", secret_key=secrets.token_hex(20))
        server.start()
        api: Served | None = None
        try:
            server.ensure_private_bucket(BUCKET)
            environment = {
                **os.environ,
                **server_environment(server, BUCKET),
                "DATABASE_URL": database_url(database, Path(directory)),
                **QUIET_SETTINGS,
            }
            manage(environment, "migrate", "--noinput")
            photo = photo_jpeg(800, 600)
            setup = json.loads(
                manage(environment, "shell", "-c", SETUP_SCRIPT, stdin=base64.b64encode(photo)).strip().splitlines()[-1]
            )
            # The API and the background worker beside it, as `make run` starts them.
            api = Served("load", api_server_command("PORT", dev=False), environment, setup, worker=True)
            load = load_applied(api, photo, database == "postgresql", seconds, clients)
            # Let the worker finish its task, then make what is left in the queue, before counting objects.
            api.worker_stop()
            pending = int(manage(environment, "shell", "-c", PENDING_SCRIPT).strip().splitlines()[-1])
            manage(environment, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")
            counts = json.loads(manage(environment, "shell", "-c", COUNT_SCRIPT).strip().splitlines()[-1])
        finally:
            if api is not None:
                api.stop()
            server.stop()
    return {
        "database": {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database],
        "clients": clients,
        **load,
        "pending_at_end": pending,
        "connection_bound": connection_bound(),
        **counts,
    }


def load_applied(api: Served, photo: bytes, count_connections: bool, seconds: float, clients: int) -> dict:
    """What the clients met: requests served, errors, latency percentiles; and, when counted, the most database
    connections held at once."""
    deadline = time.monotonic() + seconds
    threads = [
        LoadClient(api.base_url, api.seed["token"], api.seed["house"], photo, deadline, max_requests=20000)
        for _ in range(clients)
    ]
    connections = ConnectionCounter()
    if count_connections:
        connections.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.monotonic() - started
    connections.stopped.set()
    latencies = [latency for thread in threads for latency in thread.latencies]
    errors = [error for thread in threads for error in thread.errors]
    served = sum(sum(thread.outcomes.values()) for thread in threads)
    return {
        "seconds": round(elapsed, 1),
        "served": served,
        "per_second": round(served / elapsed, 1),
        "by_operation": dict(sum((thread.outcomes for thread in threads), Counter())),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "most_connections": connections.most if count_connections else None,
    }


def load_row(load: dict) -> str:
    equal = load["mismatched"] == 0 and load["expected_objects"] == load["objects"]
    return (
        f"| {load['database']} | {load['served']} | {load['per_second']} "
        f"| **{load['errors']}** (goal 0: {verdict(load['errors'] == 0)}) "
        f"| {load['p50_ms']} ms | {load['p95_ms']} ms | {load['p99_ms']} ms | {load['rows']} "
        f"| {load['expected_objects']} | {load['objects']} (equal: {verdict(equal)}) "
        f"| **{load['staging_objects']}** (goal 0: {verdict(load['staging_objects'] == 0)}) "
        f"| {connections_cell(load)} |"
    )


def connections_cell(load: dict) -> str:
    if load["most_connections"] is None:
        return "(SQLite: one per thread, in process)"
    within = load["most_connections"] <= load["connection_bound"]
    return f"**{load['most_connections']}** (goal ≤ {load['connection_bound']}: {verdict(within)})"


def section(by_database: dict | None) -> str:
    if not by_database:
        return ""
    loads = list(by_database.values())
    mix = ", ".join(f"{weight}% {description}" for _, weight, description in MIX)
    by_operation = [
        f"{load['database']}: " + ", ".join(f"{name} {count}" for name, count in sorted(load["by_operation"].items()))
        for load in loads
    ]
    return "\n".join(
        [
            f"## 4. Load test (`bench/load.py`): {loads[0]['clients']} clients for {loads[0]['seconds']} s each",
            "",
            "Served as `make run` serves it (backend.server, granian, and the background worker beside it),",
            "on SQLite with the project's settings (what `make run` starts) and on PostgreSQL. S3: local SeaweedFS;",
            "loopback. Objects are counted once the worker has made the variants still queued when the clients stop",
            "(" + ", ".join(f"{load['database']}: {load['pending_at_end']} images" for load in loads) + ").",
            f"Mix: {mix}.",
            "On PostgreSQL the connections to the load's database are sampled every 0.2 s: at most the API server's",
            "processes times its threads, plus the worker's.",
            "",
            "| database | requests | per second | errors | p50 | p95 | p99 | image rows "
            "| their objects (originals and variants) | objects under properties/ | staging objects left "
            "| most database connections at once |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[load_row(load) for load in loads],
            "",
            f"Requests by operation: {'; '.join(by_operation)}.",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_own_process(measure, section)
