"""gunicorn's settings, read by itself from the working directory: `make run` and production use the same.

Threads per worker let one process wait on S3 or on SQLite's write lock for several requests at once, and
keep connections alive between requests (browsers and HTTP clients reuse them). Every value can be
overridden on the command line or through the environment variables named here.
"""

import os
import shutil
import tempfile

wsgi_app = "backend.wsgi"
worker_class = "gthread"
# Request work is CPU-bound Python (one core per process at most): one process per core, at least two.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 10
# One line per request with its id (X-Request-ID): no query string, header or body, so never a token.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
# The longest request line gunicorn takes (its default is 4094): long filter query strings fit, as in browsers and
# load balancers; a longer one is answered 414 (the schema says so).
limit_request_line = 8190
control_socket_disable = True  # unused; two servers would share its default path

# /metrics adds up the samples of every process (prometheus_client's multiprocess mode, backend/metrics.py): each
# writes them to files in PROMETHEUS_MULTIPROC_DIR, which must be empty when they start. Whoever sets the variable
# empties the directory first (make run does, for gunicorn and its worker); without it, gunicorn uses a new directory
# of its own. Workers read the variable when they start, after this file has run in the arbiter.
metrics_directory_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if metrics_directory_is_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alca-metrics-")


def child_exit(server, worker) -> None:
    """A worker that exits leaves its counters to the sum, and its gauges out of it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if metrics_directory_is_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
