"""`GET /api/changes/`: every kind of change to houses and photos, in order, with the objects as they are now;
tombstones; paging; bad and expired cursors. The feed shows only committed changes (on PostgreSQL, of transactions
that have ended): these tests commit their writes (transaction=True)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from property.models import Change, PropertyImage
from property.services.change_feed import Position
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload, make_variants_now

# bucket_keys: the photos these tests store are deleted after each.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("bucket_keys")]

CHANGES = "/api/changes/"


def start(client) -> str:
    """A reader's first call: no changes, a cursor from now."""
    answer = client.get(CHANGES)
    assert answer.status_code == 200, answer.content
    return answer.json()["cursor"]


def follow(client, cursor: str, **query) -> tuple[list[dict], str]:
    """Every change after `cursor`, page by page; the entries and the last cursor."""
    entries = []
    while True:
        answer = client.get(CHANGES, {"after": cursor, **query})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        entries += body["results"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return entries, cursor


def summary(entries: list[dict]) -> list[tuple]:
    return [(entry["kind"], entry["object_id"], entry["action"]) for entry in entries]


def test_a_first_call_starts_now_and_names_the_snapshot(owner_client):
    HouseForSaleFactory()  # a change before the reader starts: not in its feed
    body = owner_client.get(CHANGES).json()
    assert body["results"] == [] and body["has_more"] is False
    assert body["next"].endswith(f"after={body['cursor'].replace(':', '%3A')}")
    assert body["snapshot"] == {
        "houses_for_sale": "http://testserver/api/houses-for-sale/?paging=cursor&page_size=100",
        "houses_for_rent": "http://testserver/api/houses-for-rent/?paging=cursor&page_size=100",
        "property_images": "http://testserver/api/property-images/?paging=cursor&page_size=100",
    }
    entries, _ = follow(owner_client, body["cursor"])
    assert entries == []
    assert "snapshot" not in owner_client.get(CHANGES, {"after": body["cursor"]}).json()


def test_houses_created_updated_and_deleted_in_order(owner_client, owner):
    cursor = start(owner_client)
    created = owner_client.post("/api/houses-for-rent/", {"title": "Flat", "address": "a", "monthly_rent": "900"})
    house_id = created.json()["id"]
    owner_client.patch(f"/api/houses-for-rent/{house_id}/", {"title": "Flat with a view"}, format="json")
    entries, cursor = follow(owner_client, cursor)
    assert summary(entries) == [("house_for_rent", house_id, "created"), ("house_for_rent", house_id, "updated")]
    # Each entry carries the house as it is now (as its list answers it, less what comes from its photos).
    listed = owner_client.get(f"/api/houses-for-rent/{house_id}/").json()
    for field in ("images", "main_image", "image_count"):
        listed.pop(field)
    assert [entry["data"] for entry in entries] == [listed, listed]
    assert {(entry["house_kind"], entry["house_id"]) for entry in entries} == {("house_for_rent", house_id)}

    owner_client.delete(f"/api/houses-for-rent/{house_id}/")
    entries, _ = follow(owner_client, cursor)
    assert summary(entries) == [("house_for_rent", house_id, "deleted")]
    assert entries[0]["data"] is None


def test_every_kind_of_change_to_photos(owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    first, second = property_images_store(house=house, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")])
    cursor = start(owner_client)

    owner_client.patch(
        f"/api/property-images/{first.pk}/",
        {"caption": "Hall", "category": "floor_plan", "description": "The ground floor"},
        format="json",
    )
    owner_client.post(f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": [second.pk, first.pk]}, format="json")
    owner_client.patch(f"/api/property-images/{first.pk}/set_as_main/")
    owner_client.patch(f"/api/property-images/{second.pk}/set_as_main/")  # the first stops being main
    make_variants_now(first)
    entries, cursor = follow(owner_client, cursor)
    assert summary(entries) == [
        ("image", first.pk, "updated"),
        ("image", first.pk, "reordered"),  # in the order of their ids, whatever the new order
        ("image", second.pk, "reordered"),
        ("image", first.pk, "main_changed"),
        ("image", first.pk, "main_changed"),
        ("image", second.pk, "main_changed"),
        ("image", first.pk, "variants_ready"),
    ]
    assert {(entry["house_kind"], entry["house_id"]) for entry in entries} == {("house_for_sale", house.pk)}
    # As the photo's own answer is now (its URLs signed for this answer).
    now = owner_client.get(f"/api/property-images/{first.pk}/").json()
    data = entries[-1]["data"]
    assert {key: value for key, value in data.items() if "url" not in key and key != "variants"} == {
        key: value for key, value in now.items() if "url" not in key and key != "variants"
    }
    assert (data["category"], data["description"], data["is_main"], data["order"]) == (
        "floor_plan",
        "The ground floor",
        False,
        1,
    )
    assert data["variants_status"] == "ready" and data["modified_at"] == now["modified_at"]

    owner_client.delete(f"/api/property-images/{second.pk}/")
    entries, _ = follow(owner_client, cursor)
    assert summary(entries) == [("image", second.pk, "deleted")]
    assert entries[0]["data"] is None


def test_a_deleted_house_leaves_a_tombstone_for_each_of_its_photos(owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    photos = property_images_store(house=house, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")])
    cursor = start(owner_client)
    owner_client.delete(f"/api/houses-for-sale/{house.pk}/")
    entries, _ = follow(owner_client, cursor)
    assert sorted(summary(entries)) == sorted(
        [("house_for_sale", house.pk, "deleted"), *(("image", photo.pk, "deleted") for photo in photos)]
    )
    assert all(entry["data"] is None for entry in entries)


def test_an_entry_whose_object_is_gone_is_a_tombstone_before_its_deletion_comes(owner_client, owner):
    cursor = start(owner_client)
    house = HouseForRentFactory(owner=owner)
    house_id = house.pk
    house.delete()
    entries, _ = follow(owner_client, cursor)
    assert summary(entries) == [("house_for_rent", house_id, "created"), ("house_for_rent", house_id, "deleted")]
    assert [entry["data"] for entry in entries] == [None, None]


def test_pages_follow_one_another_without_gaps_or_repeats(owner_client, owner):
    cursor = start(owner_client)
    houses = [HouseForSaleFactory(owner=owner) for _ in range(7)]
    first = owner_client.get(CHANGES, {"after": cursor, "page_size": 3}).json()
    assert [entry["object_id"] for entry in first["results"]] == [house.pk for house in houses[:3]]
    assert first["has_more"] is True
    assert first["next"] == f"http://testserver{CHANGES}?after={first['cursor'].replace(':', '%3A')}&page_size=3"
    entries, last = follow(owner_client, first["cursor"], page_size=3)
    assert [entry["object_id"] for entry in entries] == [house.pk for house in houses[3:]]
    assert len({entry["id"] for entry in first["results"] + entries}) == 7
    # At the end the cursor stays where it is until something changes.
    assert owner_client.get(CHANGES, {"after": last}).json()["cursor"] == last


def test_the_feed_is_for_authenticated_users(client, other_client, owner):
    house = HouseForSaleFactory(owner=owner)
    assert client.get(CHANGES).status_code == 401
    # Like the lists, any authenticated user sees every house's changes.
    entries, _ = follow(other_client, Position().cursor)
    assert summary(entries) == [("house_for_sale", house.pk, "created")]


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"after": ""},
        {"after": "WzAsMF0:cM3uLXhDFLw2pMUG7w1hVL7axGC-bbQJIDgnzE6y4vd"},  # the cursor of (0, 0), altered
        {"after": Position(5, 7).cursor.replace("Wz", "WW", 1)},
        {"page_size": 0},
        {"page_size": 501},
        {"page_size": "ten"},
    ],
)
def test_a_malformed_cursor_or_page_size_is_a_400_that_says_so(owner_client, query):
    answer = owner_client.get(CHANGES, query)
    assert answer.status_code == 400
    assert list(answer.json()) == list(query)


def test_a_list_cursor_is_not_a_feed_cursor(owner_client, owner):
    HouseForSaleFactory(owner=owner)
    HouseForSaleFactory(owner=owner)
    list_cursor = owner_client.get("/api/houses-for-sale/", {"paging": "cursor", "page_size": 1}).json()["next"]
    list_cursor = list_cursor.split("cursor=")[1]
    assert owner_client.get(CHANGES, {"after": list_cursor}).status_code == 400


def test_a_cursor_older_than_the_changes_kept_is_a_410(owner_client, owner, settings):
    settings.CHANGES_RETENTION_DAYS = 30
    old_cursor = start(owner_client)
    old = HouseForSaleFactory(owner=owner)
    after_old = follow(owner_client, old_cursor)[1]
    Change.objects.update(changed_at=timezone.now() - timedelta(days=31))
    recent = HouseForSaleFactory(owner=owner)

    call_command("housekeeping", verbosity=0)

    assert list(Change.objects.values_list("object_id", flat=True)) == [recent.pk]
    answer = owner_client.get(CHANGES, {"after": old_cursor})
    assert answer.status_code == 410
    assert "snapshot" in answer.json()["error"]
    # A reader that had read up to what was forgotten misses nothing: it goes on.
    entries, _ = follow(owner_client, after_old)
    assert summary(entries) == [("house_for_sale", recent.pk, "created")]
    assert old.pk != recent.pk


def test_bulk_writes_are_in_the_feed_too(owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    (photo,) = property_images_store(house=house, files=[jpeg_upload("a.jpg")])
    cursor = start(owner_client)
    PropertyImage.objects.filter(pk=photo.pk).update(caption="Set in bulk")
    entries, _ = follow(owner_client, cursor)
    assert summary(entries) == [("image", photo.pk, "updated")]
    assert entries[0]["data"]["caption"] == "Set in bulk"
    # update() stamps the row as save() does: its modified_at moved.
    assert (
        entries[0]["data"]["modified_at"] > owner_client.get(f"/api/property-images/{photo.pk}/").json()["created_at"]
    )
