"""`/api/houses-for-sale/` and `/api/houses-for-rent/`: CRUD, ownership, filters, pagination."""

import gzip
import json

import pytest

from property.models import HouseForRent, HouseForSale
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload, make_variants_now

pytestmark = pytest.mark.django_db

NEW_HOUSE = {
    "title": "Villa with sea views",
    "description": "Four bedrooms, pool",
    "address": "Calle del Mar 12",
    "city": "Alicante",
    "bedrooms": 4,
    "bathrooms": 3,
    "area": "210.50",
}


def test_create_house_for_sale_makes_the_caller_its_owner(owner_client, owner):
    response = owner_client.post("/api/houses-for-sale/", {**NEW_HOUSE, "price": "450000.00"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == owner.pk and body["owner_username"] == "owner"
    assert body["price"] == "450000.00" and body["images"] == []
    assert (body["main_image"], body["image_count"]) == (None, 0)
    assert HouseForSale.objects.get(pk=body["id"]).owner == owner


def test_create_house_for_rent_uses_monthly_rent(owner_client):
    response = owner_client.post("/api/houses-for-rent/", {**NEW_HOUSE, "monthly_rent": "1200.00"}, format="json")
    assert response.status_code == 201
    assert response.json()["monthly_rent"] == "1200.00"
    assert "price" not in response.json()


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        ("/api/houses-for-sale/", ["title", "address", "price"]),
        ("/api/houses-for-rent/", ["title", "address", "monthly_rent"]),
    ],
)
def test_create_requires_title_address_and_price(owner_client, path, missing):
    response = owner_client.post(path, {}, format="json")
    assert response.status_code == 400
    assert sorted(response.json()) == sorted(missing)
    assert HouseForSale.objects.count() + HouseForRent.objects.count() == 0


