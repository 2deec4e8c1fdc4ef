"""`manage.py enqueue_pending_variants`: enqueue again the variants of images whose task was lost."""

from django.conf import settings

from property.management.base import ServiceCommand
from property.tasks import image_variants_enqueue, stale_pending_images

BATCH = 500


class Command(ServiceCommand):
    help = (
        "Enqueue again the variants task of every image still pending PROPERTY_IMAGE_VARIANTS_STALE_AFTER seconds "
        "after it was asked for: its worker died mid-task, or the queue lost the message. `make run` runs this every "
        "few minutes; in production run it from a scheduler (cron, a systemd timer)."
    )

    def handle(self, *args, **options) -> None:
        image_ids = list(stale_pending_images().order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(image_ids), BATCH):
            image_variants_enqueue(image_ids[start : start + BATCH])
        stale_after = settings.PROPERTY_IMAGE_VARIANTS_STALE_AFTER
        self.stdout.write(f"Enqueued again the variants of {len(image_ids)} images pending for over {stale_after} s.")
