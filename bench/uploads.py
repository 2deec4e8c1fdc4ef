"""Uploads and size variants, measured side by side over HTTP: the request with variants on and off, against the
guide-faithful build (bench/reference), how soon a worker has the variants ready, and what a second worker adds.

Every server runs under backend.server with one worker process, on loopback, against the bench's SeaweedFS.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import requests

from bench.latency_proxy import LatencyProxy
from bench.photos import photo_jpeg
from bench.project import (
    HOUSE_SCRIPT,
    ServerWorker,
    cpu_seconds,
    manage,
    start_task_workers,
    stop_task_workers,
)
from bench.report import cpu_cell, verdict
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


def ready_count(environment: dict[str, str]) -> int:
    script = "from property.models import PropertyImage as I; print(I.objects.filter(variants_status='ready').count())"
    return int(manage(environment, "shell", "-c", script).strip().splitlines()[-1])


def main(environment: dict[str, str], server: LocalS3Server, workdir: Path) -> dict:
    import json

    owner = json.loads(manage(environment, "shell", "-c", HOUSE_SCRIPT).strip().splitlines()[-1])
    headers = {"Authorization": f"Bearer {owner['token']}"}
    two_mb = photo_jpeg(3000, 2000, seed=2)
    # Just under the 10 MiB upload limit (18.75 megapixels).
    ten_mb = photo_jpeg(5000, 3750, seed=3, quality=97)
    assert 9.5 * 1024 * 1024 <= len(ten_mb) <= 10 * 1024 * 1024, len(ten_mb)
    twelve_megapixels = photo_jpeg(4000, 3000, seed=5, quality=90)

    def bulk_upload(url: str, photo: bytes, count: int, token_headers: dict[str, str] = headers) -> float:
        files = [("images", (f"photo{n}.jpg", photo, "image/jpeg")) for n in range(count)]
        form = {"content_type": "house_for_sale", "object_id": str(owner["house"])}
        started = time.perf_counter()
        response = requests.post(
            f"{url}/api/property-images/bulk_upload/", headers=token_headers, files=files, data=form, timeout=300
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.text
        return elapsed

    def scenario(
        photo: bytes,
        count: int,
        runs: int,
        *,
        variants: bool = True,
        s3_endpoint: str | None = None,
        app: str = "backend.wsgi",
    ):
        """Median wall time, the worker's peak RSS, and the CPU per photo of the worker and the S3 server."""
        worker = ServerWorker(
            environment,
            app=app,
            PROPERTY_IMAGE_VARIANTS=str(variants),
            AWS_S3_ENDPOINT_URL=s3_endpoint or server.endpoint_url,
        )
        try:
            bulk_upload(worker.url, photo, 1)  # warm up imports and connections
            worker_cpu, s3_cpu = cpu_seconds(worker.worker_pid), cpu_seconds(server.process.pid)
            seconds = statistics.median(bulk_upload(worker.url, photo, count) for _ in range(runs))
            photos = runs * count
            worker_ms = (cpu_seconds(worker.worker_pid) - worker_cpu) / photos * 1000
            s3_ms = (cpu_seconds(server.process.pid) - s3_cpu) / photos * 1000
            return {"seconds": seconds, "rss": worker.peak_rss_mb(), "worker_cpu_ms": worker_ms, "s3_cpu_ms": s3_ms}
        finally:
            worker.stop()

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

    reference = reference_bulk_upload_seconds(environment, server, workdir, two_mb, bulk_upload)
    ours_again = scenario(two_mb, PHOTOS, runs=5)["seconds"]  # the same time window as the reference's run

    # The backlog of every upload above, then of a fresh batch, made by 1 worker and then by 2.
    drain = start_task_workers(environment, 1, batch=True)
    for process in drain:
        process.wait(timeout=3600)
    throughput = {count: variant_throughput(environment, count, bulk_upload, two_mb) for count in (1, 2)}
    ready_after = time_to_ready(environment, headers, owner["house"], twelve_megapixels)
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
        "variants_per_second": throughput,
        "ready_p50_s": statistics.median(ready_after),
        "ready_p95_s": statistics.quantiles(ready_after, n=20)[18],
        "ready_samples": len(ready_after),
    }


def reference_bulk_upload_seconds(environment, server, workdir: Path, photo: bytes, bulk_upload) -> float:
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


def variant_throughput(environment: dict[str, str], workers: int, bulk_upload, photo: bytes, images: int = 20) -> float:
    """Images per second whose variants `workers` task workers make, from a queue of `images` waiting ones."""
    api = ServerWorker(environment)
    try:
        for _ in range(images // PHOTOS):
            bulk_upload(api.url, photo, PHOTOS)
    finally:
        api.stop()
    before = ready_count(environment)
    started = time.perf_counter()
    for process in start_task_workers(environment, workers, batch=True):
        process.wait(timeout=3600)
    elapsed = time.perf_counter() - started
    assert ready_count(environment) - before == images
    return images / elapsed


def time_to_ready(environment: dict[str, str], headers: dict[str, str], house: int, photo: bytes) -> list[float]:
    """Seconds from the 201 of a one-photo upload to its variants being ready, on an idle worker, as a client
    polling the image sees it."""
    api = ServerWorker(environment)
    workers = start_task_workers(environment, 1, batch=False)
    samples = []
    try:
        for _ in range(12):
            response = requests.post(
                f"{api.url}/api/houses-for-sale/{house}/upload_images/",
                headers=headers,
                files=[("images", ("big.jpg", photo, "image/jpeg"))],
                timeout=120,
            )
            answered = time.perf_counter()
            assert response.status_code == 201, response.text
            image_id = response.json()[0]["id"]
            while True:
                status = requests.get(f"{api.url}/api/property-images/{image_id}/", headers=headers, timeout=30)
                if status.json()["variants_status"] == "ready":
                    samples.append(time.perf_counter() - answered)
                    break
                assert time.perf_counter() - answered < 60, "variants not ready after 60 s"
                time.sleep(0.02)
    finally:
        stop_task_workers(workers)
        api.stop()
    return samples[2:]  # the first two warm the worker up


def uploads_section(upload: dict) -> str:
    ratio = upload["with_variants_s"] / upload["without_variants_s"]
    placeholder_ratio = upload["with_placeholder_s"] / upload["without_placeholder_s"]
    against_reference = upload["reference_s"] / upload["ours_beside_reference_s"]
    rss = upload["rss_by_files"]
    memory_growth = rss[10] / rss[2]
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
    import json

    from bench.django_setup import run_alone

    print(json.dumps(run_alone(main, "uploads")))
