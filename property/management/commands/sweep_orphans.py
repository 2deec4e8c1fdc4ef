"""`manage.py sweep_orphans`: find objects without a row and rows without an object; --delete removes them. It also
reports (and deletes) the claims of direct uploads completed over a day ago."""

from datetime import UTC, datetime, timedelta

from tqdm import tqdm

from backend.s3 import S3ImageService
from property.management.base import ServiceCommand
from property.models import IMAGES_PREFIX, PropertyImage

# Direct uploads post there first; complete_upload moves them.
from property.services.direct_uploads import STAGING_PREFIX, staged_upload_claims_expired


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
        cutoff = datetime.now(UTC) - timedelta(seconds=min_age)
        keys_in_rows = {key for image in PropertyImage.objects.only("image", "variants") for key in image.object_keys}
        keys_in_bucket: set[str] = set()
        orphan_objects: list[str] = []
        for key, modified in tqdm(s3.list_objects(prefix=IMAGES_PREFIX), desc="objects", unit=" obj", disable=None):
            keys_in_bucket.add(key)
            if key not in keys_in_rows and modified < cutoff:
                orphan_objects.append(key)
        staging_cutoff = datetime.now(UTC) - timedelta(seconds=staging_max_age)
        orphan_objects += [key for key, modified in s3.list_objects(prefix=STAGING_PREFIX) if modified < staging_cutoff]
        # A row is written only after its objects, so a row without its original is a lost object, at any age.
        rows_without_object = PropertyImage.objects.filter(image__in=keys_in_rows - keys_in_bucket)

        for key in orphan_objects:
            self.stdout.write(f"object without a row: {key}")
        for image in rows_without_object:
            self.stdout.write(f"row without an object: image {image.pk} ({image.image.name})")
        if delete:
            for key in tqdm(orphan_objects, desc="deleting objects", disable=None):
                s3.delete(key=key)
            deleted_rows, _ = rows_without_object.delete()
            deleted_claims, _ = staged_upload_claims_expired().delete()
            self.stdout.write(f"Deleted {deleted_claims} claims of direct uploads completed over a day ago.")
            self.stdout.write(
                self.style.SUCCESS(f"Deleted {len(orphan_objects)} orphan objects and {deleted_rows} orphan rows.")
            )
        else:
            self.stdout.write(
                f"Found {staged_upload_claims_expired().count()} claims of direct uploads completed over a day ago."
            )
            self.stdout.write(
                f"Found {len(orphan_objects)} orphan objects and {rows_without_object.count()} orphan rows "
                "(dry run; --delete to remove them)."
            )
