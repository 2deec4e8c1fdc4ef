"""`make bench`: presigning speed, list throughput and bulk-upload time, each measured side by side in one run.

Runs against a local SeaweedFS started on free ports and a throw-away SQLite database, prints
the figures and writes them, with the machine they came from, to bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from bench.avif import main as bench_avif
from bench.django_setup import BUCKET, configure_django
from bench.load import MIX
from bench.s3_budget import SLOW_LINK_ONE_WAY_DELAY
from bench.s3_budget import main as bench_s3_budget
from bench.uploads import S3_ONE_WAY_DELAY
from bench.uploads import main as bench_uploads
from localdev.s3server import LocalS3Server

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def per_call_microseconds(function, calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        function(index)
    return (time.perf_counter() - started) / calls * 1e6


def bench_presigner() -> dict:
    from django.core.files.storage import storages

    # The storage object the app signs with (S3ImageService resolves Django's lazy default_storage to it).
    storage = storages["default"]
    client = storage.connection.meta.client

    def key(index: int) -> str:
        return f"properties/houseforsale/{index % 100}/20250112_143022_{index:08x}.jpg"

    def project(index: int) -> str:
        return storage.url(key(index), expire=3600)

    def boto3_presign(index: int) -> str:
        return client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key(index)}, ExpiresIn=3600)

    project(0), boto3_presign(0)  # warm up: connections, signing key, botocore's loaders
    project_us = per_call_microseconds(project, 20000)
    boto3_us = per_call_microseconds(boto3_presign, 2000)
    return {"project_us": project_us, "boto3_us": boto3_us, "ratio": boto3_us / project_us}


def image_list(images: int):
    """A house with `images` photos: (an API client of its owner, the path of its image list in one page)."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.photos import photo_jpeg
    from property.models import HouseForSale, PropertyImage, VariantsStatus
    from property.services.uploads import property_images_store
    from property.variants import configured_variant_keys

    owner = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}", password=None)
    house = HouseForSale.objects.create(title="Bench house", address="1 Bench St", price=1, owner=owner)
    small = photo_jpeg(320, 240)
    for start in range(0, images, 20):
        property_images_store(
            house=house, files=[SimpleUploadedFile(f"{start + n}.jpg", small) for n in range(min(20, images - start))]
        )
    # As a listed house's photos are once the worker has been by: each with its variants, in WebP and AVIF (rows
    # only: a list signs URLs and never reads S3).
    for image in PropertyImage.objects.filter(object_id=house.pk):
        variants = {
            name: {**keys, "width": 320, "height": 240}
            for name, keys in configured_variant_keys(image.image.name).items()
        }
        PropertyImage.objects.filter(pk=image.pk).update(variants=variants, variants_status=VariantsStatus.READY)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    return client, f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}&page_size=100"


def requests_per_second(client, path: str, images: int, seconds: float) -> float:
    """In-process requests per second of a list answering `images` images, after 3 to warm up."""
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200 and len(response.json()["results"]) == images
    served, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.get(path)
        served += 1
    return served / (time.perf_counter() - started)


def bench_list(images: int = 100, seconds: float = 4.0) -> dict:
    from storages.backends.s3 import S3Storage

    from backend.storage_backends import PrivateMediaStorage

    def plain_signed_urls(self, names: list[str | None], expire: int | None = None) -> list[str | None]:
        """An image's URLs as django-storages alone signs them: its own url() for each."""
        return [None if name is None else S3Storage.url(self, name, expire=expire) for name in names]

    client, path = image_list(images)
    project_rps = requests_per_second(client, path, images, seconds)
    with mock.patch.object(PrivateMediaStorage, "signed_urls", plain_signed_urls):
        plain_rps = requests_per_second(client, path, images, seconds)
    return {"project_rps": project_rps, "plain_rps": plain_rps, "ratio": project_rps / plain_rps, "images": images}


