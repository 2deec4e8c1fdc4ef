"""CloudFront settings and checks of its signed URLs and policies."""

from __future__ import annotations

from django.test import override_settings


def cloudfront_settings(keys: dict[str, str], *, active: str | None = None, **more) -> override_settings:
    """The storage with CloudFront on (the first key pair, plus the second for rotation), built anew."""
    from django.conf import settings

    (first_id, first_key), (second_id, second_key) = keys.items()
    return override_settings(
        **{
            "STORAGES": {**settings.STORAGES},  # a new storage reads them
            "AWS_S3_CUSTOM_DOMAIN": "d111111abcdef8.cloudfront.net",
            "AWS_CLOUDFRONT_KEY_ID": first_id,
            "AWS_CLOUDFRONT_KEY": first_key,
            "AWS_CLOUDFRONT_SECOND_KEY_ID": second_id,
            "AWS_CLOUDFRONT_SECOND_KEY": second_key,
            "AWS_CLOUDFRONT_ACTIVE_KEY_ID": active or first_id,
            **more,
        }
    )


def cloudfront_verified(policy: str, signature: str, private_pem: str) -> bool:
    """Whether `signature` (CloudFront's URL-safe base64) verifies over `policy` with the key pair's public key."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()
    raw = base64.b64decode(signature.replace("-", "+").replace("_", "=").replace("~", "/"))
    try:
        key.verify(raw, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's
    except InvalidSignature:
        return False
    return True


def cloudfront_url_policy(url: str) -> tuple[str, dict[str, str]]:
    """The canned policy a CloudFront signed URL was signed over, and its query parameters."""
    import json
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"])}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":")), query
