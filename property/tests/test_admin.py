"""The admin's house pages: multi-file and direct uploads through the API's checks, set-as-main and delete in the
inline, share links revoked."""

import re

import pytest
import requests
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from property.models import HouseForSale, PropertyImage, ShareLink
from property.services import uploads
from property.services.change_feed import changes_after, changes_head
from property.services.share_links import share_link_create
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory, PropertyImageFactory
from property.tests.phone_photos import PHONE_PHOTOS, UPRIGHT_SIZE, phone_photo
from testing import (
    cloudfront_settings,
    image_bytes,
    jpeg_upload,
    jwt_client,
    make_variants_now,
    object_keys,
    post_to_s3,
    run_queued_tasks,
)

pytestmark = pytest.mark.django_db

INLINE = "property-propertyimage-content_type-object_id"
LINKS_INLINE = "property-sharelink-content_type-object_id"


def change_form_data(house, images=(), links=(), revoke=(), **inline_changes) -> dict:
    data = {
        "title": house.title,
        "description": house.description,
        "address": house.address,
        "city": house.city,
        "bedrooms": house.bedrooms,
        "bathrooms": house.bathrooms,
        "area": house.area,
        "owner": house.owner_id,
        "price": house.price,
        f"{INLINE}-TOTAL_FORMS": len(images),
        f"{INLINE}-INITIAL_FORMS": len(images),
        f"{INLINE}-MIN_NUM_FORMS": 0,
        f"{INLINE}-MAX_NUM_FORMS": 1000,
        f"{LINKS_INLINE}-TOTAL_FORMS": len(links),
        f"{LINKS_INLINE}-INITIAL_FORMS": len(links),
        f"{LINKS_INLINE}-MIN_NUM_FORMS": 0,
        f"{LINKS_INLINE}-MAX_NUM_FORMS": 1000,
    }
    for index, link in enumerate(links):
        data[f"{LINKS_INLINE}-{index}-id"] = link.pk
        if link in revoke:
            data[f"{LINKS_INLINE}-{index}-revoke"] = "on"
    for index, image in enumerate(images):
        changes = inline_changes.get(f"image{index}", {})
        data[f"{INLINE}-{index}-id"] = image.pk
        data[f"{INLINE}-{index}-caption"] = changes.get("caption", image.caption)
        data[f"{INLINE}-{index}-category"] = changes.get("category", image.category) or ""
        data[f"{INLINE}-{index}-description"] = changes.get("description", image.description)
        data[f"{INLINE}-{index}-order"] = changes.get("order", image.order)
        if changes.get("is_main", image.is_main):
            data[f"{INLINE}-{index}-is_main"] = "on"
        if changes.get("delete"):
            data[f"{INLINE}-{index}-DELETE"] = "on"
    return data


def test_admin_uploads_several_images_into_the_private_bucket(admin_client, bucket_keys):
    house = HouseForSaleFactory()
    data = change_form_data(house)
    data["upload_images"] = [jpeg_upload("a.jpg"), jpeg_upload("b.jpg")]
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 302
    assert sorted(house.images.values_list("original_filename", flat=True)) == ["a.jpg", "b.jpg"]
    assert bucket_keys(f"properties/houseforsale/{house.pk}/") == object_keys(*house.images.all())
    assert len(bucket_keys()) == 2  # the originals: a worker makes their size variants
    assert {image.variants_status for image in house.images.all()} == {"pending"}


def test_admin_uploads_phones_heics_as_upright_jpegs(admin_client, bucket_keys):
    house = HouseForSaleFactory()
    data = change_form_data(house)
    data["upload_images"] = [SimpleUploadedFile(name, phone_photo(name), "image/heic") for name in PHONE_PHOTOS]
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 302
    images = list(house.images.order_by("order"))
    assert [(image.original_filename, image.mime_type, image.width, image.height) for image in images] == [
        (name, "image/jpeg", *UPRIGHT_SIZE) for name in PHONE_PHOTOS
    ]
    make_variants_now(*images)
    assert {image.variants_status for image in images} == {"ready"}


def test_the_admins_file_pickers_offer_phone_photos(admin_client):
    house = HouseForSaleFactory()
    page = admin_client.get(f"/admin/property/houseforsale/{house.pk}/change/").content.decode()
    pickers = re.findall(r'<input type="file"[^>]*>', page)
    assert len(pickers) == 2  # the upload field and the direct upload
    for picker in pickers:
        accepted = re.search(r'accept="([^"]*)"', picker).group(1).split(",")
        assert {"image/heic", "image/heif", ".heic", ".heif", "image/webp", "image/jpeg"} <= set(accepted)
    assert "JPEG, PNG, WebP, HEIC or HEIF" in page and "up to 10 MB each" in page