def bench_cloudfront(images: int = 100, repeats: int = 20, seconds: float = 3.0) -> dict:
    """CloudFront signed URLs: a list's URLs signed `repeats` times by the project's storage and by django-storages'
    own S3Storage on the same keys; then the list endpoint with CloudFront on against S3 presigned URLs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings
    from django.test import override_settings
    from storages.backends.s3 import S3Storage

    from backend.storage_backends import PrivateMediaStorage

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    cloudfront = override_settings(
        STORAGES={**settings.STORAGES},
        AWS_S3_CUSTOM_DOMAIN="d111111abcdef8.cloudfront.net",
        AWS_CLOUDFRONT_KEY_ID="KBENCH",
        AWS_CLOUDFRONT_KEY=pem,
        AWS_CLOUDFRONT_ACTIVE_KEY_ID="KBENCH",
    )
    keys = [f"properties/houseforsale/1/20250112_143022_{index:08x}.jpg" for index in range(images)]

    def sign_all(storage) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            for key in keys:
                storage.url(key, expire=3600)
        return time.perf_counter() - started

    with cloudfront:
        project = PrivateMediaStorage()
        theirs = S3Storage(custom_domain="d111111abcdef8.cloudfront.net", querystring_expire=3600)
        assert project.url(keys[0]).split("?")[0] == theirs.url(keys[0]).split("?")[0]
        project_s, storages_s = sign_all(project), sign_all(theirs)

    client, path = image_list(images)
    presigned_rps = [requests_per_second(client, path, images, seconds)]
    cloudfront_rps = []
    for _ in range(2):  # interleaved, best of each
        with cloudfront:
            cloudfront_rps.append(requests_per_second(client, path, images, seconds))
        presigned_rps.append(requests_per_second(client, path, images, seconds))
    return {
        "images": images,
        "repeats": repeats,
        "project_ms": project_s * 1000,
        "storages_ms": storages_s * 1000,
        "signing_ratio": storages_s / project_s,
        "presigned_rps": max(presigned_rps),
        "cloudfront_rps": max(cloudfront_rps),
        "list_ratio": max(presigned_rps) / max(cloudfront_rps),
    }


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(line.split()[1]) for line in meminfo if "MemTotal" in line)
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


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


def bench_variant_cost(environment: dict[str, str]) -> dict:
    """ms to make the three variants of a 12-megapixel photo (in WebP and AVIF, and in WebP alone), and peak RSS of
    a fresh process that only decodes it against one that also makes its variants."""
    from bench.photos import photo_jpeg

    def measure(photo_path: str, mode: str, **settings: str) -> tuple[float, float]:
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
        _, decode_only_mb = measure(photo.name, "decode")
        milliseconds, with_variants_mb = measure(photo.name, "variants")
        without_avif_ms, _ = measure(photo.name, "variants", PROPERTY_IMAGE_VARIANT_AVIF="False")
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

    from bench.photos import photo_jpeg
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


def in_own_process(module: str, *args: str) -> dict:
    """The JSON that `python -m module args` prints last: benchmarks that need their own database and servers."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=BASE_DIR, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def postgresql_answers() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


def bench_load() -> list[dict]:
    """The load test against what `make run` starts (SQLite), and against the same server on PostgreSQL
    when it answers here."""
    databases = ["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"]
    return [in_own_process("bench.load", database) for database in databases]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


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
            "Served as `make run` serves it (gunicorn with `gunicorn.conf.py` and the background worker beside it),",
            "on SQLite with the project's settings (what `make run` starts) and on PostgreSQL. S3: local SeaweedFS;",
            "loopback. Objects are counted once the worker has made the variants still queued when the clients stop",
            "(" + ", ".join(f"{load['database']}: {load['pending_at_end']} images" for load in loads) + ").",
            f"Mix: {mix}.",
            "On PostgreSQL the connections to the load's database are sampled every 0.2 s: at most gunicorn's",
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


SERVING_GOALS = {
    # server: (list speed-up goal, its moonshot, secure_url speed-up goal), against the reference on SQLite
    "project_sqlite": (6.0, 8.0, 1.3),
    "project_postgresql": (5.0, None, 1.0),
}
SERVING_NAMES = {"project_sqlite": "project, SQLite", "project_postgresql": "project, PostgreSQL"}


def serving_rows(serving: dict, server: str) -> list[str]:
    list_goal, moonshot, secure_url_goal = SERVING_GOALS[server]
    list_speedup = serving["reference_list_p50_ms"] / serving[f"{server}_list_p50_ms"]
    secure_url_speedup = serving["reference_secure_url_p50_ms"] / serving[f"{server}_secure_url_p50_ms"]
    moonshot_note = f", moonshot {moonshot:g}x: {verdict(list_speedup >= moonshot)}" if moonshot else ""
    return [
        f"| {SERVING_NAMES[server]} | {serving[f'{server}_secure_url_p50_ms']:.2f} ms "
        f"/ {serving[f'{server}_secure_url_p95_ms']:.2f} ms | **{secure_url_speedup:.2f}x** "
        f"(goal ≥ {secure_url_goal:g}x: {verdict(secure_url_speedup >= secure_url_goal)}) "
        f"| {serving[f'{server}_list_p50_ms']:.1f} ms / {serving[f'{server}_list_p95_ms']:.1f} ms "
        f"| **{list_speedup:.1f}x** (goal ≥ {list_goal:g}x: {verdict(list_speedup >= list_goal)}{moonshot_note}) |",
    ]


