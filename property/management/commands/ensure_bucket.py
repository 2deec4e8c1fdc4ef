"""`manage.py ensure_bucket`: create the images bucket if missing, private, and prove anonymous reads fail."""

from django.conf import settings
from django.core.management.base import CommandError

from backend.buckets import anonymous_read_is_refused, ensure_private_bucket
from backend.s3 import S3ImageService
from property.management.base import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Create the private images bucket if missing (public access blocked where supported), allow the front ends "
        "of CORS_ALLOWED_ORIGINS to post photos to it, and check that it is private."
    )

    def handle(self, *args, **options) -> None:
        s3 = S3ImageService()
        origins = settings.CORS_ALLOWED_ORIGINS
        ensure_private_bucket(s3.client, s3.bucket_name, cors_origins=origins)
        self.stdout.write(f"Bucket {s3.bucket_name}: exists, private, public access blocked where supported.")
        if origins:
            self.stdout.write(f"Pages on {', '.join(origins)} may post photos to it and read its answers (CORS).")
        if not anonymous_read_is_refused(s3.client, s3.bucket_name):
            raise CommandError(f"Bucket {s3.bucket_name} serves objects without a signature: make it private.")
        self.stdout.write(self.style.SUCCESS("Anonymous GET of an object is refused: the bucket is private."))
