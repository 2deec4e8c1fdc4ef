"""Share links: made, listed and revoked by a house's owner; opened, and downloaded as a ZIP, without an account."""

import io
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from property.models import ShareLink
from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from testing import jpeg_upload

pytestmark = pytest.mark.django_db

ANYONE = APIClient  # a client without credentials: someone the link was sent to


def make_link(client, house, kind="houses-for-sale", **body):
    answer = client.post(f"/api/{kind}/{house.pk}/share_links/", {"expires_in": 3600, **body}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def shared(token: str):
    return ANYONE().get(f"/api/shared/{token}/")


@pytest.fixture
def house_with_photos(owner, bucket_keys):
    house = HouseForSaleFactory(owner=owner, title="Casa Azul", address="Calle Secreta 1")
    images = property_images_store(
        house=house,
        files=[jpeg_upload("IMG_Ana_1.jpg", (80, 60)), jpeg_upload("IMG_Ana_2.jpg", (60, 80))],
        caption="Sea view",
    )
    return house, images


def test_a_link_opens_the_house_without_an_account_and_counts_each_view(owner_client, house_with_photos):
    house, images = house_with_photos
    link = make_link(owner_client, house, label="Ann Buyer", allow_download=True)
    assert len(link["token"]) >= 43  # 256 random bits, base64url
    assert link["url"].endswith(f"/api/shared/{link['token']}/") and link["page_url"].endswith(
        f"/shared/{link['token']}/"
    )
    first, second = shared(link["token"]), shared(link["token"])
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["house"] == {
        "kind": "house_for_sale",
        "title": "Casa Azul",
        "description": house.description,
        "city": house.city,
        "bedrooms": house.bedrooms,
        "bathrooms": house.bathrooms,
        "area": f"{house.area:.2f}",
        "price": f"{house.price:.2f}",
        "monthly_rent": None,
    }
    assert [image["id"] for image in body["images"]] == [image.pk for image in images]
    assert {"thumbhash", "color", "variants", "secure_url", "width", "height"} <= set(body["images"][0])
    assert body["download_url"].endswith(f"/api/shared/{link['token']}/download/")
    (listed,) = owner_client.get(f"/api/houses-for-sale/{house.pk}/share_links/").json()
    assert (listed["views"], listed["label"], listed["is_active"]) == (2, "Ann Buyer", True)
    assert listed["last_viewed_at"] is not None and "token" not in listed


def test_a_link_to_a_house_for_rent_gives_its_rent(owner, owner_client):
    house = HouseForRentFactory(owner=owner)
    link = make_link(owner_client, house, kind="houses-for-rent")
    body = shared(link["token"]).json()
    assert body["house"]["kind"] == "house_for_rent" and body["house"]["price"] is None
    assert body["house"]["monthly_rent"] == f"{house.monthly_rent:.2f}"
    assert (body["images"], body["download_url"]) == ([], None)


def test_nothing_private_is_in_the_shared_answer(owner_client, house_with_photos):
    house, _ = house_with_photos
    text = shared(make_link(owner_client, house)["token"]).content.decode()
    for private in ("Calle Secreta", '"owner', "original_filename", "IMG_Ana", "object_id", "created_at"):
        assert private not in text, private


def test_no_photo_url_outlives_the_link_or_five_minutes_and_a_bare_url_is_refused(owner_client, house_with_photos):
    house, _ = house_with_photos
    for expires_in in (3600, 90):
        link = make_link(owner_client, house, expires_in=expires_in)
        link_ends = datetime.fromisoformat(link["expires_at"]).timestamp()
        body = shared(link["token"]).json()
        urls = [body["images"][0]["secure_url"]] + [
            url
            for image in body["images"]
            for size in image["variants"].values()
            for url in size.values()
            if isinstance(url, str)
        ]
        for url in urls:
            query = parse_qs(urlsplit(url).query)
            signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            ends = signed_at.timestamp() + int(query["X-Amz-Expires"][0])
            assert ends <= link_ends and ends <= timezone.now().timestamp() + 300
        assert requests.get(urls[0], timeout=10).status_code == 200
        bare = urls[0].split("?")[0]
        assert requests.get(bare, timeout=10).status_code == 403


def test_a_link_is_404_once_expired_revoked_or_its_house_deleted(owner_client, owner, house_with_photos):
    house, _ = house_with_photos
    expired, revoked, kept = (make_link(owner_client, house) for _ in range(3))
    ShareLink.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert owner_client.delete(f"/api/houses-for-sale/{house.pk}/share_links/{revoked['id']}/").status_code == 204
    answers = {name: shared(link["token"]) for name, link in (("expired", expired), ("revoked", revoked))}
    assert {name: answer.status_code for name, answer in answers.items()} == {"expired": 404, "revoked": 404}
    assert (
        answers["expired"].json()
        == answers["revoked"].json()
        == {"detail": "This link does not exist, has expired or was revoked."}
    )
    assert shared(kept["token"]).status_code == 200  # the house's other link still works
    listed = {link["id"]: link for link in owner_client.get(f"/api/houses-for-sale/{house.pk}/share_links/").json()}
    assert listed[revoked["id"]]["revoked_at"] and not listed[revoked["id"]]["is_active"]
    assert not listed[expired["id"]]["is_active"] and listed[kept["id"]]["is_active"]
    assert owner_client.delete(f"/api/houses-for-sale/{house.pk}/").status_code == 204
    assert shared(kept["token"]).status_code == 404
    assert not ShareLink.objects.exists()  # the house's links went with it


def test_a_made_up_token_and_one_with_a_character_changed_get_the_same_answer_by_the_same_work(
    owner_client, house_with_photos, django_assert_num_queries
):
    house, _ = house_with_photos
    token = make_link(owner_client, house)["token"]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    answers = []
    for candidate in ("x" * len(token), altered):
        with django_assert_num_queries(1):  # one UPDATE by the token's hash, and nothing else
            answers.append(shared(candidate))
    assert [answer.status_code for answer in answers] == [404, 404]
    assert answers[0].content == answers[1].content
    assert ShareLink.objects.get().views == 0


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": 0},
        {"expires_in": -5},
        {"expires_in": 30 * 24 * 3600 + 1},
        {"expires_in": "3600"},
        {"expires_in": 3600.5},
        {"expires_in": True},
        {},
        {"expires_in": 3600, "label": "x" * 101},
        {"expires_in": 3600, "label": 5},
        {"expires_in": 3600, "allow_download": "yes"},
    ],
)
def test_bad_input_is_a_json_400_and_makes_no_link(owner_client, owner, body):
    house = HouseForSaleFactory(owner=owner)
    answer = owner_client.post(f"/api/houses-for-sale/{house.pk}/share_links/", body, format="json")
    assert answer.status_code == 400 and answer.json()
    assert not ShareLink.objects.exists()


