"""A page of the feed of changes with 1,000 changes recorded and with 1,000,000 (issue 39), as `make run` serves it.

On SQLite (what `make run` starts) and, when it answers on 127.0.0.1:5432, PostgreSQL: the API server and the
worker beside it, one photo uploaded through the API, a catalogue of 1,000 houses for sale and as many for rent with
10 photo rows each grown from it with SQL (bench/catalogue.py), then the feed grown with SQL (changes_grow: four in
five of the changes are of photos, one in five of houses, spread over the catalogue's rows; some of their objects
are gone, so the entry is a tombstone) to 1,000 changes and measured, then to 1,000,000 and measured again. Each read
is a page of the default 50 entries (and one of 100), each with its object as the lists answer it (a photo's URLs
signed), timed over one keep-alive connection: the p50 of READS after a first one.
`python -m bench.changes [sqlite|postgresql]`; prints its section of RESULTS.md and JSON.
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
from bench.scale import SEED, post, timed
from bench.sections import databases_chosen, run_in_own_process
from localdev.run import api_server_command

BUCKET = "alca-changes"
SIZES = (1_000, 1_000_000)
HOUSES = 1_000
READS = 30
PAGE = 100
# Changes written in one transaction (and so, on PostgreSQL, under one transaction id).
BATCH = 10_000
ACTIONS = ["updated", "variants_ready", "reordered", "main_changed", "created"]

GROW = """
import json
from django.contrib.auth import get_user_model
from property.models import PropertyImage
from bench.catalogue import catalogue_grow
from bench.changes import changes_grow
if {catalogue}:
    owner = get_user_model().objects.get(username="bench-agent")
    catalogue_grow(seed=PropertyImage.objects.order_by("id").first(), owner_id=owner.pk, houses={houses}, photos=10)
