"""Direct uploads end to end against the real S3 server: upload_url, a POST straight to S3, complete_upload."""

import io
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from PIL import Image

from property.models import PropertyImage, StagedUploadClaim
from property.services.direct_uploads import COMPLETED_UPLOAD_MEMORY, STAGED_UPLOAD_CLAIM_TIMEOUT
from property.tests.factories import HouseForSaleFactory
from property.tests.phone_photos import PHONE_PHOTOS, UPRIGHT_SIZE, phone_photo
from testing import colour_near, image_bytes, make_variants_now, post_to_s3, run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(owner):
    return HouseForSaleFactory(owner=owner)


def target(house) -> dict:
    return {"content_type": "house_for_sale", "object_id": house.pk}


def test_direct_upload_end_to_end(owner_client, owner, house, bucket_keys):
    issued = owner_client.post("/api/property-images/upload_url/", target(house), format="json")
    assert issued.status_code == 200
    upload = issued.json()
    assert upload["key"].startswith(f"uploads/{owner.pk}/") and upload["expires_in"] == 600
    assert post_to_s3(upload, image_bytes("JPEG", (120, 90))).status_code in (200, 201, 204)
    assert bucket_keys("uploads/") == [upload["key"]]

    completed = owner_client.post(
        "/api/property-images/complete_upload/",
        {"key": upload["key"], "filename": "terraza.jpg", "caption": "Terrace", "is_main": True, **target(house)},
        format="json",
    )
    assert completed.status_code == 201
    image = completed.json()
    assert (image["original_filename"], image["caption"], image["is_main"], image["width"]) == (
        "terraza.jpg",
        "Terrace",
        True,
        120,
    )
    assert image["thumbhash"] and colour_near(image["color"], (200, 120, 40))
    assert bucket_keys("uploads/") == [upload["key"]]  # the answer did not wait for its deletion...
    run_queued_tasks()
    assert bucket_keys("uploads/") == []  # ... which a worker does
    stored_key = PropertyImage.objects.get(pk=image["id"]).image.name
    assert stored_key.startswith(f"properties/houseforsale/{house.pk}/") and stored_key.endswith(".jpg")
    assert requests.get(image["secure_url"], timeout=10).status_code == 200


def test_s3_refuses_an_oversized_post(owner_client, house, bucket_keys, settings):
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = 1000
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    assert upload["max_size"] == 1000
    refused = post_to_s3(upload, image_bytes("PNG", (300, 300)))
    assert refused.status_code == 400 and b"EntityTooLarge" in refused.content
    assert bucket_keys() == []


