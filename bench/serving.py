"""What `make run` serves against the guide-faithful django-storages build (bench/reference), side by side.

The project as `make run` starts it (backend.server, granian, with the background worker beside it) on its default
SQLite and, when PostgreSQL answers on 127.0.0.1:5432, on PostgreSQL; the reference under the same server settings
on its own SQLite file, signing for the same SeaweedFS. The client is curl: one process per run of requests, one
keep-alive connection (checked: a run opens one connection), each request's time as curl measures it
(`%{time_total}`); the CPU curl itself spends per request is measured and reported. The servers take turns:
`secure_url` latency, and the latency of a page of 50 images. Then the project's house list, a page of 20 houses of
30 photos, as an index page asks for it and with `?include=images`. Prints JSON.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
from pathlib import Path

from bench.curl import Client, curl_version
from bench.photos import photo_jpeg
from bench.project import Served, database_url, manage, postgresql_answers, server_environment
from bench.report import verdict
from localdev.run import api_server_command
from localdev.s3server import LocalS3Server

BUCKET = "alca-serving"
IMAGES = 50
ROUNDS = 3
SECURE_URL_REQUESTS, LIST_REQUESTS = 300, 40  # per server and round
# The house list's page: 20 of 25 houses with 30 photos each.
HOUSES, PHOTOS_PER_HOUSE, HOUSE_PAGE = 25, 30, 20
# The reorder of a house of this many photos, against that house's own answer (every image).
REORDERED_PHOTOS, REORDERS = 200, 30
HOUSE_LISTS = {
    "light": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}",
    "gallery": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}&include=images",
}

SEED_PROJECT = """
import json, sys
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework_simplejwt.tokens import RefreshToken
from property.models import HouseForSale
from property.services.uploads import property_images_store
photo = sys.stdin.buffer.read()
user = get_user_model().objects.create_user("bench-agent", password=None)
house = HouseForSale.objects.create(title="Bench house", address="1 Bench St", price=1, owner=user)
images = []
for start in range(0, {images}, 10):
    files = [SimpleUploadedFile(f"{{start + n}}.jpg", photo) for n in range(10)]
    images += property_images_store(house=house, files=files)
# An index page's data: {houses} houses of {photos} photos each, every photo with its three variants ready (rows
# only: a list signs URLs and never reads S3).
from django.contrib.contenttypes.models import ContentType
from property.variants import configured_variant_keys
from property.models import PropertyImage
kind = ContentType.objects.get_for_model(HouseForSale)
for number in range({houses}):
    listed = HouseForSale.objects.create(title=f"House {{number}}", address="2 Bench St", price=1, owner=user)
    rows = []
    for order in range({photos}):
        # A key of its own (as every stored photo has): signed URLs that repeat would compress unlike real ones.
        key = f"properties/houseforsale/{{listed.pk}}/20261202_120000_{{order:08x}}.jpg"
        variants = {{name: {{**keys, "width": 320, "height": 240}}
                    for name, keys in configured_variant_keys(key).items()}}
        rows.append(PropertyImage(content_type=kind, object_id=listed.pk, image=key, order=order, width=320,
                                  height=240, variants=variants, variants_status="ready", is_main=order == 3))
    PropertyImage.objects.bulk_create(rows)
# A house of {big} photos for the reorder, rows like the above.
big = HouseForSale.objects.create(title="Big house", address="3 Bench St", price=1, owner=user)
rows = []
for order in range({big}):
    key = f"properties/houseforsale/{{big.pk}}/20261202_120000_{{order:08x}}.jpg"
    variants = {{name: {{**keys, "width": 320, "height": 240}} for name, keys in configured_variant_keys(key).items()}}
    rows.append(PropertyImage(content_type=kind, object_id=big.pk, image=key, order=order, width=320, height=240,
                              variants=variants, variants_status="ready"))
big_ids = [row.pk for row in PropertyImage.objects.bulk_create(rows)]
print(json.dumps({{"token": str(RefreshToken.for_user(user).access_token), "property": house.pk,
                  "image": images[0].pk, "keys": [image.image.name for image in images],
                  "big_house": big.pk, "big_ids": big_ids}}))
"""

SEED_REFERENCE = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from rest_framework_simplejwt.tokens import RefreshToken
from bench.reference.models import PropertyImage
keys = json.load(sys.stdin)
user = get_user_model().objects.create_user("bench-agent", password=None)
house_type = ContentType.objects.get_for_model(get_user_model())  # any model: the reference only filters on it
images = PropertyImage.objects.bulk_create(
    PropertyImage(content_type=house_type, object_id=1, image=key, order=n) for n, key in enumerate(keys)
)
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token), "property": 1, "image": images[0].pk}))
"""


