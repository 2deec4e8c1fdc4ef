"""`make run` and `make dev`: migrate, start the local S3 server unless an external S3 is configured, serve the API
and run the background worker beside it.

`make run` serves with backend.server (granian), the server production uses; `make dev` with Django's
development server, which reloads on code changes. Ctrl-C (or SIGTERM) stops the API server and the worker,
then the S3 server; if this process is killed outright, the kernel stops them (localdev.processes). Data
stays in db.sqlite3 and .localdata/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import environ

from .processes import start_child, stop_child
from .s3server import GRPC_PORT_OFFSET, LocalS3Server, S3Ports, port_is_free

BASE_DIR = Path(__file__).resolve().parent.parent
# The local S3 server's objects, keys and pid file (LOCAL_DATA_DIR moves them, as the tests do).
LOCAL_S3_DIR = Path(os.environ.get("LOCAL_DATA_DIR", BASE_DIR / ".localdata")) / "s3"
# The metrics samples of the API server's processes and of the worker (backend/metrics.py), emptied at each start.
METRICS_DIR = LOCAL_S3_DIR.parent / "metrics"
# Where the server answers and with which keys, as backend.settings reads it.
LOCAL_S3_SERVER_FILE = LOCAL_S3_DIR / "server.json"
# How long the API server and the worker may take to finish what they are doing when asked to stop.
API_SERVER_GRACE = 15.0
WORKER_GRACE = 30.0
# The background worker's CPU priority (nice(1): 0 is a request's, 19 the lowest). Making a photo's variants (AVIF
# encodes on every core) is work no one waits on, while someone waits on each request: on 2 cores a busy worker
# slowed the API's answers (bench/RESULTS.md, section 11's addendum of 2026-12-07). Niced, it takes the CPU the API
# server leaves idle. Production's worker unit has Nice=10 (README).
WORKER_NICENESS = 10
# Seconds between the database worker's looks for new tasks.
WORKER_POLL_INTERVAL = 0.5
# Seconds between two runs of `manage.py housekeeping` (lost variants tasks, old task results).
HOUSEKEEPING_INTERVAL = 60.0
# A worker that exits (the database worker does when a query fails, as when its connection is cut by a database
# restart) is started again within this many seconds, but never twice within WORKER_RESTART_SPACING.
WORKER_CHECK_INTERVAL = 1.0
WORKER_RESTART_SPACING = 5.0
# glibc's allocator for the API server and the worker, which decode photos: allocations of 1 MB and more come from
# mmap, so freeing a decoded photo returns its memory. glibc otherwise raises its mmap threshold after the first
# large free and keeps later pixel buffers in per-thread heaps, and a process grows with every thread that has
# decoded a photo (bench/RESULTS.md, section 3: memory with 10 files against 2). Production sets the same in the
# server's environment (README, "Production").
ALLOCATOR_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": "1048576"}


def local_credentials() -> tuple[str, str]:
    """The local S3 server's key pair, made once and kept beside its data."""
    path = LOCAL_S3_DIR / "credentials.json"
    if not path.exists():
        LOCAL_S3_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"access_key": "local" + secrets.token_hex(8), "secret_key": secrets.token_hex(20)}))
        path.chmod(0o600)
    credentials = json.loads(path.read_text())
    return credentials["access_key"], credentials["secret_key"]


def local_s3_server() -> LocalS3Server:
    ports = S3Ports(
        s3=int(os.environ.get("LOCAL_S3_PORT", 8333)),
        master=int(os.environ.get("LOCAL_S3_MASTER_PORT", 9333)),
        volume=int(os.environ.get("LOCAL_S3_VOLUME_PORT", 9340)),
        filer=int(os.environ.get("LOCAL_S3_FILER_PORT", 9350)),
    )
    access_key, secret_key = local_credentials()
    return LocalS3Server(data_dir=LOCAL_S3_DIR, access_key=access_key, secret_key=secret_key, ports=ports)


def ports_still_busy(ports: list[int], *, wait: float) -> list[int]:
    """The ports that are not free after waiting up to `wait` seconds for them (a server just stopped takes a
    moment to let go of its ports)."""
    deadline = time.monotonic() + wait
    while (busy := [port for port in ports if not port_is_free(port)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return busy


def start_local_s3() -> LocalS3Server:
    server = local_s3_server()
    stopped_stale = server.stop_stale()
    if stopped_stale:
        print("Stopped the local S3 server that an earlier `make run` left running", flush=True)
    ports = [port for base in vars(server.ports).values() for port in (base, base + GRPC_PORT_OFFSET)]
    busy = ports_still_busy(ports, wait=10 if stopped_stale else 0)
    if busy:
        sys.exit(f"Ports {busy} on 127.0.0.1 are in use: is another `make run` running? Set LOCAL_S3_PORT etc.")
    print(f"Starting the local S3 server (SeaweedFS) on {server.endpoint_url} ...", flush=True)
    server.start()
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "alca-inmo")
    # The front ends that may call the API (.env) may also post photos straight to the bucket, and so may the
    # admin on the API's own origin, which then reads the bucket's answer.
    port = os.environ.get("PORT", "8000")
    cors_origins = [
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}",
        *(origin.strip() for origin in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if origin.strip()),
    ]
    server.ensure_private_bucket(bucket, cors_origins=cors_origins)
    connection = {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": bucket,
    }
    os.environ.update(connection)
    # For manage.py commands and the shell run in another terminal: the settings read it when no S3 is set.
    LOCAL_S3_SERVER_FILE.write_text(json.dumps(connection))
    LOCAL_S3_SERVER_FILE.chmod(0o600)
    print(f"Local S3 ready: private bucket '{bucket}' at {server.endpoint_url}", flush=True)
    return server