def test_admin_upload_with_a_bad_file_shows_the_reason_and_stores_nothing(admin_client, bucket_keys):
    house = HouseForSaleFactory()
    data = change_form_data(house)
    data["upload_images"] = [jpeg_upload("a.jpg"), SimpleUploadedFile("fake.jpg", b"<html>")]
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 200
    assert "fake.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image" in response.content.decode()
    assert PropertyImage.objects.count() == 0 and bucket_keys() == []


def test_admin_upload_of_too_many_files_says_so_and_stores_nothing(admin_client, bucket_keys, settings):
    settings.PROPERTY_IMAGE_MAX_FILES = 2
    house = HouseForSaleFactory()
    data = change_form_data(house)
    data["upload_images"] = [jpeg_upload(f"{n}.jpg") for n in range(3)]
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 200
    assert "At most 2 images can be uploaded in one request" in response.content.decode()
    assert PropertyImage.objects.count() == 0 and bucket_keys() == []


def test_admin_thumbnails_show_the_photos_colour_until_the_photo_arrives(admin_client, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(size=(900, 600))])
    page = admin_client.get(f"/admin/property/houseforsale/{image.object_id}/change/").content.decode()
    assert image.color and f"background-color:{image.color}" in page
    PropertyImage.objects.filter(pk=image.pk).update(color="")  # stored before placeholders: no colour to show
    page = admin_client.get(f"/admin/property/houseforsale/{image.object_id}/change/").content.decode()
    assert "background-color:transparent" in page


def test_admin_thumbnails_are_cloudfront_signed_urls_when_cloudfront_is_on(admin_client, bucket_keys, cloudfront_keys):
    house = HouseForSaleFactory()
    property_images_store(house=house, files=[jpeg_upload("a.jpg")], is_main=True)
    with cloudfront_settings(cloudfront_keys):
        page = admin_client.get(f"/admin/property/houseforsale/{house.pk}/change/").content.decode()
        listing = admin_client.get("/admin/property/houseforsale/").content.decode()
    for html in (page, listing):
        assert f'src="https://d111111abcdef8.cloudfront.net/properties/houseforsale/{house.pk}/' in html
        assert "X-Amz-Signature" not in html


def test_admin_inline_moves_the_main_flag_and_deletes(admin_client, bucket_keys, django_capture_on_commit_callbacks):
    house = HouseForSaleFactory()
    first, second, third = property_images_store(house=house, files=[jpeg_upload() for _ in range(3)], is_main=True)
    data = change_form_data(
        house,
        [first, second, third],
        image0={"is_main": False},
        image1={"is_main": True, "caption": "Kitchen"},
        image2={"delete": True},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 302
    second.refresh_from_db()
    assert list(house.images.filter(is_main=True)) == [second] and second.caption == "Kitchen"
    assert not PropertyImage.objects.filter(pk=third.pk).exists()
    run_queued_tasks()
    assert bucket_keys() == object_keys(first, second)


def test_admin_inline_says_what_photos_show_and_unsets_it(admin_client, bucket_keys):
    house = HouseForSaleFactory()
    first, second = property_images_store(house=house, files=[jpeg_upload(), jpeg_upload()], category="pool")
    data = change_form_data(
        house,
        [first, second],
        image0={"category": "floor_plan", "description": "The ground floor, north up"},
        image1={"category": ""},
    )
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data)
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.category, first.description) == ("floor_plan", "The ground floor, north up")
    assert (second.category, second.description) == (None, "")
    page = admin_client.get(f"/admin/property/houseforsale/{house.pk}/change/").content.decode()
    assert 'value="floor_plan" selected' in page and "The ground floor, north up</textarea>" in page


@pytest.mark.django_db(transaction=True)  # the feed shows committed changes only
def test_an_admin_edit_moves_modified_at_and_is_in_the_feed(admin_client, admin_user, bucket_keys):
    house = HouseForSaleFactory()
    (photo,) = property_images_store(house=house, files=[jpeg_upload()])
    before = photo.updated_at
    start = changes_head()
    data = change_form_data(house, [photo], image0={"category": "kitchen", "description": "Oak worktops"})
    assert admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data).status_code == 302
    photo.refresh_from_db()
    assert photo.updated_at > before
    entries = [(change.kind, change.object_id, change.action) for change in changes_after(start, size=10).changes]
    assert ("image", photo.pk, "updated") in entries
    answer = jwt_client(admin_user).get(f"/api/property-images/{photo.pk}/").json()
    assert (answer["category"], answer["description"]) == ("kitchen", "Oak worktops")
    assert answer["modified_at"] == photo.updated_at.isoformat().replace("+00:00", "Z")
    page = admin_client.get(f"/admin/property/houseforsale/{house.pk}/change/").content.decode()
    assert "Modified" in page


