"""An S3 outage in the middle of use: uploads answer 503 and store nothing, reads go on, and it recovers."""

import pytest
import requests

from conftest import jpeg_upload, storage_on
from localdev.s3server import LocalS3Server
from property.models import PropertyImage
from property.tests.factories import HouseForSaleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_s3_server(tmp_path):
    """A SeaweedFS of this test's own, which it may stop and start again (same ports, same data)."""
    server = LocalS3Server(data_dir=tmp_path / "s3", access_key="fault-key", secret_key="fault-secret")
    server.start()
    server.ensure_private_bucket("fault-bucket")
    with storage_on(server, "fault-bucket"):
        yield server
    server.stop(grace=0.5)


def upload(client, house, name):
    return client.post(
        f"/api/houses-for-sale/{house.pk}/upload_images/", {"images": [jpeg_upload(name)]}, format="multipart"
    )


def test_s3_outage_refuses_uploads_keeps_reads_and_recovers(own_s3_server, owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    before = upload(owner_client, house, "before.jpg")
    assert before.status_code == 201
    image_id = before.json()[0]["id"]

    own_s3_server.stop(grace=0.5)
    during = upload(owner_client, house, "during.jpg")
    assert during.status_code == 503
    assert "error" in during.json()
    assert list(PropertyImage.objects.values_list("original_filename", flat=True)) == ["before.jpg"]
    # Reading needs no S3 round trip: presigned URLs are signed locally.
    listing = owner_client.get(f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}")
    assert listing.status_code == 200 and listing.json()["results"][0]["secure_url"]
    assert owner_client.get(f"/api/property-images/{image_id}/secure_url/").status_code == 200
    assert owner_client.get(f"/api/houses-for-sale/{house.pk}/").status_code == 200

    own_s3_server.start()
    after = upload(owner_client, house, "after.jpg")
    assert after.status_code == 201
    assert requests.get(after.json()[0]["secure_url"], timeout=10).status_code == 200
    assert requests.get(listing.json()["results"][0]["secure_url"], timeout=10).status_code == 200
