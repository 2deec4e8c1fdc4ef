"""Background tasks on Django's Tasks API (the django-tasks backport): size variants are made by a worker, not
by the upload request.

Tasks take primary keys, are enqueued when the transaction that created their rows commits, and can run twice
(or for an image deleted meanwhile) without harm. The backend is the database or RQ (settings.TASKS_BACKEND);
the code here is the same for both: what a queue holds, and a task put off, are asked of backend/task_queues.py.

Nothing lost, nothing left behind: the cleanup design
------------------------------------------------------
Rule: no object in the bucket without a row, and no pending image without a task. A request never waits for S3
to delete anything: every deletion a request causes goes through `objects_delete_later`. The worker and the
operator's commands, off the request path, delete directly (a variants task its own leftovers and superseded
copies; sweep_orphans what it found). Each guard below answers a fault that
was produced in a test, and that test fails when the guard is taken out (each was tried so):

1. Compensation where the objects were written. An upload whose rows cannot be written, or whose house went
   meanwhile, hands the keys it wrote to objects_delete_later (services/uploads.py, services/direct_uploads.py);
   a variants task that fails partway deletes the copies it wrote itself (variants.py: it is off the request path
   already). Faults: the INSERT fails after the PUTs
   (test_uploads::test_database_failure_after_upload_deletes_the_objects); S3 refuses a variant's PUT after the
   others were stored (test_variants::
   test_a_variants_task_that_fails_partway_deletes_what_it_added_and_keeps_the_old_variants). Deleting an image
   deletes every copy the settings name, whether the row it was given knew of them or not
   (image_updates.property_image_delete_objects_on_commit): a row read before its task stored them
   (test_variants::test_deleting_an_image_read_before_its_variants_were_made_deletes_them_too). An image deleted
   while its task stores them is covered by either of these two
   (test_tasks::test_an_image_deleted_while_its_task_runs_leaves_no_object fails only without both).
2. `delete_objects` tries again after each of S3_TASK_RETRY_DELAYS: S3 refuses or hangs when the deletion runs
   (test_tasks::test_a_deletion_s3_does_not_answer_is_tried_again_and_done_once_it_is_back).
3. A second deletion after the first delay when S3 did not answer a write (`again_after_s3_failed`): S3 may apply
   a PUT it held unanswered after the first DELETE (weed stopped with SIGSTOP:
   test_uploads::test_a_write_that_s3_applies_after_the_first_delete_is_deleted_again_later).
4. No queue, delete now: when the queue itself cannot be reached (database locked, Redis down), the objects are
   deleted in the request rather than left
   (test_tasks::test_a_queue_that_cannot_be_reached_deletes_the_objects_at_once).
5. Lost variants tasks are enqueued again by `manage.py housekeeping` every minute (`stale_pending_images`): a
   worker killed mid-task, or an enqueue that failed after the commit
   (test_tasks::test_a_stale_pending_image_is_enqueued_again_by_the_sweep_but_not_behind_a_backlog).
6. `manage.py sweep_orphans`, the reconciler an operator (or a daily cron) runs: what no guard above could see
   (a process killed between a PUT and its row; deletions that used up every retry, each logged as "Orphaned S3
   object left behind"). Not scheduled every minute: it lists the whole bucket
   (test_commands::test_sweep_orphans_delete_removes_both_kinds_and_keeps_the_rest).
Guards 2 to 4 keep a deleted photo's URLs from working longer than S3 is down; guard 6 alone would leave a deleted
photo reachable until the next sweep, so it stays the backstop, not the mechanism.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TASK_MAX_PRIORITY
from redis import RedisError

from backend.s3 import S3ImageService, S3StorageError
from backend.task_queues import TaskQueue, enqueue_after, task_queue

from .models import PropertyImage, VariantsStatus
from .variants import property_image_variants_make, variants_up_to_date

logger = logging.getLogger(__name__)


@task()
def make_image_variants(image_id: int, attempt: int = 1) -> str:
    """Make the size variants of image `image_id`; what became of them, in a word.

    When S3 fails, the task is enqueued again after the next of S3_TASK_RETRY_DELAYS and this
    attempt fails; after the last, the image's variants are marked failed.
    """
    image = PropertyImage.objects.filter(pk=image_id).first()
    if image is None:
        return "deleted"
    if image.variants_status == VariantsStatus.READY and variants_up_to_date(image):
        return "up to date"
    try:
        property_image_variants_make(s3=S3ImageService(), image=image)
    except PropertyImage.DoesNotExist:
        return "deleted"
    except S3StorageError:
        delay = next_try_delay(attempt)
        if delay is None:
            logger.error("Variants failed image=%s attempts=%s", image_id, attempt)
            PropertyImage.objects.filter(pk=image_id).update(variants_status=VariantsStatus.FAILED)
        else:
            image_variants_enqueue([image_id], delay=delay, attempt=attempt + 1)
        raise
    except (FileNotFoundError, OSError, ValueError) as error:
        # The original is gone or cannot be decoded: trying again would not help.
        logger.error("Variants failed image=%s error=%s", image_id, type(error).__name__)
        PropertyImage.objects.filter(pk=image_id).update(variants_status=VariantsStatus.FAILED)
        raise
    return "made"


# Ahead of every waiting variants task (the database queue takes the highest priority first; RQ puts a task of the
# highest at the front of its queue): a deleted photo stays reachable through the URLs already handed out until its
# objects are gone, however long a rebuild's backlog.
@task(priority=TASK_MAX_PRIORITY)
def delete_objects(keys: list[str], attempt: int = 1) -> str:
    """Delete the objects a failed or deleted upload left in the bucket.

    When S3 fails, the task is enqueued again after the next of S3_TASK_RETRY_DELAYS and this attempt fails;
    after the last, the objects are left to `sweep_orphans`.
    """
    try:
        S3ImageService().delete_many(keys)
    except S3StorageError:
        delay = next_try_delay(attempt)
        if delay is None:
            for key in keys:
                logger.error("Orphaned S3 object left behind key=%s", key)
        else:
            enqueue_after(delete_objects, delay, keys, attempt + 1)
        raise
    return "deleted"


def next_try_delay(attempt: int) -> float | None:
    """Seconds before the next try of a task whose try `attempt` S3 failed; None once S3_TASK_RETRY_DELAYS is
    used up."""
    delays = settings.S3_TASK_RETRY_DELAYS
    return delays[attempt - 1] if attempt <= len(delays) else None


def objects_delete_later(keys: list[str], *, again_after_s3_failed: bool = False) -> None:
    """Leave the deletion of the objects to a worker, which retries until S3 answers: a request never waits for
    it. If the queue itself cannot be reached, they are deleted here and now instead (what fails is logged).

    With `again_after_s3_failed` (S3 did not answer a write), they are deleted once more after the first of
    S3_TASK_RETRY_DELAYS: a write S3 held unanswered may be applied when S3 answers again, after the first delete.
    """
    if not keys:
        return
    try:
        delete_objects.enqueue(keys)
        if again_after_s3_failed:
            enqueue_after(delete_objects, next_try_delay(1) or 0, keys)
    except (DatabaseError, RedisError) as error:
        logger.warning("Could not enqueue the deletion of %s objects (%s): deleting now", len(keys), error)
        S3ImageService().delete_quietly(keys)


def image_variants_enqueue(image_ids: Iterable[int], *, delay: float = 0, attempt: int = 1) -> None:
    """Mark the images' variants pending and enqueue the task of each, to run `delay` seconds from now."""
    image_ids = list(image_ids)
    if not image_ids:
        return  # on SQLite even an empty transaction would wait for the write lock
    # A pending image not done some time after it is due is taken for lost (enqueue_pending_variants).
    due = timezone.now() + timedelta(seconds=delay)
    # One transaction: on the database queue one write lock for the batch, not one per task.
    with transaction.atomic():
        PropertyImage.objects.filter(pk__in=image_ids).update(
            variants_status=VariantsStatus.PENDING, variants_requested_at=due
        )
        for image_id in image_ids:
            enqueue_after(make_image_variants, delay, image_id, attempt)


