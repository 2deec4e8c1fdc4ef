"""Page-number pagination: count, next, previous and results at every page boundary, and no COUNT query when the
first page holds the whole list; keyset paging by cursor: in order both ways, whole while rows come and go, and a
400 for a cursor it did not make."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from property.models import HouseForSale, PropertyImage
from property.tests.factories import HouseForSaleFactory

pytestmark = pytest.mark.django_db

PAGE_SIZE = 5


def page(client, number: int | None = None) -> tuple[dict, list[str]]:
    """A page of the house list (its body) and the SQL of its queries, the token's user read beforehand."""
    client.get("/api/houses-for-sale/?page_size=1")
    path = f"/api/houses-for-sale/?page_size={PAGE_SIZE}" + (f"&page={number}" if number else "")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return response.json(), [query["sql"] for query in captured]


def counts(queries: list[str]) -> int:
    return sum(query.startswith("SELECT COUNT(") for query in queries)


@pytest.mark.parametrize("houses", [0, 1, PAGE_SIZE])
def test_a_list_that_fits_its_first_page_is_counted_from_its_rows(owner, owner_client, houses):
    HouseForSaleFactory.create_batch(houses, owner=owner)
    body, queries = page(owner_client)
    assert (body["count"], body["next"], body["previous"], len(body["results"])) == (houses, None, None, houses)
    assert counts(queries) == 0


def test_a_list_longer_than_its_first_page_is_counted_and_links_the_next_page(owner, owner_client):
    HouseForSaleFactory.create_batch(PAGE_SIZE + 1, owner=owner)
    first, queries = page(owner_client)
    assert (first["count"], first["previous"], len(first["results"])) == (PAGE_SIZE + 1, None, PAGE_SIZE)
    assert first["next"].endswith(f"page=2&page_size={PAGE_SIZE}")
    assert counts(queries) == 1
    second, _ = page(owner_client, 2)
    assert (second["count"], second["next"], len(second["results"])) == (PAGE_SIZE + 1, None, 1)
    assert second["previous"] is not None
    assert {house["id"] for house in first["results"]}.isdisjoint(house["id"] for house in second["results"])


def test_page_one_asked_by_number_is_the_first_page(owner, owner_client):
    houses = HouseForSaleFactory.create_batch(2, owner=owner)
    first = page(owner_client)[0]
    assert [house["id"] for house in first["results"]] == [house.pk for house in reversed(houses)]  # newest first
    assert page(owner_client, 1)[0] == first


def test_a_page_past_the_end_is_404(owner, owner_client):
    HouseForSaleFactory.create_batch(2, owner=owner)
    response = owner_client.get(f"/api/houses-for-sale/?page_size={PAGE_SIZE}&page=2")
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


@pytest.mark.parametrize("query", ["page=", "page=2&page="])
def test_an_empty_page_parameter_is_400_naming_it(owner, owner_client, query):
    HouseForSaleFactory.create_batch(2, owner=owner)
    response = owner_client.get(f"/api/houses-for-sale/?{query}")
    assert (response.status_code, list(response.json())) == (400, ["page"])


def walk(client, path: str) -> list[dict]:
    """Every page of a list from `path` on, through its `next` links."""
    pages = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        path = pages[-1]["next"]
    return pages


def ids(pages: list[dict]) -> list[int]:
    return [row["id"] for page in pages for row in page["results"]]


def newest_first(houses) -> list[int]:
    return [house.pk for house in sorted(houses, key=lambda house: (house.created_at, house.pk), reverse=True)]


def test_every_page_by_number_is_its_slice_of_the_list_from_either_end(owner, owner_client):
    """Pages past the middle are read from the end of the index: the walk must still be the list, in order."""
    houses = HouseForSaleFactory.create_batch(7, owner=owner)
    pages = walk(owner_client, "/api/houses-for-sale/?page_size=2")
    assert [len(page["results"]) for page in pages] == [2, 2, 2, 1]
    assert ids(pages) == newest_first(houses)
    assert {page["count"] for page in pages} == {7}


