"""property.services.uploads, called directly: what reaches the bucket and the database, and what is cleaned up."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.test import override_settings
from PIL import Image

from backend.exceptions import StorageUnavailable
from backend.s3 import S3StorageError
from property.models import HouseForSale, PropertyImage
from property.services import uploads
from property.services.image_updates import (
    PropertyNotFound,
)
from property.services.uploads import NoImagesProvided, TooManyImages, UploadRejected, property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import TEST_BUCKET, image_bytes, object_keys, run_queued_tasks

pytestmark = pytest.mark.django_db

KEY_PATTERN = r"properties/houseforsale/{id}/\d{{8}}_\d{{6}}_[0-9a-f]{{8}}\.{ext}"


def jpeg(name: str = "photo.jpg", size=(64, 48)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG", size), content_type="image/jpeg")


def png(name: str = "plan.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", (30, 20)), content_type="image/png")


def test_store_uploads_objects_and_creates_rows(bucket_keys, s3_client):
    house = HouseForSaleFactory()
    images = property_images_store(house=house, files=[jpeg("salón.jpg"), png()], caption="Living room")
    assert bucket_keys() == object_keys(*images)
    assert len(bucket_keys()) == 2  # the originals: their size variants are made by a worker
    first, second = images
    assert first.image.name.startswith(f"properties/houseforsale/{house.pk}/")
    assert first.image.name.endswith(".jpg") and second.image.name.endswith(".png")
    assert (first.original_filename, first.mime_type, first.width, first.height) == ("salón.jpg", "image/jpeg", 64, 48)
    assert (second.mime_type, second.order, first.order) == ("image/png", 1, 0)
    assert first.caption == second.caption == "Living room"
    head = s3_client.head_object(Bucket=TEST_BUCKET, Key=second.image.name)
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == second.size
    assert head["ContentDisposition"] == 'inline; filename="plan.png"'
    assert list(house.images.all()) == images


def test_key_follows_the_guides_layout(bucket_keys):
    import re

    house = HouseForSaleFactory()
    (image,) = property_images_store(house=house, files=[jpeg()])
    assert re.fullmatch(KEY_PATTERN.format(id=house.pk, ext="jpg"), image.image.name)


def test_rent_images_go_under_houseforrent(bucket_keys):
    house = HouseForRentFactory()
    (image,) = property_images_store(house=house, files=[jpeg()])
    assert image.image.name.startswith(f"properties/houseforrent/{house.pk}/")
    assert image.property_kind == "house_for_rent"


def test_stored_object_is_the_sanitised_image(bucket_keys, s3_client):
    house = HouseForSaleFactory()
    exif = Image.Exif()
    exif[0x8825] = {2: (38.0, 20.0, 41.0)}
    source = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(source, format="JPEG", exif=exif)
    polyglot = source.getvalue() + b"<html>payload</html>"
    (image,) = property_images_store(house=house, files=[SimpleUploadedFile("p.jpg", polyglot)])
    stored = s3_client.get_object(Bucket=TEST_BUCKET, Key=image.image.name)["Body"].read()
    assert b"<html>" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_one_bad_file_stores_nothing(bucket_keys):
    house = HouseForSaleFactory()
    bad = SimpleUploadedFile("image2.jpg", b"GIF89a not an image")
    with pytest.raises(UploadRejected, match=r"^image2\.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image$"):
        property_images_store(house=house, files=[jpeg("image1.jpg"), bad, jpeg("image3.jpg")])
    assert bucket_keys() == []
    assert PropertyImage.objects.count() == 0


def test_no_files_raises(bucket_keys):
    with pytest.raises(NoImagesProvided):
        property_images_store(house=HouseForSaleFactory(), files=[])


def test_too_many_files_raises_before_reading_any(bucket_keys, settings):
    settings.PROPERTY_IMAGE_MAX_FILES = 2
    with pytest.raises(TooManyImages, match="At most 2 images"):
        property_images_store(house=HouseForSaleFactory(), files=[jpeg(), jpeg(), jpeg()])
    assert bucket_keys() == []


def test_is_main_makes_the_first_file_the_only_main_image(bucket_keys):
    house = HouseForSaleFactory()
    (old_main,) = property_images_store(house=house, files=[jpeg()], is_main=True)
    first, second = property_images_store(house=house, files=[jpeg(), jpeg()], is_main=True)
    old_main.refresh_from_db()
    assert (old_main.is_main, first.is_main, second.is_main) == (False, True, False)
    assert house.images.filter(is_main=True).count() == 1


def test_order_continues_after_existing_images_or_starts_where_asked(bucket_keys):
    house = HouseForSaleFactory()
    property_images_store(house=house, files=[jpeg(), jpeg()])
    later = property_images_store(house=house, files=[jpeg()])
    explicit = property_images_store(house=house, files=[jpeg(), jpeg()], order=10)
    assert [image.order for image in later] == [2]
    assert [image.order for image in explicit] == [10, 11]


def test_database_failure_after_upload_deletes_the_objects(bucket_keys, monkeypatch):
    # A mock: a real database cannot be made to fail between two statements on demand.
    def failing_rows(**kwargs):
        raise IntegrityError("simulated database failure")

    monkeypatch.setattr(uploads, "_create_image_rows", failing_rows)
    with pytest.raises(IntegrityError):
        property_images_store(house=HouseForSaleFactory(), files=[jpeg(), jpeg()])
    assert PropertyImage.objects.count() == 0
    assert len(bucket_keys()) == 2  # deleted by a worker: the failed request does not wait for S3
    assert run_queued_tasks() == 1
    assert bucket_keys() == []


def test_a_house_deleted_during_the_upload_gets_no_image_and_keeps_no_object(bucket_keys):
    house = HouseForSaleFactory()
    HouseForSale.objects.filter(pk=house.pk).delete()  # by another request, after this one found the house
    with pytest.raises(PropertyNotFound):
        property_images_store(house=house, files=[jpeg(), jpeg()])
    assert PropertyImage.objects.count() == 0
    run_queued_tasks()
    assert bucket_keys() == []


def test_unreachable_s3_raises_storage_error_and_creates_no_row(bucket_keys, settings):
    with override_settings(STORAGES={**settings.STORAGES}, AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"):
        with pytest.raises(StorageUnavailable) as unavailable:
            property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    assert isinstance(unavailable.value.__cause__, S3StorageError)
    assert unavailable.value.status_code == 503 and unavailable.value.headers == {"Retry-After": "10"}
    assert PropertyImage.objects.count() == 0


def test_a_write_that_s3_applies_after_the_first_delete_is_deleted_again_later(bucket_keys, settings, s3_client):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    with override_settings(STORAGES={**settings.STORAGES}, AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"):
        with pytest.raises(StorageUnavailable):
            property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    # django-tasks-db gives a task to run at once the largest date: the delayed one comes first.
    later, now = DBTaskResult.objects.filter(task_path="property.tasks.delete_objects").order_by("run_after")
    (key,) = keys = now.args_kwargs["args"][0]
    assert later.args_kwargs["args"][0] == keys
    assert (later.run_after - timezone.now()).total_seconds() >= settings.S3_TASK_RETRY_DELAYS[0] - 2
    assert run_queued_tasks() == 1  # the first delete: nothing is there yet
    # A hung S3 applies the write it held only when it answers again, after that first delete.
    s3_client.put_object(Bucket=TEST_BUCKET, Key=key, Body=b"stored late")
    assert bucket_keys() == [key]
    DBTaskResult.objects.filter(pk=later.pk).update(run_after=timezone.now())  # its time has come
    assert run_queued_tasks() == 1
    assert bucket_keys() == []