def test_only_the_owner_or_staff_may_make_list_revoke_or_download(owner_client, other_client, owner, make_user):
    house = HouseForSaleFactory(owner=owner)
    link = make_link(owner_client, house)
    base = f"/api/houses-for-sale/{house.pk}"
    stranger = [
        other_client.get(f"{base}/share_links/"),
        other_client.post(f"{base}/share_links/", {"expires_in": 60}, format="json"),
        other_client.delete(f"{base}/share_links/{link['id']}/"),
        other_client.get(f"{base}/download/"),
    ]
    assert [answer.status_code for answer in stranger] == [403] * 4
    assert all(answer.json()["detail"] for answer in stranger)
    assert ANYONE().get(f"{base}/share_links/").status_code == 401
    assert ShareLink.objects.get().revoked_at is None and ShareLink.objects.count() == 1
    staff = APIClient()
    staff.force_authenticate(make_user("staff", is_staff=True))
    assert staff.get(f"{base}/share_links/").status_code == 200
    assert owner_client.delete(f"{base}/share_links/999999/").status_code == 404


def test_the_zip_holds_the_stored_originals_in_gallery_order(owner_client, house_with_photos, s3_client, settings):
    house, images = house_with_photos
    owner_client.post(
        f"/api/houses-for-sale/{house.pk}/reorder_images/", {"ids": [images[1].pk, images[0].pk]}, format="json"
    )
    link = make_link(owner_client, house, allow_download=True)
    for download in (
        ANYONE().get(f"/api/shared/{link['token']}/download/"),
        owner_client.get(f"/api/houses-for-sale/{house.pk}/download/"),
    ):
        assert download.status_code == 200 and download["Content-Type"] == "application/zip"
        body = b"".join(download.streaming_content)
        assert int(download["Content-Length"]) == len(body)
        archive = zipfile.ZipFile(io.BytesIO(body))
        assert archive.namelist() == ["01-sea-view.jpg", "02-sea-view.jpg"]
        for name, image in zip(archive.namelist(), reversed(images), strict=True):
            stored = s3_client.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=image.image.name)["Body"].read()
            assert archive.read(name) == stored


def test_a_link_without_download_gets_403_for_the_zip(owner_client, house_with_photos):
    house, _ = house_with_photos
    token = make_link(owner_client, house)["token"]
    refused = ANYONE().get(f"/api/shared/{token}/download/")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert ANYONE().get(f"/api/shared/{'x' * 43}/download/").status_code == 404


def test_the_links_page_opens_for_anyone_and_names_its_answer(owner_client, house_with_photos):
    house, _ = house_with_photos
    token = make_link(owner_client, house)["token"]
    page = ANYONE().get(f"/shared/{token}/")
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert f'data-api="/api/shared/{token}/"' in page.content.decode()
