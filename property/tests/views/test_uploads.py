"""Uploads: `POST /api/houses-for-sale|rent/{id}/upload_images/`, `POST /api/property-images/` and `bulk_upload/`."""

import base64
import io

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from property.models import PropertyImage
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from property.tests.phone_photos import (
    CLOSE_ENOUGH,
    PHONE_PHOTOS,
    UPRIGHT_SIZE,
    mean_difference,
    phone_photo,
    references,
)
from testing import OBJECTS_PER_IMAGE, colour_near, image_bytes, jpeg_upload, make_variants_now, object_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(owner):
    return HouseForSaleFactory(owner=owner)


def upload_images(client, house, **fields):
    return client.post(f"/api/houses-for-sale/{house.pk}/upload_images/", fields, format="multipart")


@pytest.mark.parametrize(
    "path", ["/api/houses-for-sale/{id}/upload_images/", "/api/property-images/", "/api/property-images/bulk_upload/"]
)
def test_an_upload_sent_as_json_is_415_and_stores_nothing(owner_client, house, bucket_keys, path):
    body = {"content_type": "house_for_sale", "object_id": house.pk, "caption": "Pool"}
    response = owner_client.post(path.format(id=house.pk), body, format="json")
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "application/json" in request.'}
    assert (PropertyImage.objects.count(), bucket_keys()) == (0, [])


def test_upload_images_answers_201_with_the_created_images(owner_client, house, bucket_keys):
    response = upload_images(
        owner_client,
        house,
        images=[jpeg_upload("image1.jpg"), jpeg_upload("image2.jpg")],
        caption="Beautiful living room",
        is_main="true",
    )
    assert response.status_code == 201
    body = response.json()
    assert [image["original_filename"] for image in body] == ["image1.jpg", "image2.jpg"]
    assert [image["is_main"] for image in body] == [True, False]
    assert {image["caption"] for image in body} == {"Beautiful living room"}
    assert {image["content_type"] for image in body} == {"house_for_sale"}
    assert {image["object_id"] for image in body} == {house.pk}
    # The placeholder is in the answer already: the photos' (image_bytes' orange), as stored on their rows.
    assert all(colour_near(image["color"], (200, 120, 40)) for image in body)
    rows = PropertyImage.objects.in_bulk([image["id"] for image in body])
    assert [(image["thumbhash"], image["color"]) for image in body] == [
        (rows[image["id"]].thumbhash, rows[image["id"]].color) for image in body
    ]
    assert 20 <= len(base64.b64decode(body[0]["thumbhash"])) <= 35
    assert bucket_keys() == object_keys(*PropertyImage.objects.all())
    fetched = requests.get(body[0]["secure_url"], timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
    assert body[0]["image_url"] == body[0]["secure_url"]


def test_upload_images_to_a_house_for_rent(make_user, bucket_keys):
    from testing import jwt_client

    agent = make_user("rental-agent")
    rental = HouseForRentFactory(owner=agent)
    response = jwt_client(agent).post(
        f"/api/houses-for-rent/{rental.pk}/upload_images/", {"images": [jpeg_upload()]}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()[0]["content_type"] == "house_for_rent"
    assert bucket_keys()[0].startswith(f"properties/houseforrent/{rental.pk}/")


def test_upload_without_files_is_the_guides_400(owner_client, house, bucket_keys):
    response = upload_images(owner_client, house, caption="nothing attached")
    assert response.status_code == 400
    assert response.json() == {"error": "No images provided"}


def test_one_bad_file_rejects_the_request_and_stores_nothing(owner_client, house, bucket_keys):
    response = upload_images(
        owner_client,
        house,
        images=[jpeg_upload("image1.jpg"), SimpleUploadedFile("image2.jpg", b"GIF89a\x01\x00"), jpeg_upload()],
    )
    assert response.status_code == 400
    assert response.json() == {"error": "image2.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image"}
    assert bucket_keys() == [] and PropertyImage.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.jpg", b"", "empty.jpg: the file is empty"),
        ("cut.jpg", image_bytes("JPEG", (300, 300))[:400], "cut.jpg: the image is truncated or corrupt"),
        ("page.jpg", b"<html><script>alert(1)</script></html>", "page.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image"),
        ("../../../etc/cron.d/x.jpg", b"%PDF-1.7", "x.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image"),
    ],
)
def test_hostile_files_get_a_400_that_names_them(owner_client, house, bucket_keys, name, payload, message):
    response = upload_images(owner_client, house, images=[SimpleUploadedFile(name, payload)])
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert bucket_keys() == [] and PropertyImage.objects.count() == 0
    # The server is still healthy: the next good upload goes through.
    assert upload_images(owner_client, house, images=[jpeg_upload()]).status_code == 201