def test_s3_refuses_a_post_that_is_not_an_image_type(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    refused = post_to_s3(upload, b"<html></html>", content_type="text/html")
    assert refused.status_code >= 400
    assert bucket_keys() == []


def test_only_the_owner_or_staff_gets_an_upload_url(other_client, house):
    response = other_client.post("/api/property-images/upload_url/", target(house), format="json")
    assert response.status_code == 403


def test_completing_a_key_issued_to_someone_else_is_refused(owner_client, other_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    post_to_s3(upload, image_bytes())
    response = other_client.post(
        "/api/property-images/complete_upload/", {"key": upload["key"], **target(house)}, format="json"
    )
    assert response.status_code == 403
    forged = owner_client.post(
        "/api/property-images/complete_upload/", {"key": "uploads/999999/" + "a" * 32, **target(house)}, format="json"
    )
    assert forged.status_code == 403 and forged.json() == {"error": "This upload key was not issued to you"}
    traversal = owner_client.post(
        "/api/property-images/complete_upload/",
        {"key": "properties/houseforsale/1/x.jpg", **target(house)},
        format="json",
    )
    assert traversal.status_code == 400
    assert PropertyImage.objects.count() == 0


def test_completing_before_posting_is_a_404(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    response = owner_client.post(
        "/api/property-images/complete_upload/", {"key": upload["key"], **target(house)}, format="json"
    )
    assert response.status_code == 404
    assert "Nothing was uploaded under this key" in response.json()["error"]


def test_an_invalid_posted_image_is_rejected_and_leaves_nothing(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    assert post_to_s3(upload, b"<html><script>x</script></html>").status_code in (200, 201, 204)
    response = owner_client.post(
        "/api/property-images/complete_upload/",
        {"key": upload["key"], "filename": "evil.jpg", **target(house)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"error": "evil.jpg: not a JPEG, PNG, WebP, HEIC or HEIF image"}
    run_queued_tasks()
    assert bucket_keys() == [] and PropertyImage.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content_type"), [(name, "image/heic") for name in PHONE_PHOTOS] + [("garden-rotated.heic", "image/jpeg")]
)
def test_a_phone_photo_posted_straight_to_s3_is_stored_as_an_upright_jpeg(
    owner_client, house, bucket_keys, name, content_type
):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    posted = post_to_s3(upload, phone_photo(name), content_type=content_type, filename="IMG_0001.HEIC")
    assert posted.status_code in (200, 201, 204)
    response = owner_client.post(
        "/api/property-images/complete_upload/",
        {"key": upload["key"], "filename": "IMG_0001.HEIC", "category": "garden", **target(house)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    image = response.json()
    assert (image["original_filename"], image["width"], image["height"]) == ("IMG_0001.HEIC", *UPRIGHT_SIZE)
    assert image["category"] == "garden"
    stored = PropertyImage.objects.get()
    assert stored.mime_type == "image/jpeg" and stored.image.name.endswith(".jpg")
    fetched = requests.get(image["secure_url"], timeout=10)
    with Image.open(io.BytesIO(fetched.content)) as pixels:
        assert pixels.format == "JPEG" and pixels.size == UPRIGHT_SIZE
    make_variants_now(stored)
    assert stored.variants_status == "ready"


def complete(client, upload: dict, house) -> requests.Response:
    return client.post("/api/property-images/complete_upload/", {"key": upload["key"], **target(house)}, format="json")


def test_an_upload_being_completed_cannot_be_completed_again_meanwhile(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    post_to_s3(upload, image_bytes())
    StagedUploadClaim.objects.create(key=upload["key"])  # another request is completing it right now
    busy = complete(owner_client, upload, house)
    assert busy.status_code == 409 and "Another request is completing this upload" in busy.json()["error"]
    assert PropertyImage.objects.count() == 0
    assert bucket_keys() == [upload["key"]]  # the file waits for the request that holds the claim
    StagedUploadClaim.objects.all().delete()  # ... which ends without storing it (S3 failed, say)
    completed = complete(owner_client, upload, house)
    assert completed.status_code == 201
    run_queued_tasks()
    assert PropertyImage.objects.count() == 1 and bucket_keys("uploads/") == []


def test_completing_again_after_a_lost_answer_gives_the_same_image(owner_client, owner, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    post_to_s3(upload, image_bytes())
    first = complete(owner_client, upload, house)
    run_queued_tasks()  # the staging object is deleted: the key is remembered, not the file
    again = complete(owner_client, upload, house)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"] and PropertyImage.objects.count() == 1
    other_house = HouseForSaleFactory(owner=owner)  # the key cannot become an image of another house too
    elsewhere = complete(owner_client, upload, other_house)
    assert elsewhere.status_code == 409
    assert elsewhere.json() == {"error": "This upload was already completed for another property"}
    PropertyImage.objects.get().delete()  # once the image is deleted, the key is used up
    gone = complete(owner_client, upload, house)
    assert gone.status_code == 404 and PropertyImage.objects.count() == 0


def test_completed_uploads_are_remembered_for_a_day(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    post_to_s3(upload, image_bytes())
    assert complete(owner_client, upload, house).status_code == 201
    run_queued_tasks()
    StagedUploadClaim.objects.update(claimed_at=timezone.now() - COMPLETED_UPLOAD_MEMORY - timedelta(seconds=1))
    later = complete(owner_client, upload, house)
    assert later.status_code == 404 and not StagedUploadClaim.objects.exists()


def test_a_claim_left_by_a_request_that_died_is_taken_over(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    post_to_s3(upload, image_bytes())
    claim = StagedUploadClaim.objects.create(key=upload["key"])
    long_ago = timezone.now() - STAGED_UPLOAD_CLAIM_TIMEOUT - timedelta(seconds=1)
    StagedUploadClaim.objects.filter(pk=claim.pk).update(claimed_at=long_ago)
    assert complete(owner_client, upload, house).status_code == 201
    assert PropertyImage.objects.count() == 1 and StagedUploadClaim.objects.get().image is not None


def test_a_failed_completion_releases_its_claim(owner_client, house, bucket_keys):
    upload = owner_client.post("/api/property-images/upload_url/", target(house), format="json").json()
    assert complete(owner_client, upload, house).status_code == 404  # nothing posted yet
    post_to_s3(upload, image_bytes())
    assert complete(owner_client, upload, house).status_code == 201
