"""Section 3: uploads, measured side by side over HTTP: the request with variants on and off, with and without the
placeholder, against the guide-faithful build (bench/reference); the web process's memory.

Every server runs under backend.server with one worker process, on loopback, against the bench's SeaweedFS.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import requests

from bench.latency_proxy import LatencyProxy
from bench.photos import photo_jpeg
from bench.project import HOUSE_SCRIPT, ServerWorker, cpu_seconds, manage
from bench.report import cpu_cell, verdict
from bench.sections import Bench, run_in_bench
from localdev.s3server import LocalS3Server

# Photos of about 2 MB in each timed bulk upload.
PHOTOS = 10
# Added each way between the API and the S3 server for the "distant S3" rows: an assumption standing in
# for a network, not a measurement of AWS.
S3_ONE_WAY_DELAY = 0.025


NEW_USER_SCRIPT = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
import secrets
user = get_user_model().objects.create_user(f"uploader-{secrets.token_hex(4)}", password=None)
print(RefreshToken.for_user(user).access_token)
"""


class Agent(NamedTuple):
    """A new user of the bench's database with a house for sale (HOUSE_SCRIPT), as its client holds them."""

    headers: dict[str, str]
    house: int

    @classmethod
    def new(cls, environment: dict[str, str]) -> Agent:
        owner = json.loads(manage(environment, "shell", "-c", HOUSE_SCRIPT).strip().splitlines()[-1])
        return cls({"Authorization": f"Bearer {owner['token']}"}, owner["house"])

    def bulk_upload(self, url: str, photo: bytes, count: int, headers: dict[str, str] | None = None) -> float:
        """Seconds a bulk upload of `count` copies of `photo` to the house takes the API at `url` (another user's
        `headers`: the reference build's)."""
        files = [("images", (f"photo{n}.jpg", photo, "image/jpeg")) for n in range(count)]
        form = {"content_type": "house_for_sale", "object_id": str(self.house)}
        started = time.perf_counter()
        response = requests.post(
            f"{url}/api/property-images/bulk_upload/",
            headers=headers or self.headers,
            files=files,
            data=form,
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.text
        return elapsed


def measure(bench: Bench) -> dict:
    environment, server, workdir = bench
    agent, two_mb = Agent.new(environment), photo_jpeg(3000, 2000, seed=2)
    ten_mb = photo_jpeg(5000, 3750, seed=3, quality=97)  # just under the 10 MiB upload limit (18.75 megapixels)
    assert 9.5 * 1024 * 1024 <= len(ten_mb) <= 10 * 1024 * 1024, len(ten_mb)
    scenario = partial(uploads_timed, bench, agent)
    # No task worker runs during the request timings: the variants wait in the queue, as the request does not.
    with_variants = scenario(two_mb, PHOTOS, runs=5)
    without_variants = scenario(two_mb, PHOTOS, runs=5, variants=False)
    # The same upload without the placeholder (ThumbHash and colour), then with it again, in turn.
    without_placeholder = scenario(two_mb, PHOTOS, runs=5, app="bench.no_placeholder_wsgi")
    with_placeholder = scenario(two_mb, PHOTOS, runs=5)
    proxy = LatencyProxy(upstream_port=server.ports.s3, one_way_delay=S3_ONE_WAY_DELAY).start()
    try:
        distant = scenario(two_mb, PHOTOS, runs=3, s3_endpoint=f"http://127.0.0.1:{proxy.port}")["seconds"]
    finally:
        proxy.stop()
    memory = {count: scenario(ten_mb, count, runs=1)["rss"] for count in (1, 2, 10)}

    reference = reference_bulk_upload_seconds(environment, server, workdir, two_mb, agent.bulk_upload)
    ours_again = scenario(two_mb, PHOTOS, runs=5)["seconds"]  # the same time window as the reference's run
    return {
        "photos": PHOTOS,
        "two_mb_size": len(two_mb),
        "ten_mb_size": len(ten_mb),
        "with_variants_s": with_variants["seconds"],
        "without_variants_s": without_variants["seconds"],
        "with_variants_cpu_ms": (with_variants["worker_cpu_ms"], with_variants["s3_cpu_ms"]),
        "without_variants_cpu_ms": (without_variants["worker_cpu_ms"], without_variants["s3_cpu_ms"]),
        "without_placeholder_s": without_placeholder["seconds"],
        "with_placeholder_s": with_placeholder["seconds"],
        "without_placeholder_cpu_ms": (without_placeholder["worker_cpu_ms"], without_placeholder["s3_cpu_ms"]),
        "with_placeholder_cpu_ms": (with_placeholder["worker_cpu_ms"], with_placeholder["s3_cpu_ms"]),
        "distant_s": distant,
        "rss_by_files": memory,
        "reference_s": reference,
        "ours_beside_reference_s": ours_again,
    }


def uploads_timed(
    bench: Bench,
    agent: Agent,
    photo: bytes,
    count: int,
    runs: int,
    *,
    variants: bool = True,
    s3_endpoint: str | None = None,
    app: str = "backend.wsgi",
) -> dict:
    """Median wall time of `runs` bulk uploads of `count` photos to one API worker process started for them, its
    peak RSS, and the CPU per photo of the worker and the S3 server."""
    assert bench.s3.process is not None, "the S3 server is started"
    s3_pid = bench.s3.process.pid
    worker = ServerWorker(
        bench.environment,
        app=app,
        PROPERTY_IMAGE_VARIANTS=str(variants),
        AWS_S3_ENDPOINT_URL=s3_endpoint or bench.s3.endpoint_url,
    )
    try:
        agent.bulk_upload(worker.url, photo, 1)  # warm up imports and connections
        worker_cpu, s3_cpu = cpu_seconds(worker.worker_pid), cpu_seconds(s3_pid)
        seconds = statistics.median(agent.bulk_upload(worker.url, photo, count) for _ in range(runs))
        photos = runs * count
        worker_ms = (cpu_seconds(worker.worker_pid) - worker_cpu) / photos * 1000
        s3_ms = (cpu_seconds(s3_pid) - s3_cpu) / photos * 1000
        return {"seconds": seconds, "rss": worker.peak_rss_mb(), "worker_cpu_ms": worker_ms, "s3_cpu_ms": s3_ms}
    finally:
        worker.stop()


def reference_bulk_upload_seconds(
    environment: dict[str, str], server: LocalS3Server, workdir: Path, photo: bytes, bulk_upload: Callable[..., float]
) -> float:
    """The same 10-photo bulk upload against the guide-faithful build, which stores the bytes as they come."""
    reference_env = {
        **environment,
        "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
        "REFERENCE_DATABASE_URL": f"sqlite:///{workdir / 'reference-uploads.sqlite3'}",
    }
    manage(reference_env, "migrate", "--run-syncdb", "--noinput")
    token = manage(reference_env, "shell", "-c", NEW_USER_SCRIPT).strip().splitlines()[-1]
    reference = ServerWorker(reference_env, app="bench.reference.wsgi")
    try:
        reference_headers = {"Authorization": f"Bearer {token}"}
        bulk_upload(reference.url, photo, 1, reference_headers)
        return statistics.median(bulk_upload(reference.url, photo, PHOTOS, reference_headers) for _ in range(5))
    finally:
        reference.stop()


def section(upload: dict | None) -> str:
    if not upload:
        return ""
    ratio = upload["with_variants_s"] / upload["without_variants_s"]
    placeholder_ratio = upload["with_placeholder_s"] / upload["without_placeholder_s"]
    with_worker, with_s3 = upload["with_variants_cpu_ms"]
    without_worker, without_s3 = upload["without_variants_cpu_ms"]
    return "\n".join(
        [
            f"## 3. `bulk_upload` of {upload['photos']} photos of {upload['two_mb_size'] / 1e6:.1f} MB "
            "(backend.server, one worker process)",
            "",
            "The request checks and re-encodes each photo, stores it and writes its row; a background task makes its",
            "size variants afterwards (section 5). No task worker runs while these are timed.",
            "",
            "| | wall time (median of 5) | CPU per photo, API worker / S3 server |",
            "|---|---|---|",
            f"| variants on (the default) | {upload['with_variants_s']:.2f} s "
            f"| {with_worker:.0f} ms / {with_s3:.0f} ms |",
            f"| variants off (`PROPERTY_IMAGE_VARIANTS=False`) | {upload['without_variants_s']:.2f} s "
            f"| {without_worker:.0f} ms / {without_s3:.0f} ms |",
            f"| on / off | **{ratio:.2f}x** (goal ≤ 1.15x: {verdict(ratio <= 1.15)}) | |",
            f"| without the placeholder (`bench/no_placeholder_wsgi.py`: the same code, no ThumbHash or colour) "
            f"| {upload['without_placeholder_s']:.2f} s | {cpu_cell(upload['without_placeholder_cpu_ms'])} |",
            f"| with it, timed right after | {upload['with_placeholder_s']:.2f} s "
            f"| {cpu_cell(upload['with_placeholder_cpu_ms'])} |",
            f"| with / without the placeholder | **{placeholder_ratio:.2f}x** "
            f"(goal ≤ 1.1x: {verdict(placeholder_ratio <= 1.1)}) | |",
            f"| the same upload with {S3_ONE_WAY_DELAY * 1000:.0f} ms added each way to the S3 server "
            f"(`bench/latency_proxy.py`, an assumed delay) | {upload['distant_s']:.2f} s | |",
            "",
            against_reference_and_memory(upload),
        ]
    )


def against_reference_and_memory(upload: dict) -> str:
    against_reference = upload["reference_s"] / upload["ours_beside_reference_s"]
    rss = upload["rss_by_files"]
    memory_growth = rss[10] / rss[2]
    return "\n".join(
        [
            "Against the guide-faithful django-storages build (`bench/reference`), which stores the bytes as they come",
            "(no decoding, no re-encoding, no metadata stripped), under the same server settings, in turn:",
            "",
            "| | wall time (median of 5) |",
            "|---|---|",
            f"| reference | {upload['reference_s']:.2f} s |",
            f"| project (variants on) | {upload['ours_beside_reference_s']:.2f} s |",
            f"| project speed / reference speed | **{against_reference:.2f}x** "
            f"(goal ≥ 0.5x: {verdict(against_reference >= 0.5)}) |",
            "",
            f"Peak RSS of a fresh worker for one bulk upload of photos of {upload['ten_mb_size'] / 1e6:.1f} MB:",
            f"1 file {rss[1]:.0f} MB, 2 files {rss[2]:.0f} MB, 10 files {rss[10]:.0f} MB",
            f"(10 files / 2 files: **{memory_growth:.2f}**; flat within 15%: {verdict(memory_growth <= 1.15)}).",
            "Photos are decoded one at a time, and each re-encoded photo waits for its upload in a temporary file.",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "uploads")
