"""The page a share link opens (`/shared/<token>/`), in a real headless Chromium with no session: the house, each
photo's placeholder painted before the photo arrives, then the photo from its AVIF copy, and "Download all"."""

import io
import zipfile

import pytest
from django.conf import settings

from property.services.share_links import share_link_create
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import CHROMIUM_MISSING, chromium_page, jpeg_upload, make_variants_now

pytestmark = [pytest.mark.django_db(transaction=True), CHROMIUM_MISSING]


def test_a_fresh_browser_sees_placeholders_then_avif_photos_and_downloads_the_zip(live_server, owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner, title="Casa Azul")
    photos = property_images_store(
        house=house, files=[jpeg_upload("hall.jpg", (1200, 900)), jpeg_upload("pool.jpg", (900, 1200))], caption="Hall"
    )
    make_variants_now(*photos)
    _, token = share_link_create(house=house, created_by=owner, expires_in=600, allow_download=True)

    with chromium_page() as page:
        held = []  # every request to the bucket, held until the placeholders have been looked at
        released = []

        def hold(route) -> None:
            route.continue_() if released else held.append(route)

        page.route(f"{settings.AWS_S3_ENDPOINT_URL}/**", hold)
        page.goto(f"{live_server.url}/shared/{token}/")
        page.wait_for_selector("#photos figure img")
        for _ in range(100):  # route handlers run while Playwright waits
            if len(held) >= len(photos):
                break
            page.wait_for_timeout(100)
        shown = page.locator("#photos figure img")
        assert shown.count() == 2 and page.locator("#title").text_content() == "Casa Azul"
        painted = shown.evaluate_all("(imgs) => imgs.map((img) => [img.complete, img.style.backgroundImage])")
        assert all(not complete and paint.startswith('url("data:image/png;base64,') for complete, paint in painted)
        released.append(True)
        for route in held:
            route.continue_()
        page.wait_for_function("[...document.images].every((img) => img.complete && img.naturalWidth > 0)")
        # Chromium took the <picture>'s AVIF source and decoded it.
        chosen = shown.evaluate_all("(imgs) => imgs.map((img) => img.currentSrc.split('?')[0])")
        for url, photo in zip(chosen, photos, strict=True):
            assert url.endswith(tuple(variant["avif_key"] for variant in photo.variants.values())), url
        with page.expect_download() as downloading:
            page.click("#download")
        archive = zipfile.ZipFile(io.BytesIO(downloading.value.path().read_bytes()))
    assert archive.namelist() == ["01-hall.jpg", "02-hall.jpg"]


def test_a_revoked_links_page_says_so(live_server, owner):
    house = HouseForSaleFactory(owner=owner)
    link, token = share_link_create(house=house, created_by=owner, expires_in=600)
    link.revoked_at = link.created_at
    link.save()
    with chromium_page() as page:
        page.goto(f"{live_server.url}/shared/{token}/")
        page.wait_for_selector("#status.error")
        assert "expired or was revoked" in page.locator("#status").text_content()
        assert page.locator("#photos figure").count() == 0
