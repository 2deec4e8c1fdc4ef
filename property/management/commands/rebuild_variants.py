"""`manage.py rebuild_variants`: make the missing or outdated size variants of existing images. Resumable."""

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from backend.storage_backends import S3ImageService, S3StorageError
from property.images import configured_variant_keys
from property.models import PropertyImage
from property.services import property_image_variants_rebuild


def variants_up_to_date(image: PropertyImage) -> bool:
    """Whether the image has every variant the settings ask for, in their format and width."""
    stored = {name: variant.get("key") for name, variant in image.variants.items()}
    return all(stored.get(name) == key for name, key in configured_variant_keys(image.image.name).items())


class Command(BaseCommand):
    help = (
        "Create the thumbnail, medium and large variants that existing images lack, or have in another format "
        "or width than the settings now ask for (the replaced objects are deleted). Images whose variants are "
        "up to date are skipped, so an interrupted run can simply be started again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            dest="every_image",
            help="Rebuild the variants of every image, up to date or not (after a change in how they are made).",
        )

    def handle(self, *args, every_image: bool = False, **options) -> None:
        if not settings.PROPERTY_IMAGE_VARIANTS:
            self.stdout.write("Size variants are turned off (PROPERTY_IMAGE_VARIANTS=False): nothing to do.")
            return
        s3 = S3ImageService()
        images = PropertyImage.objects.order_by("pk")
        rebuilt = failed = up_to_date = 0
        # In chunks: the table may be far larger than memory wants to hold at once.
        for image in tqdm(
            images.iterator(chunk_size=500), total=images.count(), desc="images", unit=" img", disable=None
        ):
            if not every_image and variants_up_to_date(image):
                up_to_date += 1
                continue
            try:
                property_image_variants_rebuild(s3=s3, image=image)
                rebuilt += 1
            except (S3StorageError, FileNotFoundError, OSError, ValueError, PropertyImage.DoesNotExist) as error:
                failed += 1
                self.stderr.write(f"image {image.pk} ({image.image.name}): {type(error).__name__}")
        self.stdout.write(f"Rebuilt variants of {rebuilt} images, {failed} failed, {up_to_date} already up to date.")
