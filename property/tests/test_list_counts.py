"""A list's `count` is counted once per committed change of what it counts: a second page asks the database for no
count, and a house or image written through the app is counted at once on the next page, in every process that
shares the cache. These tests commit (transaction=True): the version moves when a write commits."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from property.models import HouseForRent, HouseForSale, PropertyImage
from property.tests.factories import HouseForSaleFactory
from property.versions import changed, version_bump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def counts_cached(settings):
    settings.LIST_COUNT_CACHE_SECONDS = 60


def listed(client, path: str) -> tuple[int, int]:
    """The list's count, and how many COUNT queries answering it took."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return response.json()["count"], sum(query["sql"].startswith("SELECT COUNT(") for query in captured)


def test_a_list_is_counted_once_until_a_write_commits_and_then_at_once(owner, owner_client):
    HouseForSaleFactory.create_batch(3, owner=owner)
    path = "/api/houses-for-sale/?page_size=2"
    assert listed(owner_client, path) == (3, 1)
    assert listed(owner_client, path) == (3, 0)
    assert listed(owner_client, "/api/houses-for-sale/?page_size=2&paging=cursor") == (3, 0)
    created = owner_client.post(
        "/api/houses-for-sale/", {"title": "New", "address": "1 New St", "price": "1.00"}, format="json"
    )
    assert created.status_code == 201
    assert listed(owner_client, path) == (4, 1)
    assert owner_client.delete(f"/api/houses-for-sale/{created.json()['id']}/").status_code == 204
    assert listed(owner_client, path) == (3, 1)


def test_each_filter_has_its_own_count_and_a_change_of_a_filtered_field_counts_again(owner, owner_client):
    house, _ = HouseForSaleFactory.create_batch(2, owner=owner, city="Madrid")
    assert listed(owner_client, "/api/houses-for-sale/?city=madrid&page_size=1")[0] == 2
    assert listed(owner_client, "/api/houses-for-sale/?city=Alicante&page_size=1")[0] == 0
    assert owner_client.patch(f"/api/houses-for-sale/{house.pk}/", {"city": "Alicante"}).status_code == 200
    assert listed(owner_client, "/api/houses-for-sale/?city=madrid&page_size=1") == (1, 0)  # fits its first page
    assert listed(owner_client, "/api/houses-for-sale/?city=Alicante&page_size=1")[0] == 1


def test_the_images_of_a_deleted_house_are_counted_again(owner, owner_client):
    kind = ContentType.objects.get_for_model(HouseForSale)
    houses = HouseForSaleFactory.create_batch(2, owner=owner)
    for house in houses:
        for order in range(2):
            PropertyImage.objects.create(
                content_type=kind, object_id=house.pk, image=f"k/{house.pk}/{order}", order=order
            )
    assert listed(owner_client, "/api/property-images/?page_size=1") == (4, 1)
    assert owner_client.delete(f"/api/houses-for-sale/{houses[0].pk}/").status_code == 204
    assert listed(owner_client, "/api/property-images/?page_size=1") == (2, 1)


def test_a_write_rolled_back_leaves_the_count_as_it_was(owner, owner_client):
    HouseForSaleFactory.create_batch(2, owner=owner)
    assert listed(owner_client, "/api/houses-for-sale/?page_size=1") == (2, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        HouseForSaleFactory(owner=owner)
        raise RuntimeError
    assert listed(owner_client, "/api/houses-for-sale/?page_size=1") == (2, 0)


@pytest.mark.django_db(transaction=False)
def test_a_transaction_announces_each_model_once_when_it_commits(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        HouseForSaleFactory.create_batch(3, owner=owner)
        HouseForSale.objects.first().delete()
        changed(HouseForRent)
        changed(HouseForRent)
    bumped = [callback.args[0] for callback in callbacks if getattr(callback, "func", None) is version_bump]
    assert sorted(model.__name__ for model in bumped) == ["HouseForRent", "HouseForSale"]


def test_the_admin_changelists_count_once_per_change_too(admin_client, owner):
    HouseForSaleFactory.create_batch(2, owner=owner)
    counted = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/property/houseforsale/").status_code == 200
        counted.append(sum(query["sql"].startswith("SELECT COUNT(") for query in captured))
    assert counted == [1, 0]
    HouseForSaleFactory(owner=owner)
    assert "3 houses for sale" in admin_client.get("/admin/property/houseforsale/").content.decode()
