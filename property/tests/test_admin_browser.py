"""The admin in a real headless Chromium: thumbnails render from the private bucket, bare object URLs do not,
and direct uploads go from the browser to the bucket."""

import re

import pytest

from backend.buckets import cors_rules
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from property.tests.phone_photos import UPRIGHT_SIZE, phone_photo
from testing import (
    ARTIFACTS,
    CHROMIUM_MISSING,
    TEST_BUCKET,
    chromium_page,
    image_bytes,
    jpeg_upload,
    object_keys,
    reorder_requests,
    run_queued_tasks,
    three_photos,
)

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = [pytest.mark.django_db(transaction=True), CHROMIUM_MISSING]

ALL_THUMBNAILS_LOADED = """() => {
    const thumbnails = [...document.querySelectorAll("img.property-thumbnail")];
    return thumbnails.length > 0 && thumbnails.every(image => image.complete);
}"""

BARE_URL_WIDTH = """async (bareUrl) => {
    const probe = new Image();
    const settled = new Promise(resolve => { probe.onload = resolve; probe.onerror = resolve; });
    probe.src = bareUrl;
    await settled;
    return probe.naturalWidth;
}"""


def log_in(page, live_server, next_path: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-password-123")
    page.click("input[type=submit]")


def test_admin_inline_shows_real_thumbnails_from_the_private_bucket(live_server, django_user_model, bucket_keys):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin, title="Villa with sea views")
    property_images_store(
        house=house, files=[jpeg_upload("salon.jpg", (640, 480)), jpeg_upload("cocina.jpg", (480, 640))], is_main=True
    )

    with chromium_page() as page:
        log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
        page.wait_for_function(ALL_THUMBNAILS_LOADED, timeout=15000)
        thumbnails = page.query_selector_all("img.property-thumbnail")
        assert len(thumbnails) == 2
        for thumbnail in thumbnails:
            assert "X-Amz-Signature=" in thumbnail.get_attribute("src")
            assert thumbnail.evaluate("image => image.naturalWidth") > 0

        bare_url = thumbnails[0].get_attribute("src").split("?", 1)[0]
        assert page.evaluate(BARE_URL_WIDTH, bare_url) == 0

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-house-inline.png"), full_page=True)


def test_admin_change_list_shows_the_main_image(live_server, django_user_model, bucket_keys):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    property_images_store(house=house, files=[jpeg_upload("front.jpg", (320, 240))], is_main=True)

    with chromium_page() as page:
        log_in(page, live_server, "/admin/property/houseforsale/")
        page.wait_for_function(ALL_THUMBNAILS_LOADED, timeout=15000)
        thumbnail = page.query_selector("td.field-main_image img.property-thumbnail")
        assert thumbnail.evaluate("image => image.naturalWidth") == 320
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-house-list.png"))


INLINE_IMAGE_IDS = """() => [...document.querySelectorAll("tr.form-row.has_original input[type=hidden][name$='-id']")]
    .map((field) => Number(field.value))"""


def test_admin_photos_are_reordered_by_dragging_a_row_in_one_call(live_server, django_user_model, bucket_keys):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    first, second, third = three_photos(house)

    with chromium_page() as page:
        calls = reorder_requests(page)
        log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
        page.wait_for_selector("tr.form-row.has_original")
        assert page.evaluate(INLINE_IMAGE_IDS) == [first.pk, second.pk, third.pk]
        rows = page.locator("tr.form-row.has_original")
        # By the photo, as one grabs it (a row's middle may be its description's text box, where a press selects text).
        rows.nth(2).locator("td.field-preview").drag_to(rows.nth(0).locator("td.field-preview"))
        page.wait_for_selector(".image-order-saved")
        assert page.evaluate(INLINE_IMAGE_IDS) == [third.pk, first.pk, second.pk]
        orders = page.eval_on_selector_all("tr.form-row.has_original input[name$='-order']", "f => f.map(i => i.value)")
        assert orders == ["0", "1", "2"]
        assert calls == ["POST"]  # one call
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-reorder.png"), full_page=True)

        page.reload()
        assert page.evaluate(INLINE_IMAGE_IDS) == [third.pk, first.pk, second.pk]
        # Saving the house afterwards keeps the order (its order fields show the saved one).
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        assert page.evaluate(INLINE_IMAGE_IDS) == [third.pk, first.pk, second.pk]
    assert list(house.images.values_list("pk", "order")) == [(third.pk, 0), (first.pk, 1), (second.pk, 2)]


