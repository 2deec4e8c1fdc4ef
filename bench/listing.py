"""Section 2: the image list in-process, the project's signing against django-storages' own url() of each copy."""

from __future__ import annotations

import secrets
import time
from unittest import mock

from bench.report import verdict
from bench.sections import Bench, run_in_bench


def image_list(images: int):
    """A house with `images` photos: (an API client of its owner, the path of its image list in one page)."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.photos import photo_jpeg
    from property.models import HouseForSale, PropertyImage, VariantsStatus
    from property.services.uploads import property_images_store
    from property.variants import configured_variant_keys

    owner = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}", password=None)
    house = HouseForSale.objects.create(title="Bench house", address="1 Bench St", price=1, owner=owner)
    small = photo_jpeg(320, 240)
    for start in range(0, images, 20):
        property_images_store(
            house=house, files=[SimpleUploadedFile(f"{start + n}.jpg", small) for n in range(min(20, images - start))]
        )
    # As a listed house's photos are once the worker has been by: each with its variants, in WebP and AVIF (rows
    # only: a list signs URLs and never reads S3).
    for image in PropertyImage.objects.filter(object_id=house.pk):
        variants = {
            name: {**keys, "width": 320, "height": 240}
            for name, keys in configured_variant_keys(image.original_key).items()
        }
        PropertyImage.objects.filter(pk=image.pk).update(variants=variants, variants_status=VariantsStatus.READY)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    return client, f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}&page_size=100"


def requests_per_second(client, path: str, images: int, seconds: float) -> float:
    """In-process requests per second of a list answering `images` images, after 3 to warm up."""
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200 and len(response.json()["results"]) == images
    served, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.get(path)
        served += 1
    return served / (time.perf_counter() - started)


def measure(bench: Bench, images: int = 100, seconds: float = 4.0) -> dict:
    from storages.backends.s3 import S3Storage

    from backend.storage_backends import PrivateMediaStorage

    def plain_signed_urls(self, names: list[str | None], expire: int | None = None) -> list[str | None]:
        """An image's URLs as django-storages alone signs them: its own url() for each."""
        return [None if name is None else S3Storage.url(self, name, expire=expire) for name in names]

    client, path = image_list(images)
    project_rps = requests_per_second(client, path, images, seconds)
    with mock.patch.object(PrivateMediaStorage, "signed_urls", plain_signed_urls):
        plain_rps = requests_per_second(client, path, images, seconds)
    return {"project_rps": project_rps, "plain_rps": plain_rps, "ratio": project_rps / plain_rps, "images": images}


def section(listing: dict | None) -> str:
    if not listing:
        return ""
    path = "/api/property-images/?content_type=house_for_sale&object_id=N&page_size=100"
    return f"""## 2. `GET {path}` ({listing["images"]} images)

| | requests/s |
|---|---|
| project URL generation | {listing["project_rps"]:.1f} |
| plain `S3Boto3Storage.url()` for each URL (`signed_urls` swapped out) | {listing["plain_rps"]:.1f} |
| speed-up | **{listing["ratio"]:.1f}x** (goal ≥ 5x: {verdict(listing["ratio"] >= 5)}) |

In-process Django test client, one thread, no network between client and view. Every image has its
variants (seven URLs: the original, three sizes in WebP and in AVIF).
"""


if __name__ == "__main__":
    run_in_bench(measure, section, "list")