def test_file_one_byte_over_the_size_limit_is_refused_while_streaming(owner_client, house, bucket_keys, settings):
    payload = image_bytes("JPEG", (64, 48))
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = len(payload) - 1
    response = upload_images(
        owner_client, house, images=[jpeg_upload("small.jpg", size=(8, 8)), SimpleUploadedFile("big.jpg", payload)]
    )
    assert response.status_code == 413
    assert response.json() == {"error": f"big.jpg: the file is larger than the {len(payload) - 1:,} bytes limit"}
    assert bucket_keys() == [] and PropertyImage.objects.count() == 0


def test_file_exactly_at_the_size_limit_is_accepted(owner_client, house, bucket_keys, settings):
    payload = image_bytes("JPEG", (64, 48))
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = len(payload)
    response = upload_images(owner_client, house, images=[SimpleUploadedFile("edge.jpg", payload)])
    assert response.status_code == 201


def test_request_body_over_the_total_limit_is_refused_before_it_is_read(owner_client, house, bucket_keys, settings):
    settings.PROPERTY_IMAGE_MAX_FILES = 1
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = 1024
    filler = SimpleUploadedFile("filler.jpg", b"x" * (2 * 1024 * 1024))
    response = upload_images(owner_client, house, images=[filler])
    assert response.status_code == 413
    assert response.json()["error"].startswith("The request body is 2.0 MB, more than the 1 MB allowed")
    assert bucket_keys() == []


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"order": "-1"}, "order"),
        ({"order": "2147483648"}, "order"),
        ({"is_main": "maybe"}, "is_main"),
        ({"is_main": "1"}, "is_main"),  # the schema's boolean: true or false
        ({"caption": "c" * 256}, "caption"),
    ],
)
def test_invalid_upload_options_are_400_and_store_nothing(owner_client, house, bucket_keys, fields, bad_field):
    response = upload_images(owner_client, house, images=[jpeg_upload()], **fields)
    assert response.status_code == 400
    assert list(response.json()) == [bad_field]
    assert bucket_keys() == [] and PropertyImage.objects.count() == 0


def test_only_the_owner_or_staff_may_upload(other_client, house, bucket_keys):
    response = upload_images(other_client, house, images=[jpeg_upload()])
    assert response.status_code == 403
    assert response.json()["detail"]
    assert bucket_keys() == []


def test_upload_to_unknown_house_is_404(owner_client, bucket_keys):
    response = owner_client.post(
        "/api/houses-for-sale/999999/upload_images/", {"images": [jpeg_upload()]}, format="multipart"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_bulk_upload_stores_every_file(owner_client, house, bucket_keys):
    response = owner_client.post(
        "/api/property-images/bulk_upload/",
        {
            "images": [jpeg_upload("image1.jpg"), jpeg_upload("image2.jpg")],
            "content_type": "house_for_sale",
            "object_id": house.pk,
        },
        format="multipart",
    )
    assert response.status_code == 201
    assert [image["order"] for image in response.json()] == [0, 1]
    assert bucket_keys(f"properties/houseforsale/{house.pk}/") == object_keys(*PropertyImage.objects.all())
    assert PropertyImage.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"content_type": "castle", "object_id": "1"}, "content_type"),
        ({"content_type": "house_for_sale", "object_id": "abc"}, "object_id"),
        ({"object_id": "1"}, "content_type"),
    ],
)
def test_bulk_upload_with_a_bad_target_is_400(owner_client, house, bucket_keys, fields, bad_field):
    response = owner_client.post(
        "/api/property-images/bulk_upload/", {"images": [jpeg_upload()], **fields}, format="multipart"
    )
    assert response.status_code == 400
    assert bad_field in response.json()
    assert bucket_keys() == []


def test_bulk_upload_to_a_house_that_does_not_exist_is_404(owner_client, bucket_keys):
    response = owner_client.post(
        "/api/property-images/bulk_upload/",
        {"images": [jpeg_upload()], "content_type": "house_for_sale", "object_id": "999999"},
        format="multipart",
    )
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert bucket_keys() == []


def test_bulk_upload_without_files_is_the_guides_400(owner_client, house):
    response = owner_client.post(
        "/api/property-images/bulk_upload/",
        {"content_type": "house_for_sale", "object_id": house.pk},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"error": "No images provided"}


def test_bulk_upload_to_someone_elses_house_is_403(other_client, house, bucket_keys):
    response = other_client.post(
        "/api/property-images/bulk_upload/",
        {"images": [jpeg_upload()], "content_type": "house_for_sale", "object_id": house.pk},
        format="multipart",
    )
    assert response.status_code == 403
    assert bucket_keys() == []


def test_create_single_image(owner_client, house, bucket_keys):
    response = owner_client.post(
        "/api/property-images/",
        {
            "image": jpeg_upload("kitchen.jpg"),
            "content_type": "house_for_sale",
            "object_id": house.pk,
            "caption": "Kitchen",
            "order": 3,
            "is_main": "true",
        },
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["original_filename"], body["caption"], body["order"], body["is_main"]) == (
        "kitchen.jpg",
        "Kitchen",
        3,
        True,
    )
    assert requests.get(body["secure_url"], timeout=10).status_code == 200


