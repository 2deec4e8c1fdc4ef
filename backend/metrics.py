"""Prometheus metrics at `/metrics`: request latency by view and status, the S3 calls the API makes, the task queue
and the images by variants status (the app's collector, property/metrics.py), in Prometheus' text format.

Under the API server every process writes its samples to files in PROMETHEUS_MULTIPROC_DIR (backend.server sets it up)
and a scrape adds up all of them: prometheus_client's multiprocess mode. The queue and the images are counted from
the database when scraped. Only the addresses in METRICS_ALLOWED_ADDRESSES, or a request carrying METRICS_TOKEN as
a bearer token, may read it.
"""

from __future__ import annotations

import hmac
import os
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

REQUEST_SECONDS = Histogram(
    "alca_http_request_duration_seconds",
    "Time from the request reaching Django to its answer, by view, method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
S3_CALL_SECONDS = Histogram(
    "alca_s3_call_duration_seconds",
    "S3 API calls by operation and outcome (ok, refused: S3 answered an error, unreachable: no answer), "
    "retries included.",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """Times every request (first in MIDDLEWARE, so the others count too). Labels stay few: the URL pattern's name,
    never the path, and any method outside HTTP's usual ones as `other`."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUEST_SECONDS.labels(
            view=(match.view_name or match.url_name or "unnamed") if match else "unresolved",
            method=request.method if request.method in METHODS else "other",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response


def s3_call_started(context: dict, **kwargs) -> None:
    """botocore's before-call event: when the call began."""
    context["metrics_started"] = time.perf_counter()


def s3_call_answered(http_response, model, context: dict, **kwargs) -> None:
    """botocore's after-call event: S3 answered (an error status is a refusal)."""
    outcome = "ok" if http_response.status_code < 400 else "refused"
    observe_s3_call(model.name, outcome, context)


def s3_call_failed(event_name: str, context: dict, **kwargs) -> None:
    """botocore's after-call-error event (`after-call-error.s3.<operation>`): no answer (a timeout, a refused
    connection)."""
    observe_s3_call(event_name.rsplit(".", 1)[-1], "unreachable", context)


def observe_s3_call(operation: str, outcome: str, context: dict) -> None:
    started = context.pop("metrics_started", None)
    if started is not None:
        S3_CALL_SECONDS.labels(operation=operation, outcome=outcome).observe(time.perf_counter() - started)


def count_s3_calls(session) -> None:
    """Time every S3 call of the clients `session` makes."""
    session.events.register("before-call.s3", s3_call_started)
    session.events.register("after-call.s3", s3_call_answered)
    session.events.register("after-call-error.s3", s3_call_failed)


# What a scrape reads when it happens (the apps' collectors of their state in the database: register_collector),
# beside the samples the processes wrote.
STATE_COLLECTORS: list = []


def register_collector(collector) -> None:
    """Add `collector` (prometheus_client's: a `collect()` yielding metric families) to every scrape. Apps call it
    from AppConfig.ready(): the project package knows no app."""
    STATE_COLLECTORS.append(collector)


def may_read_metrics(request: HttpRequest) -> bool:
    """From an address in METRICS_ALLOWED_ADDRESSES (the client's, as DRF's throttles take it behind
    DJANGO_NUM_PROXIES proxies), or with METRICS_TOKEN as a bearer token."""
    # here: the storage imports this module before settings load
    from rest_framework.request import Request
    from rest_framework.throttling import BaseThrottle

    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return BaseThrottle().get_ident(Request(request)) in settings.METRICS_ALLOWED_ADDRESSES


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics: every process's samples and the database's state, in Prometheus' text format."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405, headers={"Allow": "GET"})
    if not may_read_metrics(request):
        return JsonResponse(
            {"detail": "Metrics are read from an address in METRICS_ALLOWED_ADDRESSES or with METRICS_TOKEN."},
            status=403,
        )
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:  # one process (outside the API server and make run: the tests, a bare runserver): its own samples
        registry = CollectorRegistry()
        registry.register(ThisProcess())
    for collector in STATE_COLLECTORS:
        registry.register(collector)
    # The classic text format, which every Prometheus reads (these names need none of 1.0.0's escaping).
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


class ThisProcess:
    """The samples of this process alone (prometheus_client's default registry)."""

    def collect(self):
        yield from REGISTRY.collect()
