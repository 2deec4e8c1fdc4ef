"""gzip for answers that shrink, never for a ZIP of photos."""

import pytest

from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import jpeg_upload

pytestmark = pytest.mark.django_db


def test_a_zip_of_photos_goes_as_it_is_and_json_is_gzipped(owner_client, owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner)
    property_images_store(house=house, files=[jpeg_upload(), jpeg_upload("b.jpg")])
    photos = owner_client.get(f"/api/houses-for-sale/{house.pk}/download/", HTTP_ACCEPT_ENCODING="gzip")
    body = b"".join(photos.streaming_content)
    assert "Content-Encoding" not in photos and int(photos["Content-Length"]) == len(body)
    assert body.startswith(b"PK\x03\x04")
    listing = owner_client.get("/api/property-images/?content_type=house_for_sale", HTTP_ACCEPT_ENCODING="gzip")
    assert listing["Content-Encoding"] == "gzip"