def api_server_command(port: str, *, dev: bool) -> list[str]:
    if dev:
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
    return [sys.executable, "-m", "backend.server", "--host=127.0.0.1", f"--port={port}"]


def worker_command() -> list[str]:
    """The background worker for the configured queue: the database (default) or RQ on Redis, at WORKER_NICENESS."""
    niced = ["nice", "-n", str(WORKER_NICENESS)]
    if os.environ.get("TASKS_BACKEND", "database") == "rq":
        return [
            *niced,
            sys.executable,
            "manage.py",
            "rqworker",
            "default",
            "--with-scheduler",
            "--job-class",
            "django_tasks_rq.Job",
        ]
    return [*niced, sys.executable, "manage.py", "db_worker", "--interval", str(WORKER_POLL_INTERVAL)]


def housekeeping() -> None:
    """Enqueue again the variants of images whose task a worker lost; forget old task results."""
    subprocess.run([sys.executable, "manage.py", "housekeeping"], check=False, cwd=BASE_DIR, stdout=subprocess.DEVNULL)


def stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", action="store_true", help="Django's development server, reloading on code changes")
    dev = parser.parse_args().dev
    # Ctrl-C, and a process manager's SIGTERM, stop the API server, then the S3 server (SIGINT too, in case
    # we were started with it ignored, as a shell does for a background job).
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    port = environment_prepare()
    external_s3 = bool(os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_S3_ENDPOINT_URL"))
    s3_server = None
    children: dict[str, subprocess.Popen] = {}
    manage = [sys.executable, "manage.py"]
    try:
        s3_server = None if external_s3 else start_local_s3()
        subprocess.run([*manage, "migrate", "--noinput"], check=True, cwd=BASE_DIR)
        subprocess.run([*manage, "collectstatic", "--noinput", "--verbosity=0"], check=True, cwd=BASE_DIR)
        server_name = "Django's development server" if dev else "granian (backend.server)"
        print(f"Serving the API with {server_name} on http://127.0.0.1:{port}/api/ (Ctrl-C stops everything)")
        # Should this process be killed, the API server is stopped at once (SIGINT), freeing the port.
        children["api_server"] = start_child(
            api_server_command(port, dev=dev), death_signal=signal.SIGINT, cwd=BASE_DIR
        )
        print("Starting the background worker (size variants) ...", flush=True)
        children["worker"] = start_child(worker_command(), cwd=BASE_DIR)
        supervise(children)
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    finally:
        if "api_server" in children:
            stop_child(children["api_server"], grace=API_SERVER_GRACE)
        if "worker" in children:
            stop_child(children["worker"], grace=WORKER_GRACE)
        if s3_server is not None:
            print("Stopping the local S3 server ...", flush=True)
            s3_server.stop()


def environment_prepare() -> str:
    """The environment the children inherit (.env, the allocator's settings, /metrics' folder); the port to serve
    on, once it is free. Exits if another `make run` holds it."""
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    for name, value in ALLOCATOR_ENVIRONMENT.items():  # for the children: glibc reads it when a process starts
        os.environ.setdefault(name, value)
    port = os.environ.get("PORT", "8000")
    # An API server whose `make run` was just killed may still be letting go of the port.
    if ports_still_busy([int(port)], wait=5):
        sys.exit(f"Port {port} on 127.0.0.1 is in use: is another `make run` running? Set PORT.")
    # Only once no other make run is serving: it would be that one's.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics: every child writes its samples there
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
        METRICS_DIR.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
    return port


def supervise(children: dict[str, subprocess.Popen]) -> None:
    """Until the API server exits (with its exit code): a worker that exits is replaced (at most once every
    WORKER_RESTART_SPACING), and housekeeping runs every HOUSEKEEPING_INTERVAL."""
    worker_started = time.monotonic()
    housekeeping()
    housekept = time.monotonic()
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            sys.exit(children["api_server"].wait(timeout=WORKER_CHECK_INTERVAL))
        now = time.monotonic()
        worker = children["worker"]
        if worker.poll() is not None and now - worker_started >= WORKER_RESTART_SPACING:
            print(f"The background worker exited with {worker.returncode}: starting another", flush=True)
            children["worker"], worker_started = start_child(worker_command(), cwd=BASE_DIR), now
        if now - housekept >= HOUSEKEEPING_INTERVAL:
            housekeeping()
            housekept = time.monotonic()


if __name__ == "__main__":
    main()
