"""`manage.py rebuild_variants`: enqueue the making of missing, outdated or failed size variants, for the workers."""

import time
from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from tqdm import tqdm

from property.management.base import ServiceCommand
from property.models import PropertyImage, VariantsStatus
from property.tasks import image_variants_enqueue
from property.variants import variants_up_to_date

# Images read and enqueued in one go: one SELECT reads them, one UPDATE marks them pending.
BATCH = 500


def pages_of(images: QuerySet[PropertyImage], size: int) -> Iterator[list[PropertyImage]]:
    """The images `size` at a time, by primary key, each page read to its end before it is handed out.

    Not `QuerySet.iterator()`: its cursor stays open while the batch is written, and on SQLite a connection whose
    read began before another connection's commit cannot turn that read into a write ("database is locked" at
    once, whatever the busy timeout). make soak's rebuild beside live traffic failed so.
    """
    last_pk = 0
    while page := list(images.filter(pk__gt=last_pk)[:size]):
        yield page
        last_pk = page[-1].pk


class Command(ServiceCommand):
    help = (
        "Enqueue one task per image whose thumbnail, medium and large variants are missing, failed, or in another "
        "format or width than the settings now ask for (the replaced objects are deleted), or whose placeholder "
        "(thumbhash, color) is missing, so that every worker "
        "shares the rebuild; then follow the workers until they are done. Up-to-date images are skipped, so an "
        "interrupted run can simply be started again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            dest="every_image",
            help="Rebuild the variants of every image, up to date or not (after a change in how they are made).",
        )
        parser.add_argument(
            "--no-wait", action="store_false", dest="wait", help="Enqueue and exit without following the workers."
        )

    def handle(self, *args, every_image: bool = False, wait: bool = True, **options) -> None:
        if not settings.PROPERTY_IMAGE_VARIANTS:
            self.stdout.write("Size variants are turned off (PROPERTY_IMAGE_VARIANTS=False): nothing to do.")
            return
        started_at = timezone.now()
        images = PropertyImage.objects.order_by("pk")
        enqueued = up_to_date = 0
        progress = tqdm(total=images.count(), desc="images checked", unit=" img", disable=None)
        for page in pages_of(images, BATCH):
            batch = []
            for image in page:
                if every_image or image.variants_status == VariantsStatus.FAILED or not variants_up_to_date(image):
                    batch.append(image.pk)
                else:
                    up_to_date += 1
            image_variants_enqueue(batch)
            enqueued += len(batch)
            progress.update(len(page))
            progress.set_postfix(enqueued=enqueued)
        progress.close()
        self.stdout.write(f"Enqueued the variants of {enqueued} images; {up_to_date} already up to date.")
        if wait and enqueued:
            self.follow_workers(enqueued, started_at)

    def follow_workers(self, enqueued: int, started_at) -> None:
        """A progress bar of the enqueued images the workers are done with, until all are."""
        self.stdout.write("Following the workers (Ctrl-C stops following; the workers go on).")
        ours = PropertyImage.objects.filter(variants_requested_at__gte=started_at)
        progress = tqdm(total=enqueued, desc="images done", unit=" img", disable=None)
        pending = enqueued
        while pending:
            time.sleep(1)
            pending = ours.filter(variants_status=VariantsStatus.PENDING).count()
            progress.update(max(0, enqueued - pending) - progress.n)
        progress.close()
        failed = ours.filter(variants_status=VariantsStatus.FAILED).count()
        self.stdout.write(f"Done: {enqueued - failed} images have their variants, {failed} failed.")
