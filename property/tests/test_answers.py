"""Answers kept while nothing they show changes (property/answers.py): byte for byte the answer built anew, in every
variant state and after every kind of write, and a 304 without a row read for a client that has it. These tests
commit (transaction=True): versions move when a write commits. The clock is held inside one signing window."""

import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from property.models import PropertyImage, VariantsStatus
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import jpeg_upload, make_variants_now

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def one_signing_window(settings):
    """Answers kept, and the clock started at the beginning of a signing window: no test reaches its end."""
    settings.API_ANSWER_CACHE = True
    window = settings.AWS_PRESIGNED_URL_STABLE_WINDOW
    with freeze_time(datetime.fromtimestamp(time.time() // window * window + 1, UTC), tick=True):
        yield


@pytest.fixture
def house(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    property_images_store(house=house, files=[jpeg_upload(f"{n}.jpg") for n in range(3)], is_main=True)
    return house


def paths(house) -> list[str]:
    image = house.images.order_by("pk").first().pk
    return [
        f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}",
        "/api/property-images/?paging=cursor&page_size=2",
        f"/api/property-images/{image}/",
        f"/api/property-images/{image}/secure_url/",
        f"/api/property-images/{image}/secure_url/?variant=thumbnail&expiration=60",
        "/api/houses-for-sale/",
        "/api/houses-for-sale/?include=images",
        f"/api/houses-for-sale/{house.pk}/",
    ]


def answers(client, house) -> dict[str, tuple[bytes, str]]:
    """Each path's body and Content-Type, asked twice (built, then kept): the two must be the same."""
    found = {}
    for path in paths(house):
        first, second = client.get(path), client.get(path)
        assert first.status_code == second.status_code == 200, path
        assert (first.content, first["ETag"]) == (second.content, second["ETag"]), path
        found[path] = (second.content, second["Content-Type"])
    return found


def built(client, house) -> dict[str, tuple[bytes, str]]:
    with override_settings(API_ANSWER_CACHE=False):
        return {
            path: (answer.content, answer["Content-Type"]) for path in paths(house) for answer in [client.get(path)]
        }


def test_a_kept_answer_is_the_built_one_in_every_variant_state(owner_client, house):
    image, *_ = house.images.order_by("pk")
    assert {image.variants_status for image in house.images.all()} == {VariantsStatus.PENDING}
    assert answers(owner_client, house) == built(owner_client, house)
    make_variants_now(*house.images.all())  # the task writes with update(): ready
    assert answers(owner_client, house) == built(owner_client, house)
    assert b'"variants_status":"ready"' in answers(owner_client, house)[paths(house)[0]][0]
    PropertyImage.objects.filter(pk=image.pk).update(variants_status=VariantsStatus.FAILED)  # as the task fails
    assert answers(owner_client, house) == built(owner_client, house)
    assert b'"variants_status":"failed"' in answers(owner_client, house)[paths(house)[0]][0]


def test_a_kept_answer_takes_in_every_kind_of_write(owner_client, house, owner):
    first, second, third = house.images.order_by("pk")
    writes = [
        lambda: owner_client.patch(f"/api/property-images/{second.pk}/", {"caption": "Kitchen"}),
        lambda: owner_client.post(
            f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": [third.pk, first.pk, second.pk]}
        ),
        lambda: owner_client.patch(f"/api/property-images/{third.pk}/set_as_main/"),
        lambda: owner_client.patch(f"/api/houses-for-sale/{house.pk}/", {"title": "Renamed"}),
        lambda: owner_client.post(
            f"/api/houses-for-sale/{house.pk}/upload_images/", {"images": [jpeg_upload("new.jpg")]}, format="multipart"
        ),
        lambda: owner_client.delete(f"/api/property-images/{first.pk}/"),
        lambda: setattr(owner, "username", "renamed-owner") or owner.save(),
    ]
    before = answers(owner_client, house)
    for write in writes:
        response = write()
        assert response is None or response.status_code < 300, response.content
        now = answers(owner_client, house)
        assert now == built(owner_client, house)
        assert now != before
        before = now


def test_a_client_that_has_the_answer_gets_304_without_a_row_read(owner_client, house):
    path = f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}"
    answer = owner_client.get(path)
    etag = answer["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = owner_client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert len(queries) == 0
    compressed = owner_client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["ETag"] == f"W/{etag}"  # GZipMiddleware's, for the compressed body
    assert owner_client.get(path, HTTP_IF_NONE_MATCH=compressed["ETag"]).status_code == 304
    owner_client.patch(f"/api/property-images/{house.images.first().pk}/", {"caption": "Changed"})
    changed = owner_client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag and b"Changed" in changed.content


def test_answers_of_the_next_signing_window_are_built_again(owner_client, house):
    path = f"/api/houses-for-sale/{house.pk}/"
    kept = owner_client.get(path)
    with freeze_time(datetime.fromtimestamp(time.time() + settings.AWS_PRESIGNED_URL_STABLE_WINDOW, UTC)):
        later = owner_client.get(path)
        assert later["ETag"] != kept["ETag"] and later.content != kept.content
        with override_settings(API_ANSWER_CACHE=False):
            assert owner_client.get(path).content == later.content


def test_only_json_answers_are_kept(owner_client, house):
    answer = owner_client.get("/api/houses-for-sale/", HTTP_ACCEPT="text/html")
    assert answer.status_code == 200 and not answer.has_header("ETag")


def test_an_answer_too_large_to_keep_is_built_each_time_and_still_answers_304(owner_client, house, settings):
    settings.API_ANSWER_CACHE_MAX_BYTES = 100
    path = "/api/houses-for-sale/?include=images"
    answer = owner_client.get(path)
    with CaptureQueriesContext(connection) as queries:
        again = owner_client.get(path)
    assert answer.content == again.content and len(answer.content) > 100
    assert any('FROM "property_propertyimage"' in query["sql"] for query in queries)  # built again: not kept
    assert owner_client.get(path, HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304