def serving_section(serving: dict) -> str:
    projects = [server for server in serving["servers"] if server != "reference"]
    return "\n".join(
        [
            "## 6. What `make run` serves, against the guide-faithful django-storages build",
            "",
            "`bench/serving.py`: the project as `make run` starts it (gunicorn with `gunicorn.conf.py`, the background",
            "worker beside it, idle once it has made the seed photos' variants) on its default SQLite and on",
            "PostgreSQL, and `bench/reference` (the guide written plainly on django-storages: boto3 presigns",
            "`image_url` and `secure_url` on every call) under the same gunicorn settings on SQLite, signing for the",
            "same SeaweedFS. The servers take turns. Speed-ups are the reference's p50 over the project's.",
            "",
            f"Client: {serving['client'].split(' (')[0]}, one keep-alive connection per run of requests (each run",
            "checked to open one connection), each request timed by curl itself (`%{time_total}`); curl spent",
            f"{serving['client_cpu_us_per_request']:.0f} µs of CPU per request, its start included.",
            "",
            f"| | `secure_url` p50 / p95 | speed-up | list of {serving['images']} images p50 / p95 | speed-up |",
            "|---|---|---|---|---|",
            f"| reference (SQLite) | {serving['reference_secure_url_p50_ms']:.2f} ms "
            f"/ {serving['reference_secure_url_p95_ms']:.2f} ms | 1 "
            f"| {serving['reference_list_p50_ms']:.1f} ms / {serving['reference_list_p95_ms']:.1f} ms | 1 |",
            *[row for server in projects for row in serving_rows(serving, server)],
            "",
            "Each image of the project's list carries seven presigned URLs (the original, and three sizes in WebP and",
            "in AVIF), the reference's two.",
            "",
            house_list_rows(serving),
            reorder_rows(serving),
        ]
    )


