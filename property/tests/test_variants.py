"""Size variants: what the variants task makes (private, beside the original), in the API, rebuilt, deleted with
the image. The task runs here as a function (conftest.make_variants_now); test_tasks runs it through the queues."""

import io
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from PIL import Image

from backend.s3 import S3StorageError
from property.images import image_placeholder
from property.management.commands import rebuild_variants
from property.models import PropertyImage, VariantsStatus
from property.services.uploads import UploadRejected, property_images_store
from property.tasks import make_image_variants
from property.tests.factories import HouseForSaleFactory
from property.tests.photos import encode
from testing import (
    OBJECTS_PER_IMAGE,
    TEST_BUCKET,
    colour_near,
    image_bytes,
    jpeg_upload,
    make_variants_now,
    object_keys,
    object_writer,
    puts_denied,
    run_queued_tasks,
)

pytestmark = pytest.mark.django_db


def stored(s3_client, key: str) -> Image.Image:
    return Image.open(io.BytesIO(s3_client.get_object(Bucket=TEST_BUCKET, Key=key)["Body"].read()))


def test_an_upload_is_stored_pending_with_its_original_alone(bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload("big.jpg", (2600, 1300))])
    assert (image.variants_status, image.variants) == (VariantsStatus.PENDING, {})
    assert bucket_keys() == [image.image.name]


def variant_entry(stem: str, size: tuple[int, int], *, nominal_width: int = 0, extension="webp", avif=True) -> dict:
    """A variant's row entry as the task writes it: the key of its copy in the configured format and of its AVIF
    copy (named after the variant's nominal width), and its size."""
    named = f"{stem}_{nominal_width or size[0]}w"
    entry = {"key": f"{named}.{extension}", "width": size[0], "height": size[1]}
    return {**entry, "avif_key": f"{named}.avif"} if avif else entry


def test_the_variants_task_makes_three_webp_and_three_avif_variants_beside_the_original(bucket_keys, s3_client):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload("big.jpg", (2600, 1300))])
    make_variants_now(image)
    assert image.variants_status == VariantsStatus.READY
    stem = image.image.name.rsplit(".", 1)[0]
    assert image.variants == {
        "large": variant_entry(stem, (2048, 1024)),
        "medium": variant_entry(stem, (1024, 512)),
        "thumbnail": variant_entry(stem, (320, 160)),
    }
    assert bucket_keys() == object_keys(image) and len(bucket_keys()) == OBJECTS_PER_IMAGE
    for variant in image.variants.values():
        for field, (image_format, content_type) in {
            "key": ("WEBP", "image/webp"),
            "avif_key": ("AVIF", "image/avif"),
        }.items():
            picture = stored(s3_client, variant[field])
            assert (picture.format, picture.size) == (image_format, (variant["width"], variant["height"]))
            head = s3_client.head_object(Bucket=TEST_BUCKET, Key=variant[field])
            assert head["ContentType"] == content_type


def test_avif_variants_keep_the_photo_and_its_transparency(bucket_keys, s3_client):
    picture = Image.new("RGBA", (600, 400), (30, 90, 200, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 300, 400))  # the left half transparent
    (image,) = property_images_store(
        house=HouseForSaleFactory(), files=[SimpleUploadedFile("cut-out.png", encode(picture, "PNG"))]
    )
    make_variants_now(image)
    avif = stored(s3_client, image.variants["thumbnail"]["avif_key"]).convert("RGBA")
    assert avif.size == (320, 213)
    assert avif.getpixel((40, 100))[3] == 0
    assert colour_near("#{:02x}{:02x}{:02x}".format(*avif.getpixel((280, 100))[:3]), (30, 90, 200))


def test_avif_copies_are_off_when_disabled(bucket_keys, settings):
    settings.PROPERTY_IMAGE_VARIANT_AVIF = False
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(800, 600))])
    make_variants_now(image)
    stem = image.image.name.rsplit(".", 1)[0]
    assert image.variants["medium"] == variant_entry(stem, (800, 600), nominal_width=1024, avif=False)
    assert bucket_keys() == object_keys(image) and len(bucket_keys()) == 4


def test_variants_are_never_upscaled(bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload("small.jpg", (500, 250))])
    make_variants_now(image)
    assert {name: variant["width"] for name, variant in image.variants.items()} == {
        "large": 500,
        "medium": 500,
        "thumbnail": 320,
    }


