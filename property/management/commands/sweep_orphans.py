"""`manage.py sweep_orphans`: find objects without a row and rows without an object; --delete removes them. It also
reports (and deletes) the claims of direct uploads completed over a day ago.

It walks the bucket and the rows side by side, each in key order, as a merge: memory holds a page of each and the
orphans found, not every key (a million photos have seven million keys), whatever the catalogue's size. S3 lists keys
in byte order; the rows are read ordered by their original's key in byte order too (COLLATE "C" on PostgreSQL), and
each row's variant keys follow its original's (`{stem}_{width}w.{ext}` after `{stem}.{ext}`: models.py's layout). A
listing out of order stops the command before it deletes anything."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models.functions import Collate
from tqdm import tqdm

from backend.s3 import S3ImageService
from property.management.base import ServiceCommand
from property.models import IMAGES_PREFIX, PropertyImage, variant_entry_keys

# Direct uploads post there first; complete_upload moves them.
from property.services.direct_uploads import STAGING_PREFIX, staged_upload_claims_expired

# Rows read from the database at a time, and deleted in one transaction.
BATCH = 2000


class ListingOutOfOrder(CommandError):
    pass


def row_keys_in_order() -> Iterator[tuple[str, bool]]:
    """(key, whether it is an original) of every row's objects, in byte order, each key once (rows may share one)."""
    byte_order = Collate("image", "C" if connection.vendor == "postgresql" else "BINARY")
    rows = PropertyImage.objects.order_by(byte_order, "pk").values_list("image", "variants")
    # Keys read and not yet handed out (a row's variants wait for the next original), each once.
    pending: list[tuple[str, bool]] = []
    queued: set[str] = set()
    for original, variants in rows.iterator(chunk_size=BATCH):
        while pending and pending[0][0] < original:
            key = heapq.heappop(pending)
            queued.discard(key[0])
            yield key
        keys = [
            (original, True),
            *((key, False) for variant in (variants or {}).values() for key in variant_entry_keys(variant)),
        ]
        for key in keys:
            if key[0] not in queued:
                queued.add(key[0])
                heapq.heappush(pending, key)
    while pending:
        yield heapq.heappop(pending)


def objects_in_order(s3: S3ImageService, prefix: str) -> Iterator[tuple[str, datetime]]:
    last = ""
    for key, modified in s3.list_objects(prefix=prefix):
        if key < last:
            raise ListingOutOfOrder(f"the bucket listed {key} after {last}: not in key order, nothing was deleted")
        last = key
        yield key, modified


def orphans(s3: S3ImageService, cutoff: datetime) -> tuple[list[str], list[str]]:
    """(objects older than `cutoff` that no row names, originals that rows name and the bucket lacks)."""
    objects_without_row, originals_missing = [], []
    rows = row_keys_in_order()
    row = next(rows, None)
    listing = tqdm(objects_in_order(s3, IMAGES_PREFIX), desc="objects checked", unit=" obj", disable=None)
    for key, modified in listing:
        while row is not None and row[0] < key:
            if row[1]:
                originals_missing.append(row[0])
            row = next(rows, None)
        if row is not None and row[0] == key:
            row = next(rows, None)
        elif modified < cutoff:
            objects_without_row.append(key)
    for key, is_original in [*([row] if row else []), *rows]:
        if is_original:
            originals_missing.append(key)
    return objects_without_row, originals_missing


class Command(ServiceCommand):
    help = (
        "Report objects under properties/ that no image row names, image rows whose object is missing, "
        "and direct-upload staging objects under uploads/ older than a day. "
        "Dry run unless --delete is given. Objects younger than --min-age may belong to an upload in flight "
        "and are left alone. Claims of direct uploads completed over a day ago (kept so that a client that "
        "retries completing one gets its image back) are reported and deleted the same way."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true", help="Delete the orphans (default: only report).")
        parser.add_argument(
            "--min-age", type=int, default=3600, help="Seconds an orphan object must have existed (default 3600)."
        )
        parser.add_argument(
            "--staging-max-age",
            type=int,
            default=86400,
            help="Seconds after which an unfinished direct upload under uploads/ is an orphan (default a day).",
        )

    def handle(self, *args, delete: bool, min_age: int, staging_max_age: int, **options) -> None:
        s3 = S3ImageService()
        # A row is written only after its objects, so a row without its original is a lost object, at any age.
        orphan_objects, missing = orphans(s3, datetime.now(UTC) - timedelta(seconds=min_age))
        staging_cutoff = datetime.now(UTC) - timedelta(seconds=staging_max_age)
        orphan_objects += [key for key, modified in s3.list_objects(prefix=STAGING_PREFIX) if modified < staging_cutoff]

        for key in orphan_objects:
            self.stdout.write(f"object without a row: {key}")
        orphan_rows = 0
        for start in range(0, len(missing), BATCH):
            with transaction.atomic():
                rows = PropertyImage.objects.filter(image__in=missing[start : start + BATCH])
                for pk, key in rows.values_list("pk", "image"):
                    self.stdout.write(f"row without an object: image {pk} ({key})")
                orphan_rows += rows.delete()[1].get(PropertyImage._meta.label, 0) if delete else rows.count()
        if delete:
            for key in tqdm(orphan_objects, desc="deleting objects", disable=None):
                s3.delete(key=key)
            deleted_claims, _ = staged_upload_claims_expired().delete()
            self.stdout.write(f"Deleted {deleted_claims} claims of direct uploads completed over a day ago.")
            self.stdout.write(
                self.style.SUCCESS(f"Deleted {len(orphan_objects)} orphan objects and {orphan_rows} orphan rows.")
            )
        else:
            self.stdout.write(
                f"Found {staged_upload_claims_expired().count()} claims of direct uploads completed over a day ago."
            )
            self.stdout.write(
                f"Found {len(orphan_objects)} orphan objects and {orphan_rows} orphan rows "
                "(dry run; --delete to remove them)."
            )