print(json.dumps(changes_grow(total={total}, page={page})))
"""


def changes_grow(*, total: int, page: int) -> dict[str, str]:
    """Changes up to `total`, of the catalogue's houses and photos, BATCH a transaction; then the cursors a reader
    holds: `page` changes before the end (a reader following the feed) and in the middle (one catching up)."""
    from django.db import connection, transaction

    from bench.catalogue import id_range, numbers
    from property.models import Change, HouseForSale, PropertyImage
    from property.services.change_feed import Position

    table = connection.ops.quote_name(Change._meta.db_table)
    first_image, last_image = id_range(PropertyImage)
    first_house, last_house = id_range(HouseForSale)
    image_span, house_span = last_image - first_image + 1, last_house - first_house + 1
    actions = " ".join(f"WHEN {number} THEN '{action}'" for number, action in enumerate(ACTIONS))
    have = Change.objects.count()
    for start in range(have, total, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""{numbers(start, min(BATCH, total - start))}
                INSERT INTO {table} (kind, object_id, house_kind, house_id, action, changed_at)
                SELECT CASE WHEN n % 5 = 0 THEN 'house_for_sale' ELSE 'image' END,
                       CASE WHEN n % 5 = 0 THEN {first_house} + (n * 7) % {house_span}
                            ELSE {first_image} + (n * 13) % ({image_span} + 50) END,
                       'house_for_sale', {first_house} + (n * 7) % {house_span},
                       CASE (n % {len(ACTIONS)}) {actions} END, CURRENT_TIMESTAMP
                FROM numbers"""  # noqa: S608 - names from the models, integers
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    ordered = Change.objects.order_by("transaction", "id")
    return {
        "changes": str(Change.objects.count()),
        "following": Position.of_change(ordered[total - page - 1]).cursor,
        "catching_up": Position.of_change(ordered[total // 2]).cursor,
    }


def pages_timed(served: Served, cursors: dict[str, str]) -> dict[str, dict]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {served.seed['token']}"
    reads = {
        "a page at the end (a reader following)": f"/api/changes/?after={cursors['following']}",
        "a page in the middle (a reader catching up)": f"/api/changes/?after={cursors['catching_up']}",
        f"a page of {PAGE} at the end": f"/api/changes/?after={cursors['following']}&page_size={PAGE}",
        "the first call (no cursor)": "/api/changes/",
    }
    figures = {}
    for name, path in reads.items():
        first = timed(session, served.base_url + path)
        times = [timed(session, served.base_url + path) for _ in range(READS)]
        figures[name] = {"first_ms": first, "p50_ms": statistics.median(times)}
    return figures


def bench_database(database: str, s3: dict[str, str], workdir: Path) -> dict:
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_changes_{database}")}
    manage(environment, "migrate", "--noinput")
    seed = json.loads(manage(environment, "shell", "-c", SEED).strip().splitlines()[-1])
    served = Served(f"project_{database}", api_server_command("PORT", dev=False), environment, seed, worker=True)
    try:
        house = post(served, "/api/houses-for-sale/", json={"title": "Seed", "address": "1 St", "price": "1"}).json()
        files = {"images": ("seed.jpg", photo_jpeg(1600, 1200), "image/jpeg")}
        post(served, f"/api/houses-for-sale/{house['id']}/upload_images/", files=files)
        served.wait_for_variants(f"/api/property-images/?content_type=house_for_sale&object_id={house['id']}")
        results = {}
        for size in SIZES:
            started = time.monotonic()
            script = GROW.format(catalogue=size == SIZES[0], houses=HOUSES, total=size, page=PAGE)
            grown = json.loads(manage(environment, "shell", "-c", script).strip().splitlines()[-1])
            results[size] = {"grow_seconds": time.monotonic() - started, "reads": pages_timed(served, grown)}
        return results
    finally:
        served.stop()


OWN_PROCESS = True


def measure(args: list[str]) -> dict:
    """A page of the feed on each database chosen (args)."""
    return each_database(databases_chosen(args), bucket=BUCKET, prefix="alca-changes-", bench_database=bench_database)


# Goals (issue 39): a page at 1,000,000 changes within 2x its time at 1,000, and under 20 ms p50 on PostgreSQL.
GROWTH_GOAL = 2.0
POSTGRESQL_PAGE_GOAL_MS = 20.0


def section(changes: dict | None) -> str:
    if not changes:
        return ""
    lines = [
        f"## The feed of changes at {SIZES[0]:,} and {SIZES[1]:,} changes (`bench/changes.py`)",
        "",
        f"What `make run` serves (its API server, the worker running), one keep-alive connection; {HOUSES:,} houses "
        f"of each kind with 10 photos, the changes grown with SQL over them. p50 of {READS} reads after a first one "
        f"of a page of the feed's default size (50 entries) and of {PAGE}, each entry with its house or photo as the "
        "lists answer it (a photo's seven URLs signed).",
        "",
    ]
    for database, sizes in changes.items():
        small, large = (sizes[str(size)] if str(size) in sizes else sizes[size] for size in SIZES)
        lines += [
            f"### {database} (grown in {large['grow_seconds']:.0f} s)",
            "",
            f"| read | p50 at {SIZES[0]:,} | p50 at {SIZES[1]:,} | growth (goal ≤ {GROWTH_GOAL:g}x) |",
            "|---|---|---|---|",
        ]
        for name, figures in large["reads"].items():
            before = small["reads"][name]["p50_ms"]
            growth = figures["p50_ms"] / before
            met = verdict(growth <= GROWTH_GOAL)
            lines.append(f"| {name} | {before:.1f} ms | {figures['p50_ms']:.1f} ms | {growth:.2f}x {met} |")
        if database == "postgresql":
            following = large["reads"]["a page at the end (a reader following)"]["p50_ms"]
            lines += [
                "",
                f"A page at {SIZES[1]:,} changes: {following:.1f} ms (goal < {POSTGRESQL_PAGE_GOAL_MS:g} ms: "
                f"{verdict(following < POSTGRESQL_PAGE_GOAL_MS)}).",
            ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    run_in_own_process(measure, section)
