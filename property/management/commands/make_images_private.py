"""`manage.py make_images_private`: set every object under properties/ private (the guide's migration)."""

from tqdm import tqdm

from backend.s3 import BucketRefusesAcls, S3ImageService
from property.management.base import ServiceCommand
from property.models import IMAGES_PREFIX


class Command(ServiceCommand):
    help = "Set the ACL of every object under properties/ to private. Dry run unless --apply is given."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--apply", action="store_true", help="Change the ACLs (default: only count them).")

    def handle(self, *args, apply: bool, **options) -> None:
        s3 = S3ImageService()
        changed = 0
        try:
            for key, _modified in tqdm(
                s3.list_objects(prefix=IMAGES_PREFIX), desc="objects", unit=" obj", disable=None
            ):
                if apply:
                    s3.make_private(key=key)
                changed += 1
        except BucketRefusesAcls:
            self.stdout.write(
                f"Bucket {s3.bucket_name} has ACLs disabled (Object Ownership: bucket owner enforced): no object "
                "in it is public through an ACL, so there is nothing to change. Its objects are as private as its "
                "public access block and bucket policy (manage.py ensure_bucket checks them)."
            )
            return
        verb = "Set private" if apply else "Would set private (dry run; --apply to change)"
        self.stdout.write(f"{verb}: {changed} objects under {IMAGES_PREFIX} in {s3.bucket_name}.")
