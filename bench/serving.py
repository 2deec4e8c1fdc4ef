"""What `make run` serves against the guide-faithful django-storages build (bench/reference), side by side.

The project as `make run` starts it (backend.server, granian, with the background worker beside it) on its default
SQLite and, when PostgreSQL answers on 127.0.0.1:5432, on PostgreSQL; the reference under the same server settings
on its own SQLite file, signing for the same SeaweedFS. The client is curl: one process per run of requests, one
keep-alive connection (checked: a run opens one connection), each request's time as curl measures it
(`%{time_total}`); the CPU curl itself spends per request is measured and reported. The servers take turns:
`secure_url` latency, and the latency of a page of 50 images. Then the project's house list, a page of 20 houses of
30 photos, as an index page asks for it and with `?include=images`. `python -m bench.serving [sqlite] [postgresql]`.
"""

from __future__ import annotations

import json
import secrets
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.curl import Client, curl_version
from bench.project import Served, server_environment
from bench.report import verdict
from bench.sections import databases_chosen, run_in_own_process
from bench.serving_seed import HOUSE_PAGE, IMAGES, PHOTOS_PER_HOUSE, REORDERED_PHOTOS, seeded_project, seeded_reference
from localdev.s3server import LocalS3Server

BUCKET = "alca-serving"
ROUNDS = 3
SECURE_URL_REQUESTS, LIST_REQUESTS, HOUSE_LIST_REQUESTS, REORDERS = 300, 40, 30, 30  # per server and round
HOUSE_LISTS = {
    "light": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}",
    "gallery": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}&include=images",
}

OWN_PROCESS = True


def measure(args: list[str]) -> dict:
    """The project on each database chosen (args) and the reference, seeded alike on one SeaweedFS, timed in turns."""
    with tempfile.TemporaryDirectory(prefix="alca-serving-") as directory:
        workdir = Path(directory)
        server = LocalS3Server(data_dir=workdir / "s3", access_key="serve-key", secret_key=secrets.token_hex(20))
        server.start()
        served: list[Served] = []
        try:
            server.ensure_private_bucket(BUCKET)
            s3 = server_environment(server, BUCKET)
            for database in databases_chosen(args):
                served.append(seeded_project(f"project_{database}", database, s3, workdir))
            served.append(seeded_reference(served[0].seed["keys"], s3, workdir))
            return {**answers_timed(served), **house_lists_measured(served[0])}
        finally:
            for api in served:
                api.stop()
            server.stop()


def image_paths(api: Served) -> tuple[str, str]:
    """The server's `secure_url` of the house's first photo, and its list of the house's IMAGES photos."""
    listing = f"/api/property-images/?object_id={api.seed['property']}&page_size={IMAGES}"
    if api.name != "reference":
        listing += "&content_type=house_for_sale"
    return f"/api/property-images/{api.seed['image']}/secure_url/", listing


def answers_timed(served: list[Served]) -> dict:
    """p50 and p95 of each server's answers (keys `{server}_{answer}_p50_ms`), ROUNDS rounds taken in turn so
    that all meet the same machine; the last server is the reference, which has no house lists or reorder."""
    client = Client()
    for api in served:  # the same answers, warm: connections, caches, the URL memo; the worker caught up
        secure_url, listing = image_paths(api)
        assert len(api.get(listing).json()["results"]) == IMAGES
        api.wait_for_variants(listing)
        client.times_ms(api.base_url + secure_url, api.seed["token"], 50)
        client.times_ms(api.base_url + listing, api.seed["token"], 10)
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(ROUNDS):
        for api in served:
            secure_url, listing = image_paths(api)
            token = api.seed["token"]
            times[f"{api.name}_secure_url"] += client.times_ms(api.base_url + secure_url, token, SECURE_URL_REQUESTS)
            times[f"{api.name}_list"] += client.times_ms(api.base_url + listing, token, LIST_REQUESTS)
        for name, path in HOUSE_LISTS.items():  # the project's house list, with and without ?include=images
            times[f"house_list_{name}"] += client.times_ms(
                served[0].base_url + path, served[0].seed["token"], HOUSE_LIST_REQUESTS
            )
        for api in served[:-1]:  # each project server: a house of 200 photos, shown and reordered
            big_house = f"{api.base_url}/api/houses-for-sale/{api.seed['big_house']}/"
            times[f"{api.name}_big_house"] += client.times_ms(big_house, api.seed["token"], REORDERS)
            ids = api.seed["big_ids"]
            bodies = [json.dumps({"ids": ids[::-1] if n % 2 == 0 else ids}) for n in range(REORDERS)]
            times[f"{api.name}_reorder"] += client.post_times_ms(
                f"{big_house}reorder_images/", api.seed["token"], bodies
            )
    return {
        "images": IMAGES,
        "servers": [api.name for api in served],
        "client": curl_version(),
        "client_cpu_us_per_request": client.cpu_seconds / client.requests * 1e6,
        "reordered_photos": REORDERED_PHOTOS,
        **{f"{answer}_p50_ms": statistics.median(values) for answer, values in times.items()},
        **{f"{answer}_p95_ms": statistics.quantiles(values, n=20)[18] for answer, values in times.items()},
    }


def house_lists_measured(project: Served) -> dict:
    """The house list's JSON, and what is sent for it to a client that accepts gzip (requests asks for it, as
    browsers do)."""
    house_lists = {name: project.get(path) for name, path in HOUSE_LISTS.items()}
    return {
        "house_page": {"houses": HOUSE_PAGE, "photos": PHOTOS_PER_HOUSE},
        **{f"house_list_{name}_bytes": len(response.content) for name, response in house_lists.items()},
        **{
            f"house_list_{name}_sent_bytes": int(response.headers["Content-Length"])
            for name, response in house_lists.items()
        },
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


def section(serving: dict | None) -> str:
    if not serving:
        return ""
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
    run_in_own_process(measure, section)