def test_admin_direct_upload_takes_a_phones_heic_the_system_gave_no_type(live_server, django_user_model, bucket_keys):
    """Some systems give a HEIC file no MIME type: the page sends it as image/heif (the bucket's policy takes
    image/*), and the server stores it as an upright JPEG."""
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    heic = {"name": "IMG_0001.HEIC", "mimeType": "", "buffer": phone_photo("garden-rotated.heic")}

    with chromium_page() as page:
        log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
        page.set_input_files(".direct-upload-files", [heic])
        page.click(".direct-upload-start")
        page.wait_for_function(
            "() => document.querySelectorAll('.direct-upload-done, .direct-upload-failed').length === 1",
            timeout=30000,
        )
        assert page.query_selector(".direct-upload-done").inner_text().startswith("IMG_0001.HEIC: stored")

    (image,) = house.images.all()
    assert (image.original_filename, image.mime_type, image.width, image.height) == (
        "IMG_0001.HEIC",
        "image/jpeg",
        *UPRIGHT_SIZE,
    )


def test_admin_direct_upload_sends_photos_from_the_browser_to_the_bucket(live_server, django_user_model, bucket_keys):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    photo = {"name": "jardin.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (800, 600))}
    fake = {"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": b"<html><script>alert(1)</script></html>"}

    with chromium_page() as page:
        log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
        page.set_input_files(".direct-upload-files", [photo, fake])
        page.click(".direct-upload-start")
        page.wait_for_function(
            "() => document.querySelectorAll('.direct-upload-done, .direct-upload-failed').length === 2",
            timeout=30000,
        )
        done = page.query_selector(".direct-upload-done")
        assert done.inner_text().startswith("jardin.jpg: stored")
        preview = done.query_selector("img.direct-upload-thumbnail")
        page.wait_for_function("image => image.complete", arg=preview, timeout=15000)
        # The original, through a signature, stands in for the thumbnail a worker has yet to make.
        assert preview.evaluate("image => image.naturalWidth") == 800
        assert "X-Amz-Signature=" in preview.get_attribute("src")
        failed = page.query_selector(".direct-upload-failed")
        assert failed.inner_text() == "fake.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-direct-upload.png"), full_page=True)

    (image,) = house.images.all()
    assert image.original_filename == "jardin.jpg" and image.width == 800
    # The fake left nothing behind, and neither staging object survived completion.
    run_queued_tasks()  # the deletion of the staging objects, and the variants
    image.refresh_from_db()
    assert bucket_keys() == object_keys(image)


def test_admin_direct_upload_refuses_a_file_over_the_limit_before_sending_it(
    live_server, django_user_model, bucket_keys, settings
):
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = 1000
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    photo = {"name": "grande.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (800, 600))}

    with chromium_page() as page:
        log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
        page.set_input_files(".direct-upload-files", [photo])
        page.click(".direct-upload-start")
        page.wait_for_selector(".direct-upload-failed", timeout=30000)
        assert page.inner_text(".direct-upload-failed") == "grande.jpg: larger than the 1000 bytes limit"

    assert house.images.count() == 0 and bucket_keys() == []  # nothing was posted to the bucket


def test_admin_direct_upload_shows_the_buckets_own_refusal(live_server, django_user_model, bucket_keys, s3_client):
    """With the admin's origin in the bucket's CORS rule (make run puts it there), the page reads S3's answer.
    S3 refuses what it is sent only when the form was changed on the way: Playwright changes the signature."""
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    house = HouseForSaleFactory(owner=admin)
    photo = {"name": "jardin.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (800, 600))}
    s3_client.put_bucket_cors(Bucket=TEST_BUCKET, CORSConfiguration={"CORSRules": cors_rules([live_server.url])})

    def with_a_wrong_signature(route):
        body = route.request.post_data_buffer
        signature = re.search(rb'name="x-amz-signature"\r\n\r\n([0-9a-f]{64})', body).group(1)
        route.continue_(post_data=body.replace(signature, b"0" * 64))

    try:
        with chromium_page() as page:
            page.route(f"{s3_client.meta.endpoint_url}/**", with_a_wrong_signature)
            log_in(page, live_server, f"/admin/property/houseforsale/{house.pk}/change/")
            page.set_input_files(".direct-upload-files", [photo])
            page.click(".direct-upload-start")
            page.wait_for_selector(".direct-upload-failed", timeout=30000)
            refusal = page.inner_text(".direct-upload-failed")
    finally:
        s3_client.delete_bucket_cors(Bucket=TEST_BUCKET)
    assert refusal.startswith("jardin.jpg: the bucket refused it: ") and "signature" in refusal.lower(), refusal
    assert house.images.count() == 0 and bucket_keys() == []