def test_create_rejects_a_bad_file_and_by_someone_else(owner_client, other_client, house, bucket_keys):
    fields = {"content_type": "house_for_sale", "object_id": house.pk}
    bad = owner_client.post(
        "/api/property-images/", {"image": SimpleUploadedFile("x.png", b"nope"), **fields}, format="multipart"
    )
    assert bad.status_code == 400 and bad.json() == {"error": "x.png: not a JPEG, PNG, WebP, HEIC or HEIF image"}
    forbidden = other_client.post("/api/property-images/", {"image": jpeg_upload(), **fields}, format="multipart")
    assert forbidden.status_code == 403
    missing = owner_client.post("/api/property-images/", fields, format="multipart")
    assert missing.status_code == 400 and "image" in missing.json()
    assert bucket_keys() == []


def test_upload_when_s3_is_unreachable_is_503_and_stores_no_row(owner_client, house, settings):
    from django.test import override_settings

    with override_settings(STORAGES={**settings.STORAGES}, AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"):
        response = upload_images(owner_client, house, images=[jpeg_upload()])
    assert response.status_code == 503
    assert "error" in response.json()
    assert PropertyImage.objects.count() == 0


def test_an_upload_says_what_its_photos_show(owner_client, house, bucket_keys):
    response = upload_images(
        owner_client, house, images=[jpeg_upload("plan.jpg")], category="floor_plan", description="The ground floor"
    )
    assert response.status_code == 201, response.json()
    (image,) = response.json()
    assert (image["category"], image["description"]) == ("floor_plan", "The ground floor")
    assert PropertyImage.objects.values_list("category", "description").get() == ("floor_plan", "The ground floor")
    (unsaid,) = upload_images(owner_client, house, images=[jpeg_upload()]).json()
    assert (unsaid["category"], unsaid["description"]) == (None, "")


@pytest.mark.parametrize("fields", [{"category": "attic"}, {"description": "x" * 1025}])
def test_an_upload_with_a_bad_category_or_description_is_400_and_stores_nothing(
    owner_client, house, bucket_keys, fields
):
    response = upload_images(owner_client, house, images=[jpeg_upload()], **fields)
    assert response.status_code == 400
    assert list(response.json()) == list(fields)
    assert (PropertyImage.objects.count(), bucket_keys()) == (0, [])


def phone_upload(name: str, *, as_name: str | None = None, content_type: str = "image/heic") -> SimpleUploadedFile:
    return SimpleUploadedFile(as_name or name, phone_photo(name), content_type=content_type)


def test_phone_photos_are_uploaded_as_upright_jpegs_with_every_variant(owner_client, house, bucket_keys):
    response = upload_images(owner_client, house, images=[phone_upload(name) for name in PHONE_PHOTOS])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [image["original_filename"] for image in body] == list(PHONE_PHOTOS)
    assert {(image["width"], image["height"]) for image in body} == {UPRIGHT_SIZE}
    images = list(PropertyImage.objects.order_by("order"))
    assert {(image.mime_type, image.image.name.rsplit(".", 1)[-1]) for image in images} == {("image/jpeg", "jpg")}
    make_variants_now(*images)
    assert {image.variants_status for image in images} == {"ready"}
    assert len(bucket_keys()) == OBJECTS_PER_IMAGE * len(PHONE_PHOTOS)
    for image in body:
        fetched = requests.get(image["secure_url"], timeout=10)
        assert fetched.headers["Content-Type"] == "image/jpeg"
        with Image.open(io.BytesIO(fetched.content)) as stored:
            assert stored.format == "JPEG" and stored.size == UPRIGHT_SIZE
            assert mean_difference(stored, references("garden.heic")[0]) < CLOSE_ENOUGH


def test_heics_named_jpg_and_sent_as_jpeg_are_handled_as_heics_by_bulk_upload(owner_client, house, bucket_keys):
    disguised = [
        phone_upload(name, as_name=f"IMG_000{n}.jpg", content_type="image/jpeg")
        for n, name in enumerate(PHONE_PHOTOS, 1)
    ]
    response = owner_client.post(
        "/api/property-images/bulk_upload/",
        {"images": disguised, "content_type": "house_for_sale", "object_id": house.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert [(image["original_filename"], image["width"], image["height"]) for image in response.json()] == [
        (f"IMG_000{n}.jpg", *UPRIGHT_SIZE) for n in range(1, len(PHONE_PHOTOS) + 1)
    ]
    assert set(PropertyImage.objects.values_list("mime_type", flat=True)) == {"image/jpeg"}


def test_a_truncated_heic_among_good_photos_is_400_naming_it_and_stores_nothing(owner_client, house, bucket_keys):
    payload = phone_photo("garden.heic")
    truncated = SimpleUploadedFile("IMG_0002.HEIC", payload[: len(payload) // 2], content_type="image/heic")
    response = upload_images(owner_client, house, images=[phone_upload("garden.heic"), truncated])
    assert response.status_code == 400
    assert response.json() == {"error": "IMG_0002.HEIC: the image is truncated or corrupt"}
    assert (PropertyImage.objects.count(), bucket_keys()) == (0, [])
