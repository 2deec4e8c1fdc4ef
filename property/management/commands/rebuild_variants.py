"""`manage.py rebuild_variants`: make the missing size variants of existing images. Resumable."""

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image
from tqdm import tqdm

from backend.storage_backends import S3ImageService, S3StorageError
from property.images import ACCEPTED_FORMATS, make_variants
from property.models import PropertyImage
from property.services import property_image_variants_upload


class Command(BaseCommand):
    help = (
        "Create the thumbnail, medium and large variants that existing images lack. Images that already have "
        "all of them are skipped, so an interrupted run can simply be started again."
    )

    def handle(self, *args, **options) -> None:
        wanted = set(settings.PROPERTY_IMAGE_VARIANT_WIDTHS) if settings.PROPERTY_IMAGE_VARIANTS else set()
        s3 = S3ImageService()
        images = [image for image in PropertyImage.objects.order_by("pk") if not wanted <= set(image.variants)]
        rebuilt = failed = 0
        for image in tqdm(images, desc="images", unit=" img", disable=None):
            try:
                self.rebuild(s3, image)
                rebuilt += 1
            except (S3StorageError, FileNotFoundError, OSError, ValueError) as error:
                failed += 1
                self.stderr.write(f"image {image.pk} ({image.image.name}): {type(error).__name__}")
        self.stdout.write(
            f"Rebuilt variants of {rebuilt} images, {failed} failed, "
            f"{PropertyImage.objects.count() - len(images)} already complete."
        )

    @staticmethod
    def rebuild(s3: S3ImageService, image: PropertyImage) -> None:
        original = s3.download(key=image.image.name, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE * 2)
        try:
            # The stored original is already upright and stripped: only its pixels are read here.
            with Image.open(original, formats=ACCEPTED_FORMATS) as decoded:
                decoded.load()
                variants = make_variants(decoded)
        finally:
            original.close()
        try:
            made = property_image_variants_upload(
                s3=s3,
                variants=variants,
                original_key=image.image.name,
                original_filename=image.original_filename,
                uploaded_keys=[],
            )
        finally:
            for variant in variants:
                variant.content.close()
        image.variants = made
        image.save(update_fields=["variants"])