def test_jpeg_fallback_setting_and_no_metadata_in_variants(bucket_keys, s3_client, settings):
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = "JPEG"
    exif = Image.Exif()
    exif[0x8825] = {2: (38.0, 20.0, 41.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="JPEG", exif=exif, comment=b"<script>leak()</script>")
    (image,) = property_images_store(
        house=HouseForSaleFactory(), files=[SimpleUploadedFile("gps.jpg", buffer.getvalue())]
    )
    make_variants_now(image)
    thumbnail_key = image.variants["thumbnail"]["key"]
    assert thumbnail_key.endswith("_320w.jpg")
    raw = s3_client.get_object(Bucket=TEST_BUCKET, Key=thumbnail_key)["Body"].read()
    assert b"<script>" not in raw
    assert not Image.open(io.BytesIO(raw)).getexif()


def test_variants_are_off_when_disabled(bucket_keys, settings):
    settings.PROPERTY_IMAGE_VARIANTS = False
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    assert (image.variants_status, image.variants) == (VariantsStatus.READY, {})
    assert bucket_keys() == [image.image.name]


def test_api_lists_variants_with_working_private_urls(owner_client, owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    response = owner_client.post(
        f"/api/houses-for-sale/{house.pk}/upload_images/",
        {"images": [jpeg_upload("a.jpg", (1500, 1000))]},
        format="multipart",
    )
    make_variants_now(PropertyImage.objects.get(pk=response.json()[0]["id"]))
    variants = owner_client.get(f"/api/property-images/{response.json()[0]['id']}/").json()["variants"]
    assert set(variants) == {"thumbnail", "medium", "large"}
    assert (variants["medium"]["width"], variants["medium"]["height"]) == (1024, 683)
    for variant in variants.values():
        for field, (image_format, content_type) in {
            "url": ("WEBP", "image/webp"),
            "avif_url": ("AVIF", "image/avif"),
        }.items():
            fetched = requests.get(variant[field], timeout=10)
            assert fetched.status_code == 200 and fetched.headers["Content-Type"] == content_type
            picture = Image.open(io.BytesIO(fetched.content))
            assert (picture.format, picture.size) == (image_format, (variant["width"], variant["height"]))
            assert requests.get(variant[field].split("?")[0], timeout=10).status_code == 403


def test_secure_url_and_redirect_take_a_variant(owner_client, owner, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    make_variants_now(image)
    body = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?variant=medium").json()
    assert image.variants["medium"]["key"] in body["secure_url"] and body["is_original"] is False
    redirect = owner_client.get(f"/api/property-images/{image.pk}/redirect_to_image/?variant=thumbnail")
    assert redirect.status_code == 302 and image.variants["thumbnail"]["key"] in redirect["Location"]
    unknown = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?variant=huge")
    assert unknown.status_code == 400 and "variant" in unknown.json()


def test_an_image_without_variants_answers_404_for_one(owner_client, owner, bucket_keys, settings):
    settings.PROPERTY_IMAGE_VARIANTS = False
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    response = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?variant=large")
    assert response.status_code == 404
    assert "rebuild_variants" in response.json()["detail"]


def test_rebuild_variants_enqueues_the_missing_ones_and_is_resumable(bucket_keys, settings):
    settings.PROPERTY_IMAGE_VARIANTS = False
    images = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(), jpeg_upload(size=(400, 300))])
    settings.PROPERTY_IMAGE_VARIANTS = True
    out = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 2 images; 0 already up to date" in out.getvalue()
    assert {image.variants_status for image in PropertyImage.objects.all()} == {VariantsStatus.PENDING}
    make_variants_now(*images)
    assert all(set(image.variants) == {"thumbnail", "medium", "large"} for image in images)
    assert bucket_keys() == object_keys(*images)
    again = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=again, stderr=io.StringIO())
    assert "Enqueued the variants of 0 images; 2 already up to date" in again.getvalue()