def test_admin_deletes_houses_with_their_photos_one_or_several_at_once(admin_client):
    one, two, three = HouseForSaleFactory(), HouseForSaleFactory(), HouseForSaleFactory()
    for house in (one, two, three):
        PropertyImageFactory.create_batch(2, content_object=house)
    assert admin_client.post(f"/admin/property/houseforsale/{one.pk}/delete/", {"post": "yes"}).status_code == 302
    chosen = {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"}
    assert admin_client.post("/admin/property/houseforsale/", chosen).status_code == 302
    assert not HouseForSale.objects.exists() and not PropertyImage.objects.exists()


def test_admin_change_list_filters_by_price_range(admin_client):
    HouseForSaleFactory(title="Cheap flat", price=90000)
    HouseForSaleFactory(title="Big villa", price=900000)
    page = admin_client.get("/admin/property/houseforsale/?price_range=400000-").content.decode()
    assert "Big villa" in page and "Cheap flat" not in page
    assert "Cheap flat" in admin_client.get("/admin/property/houseforsale/?q=cheap").content.decode()


def direct_upload(client, step: str, house, **body):
    """The API's upload_url or complete_upload, as the admin's page calls it: with the admin's session."""
    body = {"content_type": "house_for_sale", "object_id": house.pk, **body}
    return client.post(f"/api/property-images/{step}/", body, content_type="application/json")


def test_admin_direct_upload_goes_through_the_bucket_and_is_stored_like_any_upload(
    admin_client, admin_user, bucket_keys
):
    house = HouseForSaleFactory()
    issued = direct_upload(admin_client, "upload_url", house)
    assert issued.status_code == 200
    upload = issued.json()
    assert upload["key"].startswith(f"uploads/{admin_user.pk}/")
    assert post_to_s3(upload, image_bytes("JPEG", (400, 300)), filename="patio.jpg").status_code in (200, 201, 204)

    completed = direct_upload(admin_client, "complete_upload", house, key=upload["key"], filename="patio.jpg")
    assert completed.status_code == 201
    (image,) = house.images.all()
    assert completed.json()["id"] == image.pk and image.original_filename == "patio.jpg"
    assert requests.get(completed.json()["secure_url"], timeout=10).status_code == 200
    run_queued_tasks()
    assert bucket_keys() == object_keys(image)  # the staging object is gone; the original is there


def test_admin_direct_upload_of_something_never_posted_is_a_json_error_and_stores_nothing(admin_client, bucket_keys):
    house = HouseForSaleFactory()
    upload = direct_upload(admin_client, "upload_url", house).json()
    completed = direct_upload(admin_client, "complete_upload", house, key=upload["key"])
    assert completed.status_code == 404
    assert completed.json() == {"error": "Nothing was uploaded under this key: post the file to the upload URL first"}
    assert PropertyImage.objects.count() == 0 and bucket_keys() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"not json", "detail"), (b"{}", "content_type"), (b'{"key": 1}', "key"), (b'{"key": "x"}', "key")],
)
def test_admin_direct_upload_complete_refuses_bad_bodies_in_json(admin_client, body, field):
    response = admin_client.post("/api/property-images/complete_upload/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()[field]


def test_admin_direct_upload_needs_post_and_the_permission_to_change_the_house(client, make_user, bucket_keys):
    house = HouseForSaleFactory()
    staff = make_user("clerk", is_staff=True)  # staff, but without the change permission on houses
    client.force_login(staff)
    assert client.get("/api/property-images/upload_url/").status_code == 405
    refused = direct_upload(client, "upload_url", house)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "You do not have permission to change this house."}
    missing = client.post(
        "/api/property-images/upload_url/",
        {"content_type": "house_for_sale", "object_id": house.pk + 1000},
        content_type="application/json",
    )
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    staff.user_permissions.add(Permission.objects.get(codename="change_houseforsale"))
    client.force_login(User.objects.get(pk=staff.pk))  # a fresh user: permissions are cached per instance
    assert direct_upload(client, "upload_url", house).status_code == 200
    assert bucket_keys() == []


def test_the_admin_session_reaches_the_api_for_staff_only(client, owner):
    house = HouseForSaleFactory(owner=owner)
    client.force_login(owner)  # the house's owner, but not staff: the admin session is not for them
    response = direct_upload(client, "upload_url", house)
    assert response.status_code == 403
    assert client.get(f"/api/houses-for-sale/{house.pk}/").status_code == 401  # the rest of the API wants a token


