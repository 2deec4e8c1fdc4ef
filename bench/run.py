"""`make bench`: presigning speed, list throughput and bulk-upload time, each measured side by side in one run.

Runs against a local SeaweedFS started on free ports and a throw-away SQLite database, prints
the figures and writes them, with the machine they came from, to bench/RESULTS.md.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.avif import avif_section
from bench.avif import main as bench_avif
from bench.changes import changes_section
from bench.cloudfront import bench_cloudfront, cloudfront_section
from bench.django_setup import BUCKET, configure_django
from bench.feed_sync import feed_sync_section
from bench.heic import bench_heic, heic_section
from bench.listing import bench_list
from bench.load import load_section
from bench.presign import bench_presigner
from bench.referee import referee_section
from bench.report import machine, verdict
from bench.s3_budget import main as bench_s3_budget
from bench.s3_budget import s3_budget_section
from bench.scale import scale_section
from bench.serving import serving_section
from bench.share_links import bench_share_links, share_links_section
from bench.uploads import main as bench_uploads
from bench.uploads import uploads_section
from bench.variant_cost import bench_variant_cost, variants_section
from localdev.s3server import LocalS3Server

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def in_own_process(module: str, *args: str) -> dict:
    """The JSON that `python -m module args` prints last: benchmarks that need their own database and servers."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=BASE_DIR, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def postgresql_answers() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


def bench_feed_sync() -> dict[str, list[dict]]:
    """Three runs of 60 s on SQLite, and on PostgreSQL when it answers here."""
    databases = ["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"]
    return {database: in_own_process("bench.feed_sync", database) for database in databases}


def bench_load() -> list[dict]:
    """The load test against what `make run` starts (SQLite), and against the same server on PostgreSQL
    when it answers here."""
    databases = ["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"]
    return [in_own_process("bench.load", database) for database in databases]


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
    scale: dict,
    referee: dict,
    heic: dict,
    shared: dict,
    changes: dict,
    synced: dict,
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
{avif_section(avif)}
{scale_section(scale)}
{referee_section(referee)}
{heic_section(heic)}
{share_links_section(shared)}
{changes_section(changes)}
{feed_sync_section(synced)}"""


def main() -> None:
    only = set(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="alca-bench-") as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="bench-key", secret_key=secrets.token_hex(20))
        server.start()
        try:
            server.ensure_private_bucket(BUCKET)
            environment = configure_django(server, Path(workdir))
            print("1/15 presigning ...", flush=True)
            presign = bench_presigner() if not only or "presign" in only else None
            print("2/15 list endpoint ...", flush=True)
            listing = bench_list() if not only or "list" in only else None
            print("3/15 bulk upload ...", flush=True)
            upload = bench_uploads(environment, server, Path(workdir)) if not only or "upload" in only else None
            print("4/15 load test ...", flush=True)
            load = bench_load() if not only or "load" in only else None
            print("5/15 variant cost ...", flush=True)
            variant_cost = bench_variant_cost(environment) if not only or "variants" in only else None
            print("6/15 served side by side with the reference build ...", flush=True)
            serving = in_own_process("bench.serving") if not only or "serving" in only else None
            print("7/15 S3 under the time budget ...", flush=True)
            budget = bench_s3_budget(server, BUCKET) if not only or "budget" in only else None
            print("8/15 CloudFront signed URLs ...", flush=True)
            cdn = bench_cloudfront() if not only or "cloudfront" in only else None
            print("9/15 AVIF against WebP ...", flush=True)
            avif = bench_avif() if not only or "avif" in only else None
            print("10/15 reads at 1,000 and 100,000 houses ...", flush=True)
            scale = in_own_process("bench.scale") if not only or "scale" in only else None
            print("11/15 against the shared reference ...", flush=True)
            referee = in_own_process("bench.referee") if not only or "referee" in only else None
            print("12/15 a phone's HEIC against the same photo as JPEG ...", flush=True)
            heic = bench_heic(environment) if not only or "heic" in only else None
            print("13/15 share links: a house's photos as one ZIP, unknown tokens ...", flush=True)
            shared = bench_share_links(environment) if not only or "share_links" in only else None
            print("14/15 the feed of changes at 1,000 and 1,000,000 changes ...", flush=True)
            changes = in_own_process("bench.changes") if not only or "changes" in only else None
            print("15/15 a copy kept by the feed under eight writers ...", flush=True)
            synced = bench_feed_sync() if not only or "feed_sync" in only else None
            if only:
                sections = (presign, listing, upload, load, variant_cost, serving, budget, cdn, avif, scale, referee)
                print(*sections, heic, shared, changes, synced)
                return
        finally:
            server.stop()
    text = report(
        presign,
        listing,
        upload,
        load,
        variant_cost,
        serving,
        budget,
        cdn,
        avif,
        scale,
        referee,
        heic,
        shared,
        changes,
        synced,
    )
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
