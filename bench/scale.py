"""Each read a client makes, with 1,000 houses and with 100,000 (issue 35), as `make run` serves them.

On SQLite (what `make run` starts) and, when it answers on 127.0.0.1:5432, PostgreSQL: the API server
(backend.server) and the background worker beside it, a real photo uploaded through the API and its variants made,
then the catalogue grown with SQL from that house and photo (bench/catalogue.py: houses for sale and as many for
rent, 10 photo rows each, sharing the photo's objects) to 1,000 houses and measured, then to 100,000 and measured
again. Each answer is built (API_ANSWER_CACHE=False; the lists' counts are kept). Each read is timed over one
keep-alive connection (requests.Session): its first answer (the count not yet cached), then the p50 of READS more.
`python -m bench.scale [sqlite|postgresql]`; prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import requests

from bench.photos import photo_jpeg
from bench.project import Served, database_url, each_database, manage
from bench.report import verdict
from bench.sections import databases_chosen, run_in_own_process
from localdev.run import api_server_command

BUCKET = "alca-scale"
SIZES = (1_000, 100_000)
PHOTOS = 10
READS = 30
PAGE = 20

GROW = """
import json, sys
from django.contrib.auth import get_user_model
from property.models import HouseForSale, PropertyImage
from bench.catalogue import catalogue_grow
owner = get_user_model().objects.get(username="bench-agent")
have = HouseForSale.objects.count()
seed = PropertyImage.objects.order_by("id").first()
catalogue_grow(seed=seed, owner_id=owner.pk, houses={size} - have, photos={photos})
newest = HouseForSale.objects.order_by("-created_at", "-id")
print(json.dumps({{"house": newest.first().pk, "image": PropertyImage.objects.order_by("-id").first().pk,
                  "middle": newest[{size} // 2].pk, "owner": owner.pk}}))
"""

# A cursor from the middle of the list, as the `next` link of a walk that far would carry it.
MIDDLE_CURSOR = """
from property.models import HouseForSale
from property.pagination import Keyset
houses = HouseForSale.objects.all()
print(Keyset(houses).cursor(houses.get(pk={middle}), forward=True))
"""

SEED = """
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
user = get_user_model().objects.create_user("bench-agent", password=None, is_staff=True)
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token)}))
"""


def reads(grown: dict, size: int, cursor: str) -> dict[str, str]:
    last = -(-size // PAGE)
    house = grown["house"]
    return {
        "house list, page 1": "/api/houses-for-sale/",
        "house list, middle page": f"/api/houses-for-sale/?page={last // 2}",
        "house list, last page": f"/api/houses-for-sale/?page={last}",
        "house list, by cursor from the middle": f"/api/houses-for-sale/?cursor={cursor}",
        "`?city=Madrid`": "/api/houses-for-sale/?city=Madrid",
        "`?min_price=300000&max_price=400000&bedrooms=3`": "/api/houses-for-sale/?min_price=300000&max_price=400000"
        "&bedrooms=3",
        "`?owner=`": f"/api/houses-for-sale/?owner={grown['owner']}",
        "rent list, page 1": "/api/houses-for-rent/",
        "image list, page 1": "/api/property-images/",
        "a house's detail": f"/api/houses-for-sale/{house}/",
        "a house's photos": f"/api/property-images/?content_type=house_for_sale&object_id={house}",
        "`secure_url`": f"/api/property-images/{grown['image']}/secure_url/",
    }


def timed(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return elapsed


def reads_timed(served: Served, paths: dict[str, str]) -> dict[str, dict]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {served.seed['token']}"
    figures = {}
    for name, path in paths.items():
        first = timed(session, served.base_url + path)
        times = [timed(session, served.base_url + path) for _ in range(READS)]
        figures[name] = {"first_ms": first, "p50_ms": statistics.median(times)}
    return figures


def post(served: Served, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {served.seed['token']}"}
    response = requests.post(served.base_url + path, headers=headers, timeout=60, **kwargs)
    response.raise_for_status()
    return response


def bench_database(database: str, s3: dict[str, str], workdir: Path) -> dict:
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_scale_{database}")}
    # Each answer built (the lists' counts still kept): what a read costs the database at this size. make run keeps
    # answers while nothing changes (section 11), which would time the cache here, not the catalogue.
    environment["API_ANSWER_CACHE"] = "False"
    manage(environment, "migrate", "--noinput")
    seed = json.loads(manage(environment, "shell", "-c", SEED).strip().splitlines()[-1])
    served = Served(f"project_{database}", api_server_command("PORT", dev=False), environment, seed, worker=True)
    try:
        house = post(
            served,
            "/api/houses-for-sale/",
            json={"title": "Seed", "address": "1 Seed St", "city": "Madrid", "price": "350000.00", "bedrooms": 3},
        ).json()
        post(
            served,
            f"/api/houses-for-sale/{house['id']}/upload_images/",
            files={"images": ("seed.jpg", photo_jpeg(1600, 1200), "image/jpeg")},
            data={"is_main": "true"},
        )
        served.wait_for_variants(f"/api/property-images/?content_type=house_for_sale&object_id={house['id']}")
        results = {}
        for size in SIZES:
            started = time.monotonic()
            script = GROW.format(size=size, photos=PHOTOS)
            grown = json.loads(manage(environment, "shell", "-c", script).strip().splitlines()[-1])
            grow_seconds = time.monotonic() - started
            cursor = manage(environment, "shell", "-c", MIDDLE_CURSOR.format(**grown)).strip().splitlines()[-1]
            results[size] = {"grow_seconds": grow_seconds, "reads": reads_timed(served, reads(grown, size, cursor))}
        return results
    finally:
        served.stop()


OWN_PROCESS = True


def measure(args: list[str]) -> dict:
    """Every read at both sizes on each database chosen (args)."""
    return each_database(databases_chosen(args), bucket=BUCKET, prefix="alca-scale-", bench_database=bench_database)


# Goals (issue 35): each read's p50 at 100,000 houses within this many times its p50 at 1,000.
GROWTH_GOALS = {"sqlite": 3.0, "postgresql": 2.0}


def section(scale: dict | None) -> str:
    if not scale:
        return ""
    lines = [
        f"## Reads at {SIZES[0]:,} and {SIZES[1]:,} houses (`bench/scale.py`)",
        "",
        "What `make run` serves (its API server, the worker running), one keep-alive connection; the catalogue grown "
        f"with SQL from one uploaded photo ({PHOTOS} photo rows a house, houses for sale and as many for rent). p50 of "
        f"{READS} reads after a first one (the first counts the list; later pages take the count from the cache "
        "until a write). Every answer built (`API_ANSWER_CACHE=False`): `make run` answers a repeated read from its "
        "kept answers in 2-4 ms at either size.",
        "",
    ]
    for database, sizes in scale.items():
        small, large = (sizes[str(size)] if str(size) in sizes else sizes[size] for size in SIZES)
        goal = GROWTH_GOALS[database]
        lines += [
            f"### {database} (grown in {large['grow_seconds']:.0f} s)",
            "",
            f"| read | p50 at {SIZES[0]:,} | p50 at {SIZES[1]:,} | growth (goal ≤ {goal:g}x) | first answer at "
            f"{SIZES[1]:,} |",
            "|---|---|---|---|---|",
        ]
        for name, figures in large["reads"].items():
            before = small["reads"][name]["p50_ms"]
            growth = figures["p50_ms"] / before
            lines.append(
                f"| {name} | {before:.1f} ms | {figures['p50_ms']:.1f} ms | {growth:.2f}x {verdict(growth <= goal)} "
                f"| {figures['first_ms']:.0f} ms |"
            )
        first_page = large["reads"]["house list, page 1"]["p50_ms"]
        last_page = large["reads"]["house list, last page"]["first_ms"]
        lines += [
            "",
            f"House list's first page at {SIZES[1]:,}: {first_page:.1f} ms"
            + (f" (goal < 40 ms: {verdict(first_page < 40)})" if database == "postgresql" else "")
            + f"; last page, first answer: {last_page:.0f} ms (goal < 250 ms: {verdict(last_page < 250)}).",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    run_in_own_process(measure, section)
