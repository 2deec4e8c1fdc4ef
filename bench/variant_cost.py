"""Section 5: the variants worker's time and memory for a 12 MP photo, with and without AVIF, and its steps; how soon
an idle worker has a new photo's variants ready, and what a second worker adds."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.photos import photo_jpeg
from bench.project import ServerWorker, manage, start_task_workers, stop_task_workers
from bench.sections import Bench, run_in_bench
from bench.uploads import PHOTOS, Agent

BASE_DIR = Path(__file__).resolve().parent.parent


VARIANT_COST_SCRIPT = """
import sys, time
import django
django.setup()
from PIL import Image
from property.variants import make_variants
decoded = Image.open(sys.argv[1]); decoded.load()
timings = []
for _ in range(3 if sys.argv[2] == "variants" else 0):
    started = time.perf_counter()
    for variant in make_variants(decoded):
        variant.content.close()
    timings.append(time.perf_counter() - started)
# VmHWM, not getrusage's ru_maxrss: on Linux that one keeps the parent's peak across fork and exec.
status = open("/proc/self/status").read().splitlines()
print(min(timings, default=0) * 1000, next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024)
"""


def measure(bench: Bench) -> dict:
    """The cost of one photo's variants, and the workers' throughput and delay."""
    agent = Agent.new(bench.environment)
    two_mb = photo_jpeg(3000, 2000, seed=2)
    # The backlog of what was uploaded before (section 3), then of a fresh batch, made by 1 worker and then by 2.
    for process in start_task_workers(bench.environment, 1, batch=True):
        process.wait(timeout=3600)
    throughput = {count: variant_throughput(bench.environment, count, agent, two_mb) for count in (1, 2)}
    ready_after = time_to_ready(bench.environment, agent, photo_jpeg(4000, 3000, seed=5, quality=90))
    return {
        **variant_cost(bench.environment),
        "variants_per_second": throughput,
        "ready_p50_s": statistics.median(ready_after),
        "ready_p95_s": statistics.quantiles(ready_after, n=20)[18],
        "ready_samples": len(ready_after),
    }


def variant_cost(environment: dict[str, str]) -> dict:
    """ms to make the three variants of a 12-megapixel photo (in WebP and AVIF, and in WebP alone), and peak RSS of
    a fresh process that only decodes it against one that also makes its variants."""

    def one_process(photo_path: str, mode: str, **settings: str) -> tuple[float, float]:
        result = subprocess.run(
            [sys.executable, "-c", VARIANT_COST_SCRIPT, photo_path, mode],
            cwd=BASE_DIR,
            env={**os.environ, **environment, **settings},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"variant cost measurement failed: {result.stderr[-2000:]}")
        milliseconds, peak_mb = (float(value) for value in result.stdout.split())
        return milliseconds, peak_mb

    with tempfile.NamedTemporaryFile(suffix=".jpg") as photo:
        photo.write(photo_jpeg(4000, 3000, seed=5, quality=90))
        photo.flush()
        _, decode_only_mb = one_process(photo.name, "decode")
        milliseconds, with_variants_mb = one_process(photo.name, "variants")
        without_avif_ms, _ = one_process(photo.name, "variants", PROPERTY_IMAGE_VARIANT_AVIF="False")
    return {
        "ms": milliseconds,
        "without_avif_ms": without_avif_ms,
        "decode_only_mb": decode_only_mb,
        "with_variants_mb": with_variants_mb,
        **bench_variant_steps(),
    }


def bench_variant_steps() -> dict:
    """ms of CPU (best of 3) for the steps behind the variant cost, on the 2 MB photo of section 3."""
    import io

    from PIL import Image

    from property.images import JPEG_QUALITY
    from property.variants import VARIANT_QUALITY, WEBP_METHOD

    photo = photo_jpeg(3000, 2000, seed=2)

    def cpu_ms(step) -> float:
        timings = []
        for _ in range(3):
            started = time.process_time()
            step()
            timings.append(time.process_time() - started)
        return min(timings) * 1000

    def decode() -> Image.Image:
        picture = Image.open(io.BytesIO(photo))
        picture.load()
        return picture

    decoded = decode()
    large = decoded.resize((2048, 1365), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return {
        "reencode_ms": cpu_ms(lambda: decode().save(io.BytesIO(), format="JPEG", quality=JPEG_QUALITY)),
        "resize_ms": cpu_ms(lambda: decoded.resize((2048, 1365), Image.Resampling.BICUBIC, reducing_gap=2.0)),
        "webp_ms": cpu_ms(lambda: large.save(io.BytesIO(), format="WEBP", quality=VARIANT_QUALITY, method=WEBP_METHOD)),
    }


def section(variant_cost: dict | None) -> str:
    if not variant_cost:
        return ""
    steps = variant_cost
    # The worker counts are keys: numbers here, text once the result has been through JSON.
    one, two = (value for _, value in sorted(variant_cost["variants_per_second"].items()))
    return "\n".join(
        [
            "## 5. Size variants (thumbnail 320, medium 1024, large 2048 px, WebP and AVIF), made by the task worker",
            "",
            "| | |",
            "|---|---|",
            f"| making the three variants of a 12-megapixel photo, WebP and AVIF (the default) | "
            f"{variant_cost['ms']:.0f} ms |",
            f"| the same, WebP alone (`PROPERTY_IMAGE_VARIANT_AVIF=False`) | {variant_cost['without_avif_ms']:.0f} ms "
            f"(AVIF adds {variant_cost['ms'] / variant_cost['without_avif_ms']:.2f}x) |",
            f"| peak RSS of a fresh process: decoding the photo / decoding it and making its variants "
            f"| {variant_cost['decode_only_mb']:.0f} MB / {variant_cost['with_variants_mb']:.0f} MB |",
            f"| from the 201 of a one-photo upload (12 megapixels) to its variants ready, idle worker "
            f"(`db_worker`, polled by the client every 20 ms; {variant_cost['ready_samples']} uploads) "
            f"| p50 {variant_cost['ready_p50_s']:.2f} s, p95 {variant_cost['ready_p95_s']:.2f} s |",
            f"| throughput, 2 MB photos: 1 worker / 2 workers | {one:.1f} / {two:.1f} images/s "
            f"(2 workers: {two / one:.2f}x) |",
            "",
            "Where a variant's time goes: resizing the 2 MB photo to 2048 px took "
            f"{steps['resize_ms']:.0f} ms of CPU and encoding",
            f"that copy as WebP (libwebp's fastest method) {steps['webp_ms']:.0f} ms, against "
            f"{steps['reencode_ms']:.0f} ms for decoding and re-encoding",
            "the original JPEG (which the upload request still does). On "
            f"{os.cpu_count()} cores shared with the S3 server, a",
            "second worker adds what the cores have left; on more cores, or on more hosts sharing the queue,",
            "workers add up.",
            "",
        ]
    )


def ready_count(environment: dict[str, str]) -> int:
    script = "from property.models import PropertyImage as I; print(I.objects.filter(variants_status='ready').count())"
    return int(manage(environment, "shell", "-c", script).strip().splitlines()[-1])


def variant_throughput(
    environment: dict[str, str], workers: int, agent: Agent, photo: bytes, images: int = 20
) -> float:
    """Images per second whose variants `workers` task workers make, from a queue of `images` waiting ones."""
    api = ServerWorker(environment)
    try:
        for _ in range(images // PHOTOS):
            agent.bulk_upload(api.url, photo, PHOTOS)
    finally:
        api.stop()
    before = ready_count(environment)
    started = time.perf_counter()
    for process in start_task_workers(environment, workers, batch=True):
        process.wait(timeout=3600)
    elapsed = time.perf_counter() - started
    assert ready_count(environment) - before == images
    return images / elapsed


def time_to_ready(environment: dict[str, str], agent: Agent, photo: bytes) -> list[float]:
    """Seconds from the 201 of a one-photo upload to its variants being ready, on an idle worker, as a client
    polling the image sees it."""
    api = ServerWorker(environment)
    workers = start_task_workers(environment, 1, batch=False)
    samples = []
    try:
        for _ in range(12):
            response = requests.post(
                f"{api.url}/api/houses-for-sale/{agent.house}/upload_images/",
                headers=agent.headers,
                files=[("images", ("big.jpg", photo, "image/jpeg"))],
                timeout=120,
            )
            answered = time.perf_counter()
            assert response.status_code == 201, response.text
            image_id = response.json()[0]["id"]
            while True:
                status = requests.get(f"{api.url}/api/property-images/{image_id}/", headers=agent.headers, timeout=30)
                if status.json()["variants_status"] == "ready":
                    samples.append(time.perf_counter() - answered)
                    break
                assert time.perf_counter() - answered < 60, "variants not ready after 60 s"
                time.sleep(0.02)
    finally:
        stop_task_workers(workers)
        api.stop()
    return samples[2:]  # the first two warm the worker up


if __name__ == "__main__":
    run_in_bench(measure, section, "variants")
