"""Concurrent writers, on SQLite (what `make run` serves) and on PostgreSQL: exactly one main image, consistent
order, one image per direct upload, every view of a share link counted, and a busy database answers 503 instead of
500."""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from property.models import PropertyImage, ShareLink, StagedUploadClaim
from property.services import image_updates
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory, PropertyImageFactory
from testing import image_bytes, jpeg_upload, jwt_client, object_keys, post_to_s3, run_queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(task, arguments):
    """`task(argument)` for every argument at once, each in a thread with its own database connection,
    released together so that they really meet."""
    start = threading.Barrier(len(arguments))

    def in_own_connection(argument):
        try:
            start.wait()
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


def test_concurrent_uploads_to_one_house_with_readers_get_distinct_orders(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    property_images_store(house=house, files=[jpeg_upload("seed.jpg")])

    def upload_or_read(index):
        client = jwt_client(owner)
        if index >= 8:  # four readers among the eight writers
            listing = client.get(f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}")
            detail = client.get(f"/api/houses-for-sale/{house.pk}/")
            return listing.status_code, detail.status_code
        response = client.post(
            f"/api/houses-for-sale/{house.pk}/upload_images/",
            {"images": [jpeg_upload(f"{index}a.jpg"), jpeg_upload(f"{index}b.jpg")], "is_main": "true"},
            format="multipart",
        )
        return response.status_code

    assert run_concurrently(upload_or_read, list(range(12))) == [201] * 8 + [(200, 200)] * 4
    orders = sorted(house.images.values_list("order", flat=True))
    assert orders == list(range(17))
    assert house.images.filter(is_main=True).count() == 1
    assert bucket_keys() == object_keys(*house.images.all()) and len(bucket_keys()) == 17  # 17 originals


def test_concurrent_deletes_of_one_image_answer_only_204_or_404_and_leave_nothing(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    kept, doomed = property_images_store(house=house, files=[jpeg_upload("kept.jpg"), jpeg_upload("doomed.jpg")])

    def delete(_):
        return jwt_client(owner).delete(f"/api/property-images/{doomed.pk}/").status_code

    statuses = run_concurrently(delete, list(range(5)))
    # DELETE is idempotent: a request that found the image before another deleted it also answers 204.
    assert set(statuses) <= {204, 404} and 204 in statuses
    assert list(house.images.all()) == [kept]
    run_queued_tasks()  # the deletion of its objects (and the variants of both)
    assert bucket_keys() == object_keys(*house.images.all())


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
    run_queued_tasks()  # the deletion of the staging object (and the variants)
    assert bucket_keys() == object_keys(*PropertyImage.objects.all())  # no staging object, no duplicate


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock: PostgreSQL locks rows")
def test_a_writer_that_cannot_get_the_write_lock_in_time_answers_503_with_retry_after(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    (image,) = property_images_store(house=house, files=[jpeg_upload()])
    client = jwt_client(owner)
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    connection.close()
    options = connection.settings_dict["OPTIONS"]
    waited = options["timeout"]
    options["timeout"] = 0.2
    try:
        response = client.patch(f"/api/property-images/{image.pk}/set_as_main/")
    finally:
        holder.rollback()
        holder.close()
        connection.close()
        options["timeout"] = waited
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "busy" in response.json()["error"]
    image.refresh_from_db()
    assert not image.is_main


def test_ten_concurrent_reorders_of_a_30_photo_house_leave_exactly_one_of_their_orders(owner, bucket_keys, monkeypatch):
    # Each reorder writes its order in 8 UPDATEs of 4 ids (not one, as 30 ids would take): without the house's lock,
    # PostgreSQL would let two reorders' UPDATEs interleave (SQLite's IMMEDIATE transactions serialise them anyway).
    monkeypatch.setattr(image_updates, "ORDER_BATCH", 4)
    house = HouseForSaleFactory(owner=owner)
    images = [
        image
        for batch in range(2)
        for image in property_images_store(house=house, files=[jpeg_upload(f"{batch}-{n}.jpg") for n in range(15)])
    ]
    ids = [image.pk for image in images]
    orders = [ids[shift:] + ids[:shift] for shift in range(0, 30, 3)]  # ten different orders

    def reorder(new_order):
        response = jwt_client(owner).post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": new_order})
        return response.status_code, [(image["id"], image["order"]) for image in response.json()]

    answers = run_concurrently(reorder, orders)
    # Each answer is a whole order (its own), and the final order is exactly one of them, 0..29 without a gap.
    assert answers == [(200, list(zip(order, range(30), strict=True))) for order in orders]
    final = list(house.images.order_by("order").values_list("pk", "order"))
    assert [order for _, order in final] == list(range(30))
    assert [pk for pk, _ in final] in orders


def test_twenty_concurrent_opens_of_a_share_link_count_exactly_twenty_views(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    property_images_store(house=house, files=[jpeg_upload()])
    made = (
        jwt_client(owner)
        .post(f"/api/houses-for-sale/{house.pk}/share_links/", {"expires_in": 600}, format="json")
        .json()
    )

    def open_link(_):
        return APIClient().get(f"/api/shared/{made['token']}/").status_code

    assert run_concurrently(open_link, range(20)) == [200] * 20
    assert ShareLink.objects.get().views == 20


def test_a_house_deleted_while_an_upload_holds_it_takes_the_upload_s_photos_along(owner, bucket_keys):
    """An upload holds the house's lock while it records its photo; the house's DELETE comes meanwhile. On PostgreSQL
    the deletion must wait for the lock before it collects the photos (services.image_updates.house_delete), or it
    collects none, waits only at the house's row, and leaves the upload's photo pointing at no house (found by
    bench/feed_sync.py: a 403 for such a photo). SQLite's write lock serialises the two whole either way."""
    house = HouseForSaleFactory(owner=owner)
    locked, inserted = threading.Event(), threading.Event()

    def upload_holding_the_lock() -> None:
        try:
            with transaction.atomic():
                image_updates.lock_house(content_type=ContentType.objects.get_for_model(house), object_id=house.pk)
                locked.set()
                time.sleep(1)  # the DELETE is sent and waits, for the lock or the row
                PropertyImageFactory(content_object=house)
                inserted.set()
        finally:
            connections.close_all()

    uploader = threading.Thread(target=upload_holding_the_lock)
    uploader.start()
    assert locked.wait(10)
    assert jwt_client(owner).delete(f"/api/houses-for-sale/{house.pk}/").status_code == 204
    uploader.join(10)
    assert inserted.is_set()
    assert not PropertyImage.objects.filter(object_id=house.pk).exists()
