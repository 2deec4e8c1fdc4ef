"""Section 8: CloudFront signed URLs, the project's signer against django-storages', and the list with them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.listing import image_list, requests_per_second
from bench.report import verdict
from bench.sections import Bench, run_in_bench

if TYPE_CHECKING:
    from django.test import override_settings

# A distribution's domain (none is reached: the URLs are only signed and compared).
DISTRIBUTION = "d111111abcdef8.cloudfront.net"


def measure(bench: Bench, images: int = 100, repeats: int = 20, seconds: float = 3.0) -> dict:
    """CloudFront signed URLs: a list's URLs signed `repeats` times by the project's storage and by django-storages'
    own S3Storage on the same keys; then the list endpoint with CloudFront on against S3 presigned URLs."""
    cloudfront = cloudfront_settings()
    project_s, storages_s = signing_timed(cloudfront, images, repeats)
    client, path = image_list(images)
    presigned_rps = [requests_per_second(client, path, images, seconds)]
    cloudfront_rps = []
    for _ in range(2):  # interleaved, best of each
        with cloudfront:
            cloudfront_rps.append(requests_per_second(client, path, images, seconds))
        presigned_rps.append(requests_per_second(client, path, images, seconds))
    return {
        "images": images,
        "repeats": repeats,
        "project_ms": project_s * 1000,
        "storages_ms": storages_s * 1000,
        "signing_ratio": storages_s / project_s,
        "presigned_rps": max(presigned_rps),
        "cloudfront_rps": max(cloudfront_rps),
        "list_ratio": max(presigned_rps) / max(cloudfront_rps),
    }


def cloudfront_settings() -> override_settings:
    """The settings that put the storage on a CloudFront distribution, with a new RSA 2048 key pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings
    from django.test import override_settings

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    return override_settings(
        STORAGES={**settings.STORAGES},
        AWS_S3_CUSTOM_DOMAIN=DISTRIBUTION,
        AWS_CLOUDFRONT_KEY_ID="KBENCH",
        AWS_CLOUDFRONT_KEY=pem,
        AWS_CLOUDFRONT_ACTIVE_KEY_ID="KBENCH",
    )


def signing_timed(cloudfront: override_settings, images: int, repeats: int) -> tuple[float, float]:
    """Seconds the project's storage and django-storages' S3Storage take to sign `images` keys `repeats` times."""
    from storages.backends.s3 import S3Storage

    from backend.storage_backends import PrivateMediaStorage

    keys = [f"properties/houseforsale/1/20250112_143022_{index:08x}.jpg" for index in range(images)]

    def sign_all(storage) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            for key in keys:
                storage.url(key, expire=3600)
        return time.perf_counter() - started

    with cloudfront:
        project = PrivateMediaStorage()
        theirs = S3Storage(custom_domain=DISTRIBUTION, querystring_expire=3600)
        assert project.url(keys[0]).split("?")[0] == theirs.url(keys[0]).split("?")[0]
        return sign_all(project), sign_all(theirs)


def section(cdn: dict | None) -> str:
    if not cdn:
        return ""
    return "\n".join(
        [
            "## 8. CloudFront signed URLs (`AWS_S3_CUSTOM_DOMAIN` + `AWS_CLOUDFRONT_KEY`, RSA 2048)",
            "",
            f"The URLs of a {cdn['images']}-image list signed {cdn['repeats']} times in a row (the same keys, "
            "one stable window), and the list endpoint of section 2 with CloudFront on and off.",
            "",
            "| | |",
            "|---|---|",
            f"| project (`PrivateMediaStorage.url`, one signature per key and window) | {cdn['project_ms']:.1f} ms |",
            f"| django-storages' own CloudFront `url()` (a signature per call) | {cdn['storages_ms']:.1f} ms |",
            f"| speed-up | **{cdn['signing_ratio']:.1f}x** (goal ≥ 10x: {verdict(cdn['signing_ratio'] >= 10)}) |",
            f"| list, S3 presigned URLs | {cdn['presigned_rps']:.1f} requests/s |",
            f"| list, CloudFront signed URLs | {cdn['cloudfront_rps']:.1f} requests/s |",
            f"| S3 / CloudFront time per request | **{cdn['list_ratio']:.2f}** (goal ≤ 1.25: "
            f"{verdict(cdn['list_ratio'] <= 1.25)}) |",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "cloudfront")
