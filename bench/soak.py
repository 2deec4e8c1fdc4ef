"""`make soak`: 20 minutes of mixed traffic against `make run` itself (its API server, its worker, its local S3 server,
SQLite), with one rebuild of every image's variants midway.

The clients are bench/load.py's: lists, details, `secure_url`, multipart and direct uploads, deletes. Afterwards:
errors (5xx, any other unexpected answer, dropped connections), the resident memory of every process of make run's
(the S3 server aside) after the first 2 minutes and at the end, the task results table, `sweep_orphans --min-age 0`,
and the database's rows against the bucket's objects. `SOAK_SECONDS` shortens or lengthens it. Writes bench/SOAK.md.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench.load_client import LoadClient, percentile
from bench.photos import photo_jpeg
from bench.project import COUNT_SCRIPT, PENDING_SCRIPT, SETUP_SCRIPT, manage
from localdev.processes import descendants
from localdev.s3server import S3Ports, free_port_with_grpc_twin

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "SOAK.md"
CLIENTS = 6
WARM_UP = 120.0  # seconds after which each process's memory is the reference
RSS_GROWTH_GOAL = 1.15

TASK_RESULTS_SCRIPT = """
from django_tasks_db.models import DBTaskResult
print(DBTaskResult.objects.count())
"""


def make_run_environment(workdir: Path) -> dict[str, str]:
    """What `make run` reads, on free ports, with its own data directory and database."""
    ports = S3Ports.free()
    api_port = free_port_with_grpc_twin({port for base in vars(ports).values() for port in (base, base + 10000)})
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DATABASE_URL", "DJANGO_", "PROMETHEUS_", "CACHE_URL", "TASKS_BACKEND"))
    }
    return {
        **environment,
        "PORT": str(api_port),
        "LOCAL_S3_PORT": str(ports.s3),
        "LOCAL_S3_MASTER_PORT": str(ports.master),
        "LOCAL_S3_VOLUME_PORT": str(ports.volume),
        "LOCAL_S3_FILER_PORT": str(ports.filer),
        "LOCAL_DATA_DIR": str(workdir / "localdata"),
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DJANGO_SECRET_KEY": "soak-" + "k" * 60,
        "DJANGO_LOG_LEVEL": "ERROR",
        "ACCESS_LOG": "false",
        # The clients keep one access token for the whole run (a front end would refresh it every 15 minutes).
        "JWT_ACCESS_TOKEN_MINUTES": "120",
    }


def resident_memory(run: subprocess.Popen) -> dict[int, tuple[str, float]]:
    """pid -> (what it is, resident MB) for make run's processes, the S3 server aside."""
    memory = {}
    for pid in descendants(run.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "weed" in command:
            continue
        name = "API server" if "backend.server" in command else " ".join(command.split()[1:3])
        memory[pid] = (
            name,
            next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024,
        )
    return memory


def rebuild_every_variant(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py rebuild_variants --all --no-wait` beside make run, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", "rebuild_variants", "--all", "--no-wait"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def main(seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="alca-soak-") as workdir:
        environment = make_run_environment(Path(workdir))
        run = make_run_started(environment, Path(workdir))
        try:
            photo = photo_jpeg(800, 600)
            setup = json.loads(
                manage(environment, "shell", "-c", SETUP_SCRIPT, stdin=base64.b64encode(photo)).strip().splitlines()[-1]
            )
            base_url = f"http://127.0.0.1:{environment['PORT']}"
            started = time.monotonic()
            clients = [
                LoadClient(base_url, setup["token"], setup["house"], photo, started + seconds, max_requests=10**9)
                for _ in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            time.sleep(min(WARM_UP, seconds / 2))
            after_warm_up = resident_memory(run)
            rebuilt: list[subprocess.CompletedProcess] = []
            rebuild = threading.Timer(
                max(0.0, seconds / 2 - (time.monotonic() - started)),
                lambda: rebuilt.append(rebuild_every_variant(environment)),
            )
            rebuild.start()
            for client in clients:
                client.join(seconds + 120)
            rebuild.join()
            at_end = resident_memory(run)
            elapsed = time.monotonic() - started
            settled = settled_counts(environment)
        finally:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=120)
    growth = memory_growth(after_warm_up, at_end)
    said = (rebuilt[0].stdout + rebuilt[0].stderr).strip().splitlines()[-1] if rebuilt else "not run"
    return {**clients_met(clients, elapsed, seconds), "memory": growth, "rebuild": said, **settled}


def memory_growth(after_warm_up: dict[int, tuple[str, float]], at_end: dict[int, tuple[str, float]]) -> dict:
    """Each process's resident memory after the warm-up and at the end, by name and pid."""
    return {
        f"{name} {pid}": {"after_warm_up_mb": round(before, 1), "at_end_mb": round(at_end[pid][1], 1)}
        for pid, (name, before) in after_warm_up.items()
        if pid in at_end
    }


def make_run_started(environment: dict[str, str], workdir: Path) -> subprocess.Popen:
    """`make run`'s command, once its API answers /health/ (RuntimeError after 120 s or if it stops)."""
    run = subprocess.Popen(
        [sys.executable, "-m", "localdev.run"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "make-run.log").open("w"),  # the worker logs every task
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{environment['PORT']}/health/", timeout=2).status_code == 200:
                return run
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or run.poll() is not None:
            run.send_signal(signal.SIGTERM)  # make run stops what it started
            run.wait(timeout=120)
            raise RuntimeError("make run did not start")
        time.sleep(0.5)


def settled_counts(environment: dict[str, str]) -> dict:
    """Once the worker has made what the clients left queued (the rebuild's backlog included): the task results
    kept, what sweep_orphans found, and the image rows against the bucket's objects."""
    for _ in range(600):
        if manage(environment, "shell", "-c", PENDING_SCRIPT).strip().splitlines()[-1] == "0":
            break
        time.sleep(1)
    time.sleep(15)  # a deletion retried 10 s after S3 did not answer a write
    task_results = int(manage(environment, "shell", "-c", TASK_RESULTS_SCRIPT).strip().splitlines()[-1])
    swept = manage(environment, "sweep_orphans", "--min-age", "0")
    counts = json.loads(manage(environment, "shell", "-c", COUNT_SCRIPT).strip().splitlines()[-1])
    return {"task_results": task_results, "sweep": swept.strip().splitlines()[-1], **counts}


def clients_met(clients: list[LoadClient], elapsed: float, seconds: float) -> dict:
    errors = [error for client in clients for error in client.errors]
    latencies = [latency for client in clients for latency in client.latencies]
    return {
        "seconds": round(elapsed),
        "clients": CLIENTS,
        "served": sum(sum(client.outcomes.values()) for client in clients),
        "by_operation": dict(sum((client.outcomes for client in clients), Counter())),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "warm_up_seconds": round(min(WARM_UP, seconds / 2)),
    }


def report(soak: dict) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    memory_rows = [
        f"| {name} | {values['after_warm_up_mb']} MB | {values['at_end_mb']} MB "
        f"| **{values['at_end_mb'] / values['after_warm_up_mb']:.2f}** "
        f"({verdict(values['at_end_mb'] <= values['after_warm_up_mb'] * RSS_GROWTH_GOAL)}) |"
        for name, values in soak["memory"].items()
    ]
    equal = soak["mismatched"] == 0 and soak["expected_objects"] == soak["objects"]
    return "\n".join(
        [
            "# Soak: `make soak`",
            "",
            f"{soak['seconds']} s of mixed traffic from {soak['clients']} clients against `make run` itself",
            "(its server, worker, local S3 server, SQLite), with one `rebuild_variants --all` midway; loopback.",
            "Written by",
            "`bench/soak.py`.",
            "",
            f"- Requests: {soak['served']} ({', '.join(f'{k} {v}' for k, v in sorted(soak['by_operation'].items()))});"
            f" p50 {soak['p50_ms']} ms, p99 {soak['p99_ms']} ms.",
            f"- Errors (5xx, other unexpected answers, dropped connections): **{soak['errors']}** "
            f"(goal 0: {verdict(soak['errors'] == 0)}) {soak['error_samples'] or ''}",
            f"- Task results in the table at the end: {soak['task_results']} (all of this run's: none is a day old).",
            f"- `rebuild_variants --all --no-wait` midway: {soak['rebuild']}",
            f"- `sweep_orphans --min-age 0`: {soak['sweep']}",
            f"- Image rows {soak['rows']}, their objects {soak['expected_objects']}, objects in the bucket "
            f"{soak['objects']} (equal: {verdict(equal)}); staging objects left {soak['staging_objects']}.",
            "",
            f"Resident memory of each process after the first {soak['warm_up_seconds']} s and at the end (goal: within "
            "15%):",
            "",
            "| process | after warm-up | at the end | end / warm-up |",
            "|---|---|---|---|",
            *memory_rows,
            "",
        ]
    )


if __name__ == "__main__":
    result = main(float(os.environ.get("SOAK_SECONDS", 1200)))
    text = report(result)
    if os.environ.get("SOAK_SECONDS", "1200") == "1200":
        RESULTS.write_text(text)
    print(text)
