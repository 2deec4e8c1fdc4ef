"""The API with CloudFront in front of the bucket: every image URL is a CloudFront signed URL, and
`media_cookies` covers exactly one house's folder. No CloudFront here: signatures are verified with the key pair."""

import base64
import json
import time
from fnmatch import fnmatchcase

import pytest

from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import cloudfront_settings, cloudfront_url_policy, cloudfront_verified, jpeg_upload, make_variants_now

pytestmark = pytest.mark.django_db

CDN = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture
def house(owner):
    return HouseForSaleFactory(owner=owner)


@pytest.fixture
def image(house, bucket_keys):
    (image,) = property_images_store(house=house, files=[jpeg_upload("a.jpg", (800, 600))])
    make_variants_now(image)
    image.refresh_from_db()
    return image


def assert_signed_by(url: str, key_id: str, keys: dict[str, str]) -> None:
    assert url.startswith(f"{CDN}/properties/houseforsale/")
    policy, query = cloudfront_url_policy(url)
    assert query["Key-Pair-Id"] == key_id and cloudfront_verified(policy, query["Signature"], keys[key_id])


def test_every_image_url_of_the_api_is_a_cloudfront_signed_url(owner_client, image, cloudfront_keys):
    key_id = next(iter(cloudfront_keys))
    with cloudfront_settings(cloudfront_keys):
        body = owner_client.get(f"/api/property-images/{image.pk}/").json()
        secure = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?expiration=600").json()
        variant = owner_client.get(f"/api/property-images/{image.pk}/secure_url/?variant=thumbnail").json()
        redirect = owner_client.get(f"/api/property-images/{image.pk}/redirect_to_image/")
        listed = owner_client.get(f"/api/houses-for-sale/{image.object_id}/").json()["images"][0]
    urls = [body["secure_url"], body["image_url"], secure["secure_url"], variant["secure_url"], redirect["Location"]]
    urls += [info[field] for info in body["variants"].values() for field in ("url", "avif_url")]
    urls += [listed["secure_url"]]
    for url in urls:
        assert_signed_by(url, key_id, cloudfront_keys)
    assert variant["is_original"] is False and "_320w." in variant["secure_url"]
    assert body["secure_url"] == listed["secure_url"]  # the same window: the same URL, which caches


def test_media_cookies_cover_exactly_one_houses_folder(owner_client, house, image, cloudfront_keys):
    key_id = next(iter(cloudfront_keys))
    other = HouseForSaleFactory()
    with cloudfront_settings(cloudfront_keys):
        before = time.time()
        response = owner_client.get(f"/api/houses-for-sale/{house.pk}/media_cookies/")
        photo_url = owner_client.get(f"/api/property-images/{image.pk}/").json()["secure_url"]
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    body = response.json()
    cookies = body["cookies"]
    assert cookies["CloudFront-Key-Pair-Id"] == key_id
    policy = base64.b64decode(cookies["CloudFront-Policy"].translate(str.maketrans("-_~", "+=/"))).decode()
    assert cloudfront_verified(policy, cookies["CloudFront-Signature"], cloudfront_keys[key_id])
    (statement,) = json.loads(policy)["Statement"]
    assert statement["Resource"] == body["resource"] == f"{CDN}/properties/houseforsale/{house.pk}/*"
    assert body["path"] == f"/properties/houseforsale/{house.pk}/"
    expires = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
    assert expires == body["expires"] and 3600 - 2 <= expires - before <= 3600 + 600 + 2
    # Its photos (and their variants) are covered; another house's, or a rental with the same id, are not.
    assert fnmatchcase(photo_url.split("?")[0], statement["Resource"])
    for elsewhere in (
        f"houseforsale/{other.pk}/a.jpg",
        f"houseforrent/{house.pk}/a.jpg",
        f"houseforsale/{house.pk}0/a",
    ):
        assert not fnmatchcase(f"{CDN}/properties/{elsewhere}", statement["Resource"])
    assert "Set-Cookie" not in response  # no AWS_CLOUDFRONT_COOKIE_DOMAIN: the front end sets them itself


def test_media_cookies_are_set_for_the_configured_cookie_domain(other_client, house, cloudfront_keys):
    with cloudfront_settings(cloudfront_keys, AWS_CLOUDFRONT_COOKIE_DOMAIN=".example.com"):
        response = other_client.get(f"/api/houses-for-sale/{house.pk}/media_cookies/")  # any reader may view it
    assert response.status_code == 200
    body = response.json()
    for name, value in body["cookies"].items():
        cookie = response.cookies[name]
        assert cookie.value == value and cookie["domain"] == ".example.com"
        assert cookie["path"] == f"/properties/houseforsale/{house.pk}/"
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
        assert 0 < int(cookie["max-age"]) <= body["expires"] - time.time() + 1


def test_media_cookies_for_a_rental_cover_its_own_folder(owner_client, cloudfront_keys):
    rental = HouseForRentFactory()
    with cloudfront_settings(cloudfront_keys):
        body = owner_client.get(f"/api/houses-for-rent/{rental.pk}/media_cookies/").json()
    assert body["resource"] == f"{CDN}/properties/houseforrent/{rental.pk}/*"


def test_media_cookies_need_a_token_and_an_existing_house(client, owner_client, house, cloudfront_keys):
    with cloudfront_settings(cloudfront_keys):
        anonymous = client.get(f"/api/houses-for-sale/{house.pk}/media_cookies/")
        missing = owner_client.get(f"/api/houses-for-sale/{house.pk + 1000}/media_cookies/")
    assert anonymous.status_code == 401 and "CloudFront-Policy" not in anonymous.content.decode()
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}


def test_media_cookies_without_cloudfront_say_so(owner_client, house):
    response = owner_client.get(f"/api/houses-for-sale/{house.pk}/media_cookies/")
    assert response.status_code == 404
    assert "not served through CloudFront" in response.json()["error"]
