"""property.services.image_updates, called directly: changing an image, the one main image, and deleting images
and their objects."""

import pytest
from django.db import IntegrityError, transaction

from property.models import HouseForSale, PropertyImage
from property.services.image_updates import (
    ImageNotFound,
    PropertyNotFound,
    order_problems,
    property_image_set_main,
    property_image_update,
    property_images_reorder,
)
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload as jpeg
from testing import object_keys, run_queued_tasks

pytestmark = pytest.mark.django_db


def test_updating_an_image_deleted_meanwhile_does_not_bring_its_row_back(bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    PropertyImage.objects.filter(pk=image.pk).delete()  # by another request, after this one found the image
    with pytest.raises(ImageNotFound):
        property_image_update(image=image, caption="Terrace")
    assert not PropertyImage.objects.exists()


def test_deleting_an_image_removes_its_object_after_commit(bucket_keys, django_capture_on_commit_callbacks):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image.delete()
    assert bucket_keys() == object_keys(image)  # still there until the transaction commits
    for callback in callbacks:
        callback()
    assert bucket_keys() == object_keys(image)  # ... and then until a worker deletes them
    assert run_queued_tasks() == 1
    assert bucket_keys() == []


def test_rolled_back_delete_keeps_the_object(bucket_keys, django_capture_on_commit_callbacks):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    image_pk, keys = image.pk, object_keys(image)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            image.delete()
            raise RuntimeError("roll back")
    assert callbacks == []
    assert PropertyImage.objects.filter(pk=image_pk).exists()
    assert bucket_keys() == keys


def test_deleting_a_house_removes_its_images_and_objects(bucket_keys, django_capture_on_commit_callbacks):
    house = HouseForSaleFactory()
    other = HouseForSaleFactory()
    property_images_store(house=house, files=[jpeg(), jpeg()])
    (kept,) = property_images_store(house=other, files=[jpeg()])
    with django_capture_on_commit_callbacks(execute=True):
        house.delete()
    run_queued_tasks()
    assert list(PropertyImage.objects.all()) == [kept]
    assert bucket_keys() == object_keys(kept)


def test_set_main_leaves_exactly_one_main_image(bucket_keys):
    house = HouseForSaleFactory()
    _first, _second, third = property_images_store(house=house, files=[jpeg(), jpeg(), jpeg()], is_main=True)
    property_image_set_main(image=third)
    assert list(house.images.filter(is_main=True)) == [third]
    property_image_set_main(image=third)
    assert list(house.images.filter(is_main=True)) == [third]


def test_update_changes_caption_order_and_main(bucket_keys):
    house = HouseForSaleFactory()
    first, second = property_images_store(house=house, files=[jpeg(), jpeg()], is_main=True)
    property_image_update(image=second, caption="Kitchen", order=7, is_main=True)
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.caption, second.order, second.is_main, first.is_main) == ("Kitchen", 7, True, False)


def test_main_images_of_different_houses_are_independent(bucket_keys):
    sale, rent = HouseForSaleFactory(), HouseForRentFactory()
    (sale_image,) = property_images_store(house=sale, files=[jpeg()], is_main=True)
    (rent_image,) = property_images_store(house=rent, files=[jpeg()], is_main=True)
    sale_image.refresh_from_db()
    assert sale_image.is_main and rent_image.is_main


def test_the_schema_refuses_two_main_images_for_one_house(bucket_keys):
    house = HouseForSaleFactory()
    _first, second = property_images_store(house=house, files=[jpeg(), jpeg()], is_main=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        PropertyImage.objects.filter(pk=second.pk).update(is_main=True)


def test_updating_an_image_keeps_variants_a_rebuild_stored_meanwhile(bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg()])
    rebuilt = {"thumbnail": {"key": "properties/rebuilt_320w.webp", "width": 320, "height": 240}}
    # rebuild_variants replaces the row's variants (and deletes the replaced objects) after this request read it.
    PropertyImage.objects.filter(pk=image.pk).update(variants=rebuilt)
    updated_before = image.updated_at
    property_image_update(image=image, caption="Terrace", order=3, is_main=True)
    image.refresh_from_db()
    assert (image.caption, image.order, image.is_main, image.variants) == ("Terrace", 3, True, rebuilt)
    assert image.updated_at > updated_before


def test_order_problems_names_every_wrong_id_and_counts_the_rest():
    assert order_problems([3, 1, 2], {1, 2, 3}) == ""
    assert order_problems([1, 1, 9], {1, 2}) == "9 is not one of them; 1 is listed more than once; 2 is missing"
    many = set(range(1, 16))
    assert order_problems([], many) == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 5 more are missing"


def test_a_reorder_of_a_house_deleted_meanwhile_changes_nothing(bucket_keys):
    house = HouseForSaleFactory()
    (image,) = property_images_store(house=house, files=[jpeg()])
    HouseForSale.objects.filter(pk=house.pk).delete()
    with pytest.raises(PropertyNotFound):
        property_images_reorder(house=house, image_ids=[image.pk])
