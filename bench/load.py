"""Bounded load test: list, detail, secure_url, uploads and deletes against the API as `make run` serves it.

backend.server (granian), the background worker beside it, and SeaweedFS, on SQLite with the project's
settings (what `make run` starts) or on PostgreSQL on 127.0.0.1:5432 (a fresh `alca_load` database):
`python -m bench.load sqlite|postgresql`.
Loopback only, time- and count-bounded. Prints JSON: requests served, errors, latency percentiles, and
at the end the number of image rows against the number of objects in the bucket (they must be equal) and
the direct-upload staging objects left behind (there must be none).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from backend.server import THREADS, WORKERS
from bench.load_client import MIX, LoadClient, percentile
from bench.photos import photo_jpeg
from bench.project import (
    BASE_DIR,
    COUNT_SCRIPT,
    PENDING_SCRIPT,
    POSTGRES_ADMIN_URL,
    SETUP_SCRIPT,
    database_url,
    manage,
    server_environment,
    server_wait,
)
from bench.report import verdict
from localdev.run import api_server_command, worker_command
from localdev.s3server import LocalS3Server, free_port_with_grpc_twin

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
                (held,) = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'alca_load'").fetchone()
                self.most = max(self.most, held)


def connection_bound() -> int:
    """What `make run`'s processes may hold: the API server's processes times its threads (backend.server), and the
    worker's one."""
    return WORKERS * THREADS + 1


def main(database: str, seconds: float = 40.0, clients: int = 8) -> dict:
    with tempfile.TemporaryDirectory(prefix="alca-load-") as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="load-key", secret_key=secrets.token_hex(20))
        server.start()
        api_server = worker = None
        try:
            server.ensure_private_bucket(BUCKET)
            environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "backend.settings",
                "DATABASE_URL": database_url(database, Path(workdir)),
                **server_environment(server, BUCKET),
                "DJANGO_LOG_LEVEL": "ERROR",
                "DJANGO_DEBUG": "False",
            }
            manage(environment, "migrate", "--noinput")
            photo = photo_jpeg(800, 600)
            seeded = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", SETUP_SCRIPT],
                cwd=BASE_DIR,
                env=environment,
                input=base64.b64encode(photo).decode(),
                check=True,
                capture_output=True,
                text=True,
            )
            setup = json.loads(seeded.stdout.strip().splitlines()[-1])
            port = free_port_with_grpc_twin(set())
            api_server = subprocess.Popen(
                api_server_command(str(port), dev=False),
                cwd=BASE_DIR,
                env={**environment, "ACCESS_LOG": "false"},
            )
            # The background worker beside it, as `make run` starts it: it makes the uploads' size variants.
            worker = subprocess.Popen(worker_command(), cwd=BASE_DIR, env=environment)
            base_url = f"http://127.0.0.1:{port}"
            server_wait(base_url)
            deadline = time.monotonic() + seconds
            threads = [
                LoadClient(base_url, setup["token"], setup["house"], photo, deadline, max_requests=20000)
                for _ in range(clients)
            ]
            connections = ConnectionCounter()
            if database == "postgresql":
                connections.start()
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(seconds + 60)
            elapsed = time.monotonic() - started
            connections.stopped.set()
            # Let the worker finish its task, then make what is left in the queue, before counting objects.
            worker.terminate()
            worker.wait(timeout=120)
            pending = int(manage(environment, "shell", "-c", PENDING_SCRIPT).strip().splitlines()[-1])
            manage(environment, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")
            counts = json.loads(manage(environment, "shell", "-c", COUNT_SCRIPT).strip().splitlines()[-1])
        finally:
            for process in (api_server, worker):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(timeout=60)
            server.stop()
    latencies = [latency for thread in threads for latency in thread.latencies]
    errors = [error for thread in threads for error in thread.errors]
    served = sum(sum(thread.outcomes.values()) for thread in threads)
    return {
        "database": {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database],
        "seconds": round(elapsed, 1),
        "clients": clients,
        "served": served,
        "per_second": round(served / elapsed, 1),
        "by_operation": dict(sum((thread.outcomes for thread in threads), Counter())),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "pending_at_end": pending,
        "most_connections": connections.most if database == "postgresql" else None,
        "connection_bound": connection_bound(),
        **counts,
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


def load_section(loads: list[dict]) -> str:
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
    print(json.dumps(main(sys.argv[1], seconds=float(os.environ.get("LOAD_SECONDS", 40)))))
