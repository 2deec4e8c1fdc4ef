"""Concurrent writers on PostgreSQL: exactly one main image, consistent order."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from conftest import image_bytes, jpeg_upload, jwt_client, object_keys, post_to_s3
from property.models import PropertyImage, StagedUploadClaim
from property.services import property_images_store
from property.tests.factories import HouseForSaleFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks: run with DATABASE_URL=postgres://..."
    ),
]


def run_concurrently(task, arguments):
    def in_own_connection(argument):
        try:
            return task(argument)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(in_own_connection, arguments))


def test_twenty_concurrent_set_as_main_leave_exactly_one_main_image(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    images = property_images_store(house=house, files=[jpeg_upload() for _ in range(20)], is_main=True)

    def set_main(image_id):
        return jwt_client(owner).patch(f"/api/property-images/{image_id}/set_as_main/").status_code

    statuses = run_concurrently(set_main, [image.pk for image in reversed(images)])
    assert statuses == [200] * 20
    assert house.images.filter(is_main=True).count() == 1


def test_concurrent_uploads_to_one_house_get_distinct_orders(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)

    def upload(index):
        response = jwt_client(owner).post(
            f"/api/houses-for-sale/{house.pk}/upload_images/",
            {"images": [jpeg_upload(f"{index}a.jpg"), jpeg_upload(f"{index}b.jpg")], "is_main": "true"},
            format="multipart",
        )
        return response.status_code

    assert run_concurrently(upload, list(range(8))) == [201] * 8
    orders = sorted(house.images.values_list("order", flat=True))
    assert orders == list(range(16))
    assert house.images.filter(is_main=True).count() == 1
    assert bucket_keys() == object_keys(*house.images.all())  # 16 originals and their variants


def test_concurrent_completions_of_one_direct_upload_store_it_once(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    target = {"content_type": "house_for_sale", "object_id": house.pk}
    upload = jwt_client(owner).post("/api/property-images/upload_url/", target, format="json").json()
    assert post_to_s3(upload, image_bytes("JPEG", (800, 600))).status_code in (200, 201, 204)

    def complete(_):
        response = jwt_client(owner).post(
            "/api/property-images/complete_upload/", {"key": upload["key"], **target}, format="json"
        )
        return response.status_code, response.json().get("id")

    answers = run_concurrently(complete, list(range(6)))
    # One stores it; the others find it being completed (409) or get the image it became (201).
    assert {status for status, _ in answers} <= {201, 409}
    (stored,) = PropertyImage.objects.all()
    assert {image_id for status, image_id in answers if status == 201} == {stored.pk}
    assert StagedUploadClaim.objects.get().image == stored
    assert bucket_keys() == object_keys(*PropertyImage.objects.all())  # no staging object, no duplicate