def test_the_admin_session_must_send_its_csrf_token(admin_user, bucket_keys):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    house = HouseForSaleFactory()
    refused = direct_upload(browser, "upload_url", house)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = browser.get("/admin/").cookies["csrftoken"].value
    body = {"content_type": "house_for_sale", "object_id": house.pk}
    issued = browser.post(
        "/api/property-images/upload_url/", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert issued.status_code == 200


def test_the_admin_index_shows_the_task_results_and_no_rq_dashboard_without_rq(admin_client):
    index = admin_client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/django_tasks_database/" in index.content  # the database queue's task results
    assert b"/admin/django_rq/" not in index.content  # RQ is not in use: its dashboard would need Redis


def test_admin_upload_to_a_house_deleted_meanwhile_says_so_and_stores_nothing(admin_client, bucket_keys, monkeypatch):
    house = HouseForSaleFactory()
    create_rows = uploads._create_image_rows

    def deleted_by_another_request_first(**kwargs):
        # A concurrent request cannot be timed into the gap between the upload and the rows: it is put there.
        HouseForSale.objects.filter(pk=house.pk).delete()
        return create_rows(**kwargs)

    monkeypatch.setattr(uploads, "_create_image_rows", deleted_by_another_request_first)
    data = change_form_data(house)
    data["upload_images"] = [jpeg_upload("a.jpg")]
    response = admin_client.post(f"/admin/property/houseforsale/{house.pk}/change/", data, follow=True)
    assert response.status_code == 200
    assert "The house was deleted meanwhile: no image was stored." in response.content.decode()
    run_queued_tasks()
    assert PropertyImage.objects.count() == 0 and bucket_keys() == []


def test_the_image_changelist_shows_each_photo_with_its_house_and_adds_none(admin_client, bucket_keys):
    sale, rent = HouseForSaleFactory(), HouseForRentFactory()
    for house in (sale, rent):
        property_images_store(house=house, files=[jpeg_upload(f"{house.pk}.jpg")])
    page = admin_client.get("/admin/property/propertyimage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/admin/property/houseforsale/{sale.pk}/change/"' in html
    assert f'href="/admin/property/houseforrent/{rent.pk}/change/"' in html
    assert html.count('class="property-thumbnail"') == 2 and "X-Amz-Signature=" in html
    assert "/admin/property/propertyimage/add/" not in html


def test_an_image_is_read_only_in_the_admin_and_changed_through_its_house(admin_client, bucket_keys):
    (image,) = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    path = f"/admin/property/propertyimage/{image.pk}/change/"
    assert admin_client.get(path).status_code == 200
    assert admin_client.post(path, {"caption": "changed"}).status_code == 403
    image.refresh_from_db()
    assert image.caption == ""


def test_the_admin_shows_a_houses_share_links_and_revokes_one_at_once(admin_client, owner):
    house = HouseForSaleFactory(owner=owner)
    (kept, kept_token), (revoked, revoked_token) = (
        share_link_create(house=house, created_by=owner, expires_in=600, label=label) for label in ("Ann", "Bob")
    )
    page = admin_client.get(f"/admin/property/houseforsale/{house.pk}/change/").content.decode()
    assert "Ann" in page and "Bob" in page and kept_token not in page and revoked_token not in page
    links = list(house.share_links.all())  # the inline's order: newest first
    saved = admin_client.post(
        f"/admin/property/houseforsale/{house.pk}/change/", change_form_data(house, links=links, revoke=[revoked])
    )
    assert saved.status_code == 302, saved.content.decode()[-2000:]
    assert Client().get(f"/api/shared/{revoked_token}/").status_code == 404
    assert Client().get(f"/api/shared/{kept_token}/").status_code == 200
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert revoked.revoked_at is not None and kept.revoked_at is None


def test_the_share_link_list_revokes_the_selected_links(admin_client, owner):
    house = HouseForSaleFactory(owner=owner)
    links = [share_link_create(house=house, created_by=owner, expires_in=600)[0] for _ in range(3)]
    changelist = admin_client.get("/admin/property/sharelink/").content.decode()
    assert f"/admin/property/houseforsale/{house.pk}/change/" in changelist
    admin_client.post(
        "/admin/property/sharelink/",
        {"action": "revoke", "_selected_action": [links[0].pk, links[1].pk]},
    )
    assert [link.pk for link in ShareLink.objects.filter(revoked_at__isnull=True)] == [links[2].pk]
