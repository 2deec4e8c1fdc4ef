"""`/api/property-images/`: list, retrieve, update, delete, secure_url, redirect_to_image, set_as_main."""

import pytest
import requests

from property.models import PropertyImage
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload, object_keys, presigned_url_lifetime, run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(owner):
    return HouseForSaleFactory(owner=owner)


@pytest.fixture
def images(house, bucket_keys):
    return property_images_store(house=house, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")], is_main=True)


def test_list_filters_by_property(owner_client, images, house, bucket_keys):
    rental = HouseForRentFactory(id=house.pk)  # same id, other kind: must not leak into the list
    property_images_store(house=rental, files=[jpeg_upload()])
    response = owner_client.get(f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [image["id"] for image in body["results"]] == [image.pk for image in images]
    assert owner_client.get("/api/property-images/?content_type=house_for_rent").json()["count"] == 1
    assert owner_client.get("/api/property-images/").json()["count"] == 3


@pytest.mark.parametrize(
    "query",
    [
        "content_type=castle",
        "object_id=abc",
        "object_id=1.5",
        "object_id=0",
        "is_main=perhaps",
        "category=attic",
        "page_size=0",
        # Given empty: Django's forms would read it as not given, and the list would quietly ignore it.
        "content_type=",
        "object_id=",
        "is_main=",
        "category=",
    ],
)
def test_list_with_a_bad_filter_is_400(owner_client, query):
    response = owner_client.get(f"/api/property-images/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_list_queries_do_not_grow_with_the_page(owner_client, house, bucket_keys, django_assert_max_num_queries):
    property_images_store(house=house, files=[jpeg_upload() for _ in range(15)])
    path = f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}"
    owner_client.get(path)  # the token's user, read once
    with django_assert_max_num_queries(1):  # the page, which holds the whole list and so is its count
        response = owner_client.get(path)
    assert len(response.json()["results"]) == 15


def test_any_authenticated_user_can_retrieve_and_fetch_the_image(other_client, images):
    response = other_client.get(f"/api/property-images/{images[0].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "content_type",
        "object_id",
        "caption",
        "category",
        "description",
        "is_main",
        "order",
        "original_filename",
        "width",
        "height",
        "size",
        "mime_type",
        "thumbhash",
        "color",
        "secure_url",
        "image_url",
        "variants",
        "variants_status",
        "created_at",
        "updated_at",
        "modified_at",
    }
    assert (body["width"], body["height"], body["mime_type"]) == (64, 48, "image/jpeg")
    fetched = requests.get(body["secure_url"], timeout=10)
    assert fetched.status_code == 200 and len(fetched.content) == body["size"]


def test_unknown_image_is_the_guides_404(owner_client):
    for path in ("/api/property-images/424242/", "/api/property-images/424242/secure_url/"):
        response = owner_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_owner_patches_caption_and_order(owner_client, images):
    response = owner_client.patch(
        f"/api/property-images/{images[1].pk}/", {"caption": "Garden", "order": 5}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["caption"], response.json()["order"]) == ("Garden", 5)
    images[1].refresh_from_db()
    assert (images[1].caption, images[1].order) == ("Garden", 5)


def test_owner_says_what_a_photo_shows_and_unsets_it(owner_client, images):
    url = f"/api/property-images/{images[1].pk}/"
    alt_text = "Plan of the ground floor: " + "kitchen, living room, " * 40 + "hall."
    response = owner_client.patch(url, {"category": "floor_plan", "description": alt_text}, format="json")
    assert response.status_code == 200
    assert (response.json()["category"], response.json()["description"]) == ("floor_plan", alt_text)
    images[1].refresh_from_db()
    assert (images[1].category, images[1].description, images[1].caption) == ("floor_plan", alt_text, "")
    assert owner_client.get(url).json()["category"] == "floor_plan"
    response = owner_client.patch(url, {"category": None}, format="json")
    assert response.status_code == 200 and response.json()["category"] is None
    images[1].refresh_from_db()
    assert (images[1].category, images[1].description) == (None, alt_text)


def test_the_list_filters_by_category(owner_client, house, images, bucket_keys):
    (plan,) = property_images_store(house=house, files=[jpeg_upload("plan.png")], category="floor_plan")
    property_images_store(house=house, files=[jpeg_upload("pool.jpg")], category="pool")
    answer = owner_client.get("/api/property-images/?category=floor_plan").json()
    assert [(image["id"], image["category"]) for image in answer["results"]] == [(plan.pk, "floor_plan")]
    assert owner_client.get("/api/property-images/?category=kitchen").json()["results"] == []


@pytest.mark.parametrize("body_format", ["multipart", "form"])
def test_a_change_sent_as_a_form_is_415_and_changes_nothing(owner_client, images, body_format):
    url = f"/api/property-images/{images[0].pk}/"
    if body_format == "form":
        response = owner_client.patch(url, "caption=Garden", content_type="application/x-www-form-urlencoded")
    else:
        response = owner_client.patch(url, {"caption": "Garden"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Unsupported media type")
    assert PropertyImage.objects.get(pk=images[0].pk).caption == ""


def test_put_replaces_the_editable_fields_and_ignores_read_only_ones(owner_client, images):
    response = owner_client.put(
        f"/api/property-images/{images[1].pk}/",
        {"caption": "Pool", "order": 1, "is_main": True, "width": 1, "object_id": 999},
        format="json",
    )
    assert response.status_code == 200
    images[0].refresh_from_db()
    images[1].refresh_from_db()
    assert (images[1].caption, images[1].is_main, images[0].is_main) == ("Pool", True, False)
    assert (images[1].width, images[1].object_id) == (64, images[0].object_id)


@pytest.mark.parametrize(
    "change",
    [
        {"order": -1},
        {"order": 2**31},
        {"order": 657369563688559524085917286400},
        {"caption": "x" * 256},
        {"is_main": "sometimes"},
        {"category": "attic"},
        {"category": ""},
        {"category": 3},
        {"description": "x" * 1025},
        {"description": None},
    ],
)
def test_invalid_update_is_400_and_changes_nothing(owner_client, images, change):
    def editable() -> tuple:
        return PropertyImage.objects.values_list("caption", "order", "is_main", "category", "description").get(
            pk=images[0].pk
        )

    before = editable()
    response = owner_client.patch(f"/api/property-images/{images[0].pk}/", change, format="json")
    assert response.status_code == 400
    assert list(response.json()) == list(change)
    assert editable() == before


def test_strangers_cannot_change_or_delete(other_client, images, bucket_keys):
    image = images[1]
    assert other_client.patch(f"/api/property-images/{image.pk}/", {"caption": "x"}, format="json").status_code == 403
    assert other_client.patch(f"/api/property-images/{image.pk}/set_as_main/").status_code == 403
    assert other_client.delete(f"/api/property-images/{image.pk}/").status_code == 403
    image.refresh_from_db()
    assert not image.is_main and image.caption == ""
    assert bucket_keys() == object_keys(*images)


def test_delete_removes_the_row_and_then_the_object(
    owner_client, images, bucket_keys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete(f"/api/property-images/{images[0].pk}/")
    assert response.status_code == 204
    assert list(PropertyImage.objects.all()) == [images[1]]
    assert bucket_keys() == object_keys(*images)  # the answer did not wait for S3: a worker deletes the object
    assert run_queued_tasks() == 1
    assert bucket_keys() == object_keys(images[1])


def test_secure_url_answers_the_guides_shape(owner_client, images):
    response = owner_client.get(f"/api/property-images/{images[0].pk}/secure_url/?expiration=7200")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"secure_url", "expires_in", "image_id"}
    assert (body["expires_in"], body["image_id"]) == (7200, images[0].pk)
    # Stable URLs: valid at least as long as asked, at most one stability window longer.
    assert 7200 - 1 <= presigned_url_lifetime(body["secure_url"]) <= 7200 + 600
    assert requests.get(body["secure_url"], timeout=10).status_code == 200


def test_secure_url_defaults_to_an_hour(owner_client, images):
    body = owner_client.get(f"/api/property-images/{images[0].pk}/secure_url/").json()
    assert body["expires_in"] == 3600
    assert 3600 - 1 <= presigned_url_lifetime(body["secure_url"]) <= 3600 + 600


@pytest.mark.parametrize("expiration", ["0", "-5", "604801", "abc", "1.5", ""])
def test_secure_url_with_expiration_out_of_range_is_400(owner_client, images, expiration):
    response = owner_client.get(f"/api/property-images/{images[0].pk}/secure_url/?expiration={expiration}")
    assert response.status_code == 400
    assert response.json()["expiration"]


def test_secure_url_accepts_the_sigv4_maximum(owner_client, images):
    response = owner_client.get(f"/api/property-images/{images[0].pk}/secure_url/?expiration=604800")
    assert response.status_code == 200 and response.json()["expires_in"] == 604800


def test_secure_url_that_cannot_be_signed_is_the_guides_500(owner_client, images, settings, monkeypatch):
    from django.test import override_settings

    # No credentials anywhere: botocore must not look for an instance role over the network.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with override_settings(STORAGES={**settings.STORAGES}, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None):
        response = owner_client.get(f"/api/property-images/{images[0].pk}/secure_url/")
        redirect = owner_client.get(f"/api/property-images/{images[0].pk}/redirect_to_image/")
    assert response.status_code == 500
    assert response.json() == {"error": "Could not generate secure URL"}
    assert redirect.status_code == 500


def test_redirect_to_image_is_a_302_to_a_working_presigned_url(other_client, images):
    response = other_client.get(f"/api/property-images/{images[0].pk}/redirect_to_image/")
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"


def test_set_as_main_moves_the_main_flag(owner_client, images, house):
    response = owner_client.patch(f"/api/property-images/{images[1].pk}/set_as_main/")
    assert response.status_code == 200
    assert response.json()["is_main"] is True
    assert list(house.images.filter(is_main=True)) == [images[1]]


def test_staff_may_manage_any_image(make_user, images, house):
    from testing import jwt_client

    staff = jwt_client(make_user("manager", is_staff=True))
    assert staff.patch(f"/api/property-images/{images[1].pk}/set_as_main/").status_code == 200
    assert list(house.images.filter(is_main=True)) == [images[1]]
