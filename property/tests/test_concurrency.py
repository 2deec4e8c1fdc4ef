"""Concurrent writers on PostgreSQL: exactly one main image, consistent order."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from conftest import jpeg_upload, jwt_client, object_keys
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
