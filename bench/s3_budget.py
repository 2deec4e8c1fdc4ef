"""S3 under the time budget (S3_REQUEST_BUDGET): a 10 MB object through a slow link is stored, not cut short,
and a call to an S3 that hangs gives up within the budget. Both with the project's own storage and settings."""

from __future__ import annotations

import io
import os
import time

from django.conf import settings
from django.core.files import File

from backend.s3 import S3ImageService, S3StorageError
from backend.storage_backends import PrivateMediaStorage
from bench.django_setup import BUCKET
from bench.latency_proxy import LatencyProxy
from bench.report import verdict
from bench.sections import Bench, run_in_bench
from localdev.s3server import LocalS3Server

BIG_OBJECT_SIZE = 10 * 1024 * 1024
# 16 and 8 Mbit/s up: far slower than any link from a server to its S3, as slow as a small office's line.
SLOW_LINKS_BYTES_PER_SECOND = (2_000_000, 1_000_000)
SLOW_LINK_ONE_WAY_DELAY = 0.05


def store(endpoint_url: str, key: str, body: bytes) -> None:
    """Store `body` under `key` through the storage the app uses, pointed at `endpoint_url`."""
    S3ImageService(PrivateMediaStorage(endpoint_url=endpoint_url)).upload(
        key=key, content=File(io.BytesIO(body), name=key)
    )


def through_slow_link(server: LocalS3Server, bucket: str, body: bytes, bytes_per_second: int) -> dict:
    proxy = LatencyProxy(
        upstream_port=server.ports.s3, one_way_delay=SLOW_LINK_ONE_WAY_DELAY, bytes_per_second=bytes_per_second
    ).start()
    key = f"bench/big-through-{bytes_per_second}.bin"
    started = time.monotonic()
    try:
        store(f"http://127.0.0.1:{proxy.port}", key, body)
        stored = server.client().head_object(Bucket=bucket, Key=key)["ContentLength"]
    except S3StorageError:
        stored = 0
    finally:
        proxy.stop()
    return {"bytes_per_second": bytes_per_second, "seconds": time.monotonic() - started, "stored_size": stored}


def measure(bench: Bench) -> dict:
    server, bucket = bench.s3, BUCKET
    body = os.urandom(BIG_OBJECT_SIZE)
    slow_links = [through_slow_link(server, bucket, body, rate) for rate in SLOW_LINKS_BYTES_PER_SECOND]
    server.hang()
    started = time.monotonic()
    try:
        store(server.endpoint_url, "bench/while-hung.bin", b"small")
        hung_outcome = "stored (?)"
    except S3StorageError:
        hung_outcome = "S3StorageError (the request answers 503)"
    hung_seconds = time.monotonic() - started
    server.resume()
    config = settings.AWS_S3_CLIENT_CONFIG
    return {
        "budget_s": settings.S3_REQUEST_BUDGET,
        "connect_timeout_s": config.connect_timeout,
        "read_timeout_s": config.read_timeout,
        "attempts": config.retries["total_max_attempts"],
        "big_size": BIG_OBJECT_SIZE,
        "slow_links": slow_links,
        "hung_s": hung_seconds,
        "hung_outcome": hung_outcome,
    }


def section(budget: dict | None) -> str:
    if not budget:
        return ""
    rows = []
    for link in budget["slow_links"]:
        whole = link["stored_size"] == budget["big_size"]
        rows.append(
            f"| PUT of {budget['big_size'] / 2**20:.0f} MB through `bench/latency_proxy.py` at "
            f"{link['bytes_per_second'] * 8 / 1e6:.0f} Mbit/s, {SLOW_LINK_ONE_WAY_DELAY * 1000:.0f} ms each way "
            f"| {link['seconds']:.1f} s | {'stored whole' if whole else 'FAILED'} (not cut short: {verdict(whole)}) |"
        )
    return "\n".join(
        [
            f"## 7. S3 under the time budget (`S3_REQUEST_BUDGET` = {budget['budget_s']:.0f} s: "
            f"{budget['attempts']} tries, connect timeout {budget['connect_timeout_s']:.0f} s, "
            f"read timeout {budget['read_timeout_s']:.0f} s)",
            "",
            "| | time | outcome |",
            "|---|---|---|",
            *rows,
            f"| PUT to the S3 server frozen by SIGSTOP (accepts connections, answers nothing) "
            f"| {budget['hung_s']:.1f} s | {budget['hung_outcome']} "
            f"(within the budget: {verdict(budget['hung_s'] <= budget['budget_s'])}) |",
            "",
            "The project's own storage and settings, pointed at the proxy or the frozen server. The read timeout is",
            "the wait for S3's answer once the last bytes are handed to the kernel: on a slower link than these,",
            "what still sits in the socket's send buffer can take longer than that to leave (raise the budget).",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "budget")
