"""The API's HTTP server, as `make run` and production start it: `python -m backend.server [--host H] [--port P]`.

granian (a Rust HTTP server with a WSGI interface) serves `backend.wsgi`: worker processes that each run the app in
a few threads, so that one process waits on S3 or on SQLite's write lock for several requests at once, and keep
connections alive between requests. It replaced gunicorn's threaded workers, whose hand-off of every keep-alive
request from a polling thread to a pool thread, and access log line, cost as much as the app itself on a small
request (bench/RESULTS.md, section 11). The access log is the app's (backend.request_id), with each line's
request id. Every value can be set through the environment variables named here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from granian.constants import Interfaces
from granian.server import Server
from granian.server.common import AbstractServer

APPLICATION = "backend.wsgi:application"
# Request work is CPU-bound Python (one core per process at most): one process per core, at least two.
WORKERS = int(os.environ.get("WEB_CONCURRENCY", max(2, os.cpu_count() or 1)))
# Requests a process runs at once; each may hold a database connection (DATABASE_POOL_MAX_SIZE follows it).
THREADS = int(os.environ.get("WEB_THREADS", 4))
# Seconds a stopping server lets its processes finish the requests they hold before killing them.
GRACEFUL_TIMEOUT = 10


def server(application: str, host: str, port: int) -> AbstractServer:
    """granian serving `application` (a WSGI "module:callable") on host:port with this module's settings."""
    # /metrics adds up the samples of every process (prometheus_client's multiprocess mode, backend/metrics.py):
    # each writes them to files in PROMETHEUS_MULTIPROC_DIR, which must be empty when they start. Whoever sets the
    # variable empties the directory first (make run does, for the server and its worker); without it, the server
    # uses a new directory of its own, which its processes inherit.
    metrics_directory = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_directory = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alca-metrics-")
    served = Server(
        application,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=WORKERS,
        blocking_threads=THREADS,
        respawn_failed_workers=True,  # as gunicorn did: a process that dies is replaced
        workers_kill_timeout=GRACEFUL_TIMEOUT,
    )
    if metrics_directory is not None:
        served.on_shutdown(lambda: shutil.rmtree(metrics_directory, ignore_errors=True))
    return served


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend.server", description=__doc__.splitlines()[0])
    # Loopback unless told otherwise: production names the address the proxy reaches (README, "Production").
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("application", nargs="?", default=APPLICATION, help=f"WSGI 'module:callable' ({APPLICATION})")
    arguments = parser.parse_args(argv)
    server(arguments.application, arguments.host, arguments.port).serve()


if __name__ == "__main__":
    main()
