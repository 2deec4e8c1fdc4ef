"""The reference gallery page (examples/gallery/) in a real headless Chromium, served on an origin of its own:
it logs in, lists houses, renders every photo from its signed URLs, uploads a photo straight to the bucket in
normal CORS mode and completes it; from an origin the API does not allow, the browser refuses it."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from backend.buckets import cors_rules
from property.models import PropertyImage
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import (
    ARTIFACTS,
    BASE_DIR,
    CHROMIUM_MISSING,
    TEST_BUCKET,
    chromium_page,
    image_bytes,
    jpeg_upload,
    make_variants_now,
    reorder_requests,
    run_queued_tasks,
    static_site,
    three_photos,
)

pytestmark = [pytest.mark.django_db(transaction=True), CHROMIUM_MISSING]

GALLERY = Path(__file__).resolve().parent.parent / "gallery"
PASSWORD = "agent-password-123"


@pytest.fixture
def front_ends(settings, s3_client):
    """The gallery on an origin the API and the bucket allow, and on one they do not."""
    with static_site(GALLERY) as allowed, static_site(GALLERY) as elsewhere:
        settings.CORS_ALLOWED_ORIGINS = [allowed]
        s3_client.put_bucket_cors(Bucket=TEST_BUCKET, CORSConfiguration={"CORSRules": cors_rules([allowed])})
        try:
            yield allowed, elsewhere
        finally:
            s3_client.delete_bucket_cors(Bucket=TEST_BUCKET)


def log_in(page, front_end: str, api: str) -> None:
    page.goto(f"{front_end}/index.html?api={api}")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button")


def shown_ids(page) -> list[int]:
    return page.eval_on_selector_all("#gallery figure", "figures => figures.map((f) => Number(f.dataset.image))")


def every_image_loaded(page) -> bool:
    return page.evaluate("[...document.images].every((img) => img.complete && img.naturalWidth > 0)")


def test_the_gallery_lists_shows_and_uploads_straight_to_the_bucket_from_its_own_origin(
    live_server, django_user_model, bucket_keys, front_ends, tmp_path
):
    allowed, _ = front_ends
    agent = django_user_model.objects.create_user("agent", password=PASSWORD)
    house = HouseForSaleFactory(owner=agent, title="Villa with sea views")
    # Two photos, the second the main one, their variants pending (no worker runs here): the originals stand in.
    (first,) = property_images_store(house=house, files=[jpeg_upload("terrace.jpg")])
    (main,) = property_images_store(house=house, files=[jpeg_upload("pool.jpg")], is_main=True)
    photo = tmp_path / "living-room.jpg"
    photo.write_bytes(image_bytes("JPEG", (640, 480)))

    with chromium_page() as page:
        log_in(page, allowed, live_server.url)
        page.wait_for_selector(f"#houses button[data-house='{house.pk}']")
        assert "(2 photos)" in page.inner_text(f"#houses button[data-house='{house.pk}']")
        page.click(f"#houses button[data-house='{house.pk}']")
        page.wait_for_selector(f"figure[data-image='{first.pk}']")
        # The photos in their order, the main one marked, every one drawn from its signed URL, pending sizes said so.
        assert shown_ids(page) == [first.pk, main.pk]
        assert page.eval_on_selector_all("figure.main", "figures => figures.map((f) => Number(f.dataset.image))") == [
            main.pk
        ]
        page.wait_for_function("[...document.images].every((img) => img.complete)")
        assert every_image_loaded(page)
        assert "smaller sizes on their way" in page.inner_text("#gallery")

        page.set_input_files("#files", str(photo))
        page.click("#upload button")
        page.wait_for_selector("#uploads li[data-image]")
        assert page.eval_on_selector("#uploads progress", "progress => progress.value") == 1
        page.wait_for_function("document.querySelectorAll('#gallery figure').length === 3")
        page.wait_for_function("document.querySelector('#status').textContent === '1 photo stored'")
        assert "(3 photos)" in page.inner_text(f"#houses button[data-house='{house.pk}']")
        page.wait_for_function("[...document.images].every((img) => img.complete)")
        assert every_image_loaded(page)

        # Nothing private without a signature, even from an allowed origin: S3's 403 is readable, not a photo.
        bare = page.evaluate("fetch(document.querySelector('#gallery img').src.split('?')[0]).then((r) => r.status)")
        assert bare == 403
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)

    uploaded = PropertyImage.objects.exclude(pk__in=[first.pk, main.pk]).get()
    assert (uploaded.object_id, uploaded.original_filename, uploaded.width) == (house.pk, "living-room.jpg", 640)
    run_queued_tasks()  # the worker's part: the variants, and deleting the staging object the API took
    assert bucket_keys("uploads/") == []


def test_the_gallery_paints_each_photos_placeholder_before_the_photo_arrives(
    live_server, django_user_model, bucket_keys, front_ends
):
    allowed, _ = front_ends
    agent = django_user_model.objects.create_user("agent", password=PASSWORD)
    house = HouseForSaleFactory(owner=agent)
    # The house list shows the main photo (so the browser has it already); the placeholder is looked at on the
    # other one.
    property_images_store(house=house, files=[jpeg_upload("pool.jpg")], is_main=True)
    # A photo the house list does not show (so the browser has not cached it): blue sky over a green lawn.
    scene = Image.new("RGB", (800, 600), (60, 120, 220))
    scene.paste((40, 160, 60), (0, 400, 800, 600))
    buffer = io.BytesIO()
    scene.save(buffer, format="JPEG", quality=90)
    (garden,) = property_images_store(house=house, files=[SimpleUploadedFile("garden.jpg", buffer.getvalue())])

    with chromium_page() as page:
        log_in(page, allowed, live_server.url)
        page.wait_for_selector(f"#houses button[data-house='{house.pk}']")
        page.wait_for_function("[...document.images].every((img) => img.complete)")
        held = []  # the photos' requests to the bucket, held until the placeholders have been looked at
        page.route(f"**/{garden.image.name}?*", lambda route: held.append(route))
        page.click(f"#houses button[data-house='{house.pk}']")
        photo = page.locator(f"figure[data-image='{garden.pk}'] img")
        photo.wait_for()
        for _ in range(100):  # route handlers run while Playwright waits
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the photo was not requested from the bucket"
        assert photo.evaluate("(img) => img.complete") is False
        assert photo.evaluate("(img) => img.style.backgroundImage").startswith('url("data:image/png;base64,')
        # What is on the screen: not a flat colour but the picture, blue sky above a green lawn (ThumbHash keeps
        # the colours only roughly: which channel leads, not its value).
        painted = Image.open(io.BytesIO(photo.screenshot())).convert("RGB")
        red, green, blue = painted.getpixel((painted.width // 2, painted.height // 8))
        assert blue > green > red, (red, green, blue)
        red, green, blue = painted.getpixel((painted.width // 2, painted.height - painted.height // 16))
        assert green > max(red, blue) + 60, (red, green, blue)

        for route in held:
            route.continue_()
        page.wait_for_function(f"document.querySelector(\"figure[data-image='{garden.pk}'] img\").complete")
        assert photo.evaluate("(img) => img.naturalWidth > 0 && img.style.backgroundImage === ''")


def test_the_gallery_shows_ready_photos_from_their_avif_copies(live_server, django_user_model, bucket_keys, front_ends):
    allowed, _ = front_ends
    agent = django_user_model.objects.create_user("agent", password=PASSWORD)
    house = HouseForSaleFactory(owner=agent)
    (photo,) = property_images_store(house=house, files=[jpeg_upload("hall.jpg", (1200, 900))])
    make_variants_now(photo)

    with chromium_page() as page:
        log_in(page, allowed, live_server.url)
        page.wait_for_selector(f"#houses button[data-house='{house.pk}']")
        page.click(f"#houses button[data-house='{house.pk}']")
        shown = page.locator(f"figure[data-image='{photo.pk}'] img")
        shown.wait_for()
        page.wait_for_function("[...document.images].every((img) => img.complete)")
        assert every_image_loaded(page)
        # Chromium took the <picture>'s AVIF source, not the <img>'s WebP srcset, and decoded it.
        avif_keys = tuple(variant["avif_key"] for variant in photo.variants.values())
        chosen = shown.evaluate("(img) => img.currentSrc").split("?")[0]
        assert chosen.endswith(avif_keys) and shown.evaluate("(img) => img.naturalWidth") in (320, 1024, 1200)
        assert ".webp?" in shown.evaluate("(img) => img.srcset")
        cover = page.locator(f"#houses button[data-house='{house.pk}'] img").evaluate("(img) => img.currentSrc")
        assert cover.split("?")[0].endswith(avif_keys)


def test_the_owner_drags_a_photo_to_the_first_place_and_the_order_is_saved_in_one_call(
    live_server, django_user_model, bucket_keys, front_ends
):
    allowed, _ = front_ends
    agent = django_user_model.objects.create_user("agent", password=PASSWORD)
    house = HouseForSaleFactory(owner=agent)
    first, second, third = three_photos(house)

    with chromium_page() as page:
        calls = reorder_requests(page)
        log_in(page, allowed, live_server.url)
        page.click(f"#houses button[data-house='{house.pk}']")
        page.wait_for_selector(f"figure[data-image='{third.pk}']")
        assert shown_ids(page) == [first.pk, second.pk, third.pk]
        figures = page.locator("#gallery figure")
        figures.nth(2).drag_to(figures.nth(0))
        page.wait_for_function("document.querySelector('#status').textContent === 'Order saved'")
        assert shown_ids(page) == [third.pk, first.pk, second.pk]
        assert calls == ["POST"]  # one call (a CORS preflight is an OPTIONS)

        page.reload()
        log_in(page, allowed, live_server.url)
        page.click(f"#houses button[data-house='{house.pk}']")
        page.wait_for_selector(f"figure[data-image='{third.pk}']")
        assert shown_ids(page) == [third.pk, first.pk, second.pk]
    assert list(house.images.values_list("pk", "order")) == [(third.pk, 0), (first.pk, 1), (second.pk, 2)]


def test_the_gallery_offers_no_reordering_to_someone_elses_house(
    live_server, django_user_model, bucket_keys, front_ends
):
    allowed, _ = front_ends
    django_user_model.objects.create_user("agent", password=PASSWORD)
    house = HouseForSaleFactory()  # another agent's
    property_images_store(house=house, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")])
    with chromium_page() as page:
        log_in(page, allowed, live_server.url)
        page.click(f"#houses button[data-house='{house.pk}']")
        page.wait_for_selector("#gallery figure")
        assert page.eval_on_selector_all("#gallery figure", "figures => figures.map((f) => f.draggable)") == [
            False,
            False,
        ]


def test_the_vendored_thumbhash_is_the_reference_package_unchanged():
    for name in ("thumbhash.js", "thumbhash.d.ts"):
        vendored = (GALLERY / "shared" / "vendor" / name).read_text()
        reference = (BASE_DIR / "node_modules" / "thumbhash" / name).read_text()
        assert vendored.split("\n", 2 if name.endswith(".js") else 1)[-1] == reference, name


def test_the_gallery_on_an_origin_the_api_does_not_allow_cannot_log_in(live_server, django_user_model, front_ends):
    _, elsewhere = front_ends
    django_user_model.objects.create_user("agent", password=PASSWORD)
    with chromium_page() as page:
        log_in(page, elsewhere, live_server.url)
        page.wait_for_selector("#status.error")
        assert page.inner_text("#status") == "Could not log in: Failed to fetch"
        assert page.is_hidden("#app")