@pytest.mark.django_db(transaction=True)
def test_rebuild_variants_goes_on_while_other_connections_write_between_its_batches(bucket_keys, monkeypatch):
    """make soak: `rebuild_variants --all` beside live traffic failed on SQLite with "database is locked" when it
    wrote a batch while its read of the next one was still open (a stale read snapshot cannot become a write)."""
    images = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload() for _ in range(5)])
    monkeypatch.setattr(rebuild_variants, "BATCH", 2)
    enqueue = rebuild_variants.image_variants_enqueue
    enqueued: list[list[int]] = []

    def enqueue_after_another_connection_writes(image_ids):
        # A request served meanwhile: another connection commits a write between the command's read and its write.
        with ThreadPoolExecutor(max_workers=1) as other:
            other.submit(lambda: (HouseForSaleFactory(), connections.close_all())).result()
        enqueued.append(list(image_ids))
        enqueue(image_ids)

    monkeypatch.setattr(rebuild_variants, "image_variants_enqueue", enqueue_after_another_connection_writes)
    out = io.StringIO()
    call_command("rebuild_variants", "--all", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 5 images; 0 already up to date" in out.getvalue()
    ids = [image.pk for image in images]
    assert enqueued == [ids[0:2], ids[2:4], ids[4:5]]
    assert set(PropertyImage.objects.values_list("variants_status", flat=True)) == {VariantsStatus.PENDING}
    run_queued_tasks()
    assert bucket_keys() == object_keys(*PropertyImage.objects.all())


def test_an_uploads_placeholder_stays_what_its_answer_said_once_its_variants_are_made(bucket_keys):
    # A grainy photo (its grain from a seeded generator: the same photo whichever tests ran before): the original
    # as stored (encoded again) gives a ThumbHash a few bits off the one of the photo as sent, which the upload's
    # answer carries.
    size = (1200, 900)
    grain = [Image.frombytes("L", size, random.Random(seed).randbytes(size[0] * size[1])) for seed in (1, 2, 3)]
    photo = encode(Image.merge("RGB", grain), "JPEG", quality=90)
    (image,) = property_images_store(
        house=HouseForSaleFactory(), files=[SimpleUploadedFile("grain.jpg", photo, content_type="image/jpeg")]
    )
    answered = (image.thumbhash, image.color)
    with default_storage.open(image.image.name) as stored, Image.open(stored) as original:
        from_the_stored_original = image_placeholder(original)
    assert (from_the_stored_original.thumbhash, from_the_stored_original.color) != answered  # so this test can fail
    make_variants_now(image)
    image.refresh_from_db()
    assert image.variants_status == VariantsStatus.READY
    assert (image.thumbhash, image.color) == answered


def test_an_image_stored_before_placeholders_gets_one_from_rebuild_variants(bucket_keys, owner_client):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(400, 300))])
    make_variants_now(image)
    made = (image.thumbhash, image.color)
    PropertyImage.objects.filter(pk=image.pk).update(thumbhash="", color="")  # as migration 0006 left old rows
    answer = owner_client.get(f"/api/property-images/{image.pk}/").json()
    assert (answer["thumbhash"], answer["color"]) == (None, None)

    out = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 1 images; 0 already up to date" in out.getvalue()
    run_queued_tasks()
    image.refresh_from_db()
    assert (image.thumbhash, image.color) == made and colour_near(image.color, (200, 120, 40))
    assert owner_client.get(f"/api/property-images/{image.pk}/").json()["thumbhash"] == made[0]


def test_variants_made_with_other_settings_are_remade_and_the_old_ones_deleted(bucket_keys, settings):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(1200, 900))])
    make_variants_now(image)
    webp_keys = object_keys(image)
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = "JPEG"
    settings.PROPERTY_IMAGE_VARIANT_WIDTHS = {"thumbnail": 400, "medium": 1024, "large": 2048}
    out = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 1 images; 0 already up to date" in out.getvalue()
    make_variants_now(image)
    stem = image.image.name.rsplit(".", 1)[0]
    assert image.variants == {
        "thumbnail": variant_entry(stem, (400, 300), extension="jpg"),
        "medium": variant_entry(stem, (1024, 768), extension="jpg"),
        "large": variant_entry(stem, (1200, 900), nominal_width=2048, extension="jpg"),
    }
    assert bucket_keys() == object_keys(image)  # the WebP variants and the 320 px AVIF are gone
    # Kept: the original, and the AVIF copies the new settings name alike (rewritten in place).
    assert set(webp_keys) & set(bucket_keys()) == {image.image.name, f"{stem}_1024w.avif", f"{stem}_2048w.avif"}