def reorder_rows(serving: dict) -> str:
    photos = serving["reordered_photos"]
    rows = []
    for server in (name for name in serving["servers"] if name != "reference"):
        shown, reordered = serving[f"{server}_big_house_p50_ms"], serving[f"{server}_reorder_p50_ms"]
        ratio = reordered / shown
        rows.append(
            f"| {SERVING_NAMES[server]} | {shown:.1f} ms | {reordered:.1f} ms | **{ratio:.2f}x** "
            f"(goal < 2x: {verdict(ratio < 2)}) |"
        )
    return "\n".join(
        [
            f"A house of {photos} photos: its own answer (`GET /api/houses-for-sale/{{id}}/`, every image) against",
            f"`POST .../reorder_images/` of all {photos} (alternately reversed and back; it answers the images too):",
            "",
            "| | house p50 | reorder p50 | reorder / house |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def house_list_rows(serving: dict) -> str:
    page = serving["house_page"]
    light, gallery = serving["house_list_light_sent_bytes"], serving["house_list_gallery_sent_bytes"]
    light_json, gallery_json = serving["house_list_light_bytes"], serving["house_list_gallery_bytes"]
    time_ratio = serving["house_list_light_p50_ms"] / serving["house_list_gallery_p50_ms"]
    return "\n".join(
        [
            f"The project's house list, a page of {page['houses']} houses of {page['photos']} photos each (variants",
            "ready), as an index page asks for it (each house's main image and image count) and with",
            "`?include=images` (every image, as every list answered before):",
            "",
            "| `GET /api/houses-for-sale/?page_size=20` | JSON | sent (gzip) | p50 (not compressed) |",
            "|---|---|---|---|",
            f"| default | {light_json / 1000:.1f} kB (goal ≤ 60 kB: {verdict(light_json <= 60_000)}) "
            f"| {light / 1000:.1f} kB "
            f"| {serving['house_list_light_p50_ms']:.1f} ms, **{time_ratio:.2f}** of `include=images` "
            f"(goal ≤ 0.33: {verdict(time_ratio <= 1 / 3)}) |",
            f"| `&include=images` | {gallery_json / 1000:.1f} kB | {gallery / 1000:.1f} kB "
            f"| {serving['house_list_gallery_p50_ms']:.1f} ms |",
            "",
            "JSON: the answer's body as the server renders it (what a client that does not ask for gzip receives).",
            "Sent: to a client that accepts gzip (browsers, requests and httpx ask for it by default), what",
            "Django's GZipMiddleware sends. A house's cover image (`main_image`) carries five signed URLs of about",
            "370 bytes each: the original, and the two sizes a card needs in WebP and in AVIF.",
            "",
        ]
    )


def cpu_cell(worker_and_s3_ms: tuple[float, float]) -> str:
    worker, s3 = worker_and_s3_ms
    return f"{worker:.0f} ms / {s3:.0f} ms"


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
            "(gunicorn, one worker process)",
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
            "(no decoding, no re-encoding, no metadata stripped), under the same gunicorn settings, in turn:",
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


def variants_section(upload: dict, variant_cost: dict) -> str:
    steps = variant_cost
    one, two = upload["variants_per_second"][1], upload["variants_per_second"][2]
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
            f"(`db_worker`, polled by the client every 20 ms; {upload['ready_samples']} uploads) "
            f"| p50 {upload['ready_p50_s']:.2f} s, p95 {upload['ready_p95_s']:.2f} s |",
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


def avif_section(avif: dict) -> str:
    from property.variants import AVIF_QUALITY, AVIF_SPEED, VARIANT_QUALITY, WEBP_METHOD

    webp, avif_copies = avif["WEBP"], avif["AVIF"]
    qualities = avif["equal_quality_qualities"]
    equal = avif["equal_quality_ratio"]
    return "\n".join(
        [
            f"## 9. AVIF against WebP: a gallery of {avif['pictures']} photographs at the {avif['width']}-px width",
            "",
            "`bench/avif.py`: each picture made into its medium variant by the variants task's own code",
            f"(`make_variants`: WebP at quality {VARIANT_QUALITY}, method {WEBP_METHOD}; AVIF at quality "
            f"{AVIF_QUALITY}, speed {AVIF_SPEED}), each copy's",
            "SSIM measured against the pixels it was encoded from (scikit-image `structural_similarity`, RGB).",
            "",
            "| | bytes | SSIM mean / lowest |",
            "|---|---|---|",
            f"| WebP, as the task makes it | {webp['bytes'] / 1000:.0f} kB | {webp['ssim_mean']:.4f} / "
            f"{webp['ssim_min']:.4f} |",
            f"| AVIF, as the task makes it | {avif_copies['bytes'] / 1000:.0f} kB ({avif['ratio']:.2f}x) "
            f"| {avif_copies['ssim_mean']:.4f} / {avif_copies['ssim_min']:.4f} |",
            f"| AVIF at equal quality: for each picture the smallest AVIF copy whose SSIM is at least its WebP "
            f"copy's | {avif['equal_quality_bytes'] / 1000:.0f} kB, **{equal:.2f}x** WebP (goal ≤ 0.75x: "
            f"{verdict(equal <= 0.75 and avif['equal_quality_matched'] == avif['pictures'])}) | |",
            "",
            f"As the task makes them, the AVIF copy's SSIM is at least the WebP copy's for "
            f"{avif['avif_ssim_at_least_webp']} of {avif['pictures']} pictures.",
            f"At equal quality, {avif['equal_quality_matched']} of {avif['pictures']} pictures found an AVIF copy as "
            f"good (qualities {qualities[0]} to {qualities[-1]}, median {statistics.median(qualities):g}).",
            f"Encoding both copies took {avif['both_cpu_ms_per_picture']:.0f} ms of CPU per picture.",
            "The photographs: Debian's mate-backgrounds nature photos (12, whole and their centre half) and six of",
            "scikit-image's samples; close-ups with soft backgrounds favour AVIF, so a house's photos may gain less.",
            "",
        ]
    )


def s3_budget_section(budget: dict) -> str:
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


def cloudfront_section(cdn: dict) -> str:
    return "\n".join(
        [
            "## 8. CloudFront signed URLs (`AWS_S3_CUSTOM_DOMAIN` + `AWS_CLOUDFRONT_KEY`, RSA 2048)",
            "",
            f"The URLs of a {cdn['images']}-image list signed {cdn['repeats']} times in a row (the same keys, "
            "one stable window), and the list endpoint of section 2 with CloudFront on and off.",
            "",
            "| | |",
            "|---|---|",
            f"| project (`PrivateMediaStorage.url`, one signature per key and window) | {cdn['project_ms']:.1f} ms |",
            f"| django-storages' own CloudFront `url()` (a signature per call) | {cdn['storages_ms']:.1f} ms |",
            f"| speed-up | **{cdn['signing_ratio']:.1f}x** (goal ≥ 10x: {verdict(cdn['signing_ratio'] >= 10)}) |",
            f"| list, S3 presigned URLs | {cdn['presigned_rps']:.1f} requests/s |",
            f"| list, CloudFront signed URLs | {cdn['cloudfront_rps']:.1f} requests/s |",
            f"| S3 / CloudFront time per request | **{cdn['list_ratio']:.2f}** (goal ≤ 1.25: "
            f"{verdict(cdn['list_ratio'] <= 1.25)}) |",
            "",
        ]
    )


def report(
    presign: dict,
    listing: dict,
    upload: dict,
    load: list[dict],
    variant_cost: dict,
    serving: dict,
    budget: dict,
    cdn: dict,
    avif: dict,
) -> str:
    return f"""# Benchmark results

Latest `make bench`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.
S3: local SeaweedFS on loopback. Database: SQLite. Each pair measured side by side in the same run.

## 1. Presigned URLs

| | µs per URL |
|---|---|
| project (`PrivateMediaStorage.url`, fast SigV4 presigner) | {presign["project_us"]:.1f} |
| `boto3` `generate_presigned_url` | {presign["boto3_us"]:.1f} |
| speed-up | **{presign["ratio"]:.1f}x** (goal ≥ 25x: {verdict(presign["ratio"] >= 25)}) |

## 2. `GET /api/property-images/?content_type=house_for_sale&object_id=N&page_size=100` ({listing["images"]} images)

| | requests/s |
|---|---|
| project URL generation | {listing["project_rps"]:.1f} |
| plain `S3Boto3Storage.url()` for each URL (`signed_urls` swapped out) | {listing["plain_rps"]:.1f} |
| speed-up | **{listing["ratio"]:.1f}x** (goal ≥ 5x: {verdict(listing["ratio"] >= 5)}) |

In-process Django test client, one thread, no network between client and view. Every image has its
variants (seven URLs: the original, three sizes in WebP and in AVIF).

{uploads_section(upload)}
{load_section(load)}
{variants_section(upload, variant_cost)}
{serving_section(serving)}
{s3_budget_section(budget)}
{cloudfront_section(cdn)}
{avif_section(avif)}"""


def main() -> None:
    only = set(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="alca-bench-") as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="bench-key", secret_key=secrets.token_hex(20))
        server.start()
        try:
            server.ensure_private_bucket(BUCKET)
            environment = configure_django(server, Path(workdir))
            print("1/9 presigning ...", flush=True)
            presign = bench_presigner() if not only or "presign" in only else None
            print("2/9 list endpoint ...", flush=True)
            listing = bench_list() if not only or "list" in only else None
            print("3/9 bulk upload ...", flush=True)
            upload = bench_uploads(environment, server, Path(workdir)) if not only or "upload" in only else None
            print("4/9 load test ...", flush=True)
            load = bench_load() if not only or "load" in only else None
            print("5/9 variant cost ...", flush=True)
            variant_cost = bench_variant_cost(environment) if not only or "variants" in only else None
            print("6/9 served side by side with the reference build ...", flush=True)
            serving = in_own_process("bench.serving") if not only or "serving" in only else None
            print("7/9 S3 under the time budget ...", flush=True)
            budget = bench_s3_budget(server, BUCKET) if not only or "budget" in only else None
            print("8/9 CloudFront signed URLs ...", flush=True)
            cdn = bench_cloudfront() if not only or "cloudfront" in only else None
            print("9/9 AVIF against WebP ...", flush=True)
            avif = bench_avif() if not only or "avif" in only else None
            if only:
                print(presign, listing, upload, load, variant_cost, serving, budget, cdn, avif)
                return
        finally:
            server.stop()
    text = report(presign, listing, upload, load, variant_cost, serving, budget, cdn, avif)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
