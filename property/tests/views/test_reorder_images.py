"""`POST /api/houses-for-sale|rent/{id}/reorder_images/`: a house's whole gallery order in one call."""

import pytest
from django.test import Client

from property.models import PropertyImage
from property.services import image_updates
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload, jwt_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(owner):
    return HouseForSaleFactory(owner=owner)


@pytest.fixture
def images(house, bucket_keys):
    return property_images_store(house=house, files=[jpeg_upload(f"{n}.jpg") for n in range(4)], is_main=True)


def orders(house) -> list[tuple[int, int]]:
    return list(house.images.order_by("order", "pk").values_list("pk", "order"))


def test_a_new_order_in_one_call(owner_client, house, images):
    wanted = [images[2].pk, images[0].pk, images[3].pk, images[1].pk]
    response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": wanted})
    assert response.status_code == 200
    assert [(image["id"], image["order"]) for image in response.json()] == list(zip(wanted, range(4), strict=True))
    assert orders(house) == list(zip(wanted, range(4), strict=True))
    # is_main untouched, and the house list's cover stays the main image.
    assert [image["is_main"] for image in response.json()] == [False, True, False, False]
    listed = owner_client.get("/api/houses-for-sale/").json()["results"][0]
    assert listed["main_image"]["id"] == images[0].pk
    detail = owner_client.get(f"/api/houses-for-sale/{house.pk}/").json()
    assert [image["id"] for image in sorted(detail["images"], key=lambda image: image["order"])] == wanted


def test_a_rentals_images_too(owner, owner_client, bucket_keys):
    rental = HouseForRentFactory(owner=owner)
    first, second = property_images_store(house=rental, files=[jpeg_upload(), jpeg_upload()])
    response = owner_client.post(f"/api/houses-for-rent/{rental.pk}/reorder_images/", {"ids": [second.pk, first.pk]})
    assert response.status_code == 200
    assert orders(rental) == [(second.pk, 0), (first.pk, 1)]


def test_a_house_without_images_takes_an_empty_order(owner_client, house):
    response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": []})
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    ("make_ids", "message"),
    [
        (lambda images, other: [image.pk for image in images[:3]], "{3} is missing"),
        (lambda images, other: [*(image.pk for image in images), other.pk], "{other} is not one of them"),
        (lambda images, other: [*(image.pk for image in images), images[1].pk], "{1} is listed more than once"),
        (
            lambda images, other: [images[0].pk, images[0].pk, images[1].pk, images[2].pk],
            "{0} is listed more than once; {3} is missing",
        ),
    ],
)
def test_ids_that_are_not_exactly_the_houses_images_are_400_and_change_nothing(
    owner, owner_client, house, images, make_ids, message
):
    (other,) = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    before = orders(house)
    response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": make_ids(images, other)})
    assert response.status_code == 400
    expected = message.format(*(image.pk for image in images), other=other.pk)
    assert response.json() == {"error": f"ids must list each of this house's 4 images once: {expected}"}
    assert orders(house) == before


@pytest.mark.parametrize(
    ("body", "field_error"),
    [
        ({"ids": ["first"]}, {"ids": {"0": ["A valid integer is required."]}}),
        ({"ids": [1.5]}, {"ids": {"0": ["A valid integer is required."]}}),
        ({"ids": [0]}, {"ids": {"0": ["Ensure this value is greater than or equal to 1."]}}),
        ({"ids": "1,2"}, {"ids": ['Expected a list of items but got type "str".']}),
        ({}, {"ids": ["This field is required."]}),
    ],
)
def test_a_body_that_is_not_a_list_of_ids_is_400_and_changes_nothing(owner_client, house, images, body, field_error):
    before = orders(house)
    response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", body)
    assert (response.status_code, response.json()) == (400, field_error)
    assert orders(house) == before


def test_only_the_owner_or_staff_may_reorder(other_client, make_user, house, images):
    new_order = [image.pk for image in reversed(images)]
    before = orders(house)
    refused = other_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": new_order})
    assert refused.status_code == 403
    assert orders(house) == before
    assert other_client.post("/api/houses-for-sale/999999/reorder_images/", {"ids": []}).status_code == 404
    staff = jwt_client(make_user("manager", is_staff=True))
    assert staff.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": new_order}).status_code == 200
    assert [pk for pk, _ in orders(house)] == new_order


@pytest.mark.parametrize("count", [3, 200])
def test_reordering_takes_the_same_queries_for_3_photos_as_for_200(
    owner_client, house, count, django_assert_num_queries
):
    # Rows alone: the reorder reads and writes rows, never objects.
    PropertyImage.objects.bulk_create(
        PropertyImage(
            content_type=house.images.content_type, object_id=house.pk, image=f"p/{house.pk}/{n}.jpg", order=n
        )
        for n in range(count)
    )
    ids = list(house.images.order_by("-pk").values_list("pk", flat=True))
    # The user (read once, then cached), the house, a savepoint, its lock, its images, one UPDATE, the feed's
    # entries (one INSERT ... SELECT), the release.
    with django_assert_num_queries(8):
        response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": ids})
    assert response.status_code == 200 and len(response.json()) == count
    assert [pk for pk, _ in orders(house)] == ids


def test_a_long_order_is_written_in_batches_each_starting_where_the_last_ended(
    owner_client, house, images, monkeypatch
):
    monkeypatch.setattr(image_updates, "ORDER_BATCH", 3)  # four images: a batch of three, then one
    before = {pk: updated for pk, updated in house.images.values_list("pk", "updated_at")}
    wanted = [images[3].pk, images[1].pk, images[0].pk, images[2].pk]
    response = owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": wanted})
    assert response.status_code == 200
    assert orders(house) == list(zip(wanted, range(4), strict=True))
    after = dict(house.images.values_list("pk", "updated_at"))
    assert all(after[pk] > before[pk] for pk in wanted) and len(set(after.values())) == 1


def test_the_admin_session_reorders_as_the_admin_would_let_it(client, owner, house, images, django_user_model):
    wanted = {"ids": [image.pk for image in reversed(images)]}
    url = f"/api/houses-for-sale/{house.pk}/reorder_images/"
    before = orders(house)
    client.force_login(owner)  # the house's owner, but not staff: the admin session is not for them
    assert client.post(url, wanted, content_type="application/json").status_code == 403
    staff = django_user_model.objects.create_user("viewer", password="x", is_staff=True)  # no change permission
    client.force_login(staff)
    assert client.post(url, wanted, content_type="application/json").status_code == 403
    assert orders(house) == before

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_superuser("admin", "admin@example.com", "x"))
    refused = browser.post(url, wanted, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = browser.get("/admin/").cookies["csrftoken"].value
    saved = browser.post(url, wanted, content_type="application/json", headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and [image["id"] for image in saved.json()] == wanted["ids"]