def test_a_cursor_walk_sees_the_list_in_order_and_walks_back_by_previous(owner, owner_client):
    houses = HouseForSaleFactory.create_batch(7, owner=owner)
    pages = walk(owner_client, "/api/houses-for-sale/?paging=cursor&page_size=3")
    assert ids(pages) == newest_first(houses)
    assert [page["count"] for page in pages] == [7, 7, 7]
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert all("cursor=" in page["next"] and "page=" not in page["next"] for page in pages[:-1])
    back, path = [], pages[-1]["previous"]
    while path:
        back.insert(0, owner_client.get(path).json())
        path = back[0]["previous"]
    assert ids(back) == newest_first(houses)[:6]


@pytest.fixture
def image_rows(owner):
    """`count` image rows of one house, two to each `order` (a list signs their URLs and never reads S3)."""

    def make(count: int) -> list[PropertyImage]:
        house = HouseForSaleFactory(owner=owner)
        kind = ContentType.objects.get_for_model(HouseForSale)
        return [
            PropertyImage.objects.create(
                content_type=kind, object_id=house.pk, image=f"properties/houseforsale/{house.pk}/{n}.jpg", order=n // 2
            )
            for n in range(count)
        ]

    return make


def test_a_cursor_walk_of_images_follows_their_order(owner, owner_client, image_rows):
    images = image_rows(5)
    pages = walk(owner_client, "/api/property-images/?paging=cursor&page_size=2")
    assert ids(pages) == [image.pk for image in sorted(images, key=lambda image: (image.order, image.pk))]


def test_a_cursor_walk_stays_whole_while_houses_are_added_and_deleted(owner, owner_client):
    """No house twice, and none skipped of those there throughout the walk, with a house added and one deleted
    (one already seen, one not yet) between every two pages."""
    houses = HouseForSaleFactory.create_batch(12, owner=owner)
    order = newest_first(houses)
    throughout, seen, path = set(order), [], "/api/houses-for-sale/?paging=cursor&page_size=3"
    while path:
        page = owner_client.get(path).json()
        seen += [row["id"] for row in page["results"]]
        path = page["next"]
        HouseForSaleFactory(owner=owner)
        unseen = [pk for pk in order if pk not in seen and pk in throughout]
        for gone in [seen[0], *unseen[-1:]]:
            HouseForSale.objects.filter(pk=gone).delete()
            throughout.discard(gone)
    assert len(seen) == len(set(seen))
    assert throughout <= set(seen)
    assert [pk for pk in order if pk in seen] == seen


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=",
        "paging=sideways",
        "paging=cursor&page=2",
        "paging=page&cursor=x",
    ],
)
def test_a_malformed_cursor_or_paging_is_400_naming_it(owner, owner_client, query):
    HouseForSaleFactory.create_batch(2, owner=owner)
    response = owner_client.get(f"/api/houses-for-sale/?{query}")
    assert response.status_code == 400
    assert set(response.json()) <= {"cursor", "paging"} and response.json()


def test_a_tampered_cursor_or_one_of_another_list_is_400(owner, owner_client, image_rows):
    HouseForSaleFactory.create_batch(3, owner=owner)
    image_rows(3)
    house_cursor = parse_qs(urlsplit(page_of(owner_client, "/api/houses-for-sale/")["next"]).query)["cursor"][0]
    image_cursor = parse_qs(urlsplit(page_of(owner_client, "/api/property-images/")["next"]).query)["cursor"][0]
    payload, _, signature = house_cursor.rpartition(":")
    tampered = f"{payload}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    forged = signing.Signer(salt="another salt").sign_object([["2026-01-01T00:00:00+00:00", 1], True], compress=True)
    for path in [
        f"/api/houses-for-sale/?cursor={tampered}",
        f"/api/houses-for-sale/?cursor={forged}",
        f"/api/houses-for-sale/?cursor={image_cursor}",
        f"/api/houses-for-rent/?cursor={house_cursor}",
    ]:
        response = owner_client.get(path)
        assert (response.status_code, list(response.json())) == (400, ["cursor"]), path


def page_of(client, path: str) -> dict:
    response = client.get(f"{path}?paging=cursor&page_size=1")
    assert response.status_code == 200
    return response.json()