def image_variants_enqueue_on_commit(images: Iterable[PropertyImage]) -> None:
    """Enqueue the variants task of each new image (created pending) once the transaction that created it
    commits, so that a worker never looks for a row that is not there yet. A queue that cannot be reached is
    logged, not raised: the images stay pending and `enqueue_pending_variants` finds them."""
    image_ids = [image.pk for image in images]
    transaction.on_commit(partial(_enqueue_now, image_ids), robust=True)


def _enqueue_now(image_ids: list[int]) -> None:
    for image_id in image_ids:
        make_image_variants.enqueue(image_id, 1)


def stale_pending_images():
    """Pending images whose task should have run by now: its worker died mid-task, or its message was lost.

    None while the queue still holds tasks waiting for a worker: behind a backlog (a big rebuild, workers
    stopped) an image is late, not lost, and enqueueing it again would only grow the backlog.
    """
    if variants_queue().waiting_count():
        return PropertyImage.objects.none()
    older_than = timezone.now() - timedelta(seconds=settings.PROPERTY_IMAGE_VARIANTS_STALE_AFTER)
    return PropertyImage.objects.filter(variants_status=VariantsStatus.PENDING, variants_requested_at__lt=older_than)


def variants_queue() -> TaskQueue:
    """The queue the variants tasks (and the deletions) wait in."""
    return task_queue(make_image_variants.get_backend())