@pytest.mark.parametrize("avif_before, avif_after", [(False, True), (True, False)])
def test_rebuild_variants_adds_or_drops_the_avif_copies_as_the_setting_now_says(
    avif_before, avif_after, bucket_keys, settings
):
    settings.PROPERTY_IMAGE_VARIANT_AVIF = avif_before
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(800, 600))])
    make_variants_now(image)
    webp_keys = {variant["key"] for variant in image.variants.values()}
    settings.PROPERTY_IMAGE_VARIANT_AVIF = avif_after
    out = io.StringIO()
    call_command("rebuild_variants", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 1 images; 0 already up to date" in out.getvalue()
    make_variants_now(image)
    assert all(("avif_key" in variant) is avif_after for variant in image.variants.values())
    assert {variant["key"] for variant in image.variants.values()} == webp_keys
    assert bucket_keys() == object_keys(image) and len(bucket_keys()) == (OBJECTS_PER_IMAGE if avif_after else 4)


def test_rebuild_variants_all_remakes_up_to_date_variants_in_place(bucket_keys, s3_client):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(800, 600))])
    make_variants_now(image)
    thumbnail_key = image.variants["thumbnail"]["key"]
    s3_client.put_object(Bucket=TEST_BUCKET, Key=thumbnail_key, Body=b"damaged")
    out = io.StringIO()
    call_command("rebuild_variants", "--all", "--no-wait", stdout=out, stderr=io.StringIO())
    assert "Enqueued the variants of 1 images; 0 already up to date" in out.getvalue()
    make_variants_now(image)
    assert stored(s3_client, thumbnail_key).size == (320, 240)
    assert bucket_keys() == object_keys(image)


def test_a_variants_task_that_fails_partway_deletes_what_it_added_and_keeps_the_old_variants(bucket_keys, settings):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(1200, 900))])
    make_variants_now(image)
    webp_variants = image.variants
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = "JPEG"
    # The large and medium JPEGs are stored, then the thumbnail's upload is refused.
    with puts_denied(object_writer(), key_suffix="_320w.jpg"), pytest.raises(S3StorageError):
        make_image_variants.call(image.pk)
    image.refresh_from_db()
    assert image.variants == webp_variants
    assert bucket_keys() == object_keys(image)  # no JPEG variant left behind, the WebP ones intact


def test_a_variants_task_for_an_image_deleted_meanwhile_does_nothing(bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    image_id = image.pk
    PropertyImage.objects.filter(pk=image_id).delete()
    assert make_image_variants.call(image_id) == "deleted"
    assert bucket_keys() == [image.image.name]  # no variant was stored for it


def test_rebuild_variants_does_nothing_when_variants_are_turned_off(bucket_keys, settings):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    make_variants_now(image)
    settings.PROPERTY_IMAGE_VARIANTS = False
    out = io.StringIO()
    call_command("rebuild_variants", "--all", stdout=out, stderr=io.StringIO())
    assert "turned off" in out.getvalue() and bucket_keys() == object_keys(image)


def test_deleting_an_image_deletes_its_variants(bucket_keys, django_capture_on_commit_callbacks):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    make_variants_now(image)
    assert len(bucket_keys()) == OBJECTS_PER_IMAGE
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()
    run_queued_tasks()
    assert bucket_keys() == []


def test_deleting_an_image_read_before_its_variants_were_made_deletes_them_too(
    bucket_keys, django_capture_on_commit_callbacks
):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    read_before = PropertyImage.objects.get(pk=image.pk)  # a request holds the row; the worker makes the variants
    make_variants_now(image)
    assert len(bucket_keys()) == OBJECTS_PER_IMAGE and read_before.variants == {}
    with django_capture_on_commit_callbacks(execute=True):
        read_before.delete()
    run_queued_tasks()
    assert bucket_keys() == []


def test_sweep_orphans_does_not_take_variants_for_orphans(bucket_keys):
    make_variants_now(*property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()]))
    out = io.StringIO()
    call_command("sweep_orphans", "--min-age", "0", stdout=out, stderr=io.StringIO())
    assert "Found 0 orphan objects and 0 orphan rows" in out.getvalue()


def test_one_bad_file_leaves_no_variant_behind(bucket_keys):
    with pytest.raises(UploadRejected, match="not a JPEG, PNG, WebP, HEIC or HEIF"):
        property_images_store(
            house=HouseForSaleFactory(), files=[jpeg_upload(), SimpleUploadedFile("bad.jpg", image_bytes("GIF"))]
        )
    assert bucket_keys() == []


def test_an_empty_variant_is_400_not_the_original(owner_client, owner, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    response = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?variant=")
    assert response.status_code == 400
    assert response.json() == {"variant": ['"" is not a valid choice.']}