def seeded_project(name: str, database: str, s3: dict[str, str], workdir: Path) -> Served:
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_serving_{database}")}
    manage(environment, "migrate", "--noinput")
    seed = SEED_PROJECT.format(images=IMAGES, houses=HOUSES, photos=PHOTOS_PER_HOUSE, big=REORDERED_PHOTOS)
    seeded = json.loads(manage(environment, "shell", "-c", seed, stdin=photo_jpeg(320, 240)).strip().splitlines()[-1])
    return Served(name, api_server_command("PORT", dev=False), environment, seeded, worker=True)


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="alca-serving-") as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="serve-key", secret_key=secrets.token_hex(20))
        server.start()
        served: list[Served] = []
        try:
            server.ensure_private_bucket(BUCKET)
            s3 = server_environment(server, BUCKET)
            databases = ["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"]
            for database in databases:
                served.append(seeded_project(f"project_{database}", database, s3, Path(workdir)))
            reference_env = {
                **os.environ,
                **s3,
                "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
                "REFERENCE_DATABASE_URL": f"sqlite:///{workdir}/reference.sqlite3",
            }
            manage(reference_env, "migrate", "--run-syncdb", "--noinput")
            keys = json.dumps(served[0].seed["keys"]).encode()
            reference_seed = json.loads(
                manage(reference_env, "shell", "-c", SEED_REFERENCE, stdin=keys).strip().splitlines()[-1]
            )
            reference_command = [*api_server_command("PORT", dev=False), "bench.reference.wsgi:application"]
            served.append(Served("reference", reference_command, reference_env, reference_seed, worker=False))
            paths = {
                api: (
                    f"/api/property-images/{api.seed['image']}/secure_url/",
                    f"/api/property-images/?object_id={api.seed['property']}&page_size={IMAGES}"
                    + ("" if api.name == "reference" else "&content_type=house_for_sale"),
                )
                for api in served
            }
            client = Client()
            for api in served:  # the same answers, warm: connections, caches, the URL memo; the worker caught up
                secure_url, listing = paths[api]
                assert len(api.get(listing).json()["results"]) == IMAGES
                api.wait_for_variants(listing)
                client.times_ms(api.base_url + secure_url, api.seed["token"], 50)
                client.times_ms(api.base_url + listing, api.seed["token"], 10)
            project = served[0]
            # The JSON, and what is sent for it to a client that accepts gzip (requests asks for it, as browsers do).
            house_lists = {name: project.get(path) for name, path in HOUSE_LISTS.items()}
            house_list_bytes = {name: len(response.content) for name, response in house_lists.items()}
            house_list_sent = {name: int(response.headers["Content-Length"]) for name, response in house_lists.items()}
            house_list_ms: dict[str, list[float]] = {name: [] for name in HOUSE_LISTS}
            secure_url_ms: dict[str, list[float]] = {api.name: [] for api in served}
            list_ms: dict[str, list[float]] = {api.name: [] for api in served}
            shown_ms: dict[str, list[float]] = {api.name: [] for api in served[:-1]}
            reorder_ms: dict[str, list[float]] = {api.name: [] for api in served[:-1]}
            for _ in range(ROUNDS):  # taking turns, so that all meet the same machine
                for api in served:
                    secure_url, listing = paths[api]
                    secure_url_ms[api.name] += client.times_ms(
                        api.base_url + secure_url, api.seed["token"], SECURE_URL_REQUESTS
                    )
                    list_ms[api.name] += client.times_ms(api.base_url + listing, api.seed["token"], LIST_REQUESTS)
                for name, path in HOUSE_LISTS.items():  # the project's house list, with and without ?include=images
                    house_list_ms[name] += client.times_ms(project.base_url + path, project.seed["token"], 30)
                for api in served[:-1]:  # each project server: a house of 200 photos, shown and reordered
                    house_path = f"/api/houses-for-sale/{api.seed['big_house']}/"
                    shown_ms[api.name] += client.times_ms(api.base_url + house_path, api.seed["token"], REORDERS)
                    ids = api.seed["big_ids"]
                    bodies = [json.dumps({"ids": ids[::-1] if n % 2 == 0 else ids}) for n in range(REORDERS)]
                    reorder_ms[api.name] += client.post_times_ms(
                        api.base_url + house_path + "reorder_images/", api.seed["token"], bodies
                    )
        finally:
            for api in served:
                api.stop()
            server.stop()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[18]

    return {
        "images": IMAGES,
        "servers": [api.name for api in served],
        "client": curl_version(),
        "client_cpu_us_per_request": client.cpu_seconds / client.requests * 1e6,
        **{f"{name}_secure_url_p50_ms": statistics.median(values) for name, values in secure_url_ms.items()},
        **{f"{name}_secure_url_p95_ms": p95(values) for name, values in secure_url_ms.items()},
        **{f"{name}_list_p50_ms": statistics.median(values) for name, values in list_ms.items()},
        **{f"{name}_list_p95_ms": p95(values) for name, values in list_ms.items()},
        "house_page": {"houses": HOUSE_PAGE, "photos": PHOTOS_PER_HOUSE},
        **{f"house_list_{name}_bytes": size for name, size in house_list_bytes.items()},
        **{f"house_list_{name}_sent_bytes": size for name, size in house_list_sent.items()},
        **{f"house_list_{name}_p50_ms": statistics.median(values) for name, values in house_list_ms.items()},
        "reordered_photos": REORDERED_PHOTOS,
        **{f"{name}_big_house_p50_ms": statistics.median(values) for name, values in shown_ms.items()},
        **{f"{name}_reorder_p50_ms": statistics.median(values) for name, values in reorder_ms.items()},
    }


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
            "`bench/serving.py`: the project as `make run` starts it (backend.server, granian,, the background",
            "worker beside it, idle once it has made the seed photos' variants) on its default SQLite and on",
            "PostgreSQL, and `bench/reference` (the guide written plainly on django-storages: boto3 presigns",
            "`image_url` and `secure_url` on every call) under the same server settings on SQLite, signing for the",
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


if __name__ == "__main__":
    print(json.dumps(main()))
