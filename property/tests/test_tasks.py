"""Size variants through the real queues and real workers: the database queue (SQLite or PostgreSQL, as the suite
runs) and RQ on Redis. Each test enqueues through the real backend and runs the real worker command."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from rq.job import Job

from localdev.s3server import LocalS3Server
from property.models import PropertyImage, VariantsStatus
from property.services.uploads import property_images_store
from property.tasks import objects_delete_later, variants_queue
from property.tests.factories import HouseForSaleFactory
from testing import (
    OBJECTS_PER_IMAGE,
    TEST_BUCKET,
    jpeg_upload,
    object_keys,
    object_writer,
    s3_event_handler,
    storage_on,
)

pytestmark = pytest.mark.django_db(transaction=True)  # a worker sees only committed rows


def stored(s3_client, key: str) -> Image.Image:
    return Image.open(io.BytesIO(s3_client.get_object(Bucket=TEST_BUCKET, Key=key)["Body"].read()))


def test_an_upload_is_pending_with_loading_urls_until_a_worker_makes_its_webp_variants(
    queue, owner, owner_client, bucket_keys, s3_client
):
    house = HouseForSaleFactory(owner=owner)
    response = owner_client.post(
        f"/api/houses-for-sale/{house.pk}/upload_images/",
        {"images": [jpeg_upload("big.jpg", (2600, 1300))]},
        format="multipart",
    )
    assert response.status_code == 201
    (pending,) = response.json()
    assert pending["variants_status"] == "pending"
    for variant in pending["variants"].values():  # the original stands in, marked as such, and loads
        assert (variant["width"], variant["height"], variant["is_original"]) == (2600, 1300, True)
        assert variant["avif_url"] == variant["url"]
        assert requests.get(variant["url"], timeout=10).headers["Content-Type"] == "image/jpeg"
    secure = owner_client.get(f"/api/property-images/{pending['id']}/secure_url/?variant=thumbnail").json()
    assert secure["is_original"] is True and requests.get(secure["secure_url"], timeout=10).status_code == 200
    assert variants_queue().waiting_count() == 1

    queue.run_worker()

    ready = owner_client.get(f"/api/property-images/{pending['id']}/").json()
    assert ready["variants_status"] == "ready"
    widths = {name: (variant["width"], variant["height"]) for name, variant in ready["variants"].items()}
    assert widths == {"large": (2048, 1024), "medium": (1024, 512), "thumbnail": (320, 160)}
    for variant in ready["variants"].values():
        assert variant["is_original"] is False
        for field, content_type in {"url": "image/webp", "avif_url": "image/avif"}.items():
            fetched = requests.get(variant[field], timeout=10)
            assert fetched.status_code == 200 and fetched.headers["Content-Type"] == content_type
            assert Image.open(io.BytesIO(fetched.content)).size == (variant["width"], variant["height"])
    assert bucket_keys() == object_keys(PropertyImage.objects.get())


def test_with_no_worker_uploads_succeed_and_stay_pending_until_one_runs(queue, owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    images = property_images_store(house=house, files=[jpeg_upload(), jpeg_upload(size=(900, 600))])
    more = property_images_store(house=house, files=[jpeg_upload()])
    assert {image.variants_status for image in PropertyImage.objects.all()} == {VariantsStatus.PENDING}
    assert bucket_keys() == object_keys(*images, *more)  # the originals only
    assert variants_queue().waiting_count() == 3

    queue.run_worker()

    done = list(PropertyImage.objects.all())
    assert {image.variants_status for image in done} == {VariantsStatus.READY}
    assert all(set(image.variants) == {"thumbnail", "medium", "large"} for image in done)
    assert bucket_keys() == object_keys(*done) and len(bucket_keys()) == 3 * OBJECTS_PER_IMAGE


def test_running_a_task_twice_makes_the_same_objects_once(queue, owner, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(size=(900, 600))])
    from property.tasks import make_image_variants

    make_image_variants.enqueue(image.pk)  # a duplicate, as a sweep racing a slow worker could make
    queue.run_worker()
    image.refresh_from_db()
    assert image.variants_status == VariantsStatus.READY
    assert bucket_keys() == object_keys(image) and len(bucket_keys()) == OBJECTS_PER_IMAGE


def test_an_image_deleted_while_its_task_runs_leaves_no_object(queue, owner, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(size=(2600, 1300))])

    def delete_the_image(request, **kwargs):
        if request.url.split("?", 1)[0].endswith("_2048w.webp"):
            # Another request deletes it while the worker stores its first variant.
            PropertyImage.objects.get(pk=image.pk).delete()

    with s3_event_handler(object_writer(), "before-send.s3.PutObject", delete_the_image):
        queue.run_worker()
    assert not PropertyImage.objects.exists()
    assert bucket_keys() == []


@contextmanager
def own_s3_server(tmp_path: Path, bucket: str = "alca-tasks"):
    """A SeaweedFS of this test's own, that it can stop and start again (the session's serves every test)."""
    server = LocalS3Server(data_dir=tmp_path / "s3", access_key="tasks-key", secret_key="tasks-secret")
    server.start()
    try:
        server.ensure_private_bucket(bucket)
        with storage_on(server, bucket):
            yield server
    finally:
        server.stop()


def again(server: LocalS3Server) -> LocalS3Server:
    """The same server started again on its data and ports, after a stop."""
    restarted = LocalS3Server(
        data_dir=server.data_dir, access_key=server.access_key, secret_key=server.secret_key, ports=server.ports
    )
    restarted.start()
    return restarted


def test_s3_down_during_a_task_is_retried_and_the_variants_are_made_when_it_is_back(queue, owner, settings, tmp_path):
    settings.S3_TASK_RETRY_DELAYS = [0, 0]
    with own_s3_server(tmp_path) as server:
        (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(size=(900, 600))])
        server.stop()
        queue.run_worker(max_tasks=1)  # the first try fails: S3 refuses connections
        image.refresh_from_db()
        assert image.variants_status == VariantsStatus.PENDING and image.variants == {}
        assert variants_queue().waiting_count() == 1  # the second try, waiting
        restarted = again(server)
        try:
            queue.run_worker()
            image.refresh_from_db()
            assert image.variants_status == VariantsStatus.READY
            keys = {item["Key"] for item in restarted.client().list_objects_v2(Bucket="alca-tasks")["Contents"]}
            assert keys == set(image.object_keys) and len(keys) == OBJECTS_PER_IMAGE
        finally:
            restarted.stop()


def test_a_task_that_keeps_failing_marks_the_variants_failed_and_rebuild_variants_retries_them(
    queue, owner, settings, tmp_path
):
    settings.S3_TASK_RETRY_DELAYS = [0]
    with own_s3_server(tmp_path) as server:
        (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(size=(900, 600))])
        server.stop()
        queue.run_worker()  # two tries, both refused
        image.refresh_from_db()
        assert image.variants_status == VariantsStatus.FAILED and variants_queue().waiting_count() == 0
        restarted = again(server)
        try:
            out = io.StringIO()
            call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
            assert "Enqueued the variants of 1 images; 0 already up to date" in out.getvalue()
            queue.run_worker()
            image.refresh_from_db()
            assert image.variants_status == VariantsStatus.READY and len(image.object_keys) == OBJECTS_PER_IMAGE
        finally:
            restarted.stop()


@pytest.mark.parametrize("queue", ["rq"], indirect=True)
def test_housekeeping_forgets_the_rq_jobs_that_failed_over_a_day_ago_and_keeps_the_others(
    queue, owner, settings, tmp_path
):
    settings.S3_TASK_RETRY_DELAYS = [0]
    with own_s3_server(tmp_path) as server:
        property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(size=(900, 600))])
        server.stop()
        queue.run_worker()  # two tries, both refused: two failed jobs, which RQ would keep a year
    registry = django_rq.get_queue("default").failed_job_registry
    first, second = Job.fetch_many(registry.get_job_ids(), connection=registry.connection)
    first.ended_at = timezone.now() - timedelta(days=1, minutes=1)
    first.save()

    output = io.StringIO()
    call_command("housekeeping", stdout=output)

    assert "Forgot 1 failed jobs that ended over 1 days ago." in output.getvalue()
    assert registry.get_job_ids() == [second.id]
    assert not Job.exists(first.id, connection=registry.connection)  # its arguments and traceback too


def test_a_stale_pending_image_is_enqueued_again_by_the_sweep_but_not_behind_a_backlog(queue, owner, bucket_keys):
    lost, waiting = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(), jpeg_upload()])
    queue.lose_every_message()
    PropertyImage.objects.filter(pk=lost.pk).update(variants_requested_at=timezone.now() - timedelta(hours=1))
    from property.tasks import make_image_variants

    make_image_variants.enqueue(waiting.pk)  # a backlog: the other image's task waits for a worker
    out = io.StringIO()
    call_command("enqueue_pending_variants", stdout=out)
    assert "Enqueued again the variants of 0 images" in out.getvalue()

    queue.run_worker()  # the backlog is done; the lost image is still pending
    lost.refresh_from_db()
    assert lost.variants_status == VariantsStatus.PENDING
    out = io.StringIO()
    call_command("enqueue_pending_variants", stdout=out)
    assert "Enqueued again the variants of 1 images" in out.getvalue()
    queue.run_worker()
    assert {image.variants_status for image in PropertyImage.objects.all()} == {VariantsStatus.READY}
    assert bucket_keys() == object_keys(*PropertyImage.objects.all())


def test_rebuild_variants_enqueues_one_task_per_image_for_the_workers_to_share(queue, owner, bucket_keys, settings):
    settings.PROPERTY_IMAGE_VARIANTS = False
    images = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload() for _ in range(3)])
    assert variants_queue().waiting_count() == 0
    settings.PROPERTY_IMAGE_VARIANTS = True
    out = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 3 images; 0 already up to date" in out.getvalue()
    assert variants_queue().waiting_count() == 3
    queue.run_worker(max_tasks=1)  # one worker's share
    assert PropertyImage.objects.filter(variants_status=VariantsStatus.READY).count() == 1
    queue.run_worker()
    assert bucket_keys() == object_keys(*PropertyImage.objects.all()) and len(bucket_keys()) == 3 * OBJECTS_PER_IMAGE
    assert [image.pk for image in PropertyImage.objects.order_by("pk")] == [image.pk for image in images]


def test_a_deletion_s3_does_not_answer_is_tried_again_and_done_once_it_is_back(queue, owner, settings, tmp_path):
    settings.S3_TASK_RETRY_DELAYS = [0]
    with own_s3_server(tmp_path) as server:
        (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
        queue.run_worker()  # its variants
        image.refresh_from_db()
        keys = list(image.object_keys)
        stored = [item["Key"] for item in server.client().list_objects_v2(Bucket="alca-tasks").get("Contents", [])]
        assert sorted(stored) == sorted(keys) and len(keys) == OBJECTS_PER_IMAGE
        server.stop()
        objects_delete_later(keys)
        queue.run_worker(max_tasks=1)  # refused: enqueued again
        assert variants_queue().waiting_count() == 1
        restarted = again(server)
        try:
            queue.run_worker()
            assert restarted.client().list_objects_v2(Bucket="alca-tasks").get("Contents", []) == []
        finally:
            restarted.stop()


def test_a_deleted_images_objects_go_before_a_backlog_of_500_variant_tasks(queue, owner, owner_client, bucket_keys):
    from property.tasks import make_image_variants

    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    queue.run_worker()  # its variants
    assert len(bucket_keys()) == OBJECTS_PER_IMAGE
    for number in range(500):  # a rebuild's backlog, enqueued before the deletion
        make_image_variants.enqueue(10**9 + number)
    assert owner_client.delete(f"/api/property-images/{image.pk}/").status_code == 204
    assert variants_queue().waiting_count() == 501
    queue.run_worker(max_tasks=1)  # the first task a worker takes
    assert bucket_keys() == []
    assert variants_queue().waiting_count() == 500


def test_a_queue_that_cannot_be_reached_deletes_the_objects_at_once(owner, settings, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    assert bucket_keys() == [image.image.name]  # stored, its variants not yet made
    settings.TASKS = {"default": {"BACKEND": "backend.task_backends.PriorityRQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0"}}  # nothing listens there
    objects_delete_later(list(image.object_keys))
    assert bucket_keys() == []