@pytest.mark.parametrize(
    "bad_fields",
    [
        {"price": "-1"},
        {"price": "lots"},
        {"price": 450000},  # amounts are strings, as the API answers them
        {"price": "1e5"},
        {"area": ""},
        {"bedrooms": -2},
        {"bedrooms": "3"},
        {"bedrooms": 40000},
        {"area": "-5"},
        {"title": "x" * 201},
        {"title": 5},
        {"title": "   "},
    ],
)
def test_invalid_fields_are_400_and_store_nothing(owner_client, bad_fields):
    response = owner_client.post("/api/houses-for-sale/", {**NEW_HOUSE, "price": "1000", **bad_fields}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == set(bad_fields)
    assert HouseForSale.objects.count() == 0


def test_malformed_json_is_400_with_a_reason(owner_client):
    response = owner_client.generic("POST", "/api/houses-for-sale/", '{"title": "x",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_owner_updates_and_deletes_their_house(owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    response = owner_client.patch(f"/api/houses-for-sale/{house.pk}/", {"price": "199000.00"}, format="json")
    assert response.status_code == 200 and response.json()["price"] == "199000.00"
    assert owner_client.delete(f"/api/houses-for-sale/{house.pk}/").status_code == 204
    assert not HouseForSale.objects.filter(pk=house.pk).exists()


def test_other_users_may_read_but_not_change(other_client, owner):
    house = HouseForRentFactory(owner=owner)
    assert other_client.get(f"/api/houses-for-rent/{house.pk}/").status_code == 200
    response = other_client.patch(f"/api/houses-for-rent/{house.pk}/", {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only the owner of this property or staff may change it or its images."
    assert other_client.delete(f"/api/houses-for-rent/{house.pk}/").status_code == 403
    house.refresh_from_db()
    assert house.title != "Mine now"


def test_staff_may_change_any_house(make_user, owner):
    from testing import jwt_client

    house = HouseForSaleFactory(owner=owner)
    staff = jwt_client(make_user("manager", is_staff=True))
    response = staff.patch(f"/api/houses-for-sale/{house.pk}/", {"city": "Elche"}, format="json")
    assert response.status_code == 200 and response.json()["city"] == "Elche"


def test_owner_cannot_be_reassigned_by_the_client(owner_client, owner, other_user):
    house = HouseForSaleFactory(owner=owner)
    owner_client.patch(f"/api/houses-for-sale/{house.pk}/", {"owner": other_user.pk}, format="json")
    house.refresh_from_db()
    assert house.owner == owner


def test_unknown_house_is_the_guides_404(owner_client):
    response = owner_client.get("/api/houses-for-sale/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_list_is_paginated_with_page_size_from_1_to_100(owner_client):
    HouseForSaleFactory.create_batch(25)
    first_page = owner_client.get("/api/houses-for-sale/").json()
    assert set(first_page) == {"count", "next", "previous", "results"}
    assert first_page["count"] == 25 and len(first_page["results"]) == 20 and first_page["previous"] is None
    assert len(owner_client.get("/api/houses-for-sale/?page_size=5").json()["results"]) == 5
    HouseForSaleFactory.create_batch(90)
    assert len(owner_client.get("/api/houses-for-sale/?page_size=100").json()["results"]) == 100
    too_many = owner_client.get("/api/houses-for-sale/?page_size=1000")
    assert too_many.status_code == 400 and too_many.json() == {"page_size": ["A whole number from 1 to 100."]}


def test_list_filters_by_city_owner_and_price(owner_client, owner):
    HouseForSaleFactory(city="Elche", price="100000", owner=owner)
    HouseForSaleFactory(city="Elche", price="300000")
    HouseForSaleFactory(city="Alicante", price="200000")

    def titles(query):
        return len(owner_client.get(f"/api/houses-for-sale/?{query}").json()["results"])

    assert titles("city=elche") == 2
    assert titles(f"owner={owner.pk}") == 1
    assert titles("owner=999999") == 0  # a user without houses: an empty list, not an error
    assert titles("min_price=150000&max_price=250000") == 1
    response = owner_client.get("/api/houses-for-sale/?min_price=cheap")
    assert response.status_code == 400 and "min_price" in response.json()
    assert titles("city=") == 3  # a text filter may be empty


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/houses-for-sale/", "owner"),
        ("/api/houses-for-sale/", "bedrooms"),
        ("/api/houses-for-sale/", "min_price"),
        ("/api/houses-for-rent/", "max_rent"),
    ],
)
def test_a_number_filter_given_empty_is_400_not_ignored(owner_client, path, parameter):
    HouseForSaleFactory()
    response = owner_client.get(f"{path}?{parameter}=")
    assert response.status_code == 400
    assert response.json() == {parameter: ["A value is required when the parameter is given."]}


def test_house_list_shows_each_houses_cover_image_and_count_not_its_gallery(owner_client, owner, bucket_keys):
    with_main, without_main, bare = HouseForSaleFactory.create_batch(3, owner=owner)
    property_images_store(house=with_main, files=[jpeg_upload(), jpeg_upload()])
    (main,) = property_images_store(house=with_main, files=[jpeg_upload()], is_main=True)
    property_images_store(house=without_main, files=[jpeg_upload()], order=9)
    (first,) = property_images_store(house=without_main, files=[jpeg_upload()], order=1)

    listed = {house["id"]: house for house in owner_client.get("/api/houses-for-sale/").json()["results"]}
    assert all("images" not in house for house in listed.values())
    assert (listed[with_main.pk]["main_image"]["id"], listed[with_main.pk]["image_count"]) == (main.pk, 3)
    assert (listed[without_main.pk]["main_image"]["id"], listed[without_main.pk]["image_count"]) == (first.pk, 2)
    assert (listed[bare.pk]["main_image"], listed[bare.pk]["image_count"]) == (None, 0)
    cover = listed[with_main.pk]["main_image"]
    assert cover["secure_url"] and set(cover["variants"]) == {"thumbnail", "medium"}  # large: in the house's images
    assert (cover["thumbhash"], cover["color"]) == (main.thumbhash, main.color) and main.thumbhash

    gallery = owner_client.get("/api/houses-for-sale/?include=images").json()["results"]
    assert {house["id"]: len(house["images"]) for house in gallery} == {with_main.pk: 3, without_main.pk: 2, bare.pk: 0}
    assert all(house["main_image"] == listed[house["id"]]["main_image"] for house in gallery)
    detail = owner_client.get(f"/api/houses-for-sale/{with_main.pk}/").json()
    assert (len(detail["images"]), detail["main_image"]["id"], detail["image_count"]) == (3, main.pk, 3)


@pytest.mark.parametrize("query", ["", "?include=images"])
def test_house_list_queries_do_not_grow_with_houses_or_images(owner_client, owner, bucket_keys, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(f"/api/houses-for-sale/{query}").status_code == 200
        return len(captured)

    property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload()])
    queries_for_a_page()  # the token's user, read once
    few = queries_for_a_page()
    for house in HouseForSaleFactory.create_batch(8, owner=owner):
        property_images_store(house=house, files=[jpeg_upload() for _ in range(4)])
    assert queries_for_a_page() == few <= 4


def test_a_page_of_twenty_houses_with_ready_photos_stays_under_60_kb(owner_client, owner, bucket_keys):
    houses = HouseForSaleFactory.create_batch(20, owner=owner, description="Three bedrooms, a garden and a garage.")
    covers = [property_images_store(house=house, files=[jpeg_upload(), jpeg_upload()])[0] for house in houses]
    make_variants_now(*covers)
    body = owner_client.get("/api/houses-for-sale/").content
    listed = json.loads(body)["results"]
    # Every cover signs its original and both card sizes in WebP and AVIF: five URLs of ~370 bytes each.
    urls = [cover["secure_url"] for cover in (house["main_image"] for house in listed)]
    assert len(listed) == 20 and all(house["main_image"]["variants_status"] == "ready" for house in listed)
    assert all(house["main_image"]["variants"]["medium"]["avif_url"] for house in listed) and all(urls)
    assert len(body) <= 60_000


def test_house_list_is_sent_compressed_to_a_client_that_accepts_gzip(owner_client, owner, bucket_keys):
    for number in range(5):
        property_images_store(house=HouseForSaleFactory(owner=owner, title=f"House {number}"), files=[jpeg_upload()])
    plain = owner_client.get("/api/houses-for-sale/")
    compressed = owner_client.get("/api/houses-for-sale/", HTTP_ACCEPT_ENCODING="gzip, deflate")
    again = owner_client.get("/api/houses-for-sale/")  # the signing window may turn between two answers
    assert "Content-Encoding" not in plain and compressed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(compressed.content)) in (plain.json(), again.json())
    # Five cover images' signed URLs share most of their text.
    assert len(compressed.content) < len(plain.content) / 3


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("include=gallery", "Select a valid choice. gallery is not one of the available choices."),
        ("include=", "A value is required when the parameter is given."),
    ],
)
def test_house_list_with_an_unknown_include_is_400(owner_client, query, error):
    response = owner_client.get(f"/api/houses-for-sale/?{query}")
    assert (response.status_code, response.json()) == (400, {"include": [error]})
